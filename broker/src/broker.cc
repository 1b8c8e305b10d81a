#include "tearline/broker/broker.h"

#include <spdlog/spdlog.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <cstring>
#include <ctime>

#include "tearline/audit/audit_records.h"
#include "tearline/base/encoding.h"
#include "tearline/base/file_util.h"
#include "tearline/broker/routing.h"
#include "tearline/crypto/key_file.h"
#include "tearline/envelope/envelope.h"
#include "tearline/identity/certificate.h"
#include "tearline/tlog/checkpoint.h"

namespace tearline::broker {
namespace {

std::int64_t NowUnix() { return static_cast<std::int64_t>(std::time(nullptr)); }

std::string Hex(std::span<const std::uint8_t> b) { return ToHex(b); }

constexpr const char* kMonitorEndpoint = "inproc://tearline-router-monitor";
// Copies re-sent per Hello; the rest follow on the next Hello (bounds memory per flush).
constexpr std::size_t kFlushBatch = 256;
// An unacknowledged copy is sent again after this long: the node may have lost it with a
// connection the broker had not yet noticed was gone. Recipients de-duplicate by report id.
constexpr std::chrono::seconds kRedeliverAfter{5};
// Expired copies handled per sweep (the sweep runs at most once per second).
constexpr std::size_t kSweepBatch = 256;
// Peer addresses remembered by the refusal throttle before stale entries are pruned.
constexpr std::size_t kMaxRefusalEntries = 4096;

// What identifies a report's content in its `accepted` record: a retry must match it.
nlohmann::json PortionsFingerprint(const ReportView& view) {
  nlohmann::json portions = nlohmann::json::array();
  for (const auto& p : view.portions) {
    portions.push_back({{"index", p.index},
                        {"label", p.label},
                        {"ciphertext_sha256", ToHex(p.ciphertext_digest)},
                        {"ciphertext_bytes", p.ciphertext_bytes}});
  }
  return portions;
}

Status StorageFull(const std::string& why) {
  return Status(Code::kResourceExhausted, "STORAGE_FULL",
                "the broker cannot store new reports now (" + why +
                    "); nothing was routed, retry later with the same report");
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
  std::filesystem::create_directories(config.data_dir, ec);
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
  ReportStoreOptions store_options;
  store_options.max_bytes = config.max_store_bytes;
  auto store = ReportStore::Open(config.data_dir / "reports.db", store_options);
  if (!store.ok()) return store.status();
  b->store_ = std::move(store).value();
  TEARLINE_RETURN_IF_ERROR(b->FindOrphanedAccepts());
  TEARLINE_RETURN_IF_ERROR(b->PublishAuditContext());

  b->Audit("broker_start", {{"broker", config.id},
                            {"nodes", b->directory_.nodes().size()},
                            {"torn_tail_bytes", b->audit_->torn_tail_bytes()}});
  b->Audit("policy_loaded", {{"policy", b->policy_->name()},
                             {"policy_version", b->policy_->version()},
                             {"policy_sha256", b->policy_->digest_hex()}});
  // Sign at once, so the log is tamper-evident from its first decision on and a node that
  // connects can witness a checkpoint straight away.
  if (auto size = b->audit_->Checkpoint(); !size.ok()) return size.status();
  b->last_checkpoint_ = std::chrono::steady_clock::now();

  // The ZAP handler must be bound before the CURVE socket, or libzmq accepts any client key.
  Broker* self = b.get();
  auto zap = ZapHandler::Start(
      b->ctx_, [self](const std::array<std::uint8_t, 32>& key, const std::string& address) {
        return self->AuthenticateClient(key, address);
      });
  if (!zap.ok()) return zap.status();
  b->zap_ = std::move(zap).value();
  TEARLINE_RETURN_IF_ERROR(b->Bind());
  TEARLINE_RETURN_IF_ERROR(b->StartMonitor());
  return b;
}

// Runs on the ZAP thread.
Result<std::string> Broker::AuthenticateClient(const std::array<std::uint8_t, 32>& key,
                                               const std::string& address) {
  const Certificate* node = directory_.FindByTransportKey(key);
  Status why;
  if (node == nullptr) {
    why = Unauthenticated("AUTH_UNKNOWN_KEY",
                          "client transport key is not in the coalition directory");
  } else {
    why = trust_->VerifyCertificate(*node, NowUnix());
  }
  if (why.ok() && sessions_.load() >= config_.max_connections) {
    why = Status(Code::kResourceExhausted, "CONNECTION_LIMIT",
                 "the broker already serves " + std::to_string(config_.max_connections) +
                     " sessions (max_connections)");
  }
  if (why.ok()) return node->node_id();
  // A flood of handshakes must not fill the disk: at most one record per address per second,
  // counting the refusals that were not written.
  bool write = false;
  std::uint64_t suppressed = 0;
  {
    std::lock_guard<std::mutex> lock(zap_mu_);
    const auto now = std::chrono::steady_clock::now();
    if (refusals_.size() >= kMaxRefusalEntries) {
      std::erase_if(refusals_, [&](const auto& e) {
        return now - e.second.last_record >= std::chrono::seconds(1) && e.second.suppressed == 0;
      });
    }
    auto [it, fresh] = refusals_.try_emplace(address);
    RefusalState& r = it->second;
    if (fresh || now - r.last_record >= std::chrono::seconds(1)) {
      write = true;
      suppressed = r.suppressed;
      r.suppressed = 0;
      r.last_record = now;
    } else {
      ++r.suppressed;
    }
  }
  if (write) {
    Audit("connection_refused", {{"peer_address", address},
                                 {"client_key", ToHex(key)},
                                 {"reason", why.reason()},
                                 {"explanation", why.message()},
                                 {"suppressed", suppressed}});
    spdlog::warn("refused connection from {}: {}", address, why.ToString());
  }
  return why;
}

// Counts authenticated sessions from the ROUTER's monitor: a handshake that succeeded passed
// ZAP; its file descriptor leaves the set when that connection is closed.
Status Broker::StartMonitor() {
  try {
    const int rc = zmq_socket_monitor(router_->handle(), kMonitorEndpoint,
                                      ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED);
    if (rc != 0) {
      return Internal("BROKER_MONITOR",
                      std::string("cannot monitor the router socket: ") + zmq_strerror(errno));
    }
    monitor_ = std::make_unique<zmq::socket_t>(ctx_, zmq::socket_type::pair);
    monitor_->set(zmq::sockopt::linger, 0);
    monitor_->connect(kMonitorEndpoint);
  } catch (const zmq::error_t& e) {
    return Internal("BROKER_MONITOR", std::string("cannot monitor the router socket: ") + e.what());
  }
  return Status::Ok();
}

void Broker::HandleMonitorEvents() {
  for (int i = 0; i < 256; ++i) {
    zmq::message_t event;
    if (!monitor_->recv(event, zmq::recv_flags::dontwait)) return;
    if (event.more()) {
      zmq::message_t address;  // Second part: the endpoint; not needed.
      (void)monitor_->recv(address, zmq::recv_flags::none);
    }
    if (event.size() < 6) continue;
    std::uint16_t id = 0;
    std::uint32_t fd = 0;
    std::memcpy(&id, event.data(), sizeof id);
    std::memcpy(&fd, static_cast<const std::uint8_t*>(event.data()) + 2, sizeof fd);
    if (id == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
      session_fds_.insert(fd);
    } else if (id == ZMQ_EVENT_DISCONNECTED) {
      session_fds_.erase(fd);
    }
    sessions_.store(static_cast<std::uint32_t>(session_fds_.size()));
  }
}

// A report id the log accepted but the store does not hold was interrupted between the audit
// and the store commit (see broker.h). Remember each, so a retry is recognised.
Status Broker::FindOrphanedAccepts() {
  const std::uint64_t size = audit_->size();
  for (std::uint64_t seq = 0; seq < size; ++seq) {
    auto line = audit_->Record(seq);
    if (!line.ok()) return line.status();
    if (line->find("\"type\":\"accepted\"") == std::string::npos) continue;
    nlohmann::json j = nlohmann::json::parse(*line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("report_id") || !j["report_id"].is_string()) continue;
    const std::string id = j["report_id"].get<std::string>();
    auto stored = store_->FindReport(id);
    if (!stored.ok()) return stored.status();
    if (stored->has_value()) continue;
    const auto originator = j.find("originator");
    const auto portions = j.find("portions");
    orphaned_accepts_[id] = {
        {"originator", originator != j.end() ? *originator : nlohmann::json("")},
        {"portions", portions != j.end() ? *portions : nlohmann::json::array()}};
  }
  if (!orphaned_accepts_.empty()) {
    spdlog::warn("{} accepted report(s) were not stored before a crash; a retry is routed again",
                 orphaned_accepts_.size());
  }
  return Status::Ok();
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
  if (monitor_) monitor_->close();
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

std::optional<std::uint64_t> Broker::Audit(std::string_view type, nlohmann::json fields) {
  auto r = audit_->Append(type, std::move(fields));
  if (!r.ok()) {
    // Without a durable audit record a decision must not take effect; the caller's effect is
    // still pending, so stop serving rather than act unaudited.
    spdlog::critical("audit log append failed: {}; stopping", r.status().ToString());
    stop_.store(true);
    return std::nullopt;
  }
  return *r;
}

std::optional<std::uint64_t> Broker::AuditBuffered(std::string_view type, nlohmann::json fields) {
  auto r = audit_->AppendBuffered(type, std::move(fields));
  if (!r.ok()) {
    spdlog::critical("audit log append failed: {}; stopping", r.status().ToString());
    stop_.store(true);
    return std::nullopt;
  }
  return *r;
}

bool Broker::AuditSync() {
  Status st = audit_->Sync();
  if (!st.ok()) {
    spdlog::critical("audit log sync failed: {}; stopping", st.ToString());
    stop_.store(true);
    return false;
  }
  return true;
}

Status Broker::CheckStorageHeadroom() const {
  const std::uint64_t used = store_->DiskBytes();
  if (used > config_.max_store_bytes) {
    return StorageFull("the report store holds " + std::to_string(used) +
                       " bytes, more than max_store_bytes " +
                       std::to_string(config_.max_store_bytes));
  }
  struct statvfs fs {};
  if (statvfs(config_.data_dir.c_str(), &fs) == 0) {
    const std::uint64_t free_bytes =
        static_cast<std::uint64_t>(fs.f_bavail) * static_cast<std::uint64_t>(fs.f_frsize);
    if (free_bytes < config_.min_free_bytes) {
      return StorageFull("only " + std::to_string(free_bytes) +
                         " bytes are free on the broker's disk, less than min_free_bytes " +
                         std::to_string(config_.min_free_bytes));
    }
  }
  return Status::Ok();
}

// Token bucket per node (rate r per second, burst 2r). A refused submit is answered every time
// but audited at most once per node per second, with the count of refusals not written.
bool Broker::TakeRateToken(const std::string& node_id, std::uint64_t request_id) {
  const auto now = std::chrono::steady_clock::now();
  const double rate = static_cast<double>(config_.rate_per_node);
  auto [it, fresh] = rates_.try_emplace(node_id);
  RateState& r = it->second;
  if (fresh) {
    r.tokens = 2 * rate;
  } else {
    const double elapsed = std::chrono::duration<double>(now - r.refilled).count();
    r.tokens = std::min(2 * rate, r.tokens + elapsed * rate);
  }
  r.refilled = now;
  if (r.tokens >= 1) {
    r.tokens -= 1;
    return true;
  }
  const Status why(Code::kResourceExhausted, "RATE_LIMITED",
                   "more than " + std::to_string(config_.rate_per_node) +
                       " submissions per second from " + node_id + "; retry later");
  if (r.last_record == std::chrono::steady_clock::time_point{} ||
      now - r.last_record >= std::chrono::seconds(1)) {
    Audit("rejected_input", {{"node", node_id},
                             {"reason", why.reason()},
                             {"explanation", why.message()},
                             {"suppressed", r.suppressed}});
    r.suppressed = 0;
    r.last_record = now;
  } else {
    ++r.suppressed;
  }
  SubmitReplyInfo reply;
  reply.accepted = false;
  reply.error_reason = why.reason();
  reply.error_message = why.message();
  SendTo(node_id, EncodeSubmitReply(request_id, reply));
  return false;
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
      zmq::pollitem_t items[] = {{router_->handle(), 0, ZMQ_POLLIN, 0},
                                 {monitor_->handle(), 0, ZMQ_POLLIN, 0}};
      zmq::poll(items, 2, std::chrono::milliseconds(200));
      // Session accounting first, so the ZAP thread sees the count before the next handshake.
      if ((items[1].revents & ZMQ_POLLIN) != 0) HandleMonitorEvents();
      MaybeSweepExpired();
      MaybeRedeliver();
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
    } catch (const std::exception& e) {
      // A library exception (JSON, allocation) must not end the process: the frame being
      // handled is dropped; whatever it had made durable stays consistent (see broker.h).
      spdlog::error("broker loop: dropped a frame: {}", e.what());
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
  // A node the broker had given up on (no frame for 3 heartbeats) may have had copies queued
  // meanwhile; its first frame brings them, even without a new Hello.
  const bool was_online = IsOnline(node_id);
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
      if (reconnected || !was_online) FlushQueue(node_id);
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
        RejectSubmit(node_id, rid, InvalidArgument("WIRE_MALFORMED", "Submit carries no report"),
                     "");
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
    case schema::Body::TrackRequest:
      HandleTrack(node_id, rid, *f->body_as_TrackRequest());
      return;
    case schema::Body::ProofRequest:
      HandleProof(node_id, rid, f->body_as_ProofRequest()->seq());
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
  SendTo(node_id, EncodeError(request_id, why));
}

// A refused Submit is answered in the frame the sender waits for, so its outbox logic sees a
// final (or transient) answer to that request rather than a stray Error.
void Broker::RejectSubmit(const std::string& node_id, std::uint64_t request_id, const Status& why,
                          const std::string& report_id_hex) {
  nlohmann::json rec = {
      {"node", node_id}, {"reason", why.reason()}, {"explanation", why.message()}};
  if (!report_id_hex.empty()) rec["report_id"] = report_id_hex;
  Audit("rejected_input", rec);
  spdlog::warn("rejected submit from {}: {}", node_id, why.ToString());
  SubmitReplyInfo reply;
  reply.accepted = false;
  reply.error_reason = why.reason();
  reply.error_message = why.message();
  SendTo(node_id, EncodeSubmitReply(request_id, reply));
}

void Broker::HandleSubmit(const std::string& node_id, std::uint64_t request_id,
                          std::span<const std::uint8_t> report) {
  // Cheapest check first: a flooding node costs no signature verification.
  if (!TakeRateToken(node_id, request_id)) return;
  auto originator = PeekOriginator(report);
  if (!originator.ok()) return RejectSubmit(node_id, request_id, originator.status(), "");
  if (*originator != node_id) {
    return RejectSubmit(
        node_id, request_id,
        PermissionDenied("ORIGINATOR_MISMATCH", "report claims originator '" + *originator +
                                                    "' but the connection authenticated as '" +
                                                    node_id + "'"),
        "");
  }
  const Certificate* cert = directory_.FindNode(node_id);
  if (cert == nullptr) {
    return RejectSubmit(node_id, request_id,
                        Unauthenticated("AUTH_UNKNOWN_NODE", "originator is not in the directory"),
                        "");
  }
  auto view = InspectReport(report, cert->fields().signing_key);
  if (!view.ok()) return RejectSubmit(node_id, request_id, view.status(), "");
  const std::string id_hex = Hex(view->report_id);
  const std::string digest =
      Sha256Hex({reinterpret_cast<const char*>(report.data()), report.size()});

  auto known = store_->FindReport(id_hex);
  if (!known.ok()) return RejectSubmit(node_id, request_id, known.status(), id_hex);
  if (known->has_value()) {
    const StoredReport& stored = **known;
    if (stored.sha256 != digest || stored.originator != node_id) {
      return RejectSubmit(node_id, request_id,
                          Status(Code::kAlreadyExists, "REPORT_ID_CONFLICT",
                                 "report id " + id_hex +
                                     " was already accepted with different content; a new report "
                                     "needs a new id"),
                          id_hex);
    }
    // An idempotent retry (e.g. the reply was lost): answer exactly as the first time.
    std::vector<std::uint8_t> storage;
    auto frame = DecodeFrame(AlignedForDecode(stored.reply, storage));
    if (!frame.ok() || (*frame)->body_as_SubmitReply() == nullptr) {
      return RejectSubmit(
          node_id, request_id,
          Internal("STORE_CORRUPT", "the stored reply of report " + id_hex + " cannot be decoded"),
          id_hex);
    }
    SubmitReplyInfo reply = ToSubmitReplyInfo(*(*frame)->body_as_SubmitReply());
    reply.duplicate = true;
    if (!Audit("rejected_input", {{"node", node_id},
                                  {"reason", "DUPLICATE_REPORT"},
                                  {"explanation",
                                   "resubmission of an accepted report; answered with the stored "
                                   "outcome, not routed again"},
                                  {"report_id", id_hex}})) {
      return;
    }
    SendTo(node_id, EncodeSubmitReply(request_id, reply));
    return;
  }
  if (view->expires_unix <= NowUnix()) {
    return RejectSubmit(
        node_id, request_id,
        InvalidArgument("REPORT_EXPIRED", "the report expired before it was submitted"), id_hex);
  }
  const nlohmann::json portions = PortionsFingerprint(*view);
  auto orphan = orphaned_accepts_.find(id_hex);
  if (orphan != orphaned_accepts_.end() && (orphan->second["originator"] != view->originator ||
                                            orphan->second["portions"] != portions)) {
    return RejectSubmit(node_id, request_id,
                        Status(Code::kAlreadyExists, "REPORT_ID_CONFLICT",
                               "report id " + id_hex +
                                   " was already accepted with different content; a new report "
                                   "needs a new id"),
                        id_hex);
  }
  if (Status room = CheckStorageHeadroom(); !room.ok()) {
    return RejectSubmit(node_id, request_id, room, id_hex);
  }
  auto plan = PlanRouting(*view, directory_, *policy_);
  if (!plan.ok()) return RejectSubmit(node_id, request_id, plan.status(), id_hex);

  // Decide every recipient before anything is recorded: the copies and the queue caps.
  struct Pending {
    std::vector<std::uint8_t> copy;
    Status denied;  // Not OK: the whole recipient is denied for this reason.
  };
  std::vector<Pending> prepared(plan->recipients.size());
  for (std::size_t i = 0; i < plan->recipients.size(); ++i) {
    const RecipientPlan& r = plan->recipients[i];
    if (r.portions.empty()) continue;
    auto queued = store_->PendingCount(r.node_id);
    if (!queued.ok()) return RejectSubmit(node_id, request_id, queued.status(), id_hex);
    if (*queued >= config_.max_queue_per_node) {
      prepared[i].denied = Status(
          Code::kResourceExhausted, "QUEUE_FULL",
          r.node_id + " already has " + std::to_string(*queued) +
              " unacknowledged reports waiting (max_queue_per_node); nothing was stored for it");
      continue;
    }
    auto copy = SelectPortions(report, r.portions);
    if (!copy.ok()) {
      prepared[i].denied =
          Status(Code::kInternal, "BROKER_STORAGE",
                 "the broker could not build the copy: " + copy.status().message());
      continue;
    }
    prepared[i].copy = std::move(copy).value();
  }

  // 1. Audit every decision (group commit: one fsync below, before any effect).
  if (orphan == orphaned_accepts_.end()) {
    if (!AuditBuffered("accepted", {{"report_id", id_hex},
                                    {"originator", view->originator},
                                    {"originator_nation", view->originator_nation},
                                    {"intended_nations", view->intended_nations},
                                    {"created", view->created_unix},
                                    {"expires", view->expires_unix},
                                    {"report_bytes", view->report_bytes},
                                    {"portions", portions},
                                    {"policy_sha256", policy_->digest_hex()}})) {
      return;
    }
  }
  const std::int64_t now = NowUnix();
  SubmitReplyInfo reply;
  reply.report_id.assign(view->report_id.begin(), view->report_id.end());
  reply.accepted = true;
  reply.outcomes = ToOutcomes(*plan);
  std::vector<StoredCopy> copies;
  std::vector<bool> send_now(plan->recipients.size(), false);
  for (std::size_t i = 0; i < plan->recipients.size(); ++i) {
    const RecipientPlan& r = plan->recipients[i];
    RecipientOutcomeInfo& outcome = reply.outcomes[i];
    std::optional<std::uint64_t> first_denial;
    for (const PortionDecision& d : r.decisions) {
      if (d.release) continue;
      auto seq = AuditBuffered("denied", {{"report_id", id_hex},
                                          {"originator", view->originator},
                                          {"recipient", r.node_id},
                                          {"nation", r.nation},
                                          {"portion", d.index},
                                          {"label", d.label},
                                          {"reason", d.reason},
                                          {"explanation", d.explanation}});
      if (!seq) return;
      if (!first_denial) first_denial = seq;
    }
    if (r.portions.empty() || !prepared[i].denied.ok()) {
      std::string reason = r.reason;
      std::string explanation = r.explanation;
      if (!prepared[i].denied.ok()) {
        reason = prepared[i].denied.reason();
        explanation = prepared[i].denied.message();
        outcome.state = schema::DeliveryState::Denied;
        outcome.portions.clear();
        outcome.reason = reason;
        outcome.explanation = explanation;
      }
      if (reason.empty()) {
        // Every portion was withheld: the first portion's reason stands for the recipient.
        for (const PortionDecision& d : r.decisions) {
          if (!d.release) {
            reason = d.reason;
            break;
          }
        }
      } else {
        auto seq = AuditBuffered("denied", {{"report_id", id_hex},
                                            {"originator", view->originator},
                                            {"recipient", r.node_id},
                                            {"nation", r.nation},
                                            {"reason", reason},
                                            {"explanation", explanation}});
        if (!seq) return;
        if (!first_denial) first_denial = seq;
      }
      outcome.record_seq = first_denial.value_or(0);
      copies.push_back(
          {r.node_id, r.nation, CopyState::kDenied, reason, {}, now, outcome.record_seq});
      continue;
    }
    nlohmann::json labels = nlohmann::json::array();
    for (const auto& d : r.decisions) {
      if (d.release) labels.push_back({{"index", d.index}, {"label", d.label}});
    }
    send_now[i] = IsOnline(r.node_id);
    outcome.state = send_now[i] ? schema::DeliveryState::Delivered : schema::DeliveryState::Queued;
    const Certificate* recipient_cert = directory_.FindNode(r.node_id);
    auto seq =
        AuditBuffered(send_now[i] ? "delivered" : "queued",
                      {{"report_id", id_hex},
                       {"originator", view->originator},
                       {"originator_nation", view->originator_nation},
                       {"recipient", r.node_id},
                       {"nation", r.nation},
                       {"clearance", recipient_cert ? recipient_cert->fields().clearance : ""},
                       {"portions", labels}});
    if (!seq) return;
    outcome.record_seq = *seq;
    copies.push_back({r.node_id, r.nation, send_now[i] ? CopyState::kDelivered : CopyState::kQueued,
                      "", prepared[i].copy, now, *seq});
  }
  if (!AuditSync()) return;

  // 2. Store the report and every copy in one durable transaction.
  StoredReport row;
  row.report_id = id_hex;
  row.originator = view->originator;
  row.sha256 = digest;
  row.expires_unix = view->expires_unix;
  row.reply = EncodeSubmitReply(0, reply);
  if (Status st = store_->InsertReport(row, copies); !st.ok()) {
    // The records above took no effect; a retry with the same id is routed again without a
    // second `accepted` record.
    orphaned_accepts_[id_hex] = {{"originator", view->originator}, {"portions", portions}};
    const Status why = st.reason() == "STORAGE_FULL"
                           ? StorageFull("the report store is full: " + st.message())
                           : Status(st.code(), st.reason(),
                                    "the broker could not store the report, so nothing was "
                                    "routed (" +
                                        st.message() + "); retry later with the same report");
    return RejectSubmit(node_id, request_id, why, id_hex);
  }
  orphaned_accepts_.erase(id_hex);

  // 3. Effects: deliver to online recipients, then answer the sender. A failed send leaves the
  // copy pending; it is re-sent after the node's next Hello. (copies[i] is recipient i's row.)
  for (std::size_t i = 0; i < copies.size(); ++i) {
    if (send_now[i] &&
        SendTo(copies[i].node_id, EncodeDeliver(next_delivery_id_++, copies[i].bytes))) {
      last_sent_[{id_hex, copies[i].node_id}] = std::chrono::steady_clock::now();
    }
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
  auto copy = store_->FindCopy(id_hex, node_id);
  if (!copy.ok()) {
    spdlog::error("ack of {} by {}: {}", id_hex, node_id, copy.status().ToString());
    return;
  }
  if (!copy->has_value() || !IsPending((*copy)->state)) return;  // Repeated or stray ack.
  auto seq = Audit("acknowledged",
                   {{"report_id", id_hex},
                    {"recipient", node_id},
                    {"signature", ToHex({ack.signature()->data(), ack.signature()->size()})}});
  if (!seq) return;
  last_sent_.erase({id_hex, node_id});
  auto set = store_->SetState(id_hex, node_id, CopyState::kAcknowledged, "", NowUnix(), *seq);
  if (!set.ok()) spdlog::error("cannot record ack of {}: {}", id_hex, set.status().ToString());
}

void Broker::FlushQueue(const std::string& node_id, bool due_only) {
  auto pending = store_->PendingFor(node_id, kFlushBatch);
  if (!pending.ok()) {
    spdlog::error("pending copies for {} unreadable: {}", node_id, pending.status().ToString());
    return;
  }
  const auto now = std::chrono::steady_clock::now();
  for (const PendingCopy& p : *pending) {
    const auto key = std::make_pair(p.report_id, node_id);
    if (due_only && p.state == CopyState::kDelivered) {
      auto sent = last_sent_.find(key);
      if (sent != last_sent_.end() && now - sent->second < kRedeliverAfter) continue;
    }
    if (p.state == CopyState::kQueued) {
      // The first send of a stored copy is a release: audited (durably) before it happens.
      auto seq = Audit("delivered",
                       {{"report_id", p.report_id}, {"recipient", node_id}, {"from_queue", true}});
      if (!seq) return;
      auto set = store_->SetState(p.report_id, node_id, CopyState::kDelivered, "", NowUnix(), *seq);
      if (!set.ok()) {
        spdlog::error("cannot record delivery of {}: {}", p.report_id, set.status().ToString());
        return;
      }
    }
    if (!SendTo(node_id, EncodeDeliver(next_delivery_id_++, p.bytes))) break;
    last_sent_[key] = now;
  }
}

void Broker::MaybeRedeliver() {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_redeliver_ < std::chrono::seconds(1)) return;
  last_redeliver_ = now;
  std::vector<std::string> online;
  for (const auto& [id, peer] : peers_) {
    if (IsOnline(id)) online.push_back(id);
  }
  for (const std::string& id : online) FlushQueue(id, /*due_only=*/true);
}

void Broker::MaybeSweepExpired() {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_sweep_ < std::chrono::seconds(1)) return;
  last_sweep_ = now;
  const std::int64_t now_unix = NowUnix();
  auto expired = store_->SelectExpired(now_unix, kSweepBatch);
  if (!expired.ok()) {
    spdlog::error("expiry sweep failed: {}", expired.status().ToString());
    return;
  }
  if (expired->empty()) return;
  std::vector<std::uint64_t> seqs;
  for (const ExpiredCopy& e : *expired) {
    auto seq = AuditBuffered(
        "expired", {{"report_id", e.report_id},
                    {"originator", e.originator},
                    {"recipient", e.node_id},
                    {"nation", e.nation},
                    {"reason", "REPORT_EXPIRED"},
                    {"explanation", "the report expired before " + e.node_id +
                                        " acknowledged it; the stored copy was removed"}});
    if (!seq) return;
    seqs.push_back(*seq);
  }
  if (!AuditSync()) return;
  for (std::size_t i = 0; i < expired->size(); ++i) {
    const ExpiredCopy& e = (*expired)[i];
    last_sent_.erase({e.report_id, e.node_id});
    auto set = store_->SetState(e.report_id, e.node_id, CopyState::kExpired, "REPORT_EXPIRED",
                                now_unix, seqs[i]);
    if (!set.ok()) spdlog::error("cannot expire {}: {}", e.report_id, set.status().ToString());
  }
}

void Broker::HandleTrack(const std::string& node_id, std::uint64_t request_id,
                         const schema::TrackRequest& request) {
  if (request.report_id() == nullptr || request.report_id()->size() != kReportIdBytes) {
    SendTo(node_id, EncodeError(request_id, InvalidArgument("WIRE_MALFORMED",
                                                            "TrackRequest needs a 16-byte id")));
    return;
  }
  std::span<const std::uint8_t> id(request.report_id()->data(), request.report_id()->size());
  const std::string id_hex = Hex(id);
  auto report = store_->FindReport(id_hex);
  if (!report.ok()) {
    SendTo(node_id, EncodeError(request_id, report.status()));
    return;
  }
  if (!report->has_value()) {
    SendTo(node_id, EncodeError(request_id, NotFound("TRACK_UNKNOWN_REPORT",
                                                     "the broker holds no report " + id_hex)));
    return;
  }
  if ((*report)->originator != node_id) {
    SendTo(node_id, EncodeError(request_id, PermissionDenied(
                                                "TRACK_FORBIDDEN",
                                                "only the originator may track report " + id_hex)));
    return;
  }
  auto copies = store_->Copies(id_hex);
  if (!copies.ok()) {
    SendTo(node_id, EncodeError(request_id, copies.status()));
    return;
  }
  TrackReplyInfo info;
  info.report_id.assign(id.begin(), id.end());
  for (const StoredCopy& c : *copies) {
    info.recipients.push_back({c.node_id, c.nation, std::string(CopyStateName(c.state)), c.reason,
                               c.updated_unix, c.record_seq});
  }
  SendTo(node_id, EncodeTrackReply(request_id, info));
}

void Broker::HandleProof(const std::string& node_id, std::uint64_t request_id, std::uint64_t seq) {
  auto record = audit_->Record(seq);
  if (!record.ok()) {
    SendTo(node_id, EncodeError(request_id, record.status()));
    return;
  }
  // Only records that concern the asking node are served (checked before any checkpoint is
  // forced, so a stranger cannot make the broker sign on demand).
  const nlohmann::json j = nlohmann::json::parse(*record, nullptr, /*allow_exceptions=*/false);
  bool named = false;
  if (j.is_object()) {
    for (const char* field : {"originator", "recipient", "node"}) {
      auto it = j.find(field);
      if (it != j.end() && it->is_string() && it->get_ref<const std::string&>() == node_id) {
        named = true;
      }
    }
  }
  if (!named) {
    SendTo(node_id, EncodeError(request_id, PermissionDenied("PROOF_FORBIDDEN",
                                                             "audit record " + std::to_string(seq) +
                                                                 " does not name " + node_id)));
    return;
  }
  if (seq >= audit_->checkpoint_size()) MaybeCheckpoint(true);
  const std::string note = audit_->LatestCheckpoint();
  const std::uint64_t size = audit_->checkpoint_size();
  if (note.empty() || seq >= size) {
    SendTo(node_id, EncodeError(request_id, Status(Code::kUnavailable, "CHECKPOINT_UNAVAILABLE",
                                                   "no checkpoint covers record " +
                                                       std::to_string(seq) + " yet")));
    return;
  }
  auto proof = audit_->InclusionProof(seq, size);
  if (!proof.ok()) {
    SendTo(node_id, EncodeError(request_id, proof.status()));
    return;
  }
  std::vector<std::uint8_t> bytes;
  for (const Hash& h : *proof) bytes.insert(bytes.end(), h.begin(), h.end());
  SendTo(node_id, EncodeProofReply(request_id, note, seq, *record, bytes));
}

}  // namespace tearline::broker
