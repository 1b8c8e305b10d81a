#include "tearline/broker/broker.h"

#include <spdlog/spdlog.h>

#include <ctime>
#include <fstream>

#include "tearline/broker/routing.h"
#include "tearline/certificate.h"
#include "tearline/checkpoint.h"
#include "tearline/envelope.h"
#include "tearline/file_util.h"
#include "tearline/key_file.h"

namespace tearline::broker {
namespace {

std::int64_t NowUnix() { return static_cast<std::int64_t>(std::time(nullptr)); }

std::string Hex(std::span<const std::uint8_t> b) { return ToHex(b); }

bool IsHexId(const std::string& s) {
  if (s.size() != kReportIdBytes * 2) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<Broker>> Broker::Start(const BrokerConfig& config) {
  std::unique_ptr<Broker> b(new Broker());
  b->config_ = config;

  auto policy =
      Policy::LoadFile(config.policy.empty() ? DefaultPolicyPath() : config.policy.string());
  if (!policy.ok()) return policy.status();
  b->policy_ = std::make_shared<const Policy>(std::move(policy).value());

  auto trust = TrustStore::LoadFromCaDir(config.ca_dir, b->policy_);
  if (!trust.ok()) return trust.status().WithContext("trust store " + config.ca_dir.string());
  b->trust_ = std::make_unique<TrustStore>(std::move(trust).value());

  auto cert = ReadCertificateFile(config.certificate.string());
  if (!cert.ok()) return cert.status();
  TEARLINE_RETURN_IF_ERROR(b->trust_->VerifyCertificate(*cert, NowUnix())
                               .WithContext("broker certificate " + config.certificate.string()));
  if (cert->role() != CertRole::kBroker) {
    return InvalidArgument("BROKER_CERT_ROLE", config.certificate.string() +
                                                   " is not a broker certificate (role " +
                                                   std::string(RoleName(cert->role())) + ")");
  }
  auto keys = ReadIdentitySecret(config.secret);
  if (!keys.ok()) return keys.status();
  if (keys->transport.public_key != cert->fields().transport_key ||
      keys->signing.public_key != cert->fields().signing_key) {
    return InvalidArgument(
        "BROKER_KEY_MISMATCH",
        config.secret.string() + " does not hold the keys of " + config.certificate.string());
  }
  b->keys_ = std::make_unique<IdentityKeys>(std::move(keys).value());

  std::vector<Status> rejected;
  auto dir = Directory::LoadDir(config.directory, *b->trust_, NowUnix(), &rejected);
  if (!dir.ok()) return dir.status();
  b->directory_ = std::move(dir).value();
  for (const Status& s : rejected) spdlog::warn("directory: skipped certificate: {}", s.ToString());

  std::error_code ec;
  std::filesystem::create_directories(config.data_dir / "queue", ec);
  if (ec) {
    return IoError("BROKER_DATA_DIR", config.data_dir.string() + ": " + ec.message());
  }
  auto audit =
      AuditLog::Open(config.data_dir / "audit", "tearline/audit/" + config.id, &b->keys_->signing);
  if (!audit.ok()) return audit.status();
  b->audit_ = std::move(audit).value();
  if (b->audit_->torn_tail_bytes() > 0) {
    spdlog::warn("audit: cut a torn tail of {} bytes left by a crash",
                 b->audit_->torn_tail_bytes());
  }
  TEARLINE_RETURN_IF_ERROR(b->LoadQueue());
  TEARLINE_RETURN_IF_ERROR(b->PublishAuditContext());

  b->Audit("broker_start", {{"broker", config.id},
                            {"nodes", b->directory_.nodes().size()},
                            {"torn_tail_bytes", b->audit_->torn_tail_bytes()}});
  b->Audit("policy_loaded", {{"policy", b->policy_->name()},
                             {"policy_version", b->policy_->version()},
                             {"policy_sha256", b->policy_->digest_hex()}});

  // The ZAP handler must be bound before the CURVE socket, or libzmq accepts any client key.
  Broker* self = b.get();
  auto zap = ZapHandler::Start(
      b->ctx_,
      [self](const std::array<std::uint8_t, 32>& key,
             const std::string& address) -> Result<std::string> {
        const Certificate* node = self->directory_.FindByTransportKey(key);
        Status why;
        if (node == nullptr) {
          why = Unauthenticated("AUTH_UNKNOWN_KEY",
                                "client transport key is not in the coalition directory");
        } else {
          why = self->trust_->VerifyCertificate(*node, NowUnix());
        }
        if (why.ok()) return node->node_id();
        self->Audit("connection_refused", {{"peer_address", address},
                                           {"client_key", ToHex(key)},
                                           {"reason", why.reason()},
                                           {"explanation", why.message()}});
        spdlog::warn("refused connection from {}: {}", address, why.ToString());
        return why;
      });
  if (!zap.ok()) return zap.status();
  b->zap_ = std::move(zap).value();
  TEARLINE_RETURN_IF_ERROR(b->Bind());
  return b;
}

// Auditors receive the audit directory alone, so it carries what verification needs besides the
// records: the exact policy bytes (hash-checked against policy_loaded) and the certificates of the
// root and of every witness node.
Status Broker::PublishAuditContext() {
  const auto dir = config_.data_dir / "audit";
  auto policy_bytes = ReadFileCapped(
      config_.policy.empty() ? DefaultPolicyPath() : config_.policy.string(), 1 << 20, "POLICY");
  if (!policy_bytes.ok()) return policy_bytes.status();
  TEARLINE_RETURN_IF_ERROR(WriteFileAtomic(dir / "policy.toml", *policy_bytes, 0644));
  std::error_code ec;
  std::filesystem::create_directories(dir / "certs", ec);
  if (ec) return IoError("AUDIT_IO", (dir / "certs").string() + ": " + ec.message());
  TEARLINE_RETURN_IF_ERROR(
      WriteFileAtomic(dir / "certs" / std::string(kRootCertFile), trust_->root().encoded(), 0644));
  for (const auto& [id, cert] : directory_.nodes()) {
    TEARLINE_RETURN_IF_ERROR(WriteFileAtomic(dir / "certs" / (id + ".cert"), cert.encoded(), 0644));
  }
  return Status::Ok();
}

void Broker::MaybeCheckpoint(bool force) {
  const std::uint64_t pending = audit_->size() - audit_->checkpoint_size();
  const bool interval_passed = std::chrono::steady_clock::now() - last_checkpoint_ >=
                               std::chrono::milliseconds(config_.checkpoint_interval_ms);
  if (!force && pending < config_.checkpoint_every && !(pending > 0 && interval_passed)) return;
  auto size = audit_->Checkpoint();
  last_checkpoint_ = std::chrono::steady_clock::now();
  if (!size.ok()) {
    spdlog::error("audit checkpoint failed: {}", size.status().ToString());
  }
}

void Broker::HandleCheckpointRequest(const std::string& node_id, std::uint64_t request_id,
                                     std::uint64_t old_size) {
  MaybeCheckpoint(false);
  const std::string note = audit_->LatestCheckpoint();
  const std::uint64_t size = audit_->checkpoint_size();
  if (note.empty() || old_size > size) {
    SendTo(node_id, EncodeError(request_id,
                                InvalidArgument("CHECKPOINT_UNAVAILABLE",
                                                note.empty() ? "no checkpoint has been signed yet"
                                                             : "the requested old size is larger "
                                                               "than the latest checkpoint")));
    return;
  }
  std::vector<std::uint8_t> proof;
  if (old_size > 0 && old_size < size) {
    auto p = audit_->ConsistencyProof(old_size, size);
    if (!p.ok()) {
      SendTo(node_id, EncodeError(request_id, p.status()));
      return;
    }
    for (const Hash& h : *p) proof.insert(proof.end(), h.begin(), h.end());
  }
  SendTo(node_id, EncodeCheckpointReply(request_id, note, old_size, proof));
}

void Broker::HandleCosignature(const std::string& node_id, const schema::Cosignature& cosig) {
  const Certificate* cert = directory_.FindNode(node_id);
  const auto path = config_.data_dir / "audit" / "checkpoints" / std::to_string(cosig.size());
  auto note = ReadFileCapped(path.string(), 64 << 10, "CHECKPOINT");
  Status why;
  if (cert == nullptr || cosig.line() == nullptr) {
    why = InvalidArgument("COSIGNATURE_MALFORMED", "cosignature is malformed");
  } else if (!note.ok()) {
    why = NotFound("COSIGNATURE_UNKNOWN_CHECKPOINT",
                   "no checkpoint of size " + std::to_string(cosig.size()) + " was signed");
  } else {
    std::string text(note->begin(), note->end());
    auto body = ParseCheckpointBody(text.substr(0, text.find("\n\n") + 1));
    auto key =
        MakeNoteVerifierKey(node_id, NoteKeyType::kCosignatureV1, cert->fields().signing_key);
    if (!body.ok() || !key.ok()) {
      why = Internal("COSIGNATURE_CHECK", "cannot check the cosignature");
    } else if (auto ok = VerifyCosignature(*body, cosig.line()->str(), *key); !ok.ok()) {
      why = ok.status();
    }
  }
  if (!why.ok()) {
    Reject(node_id, 0, why, "");
    return;
  }
  const std::string line = cosig.line()->str() + "\n";
  auto st = WriteFileAtomic(
      config_.data_dir / "audit" / "cosignatures" / (std::to_string(cosig.size()) + "." + node_id),
      {reinterpret_cast<const std::uint8_t*>(line.data()), line.size()}, 0644);
  if (!st.ok()) spdlog::error("cannot store cosignature: {}", st.ToString());
}

Broker::~Broker() {
  if (router_) router_->close();
  if (zap_) zap_->Stop();
  ctx_.close();
}

Status Broker::Bind() {
  try {
    router_ = std::make_unique<zmq::socket_t>(ctx_, zmq::socket_type::router);
    auto& s = *router_;
    s.set(zmq::sockopt::linger, 0);
    s.set(zmq::sockopt::zap_domain, kZapDomain);
    s.set(zmq::sockopt::curve_server, 1);
    s.set(zmq::sockopt::curve_secretkey, zmq::const_buffer(keys_->transport.secret_key.data(),
                                                           keys_->transport.secret_key.size()));
    // Unroutable sends raise EHOSTUNREACH instead of vanishing; full pipes return EAGAIN.
    s.set(zmq::sockopt::router_mandatory, 1);
    s.set(zmq::sockopt::sndhwm, 1000);
    s.set(zmq::sockopt::rcvhwm, 1000);
    // libzmq drops a peer whose message exceeds this hard cap; smaller oversize frames get a
    // typed error from the application-level check so the sender learns why.
    s.set(zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(kMaxFrameBytes + (1 << 20)));
    const int hb = static_cast<int>(config_.heartbeat_ms);
    s.set(zmq::sockopt::heartbeat_ivl, hb);
    s.set(zmq::sockopt::heartbeat_timeout, hb * 3);
    s.set(zmq::sockopt::heartbeat_ttl, hb * 3);
    std::string ep = config_.endpoint;
    if (ep.size() > 2 && ep.compare(ep.size() - 2, 2, ":0") == 0) ep.replace(ep.size() - 1, 1, "*");
    s.bind(ep);
    endpoint_ = s.get(zmq::sockopt::last_endpoint);
  } catch (const zmq::error_t& e) {
    return Status(Code::kUnavailable, "BROKER_BIND",
                  "cannot bind " + config_.endpoint + ": " + e.what());
  }
  const std::string text = endpoint_ + "\n";
  TEARLINE_RETURN_IF_ERROR(WriteFileAtomic(
      config_.EndpointFile(), {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}));
  spdlog::info("broker {} listening on {} ({} nodes in directory)", config_.id, endpoint_,
               directory_.nodes().size());
  return Status::Ok();
}

void Broker::Audit(std::string_view type, nlohmann::json fields) {
  auto r = audit_->Append(type, std::move(fields));
  if (!r.ok()) {
    // Without a durable audit record a decision must not take effect; the caller's effect is
    // still pending, so stop serving rather than act unaudited.
    spdlog::critical("audit log append failed: {}; stopping", r.status().ToString());
    stop_.store(true);
  }
}

Status Broker::LoadQueue() {
  std::error_code ec;
  for (const auto& node_dir : std::filesystem::directory_iterator(config_.data_dir / "queue", ec)) {
    if (!node_dir.is_directory()) continue;
    for (const auto& f : std::filesystem::directory_iterator(node_dir.path(), ec)) {
      if (f.path().extension() == ".report" && IsHexId(f.path().stem().string())) {
        pending_[node_dir.path().filename().string()].insert(f.path().stem().string());
        seen_reports_.insert(f.path().stem().string());
      }
    }
  }
  std::ifstream seen(config_.data_dir / "seen_reports");
  std::string line;
  while (std::getline(seen, line)) {
    if (IsHexId(line)) seen_reports_.insert(line);
  }
  return Status::Ok();
}

Status Broker::PersistSeen(const std::string& report_id_hex) {
  seen_reports_.insert(report_id_hex);
  return AppendLineDurable(config_.data_dir / "seen_reports", report_id_hex);
}

std::filesystem::path Broker::QueuePath(const std::string& node_id,
                                        const std::string& report_id_hex) const {
  return config_.data_dir / "queue" / node_id / (report_id_hex + ".report");
}

bool Broker::IsOnline(const std::string& node_id) const {
  auto it = peers_.find(node_id);
  if (it == peers_.end()) return false;
  return std::chrono::steady_clock::now() - it->second.last_seen <
         std::chrono::milliseconds(3 * config_.heartbeat_ms);
}

bool Broker::SendTo(const std::string& node_id, const std::vector<std::uint8_t>& frame) {
  auto it = peers_.find(node_id);
  if (it == peers_.end()) return false;
  try {
    const std::string& rid = it->second.routing_id;
    if (!router_->send(zmq::buffer(rid), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
      return false;  // EAGAIN: the peer's pipe is full (backpressure).
    }
    if (!router_->send(zmq::buffer(frame), zmq::send_flags::dontwait)) return false;
    return true;
  } catch (const zmq::error_t& e) {
    if (e.num() == EHOSTUNREACH) {
      peers_.erase(it);  // The connection is gone; the node will say Hello again.
      return false;
    }
    spdlog::error("send to {} failed: {}", node_id, e.what());
    return false;
  }
}

Status Broker::Run() {
  spdlog::info("broker {} serving", config_.id);
  while (!stop_.load()) {
    try {
      zmq::pollitem_t items[] = {{router_->handle(), 0, ZMQ_POLLIN, 0}};
      zmq::poll(items, 1, std::chrono::milliseconds(200));
      MaybeCheckpoint(false);
      if ((items[0].revents & ZMQ_POLLIN) == 0) continue;
      // Drain what is ready, bounded so a stop request is seen promptly.
      for (int i = 0; i < 256 && !stop_.load(); ++i) {
        std::vector<zmq::message_t> parts;
        zmq::message_t m;
        if (!router_->recv(m, zmq::recv_flags::dontwait)) break;
        bool more = m.more();
        parts.push_back(std::move(m));
        while (more) {
          zmq::message_t next;
          if (!router_->recv(next, zmq::recv_flags::none)) break;
          more = next.more();
          parts.push_back(std::move(next));
        }
        if (parts.size() != 2) {
          spdlog::warn("dropping message with {} parts (expected routing id + one frame)",
                       parts.size());
          continue;
        }
        HandleMessage(parts[0].to_string(), parts[1]);
      }
    } catch (const zmq::error_t& e) {
      if (e.num() == ETERM) break;
      if (e.num() == EINTR) continue;
      spdlog::error("broker loop: {}", e.what());
    }
  }
  Audit("broker_stop", {{"broker", config_.id}});
  MaybeCheckpoint(true);
  spdlog::info("broker {} stopped", config_.id);
  return Status::Ok();
}

void Broker::HandleMessage(const std::string& routing_id, zmq::message_t& payload) {
  std::string node_id;
  try {
    node_id = payload.gets("User-Id");
  } catch (const zmq::error_t&) {
    spdlog::warn("dropping frame without an authenticated User-Id");
    return;
  }
  auto& peer = peers_[node_id];
  const bool reconnected = peer.routing_id != routing_id;
  peer.routing_id = routing_id;
  peer.last_seen = std::chrono::steady_clock::now();

  std::vector<std::uint8_t> storage;
  std::span<const std::uint8_t> bytes =
      AlignedForDecode({static_cast<const std::uint8_t*>(payload.data()), payload.size()}, storage);
  if (bytes.size() > config_.max_frame_bytes) {
    Reject(
        node_id, 0,
        Status(Code::kResourceExhausted, "WIRE_TOO_LARGE",
               "frame of " + std::to_string(bytes.size()) + " bytes exceeds the broker limit of " +
                   std::to_string(config_.max_frame_bytes)),
        "");
    return;
  }
  auto frame = DecodeFrame(bytes);
  if (!frame.ok()) {
    Reject(node_id, 0, frame.status(), "");
    return;
  }
  const schema::Frame* f = *frame;
  const std::uint64_t rid = f->request_id();
  switch (f->body_type()) {
    case schema::Body::Hello: {
      const auto* hello = f->body_as_Hello();
      if (hello->node_id() == nullptr || hello->node_id()->str() != node_id) {
        Reject(node_id, rid,
               Unauthenticated("AUTH_NODE_MISMATCH",
                               "Hello names a node other than the one whose key authenticated"),
               "");
        return;
      }
      Audit("node_connected", {{"node", node_id}});
      SendTo(node_id, EncodeWelcome(rid, config_.id, static_cast<std::int64_t>(std::time(nullptr)),
                                    config_.heartbeat_ms));
      FlushQueue(node_id);
      return;
    }
    case schema::Body::Ping:
      SendTo(node_id, EncodePong(rid, f->body_as_Ping()->nonce()));
      if (reconnected) FlushQueue(node_id);
      return;
    case schema::Body::DirectoryRequest: {
      std::vector<std::uint8_t> revocations;
      std::error_code ec;
      auto path = config_.ca_dir / std::string(kRevocationListFile);
      if (std::filesystem::exists(path, ec)) {
        auto bytes_or = ReadFileCapped(path.string(), 1 << 20, "REVOCATION");
        if (bytes_or.ok()) revocations = std::move(bytes_or).value();
      }
      SendTo(node_id, EncodeDirectory(rid, directory_.EncodedCertificates(), revocations));
      return;
    }
    case schema::Body::Submit: {
      const auto* report = f->body_as_Submit()->report();
      if (report == nullptr) {
        Reject(node_id, rid, InvalidArgument("WIRE_MALFORMED", "Submit carries no report"), "");
        return;
      }
      HandleSubmit(node_id, rid, {report->data(), report->size()});
      return;
    }
    case schema::Body::Ack:
      HandleAck(node_id, *f->body_as_Ack());
      return;
    case schema::Body::CheckpointRequest:
      HandleCheckpointRequest(node_id, rid, f->body_as_CheckpointRequest()->old_size());
      return;
    case schema::Body::Cosignature:
      HandleCosignature(node_id, *f->body_as_Cosignature());
      return;
    case schema::Body::Error: {
      const auto* e = f->body_as_Error();
      Audit("delivery_rejected_by_recipient",
            {{"node", node_id},
             {"reason", e->reason() ? e->reason()->str() : ""},
             {"explanation", e->message() ? e->message()->str() : ""}});
      return;
    }
    default:
      Reject(node_id, rid,
             InvalidArgument("WIRE_UNEXPECTED", "the broker does not accept this kind of frame"),
             "");
      return;
  }
}

void Broker::Reject(const std::string& node_id, std::uint64_t request_id, const Status& why,
                    const std::string& report_id_hex) {
  nlohmann::json rec = {
      {"node", node_id}, {"reason", why.reason()}, {"explanation", why.message()}};
  if (!report_id_hex.empty()) rec["report_id"] = report_id_hex;
  Audit("rejected_input", rec);
  spdlog::warn("rejected input from {}: {}", node_id, why.ToString());
  if (!report_id_hex.empty() || request_id != 0) {
    SubmitReplyInfo reply;
    reply.accepted = false;
    reply.error_reason = why.reason();
    reply.error_message = why.message();
    SendTo(node_id, EncodeSubmitReply(request_id, reply));
  } else {
    SendTo(node_id, EncodeError(request_id, why));
  }
}

void Broker::HandleSubmit(const std::string& node_id, std::uint64_t request_id,
                          std::span<const std::uint8_t> report) {
  auto originator = PeekOriginator(report);
  if (!originator.ok()) return Reject(node_id, request_id, originator.status(), "");
  if (*originator != node_id) {
    return Reject(node_id, request_id,
                  PermissionDenied("ORIGINATOR_MISMATCH",
                                   "report claims originator '" + *originator +
                                       "' but the connection authenticated as '" + node_id + "'"),
                  "");
  }
  const Certificate* cert = directory_.FindNode(node_id);
  if (cert == nullptr) {
    return Reject(node_id, request_id,
                  Unauthenticated("AUTH_UNKNOWN_NODE", "originator is not in the directory"), "");
  }
  auto view = InspectReport(report, cert->fields().signing_key);
  if (!view.ok()) return Reject(node_id, request_id, view.status(), "");
  const std::string id_hex = Hex(view->report_id);
  if (view->expires_unix <= NowUnix()) {
    return Reject(node_id, request_id,
                  InvalidArgument("REPORT_EXPIRED", "the report expired before it was submitted"),
                  id_hex);
  }
  if (seen_reports_.contains(id_hex)) {
    return Reject(node_id, request_id,
                  Status(Code::kAlreadyExists, "DUPLICATE_REPORT",
                         "report " + id_hex + " was already accepted; it is not routed twice"),
                  id_hex);
  }
  auto plan = PlanRouting(*view, directory_, *policy_);
  if (!plan.ok()) return Reject(node_id, request_id, plan.status(), id_hex);

  nlohmann::json portions = nlohmann::json::array();
  for (const auto& p : view->portions) {
    portions.push_back({{"index", p.index},
                        {"label", p.label},
                        {"ciphertext_sha256", ToHex(p.ciphertext_digest)},
                        {"ciphertext_bytes", p.ciphertext_bytes}});
  }
  Audit("accepted", {{"report_id", id_hex},
                     {"originator", view->originator},
                     {"originator_nation", view->originator_nation},
                     {"intended_nations", view->intended_nations},
                     {"created", view->created_unix},
                     {"expires", view->expires_unix},
                     {"report_bytes", view->report_bytes},
                     {"portions", portions},
                     {"policy_sha256", policy_->digest_hex()}});
  if (auto st = PersistSeen(id_hex); !st.ok()) {
    return Reject(node_id, request_id, st, id_hex);
  }

  SubmitReplyInfo reply;
  reply.report_id.assign(view->report_id.begin(), view->report_id.end());
  reply.accepted = true;
  reply.outcomes = ToOutcomes(*plan);
  for (std::size_t i = 0; i < plan->recipients.size(); ++i) {
    const RecipientPlan& r = plan->recipients[i];
    RecipientOutcomeInfo& outcome = reply.outcomes[i];
    for (const PortionDecision& d : r.decisions) {
      if (d.release) continue;
      Audit("denied", {{"report_id", id_hex},
                       {"originator", view->originator},
                       {"recipient", r.node_id},
                       {"nation", r.nation},
                       {"portion", d.index},
                       {"label", d.label},
                       {"reason", d.reason},
                       {"explanation", d.explanation}});
    }
    if (r.portions.empty()) {
      if (!r.reason.empty()) {
        Audit("denied", {{"report_id", id_hex},
                         {"originator", view->originator},
                         {"recipient", r.node_id},
                         {"nation", r.nation},
                         {"reason", r.reason},
                         {"explanation", r.explanation}});
      }
      continue;
    }
    auto copy = SelectPortions(report, r.portions);
    Status stored = copy.ok() ? Status::Ok() : copy.status();
    if (stored.ok()) {
      std::error_code ec;
      std::filesystem::create_directories(config_.data_dir / "queue" / r.node_id, ec);
      stored = WriteFileAtomic(QueuePath(r.node_id, id_hex), *copy);
    }
    if (!stored.ok()) {
      // Nothing was promised yet for this recipient: report it as denied with the cause.
      outcome.state = schema::DeliveryState::Denied;
      outcome.reason = "BROKER_STORAGE";
      outcome.explanation = "the broker could not store the copy: " + stored.message();
      Audit("denied", {{"report_id", id_hex},
                       {"recipient", r.node_id},
                       {"nation", r.nation},
                       {"reason", outcome.reason},
                       {"explanation", outcome.explanation}});
      continue;
    }
    pending_[r.node_id].insert(id_hex);
    nlohmann::json labels = nlohmann::json::array();
    for (const auto& d : r.decisions) {
      if (d.release) labels.push_back({{"index", d.index}, {"label", d.label}});
    }
    const bool sent =
        IsOnline(r.node_id) && SendTo(r.node_id, EncodeDeliver(next_delivery_id_++, *copy));
    outcome.state = sent ? schema::DeliveryState::Delivered : schema::DeliveryState::Queued;
    const Certificate* recipient_cert = directory_.FindNode(r.node_id);
    Audit(sent ? "delivered" : "queued",
          {{"report_id", id_hex},
           {"originator", view->originator},
           {"originator_nation", view->originator_nation},
           {"recipient", r.node_id},
           {"nation", r.nation},
           {"clearance", recipient_cert ? recipient_cert->fields().clearance : ""},
           {"portions", labels}});
  }
  SendTo(node_id, EncodeSubmitReply(request_id, reply));
}

void Broker::HandleAck(const std::string& node_id, const schema::Ack& ack) {
  const Certificate* cert = directory_.FindNode(node_id);
  if (cert == nullptr || ack.report_id() == nullptr || ack.signature() == nullptr ||
      ack.report_id()->size() != kReportIdBytes) {
    Reject(node_id, 0, InvalidArgument("ACK_MALFORMED", "acknowledgement is malformed"), "");
    return;
  }
  std::span<const std::uint8_t> id(ack.report_id()->data(), ack.report_id()->size());
  const std::string id_hex = Hex(id);
  if (!VerifyWithDomain(cert->fields().signing_key, kAckDomain, AckMessage(id, node_id),
                        {ack.signature()->data(), ack.signature()->size()})) {
    Reject(node_id, 0,
           Unauthenticated("ACK_BAD_SIGNATURE", "acknowledgement signature does not verify"),
           id_hex);
    return;
  }
  auto it = pending_.find(node_id);
  if (it == pending_.end() || !it->second.contains(id_hex)) return;  // Repeated ack.
  Audit("acknowledged", {{"report_id", id_hex},
                         {"recipient", node_id},
                         {"signature", ToHex({ack.signature()->data(), ack.signature()->size()})}});
  std::error_code ec;
  std::filesystem::remove(QueuePath(node_id, id_hex), ec);
  it->second.erase(id_hex);
}

void Broker::FlushQueue(const std::string& node_id) {
  auto it = pending_.find(node_id);
  if (it == pending_.end()) return;
  for (const std::string& id_hex : it->second) {
    auto bytes = ReadFileCapped(QueuePath(node_id, id_hex).string(), kMaxReportBytes, "QUEUE");
    if (!bytes.ok()) {
      spdlog::error("queued copy {} for {} unreadable: {}", id_hex, node_id,
                    bytes.status().ToString());
      continue;
    }
    if (!SendTo(node_id, EncodeDeliver(next_delivery_id_++, *bytes))) break;
    Audit("delivered", {{"report_id", id_hex}, {"recipient", node_id}, {"from_queue", true}});
  }
}

}  // namespace tearline::broker
