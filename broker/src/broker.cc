#include "tearline/broker/broker.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "tearline/audit/audit_log.h"
#include "tearline/base/file_util.h"
#include "tearline/broker/unit_options.h"
#include "tearline/identity/certificate.h"
#include "tearline/identity/local_identity.h"
#include "tearline/wire/wire.h"

namespace tearline::broker {
namespace {

// Frames read per wake-up; their decisions share one commit group.
constexpr int kReadBatch = 4096;

}  // namespace

Broker::Broker(const BrokerConfig& config, const Clock& clock)
    : config_(config),
      clock_(clock),
      sessions_(clock, config.id, std::chrono::milliseconds(config.heartbeat_ms),
                config.rate_per_node) {}

Broker::~Broker() = default;

Result<std::unique_ptr<Broker>> Broker::Start(const BrokerConfig& config, const Clock& clock) {
  std::unique_ptr<Broker> b(new Broker(config, clock));
  TEARLINE_RETURN_IF_ERROR(b->LoadIdentity());
  TEARLINE_RETURN_IF_ERROR(b->OpenState());
  TEARLINE_RETURN_IF_ERROR(b->Listen());
  return b;
}

// Policy, trust store, the broker's own certificate and keys, and the node directory.
Status Broker::LoadIdentity() {
  LocalIdentityFiles files{config_.policy, config_.ca_dir, config_.certificate, config_.secret};
  auto identity = LoadLocalIdentity(files, CertRole::kBroker, std::nullopt, clock_.UnixNow());
  if (!identity.ok()) return identity.status();
  policy_ = std::move(identity->policy);
  trust_ = std::move(identity->trust);
  keys_ = std::make_unique<IdentityKeys>(std::move(identity->keys));
  // Before the directory is built: the newest list ever accepted may revoke more than ca_dir's.
  // The watch also builds the directory from config_.directory, and picks up new certificates.
  auto watch = IdentityWatch::Open(
      *trust_, directory_, clock_,
      {config_.ca_dir / kRevocationListFile, config_.data_dir / kRevocationFloorFile},
      {config_.directory, config_.rotation_overlap});
  if (!watch.ok()) return watch.status();
  identity_ = std::move(watch).value();
  return Status::Ok();
}

// The audit log and report store, and the units working on them; the first records and the
// first checkpoint.
Status Broker::OpenState() {
  // Owner-only, like a node's: files an operator or an older version left readable are fixed.
  if (Status st = MakeTreePrivate(config_.data_dir); !st.ok()) {
    return IoError("BROKER_DATA_DIR", st.message());
  }
  auto audit = AuditLog::Open(config_.data_dir / "audit", "tearline/audit/" + config_.id,
                              &keys_->signing, config_.HeadFile());
  if (!audit.ok()) {
    if (audit.status().reason() == "AUDIT_ROLLBACK") {
      spdlog::critical("event=audit_rollback head_file={} detail=\"{}\"",
                       config_.HeadFile().string(), audit.status().message());
    }
    return audit.status();
  }
  audit_ = std::move(audit).value();
  if (audit_->torn_tail_bytes() > 0) {
    spdlog::warn("event=audit_torn_tail bytes={}", audit_->torn_tail_bytes());
  }
  auto store = ReportStore::Open(config_.data_dir / "reports.db", ReportStoreOptionsFrom(config_));
  if (!store.ok()) return store.status();
  store_ = std::move(store).value();

  auditor_ = std::make_unique<Auditor>(*audit_, [this] { stop_.store(true); });
  group_ = std::make_unique<CommitGroup>(
      *auditor_, *store_, [this](const std::string& n, const auto& f) { return Transmit(n, f); },
      [this] { stop_.store(true); }, clock_, CommitGroupLimitsFrom(config_));
  log_service_ = std::make_unique<LogService>(
      *audit_, directory_, clock_, LogServiceOptionsFrom(config_), group_.get(),
      [this](std::string_view id) -> std::optional<std::string> {
        auto report = store_->FindReport(id);
        if (!report.ok() || !report->has_value()) return std::nullopt;
        return (*report)->originator;
      });
  submits_ = std::make_unique<SubmitPipeline>(
      directory_, *policy_, *store_, *auditor_, clock_, SubmitOptionsFrom(config_),
      [this](const std::string& node_id) { return sessions_.IsOnline(node_id); });
  queues_ = std::make_unique<DeliveryQueues>(*store_, *auditor_, directory_, clock_, *group_,
                                             DeliveryOptionsFrom(config_));
  metrics_ = std::make_unique<BrokerMetrics>(
      clock_, MetricsOptionsFrom(config_),
      BrokerGaugeSampler(*store_, *audit_, *log_service_, directory_, sessions_));
  auditor_->SetObserver([m = metrics_.get()](const AnyAuditRecord& r) { m->Count(r); });
  TEARLINE_RETURN_IF_ERROR(OpenReleaseDesk());
  // A report id the log accepted but the store does not hold was interrupted between the audit
  // and the store commit (see broker.h): remember each, so a retry is recognised.
  auto orphans = Auditor::FindOrphanedAccepts(*audit_, *store_);
  if (!orphans.ok()) return orphans.status();
  if (!orphans->empty()) {  // Accepted, not stored before a crash: a retry is routed again.
    spdlog::warn("event=orphaned_accepts count={}", orphans->size());
  }
  submits_->SetOrphanedAccepts(std::move(orphans).value());
  TEARLINE_RETURN_IF_ERROR(log_service_->PublishAuditContext(
      config_.policy.empty() ? std::filesystem::path(DefaultPolicyPath()) : config_.policy,
      *trust_));
  // The auditor ties log.pub to this certificate (issued by the coalition root), so a log
  // re-signed with any other key fails `tearline-audit verify --ca`.
  auto cert_bytes = ReadFileCapped(config_.certificate.string(), kMaxCertificateSize, "CERT_FILE");
  if (!cert_bytes.ok()) return cert_bytes.status();
  TEARLINE_RETURN_IF_ERROR(WriteFileAtomic(audit_->dir() / "broker.cert", *cert_bytes, 0600));

  (void)auditor_->Durable(
      auditor_->BrokerStart(config_.id, directory_.nodes().size(), audit_->torn_tail_bytes()));
  (void)auditor_->Durable(auditor_->PolicyLoaded(*policy_));
  // Sign at once, so the log is tamper-evident from its first decision on and a node that
  // connects can witness a checkpoint straight away.
  return log_service_->Checkpoint();
}

Status Broker::Listen() {
  slots_ =
      std::make_unique<SessionSlots>(clock_, config_.max_connections, ClaimWindowFrom(config_));
  gate_ = std::make_unique<InboundGate>(clock_, *slots_, config_.frame_rate_per_node,
                                        2.0 * config_.frame_rate_per_node);
  backlog_ = std::make_unique<SubmitBacklog>(clock_, SubmitBacklogOptionsFrom(config_));
  authenticator_ = std::make_unique<Authenticator>(
      directory_, *trust_, clock_, *auditor_, config_.max_connections,
      [this] { return slots_->TryReserve(); }, identity_.get());
  auto socket =
      RouterSocket::Open(RouterOptionsFrom(config_, kReadBatch), keys_->transport.secret_key,
                         [auth = authenticator_.get()](const std::array<std::uint8_t, 32>& key,
                                                       const std::string& address) {
                           return auth->Authenticate(key, address);
                         });
  if (!socket.ok()) return socket.status();
  socket_ = std::move(socket).value();
  const std::string text = socket_->endpoint() + "\n";
  TEARLINE_RETURN_IF_ERROR(
      WriteFileAtomic(config_.EndpointFile(),
                      {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}, 0600));
  spdlog::info("event=broker_listening broker={} endpoint={} nodes={}", config_.id,
               socket_->endpoint(), directory_.nodes().size());
  return Status::Ok();
}

Status Broker::Run() {
  spdlog::info("event=broker_serving broker={}", config_.id);
  net::EventLoop loop(clock_);
  socket_->Serve(
      // All that waits (bounded): a full connection queue is not read and its heartbeat expires.
      loop, stop_, kReadBatch,
      [this](ConnectionEvent event, std::uint32_t fd) {
        // A descriptor closed or reused ends the session it carried (see SessionSlots).
        if (event != ConnectionEvent::kHandshakeSucceeded) slots_->Release(static_cast<int>(fd));
        if (event == ConnectionEvent::kDisconnected) spdlog::info("event=disconnected fd={}", fd);
      },
      [this](const Inbound& m) {
        HandleMessage(m);
        // A group at its limit goes out before the next frame (see commit_group.h).
        if (group_->Due()) (void)group_->Close();  // A failure has stopped the broker.
      },
      [this] { Housekeeping(); });
  // Housekeeping also runs after every batch of messages; this timer covers idle periods.
  loop.AddTimer(std::chrono::milliseconds(200), "housekeeping", [this] { Housekeeping(); });
  while (!stop_.load()) {
    // A failed poll is logged and retried; with submissions parked the poll does not wait.
    const auto wait = std::chrono::milliseconds(backlog_->empty() ? 200 : 0);
    backlog_served_ = false;
    if (Status st = loop.RunOnce(wait); !st.ok()) {
      spdlog::error("event=broker_poll_failed reason={}", st.reason());
    }
    if (!backlog_served_ && ServeBacklog()) (void)group_->Close();  // A failure stops the broker.
  }
  socket_->Unserve(loop);
  (void)group_->Close();
  Status fatal = auditor_->failure().ok() ? group_->failure() : auditor_->failure();
  if (!fatal.ok()) {
    // Deciding on without a durable record is what the log exists to rule out: exit non-zero
    // so a supervisor restarts the broker once an operator has fixed the disk.
    spdlog::critical("event=broker_fatal broker={} reason={} detail=\"{}\" (audit or store failed)",
                     config_.id, fatal.reason(), fatal.message());
    return fatal;
  }
  (void)auditor_->Durable(auditor_->BrokerStop(config_.id));
  log_service_->MaybeCheckpoint(true);
  if (Status failed = log_service_->failure(); !failed.ok()) return failed;
  metrics_->MaybeWrite(true);  // The last page shows the final checkpoint.
  spdlog::info("event=broker_stopped broker={}", config_.id);
  return Status::Ok();
}

// Also closes the commit group the frames of the last batch opened (see commit_group.h).
void Broker::Housekeeping() {
  group_->Open();
  if (IdentityWatch::Change change = identity_->Poll(); change.any()) {
    // Nothing more is routed to a withdrawn node; every other node refreshes its directory now.
    for (const std::string& node_id : change.withdrawn) {
      sessions_.Forget(node_id);
      backlog_->Drop(node_id);  // Unanswered: the node is no longer served.
    }
    for (const auto& a : change.accepted) {
      (void)auditor_->Durable(auditor_->CertificateAccepted(a));
      // Auditors check cosignatures by the new key too (certs/, the old key's file stays).
      const auto file =
          audit_->dir() / "certs" / (a.node + "." + std::to_string(a.serial) + ".cert");
      (void)WriteFileAtomic(file, directory_.FindNode(a.node)->encoded(), 0600);
    }
    const auto notice = EncodeDirectoryChanged(identity_->sequence());
    for (const std::string& node_id : sessions_.OnlineNodes()) SendTo(node_id, notice);
  }
  queues_->MaybeSweepExpired();
  queues_->MaybeRedeliver(sessions_.OnlineNodes());
  // The turn's parked submissions join the group of the frames read with them: one commit, and
  // no Submit waits behind the commit of an Ack read in the same batch.
  if (!backlog_served_) backlog_served_ = ServeBacklog();
  (void)group_->Close();  // A failure has stopped the broker.
  log_service_->MaybeCheckpoint(false);
  if (Status failed = log_service_->failure(); !failed.ok()) auditor_->Fail(failed);
  metrics_->MaybeWrite();  // Its own interval; in-memory figures and one small file.
}

void Broker::HandleMessage(const Inbound& message) {
  const std::string& node_id = message.node_id;
  group_->Open();  // Closed after the batch (Housekeeping): its decisions share one sync.
  // Every refusal below echoes the frame's request id whenever its header could be read.
  const std::uint64_t rid = PeekRequestId(message.payload);
  // Every frame, whatever its body, passes the gate before any costly work.
  if (InboundGate::Verdict v = gate_->Check(node_id, message.fd); !v.serve) {
    if (v.notify) RefuseSparingly(message, rid, v.why, v.suppressed);
    return;
  }
  // A revoked or expired identity is refused before anything else looks at its frame.
  if (auto refusal = identity_->Screen(node_id)) {
    if (refusal->record) RefuseSparingly(message, rid, refusal->why, refusal->suppressed);
    return;
  }
  // A node the broker had given up on (no frame for 3 heartbeats) may have had copies queued
  // meanwhile; its next frame on the welcomed connection brings them, without a new Hello.
  const Sessions::Seen seen = sessions_.Touch(node_id, message.routing_id);
  std::vector<std::uint8_t> storage;
  std::span<const std::uint8_t> bytes = AlignedForDecode(message.payload, storage);
  auto frame = DecodeFrame(bytes, config_.max_frame_bytes);
  if (!frame.ok()) return Reject(node_id, rid, frame.status(), "");
  // The conversation: nothing but Hello is served on a connection before its Welcome.
  const schema::Body type = (*frame)->body_type();
  if (Status st = sessions_.Admit(node_id, type == schema::Body::Hello); !st.ok()) {
    return Reject(node_id, rid, st, "");
  }
  if (type == schema::Body::Submit) return Park(node_id, rid, bytes);
  Dispatch(node_id, **frame, seen);
}

void Broker::Dispatch(const std::string& node_id, const schema::Frame& f,
                      const Sessions::Seen& seen) {
  const std::uint64_t rid = f.request_id();
  switch (f.body_type()) {
    case schema::Body::Hello: {
      const auto* named = f.body_as_Hello()->node_id();
      // Greeting again on a connection already welcomed loses nothing sent on it (see Welcomed).
      const bool again = sessions_.Admit(node_id, false).ok();
      auto welcome = sessions_.Hello(node_id, rid, named ? named->str() : "");
      if (!welcome.ok()) return Reject(node_id, rid, welcome.status(), "");
      // Recorded once per connection: repeated greetings cannot fill the log.
      if (!again) (void)auditor_->Durable(auditor_->NodeConnected(node_id));
      SendTo(node_id, *welcome);
      return Welcomed(node_id, rid, !again);
    }
    case schema::Body::Ping:
      SendTo(node_id, sessions_.Pong(rid, f.body_as_Ping()->nonce()));
      if (seen.reconnected || !seen.was_online) queues_->Flush(node_id);
      return;
    case schema::Body::DirectoryRequest:
      SendTo(node_id, identity_->DirectoryReply(rid));
      return;
    case schema::Body::Submit: {
      const auto* report = f.body_as_Submit()->report();
      if (report == nullptr) {
        return Apply(
            submits_->Refuse(node_id, rid,
                             InvalidArgument("WIRE_MALFORMED", "Submit carries no report"), ""),
            node_id);
      }
      return Apply(submits_->Submit(node_id, rid, {report->data(), report->size()}), node_id);
    }
    case schema::Body::ForwardSubmit: {
      const auto* fwd = f.body_as_ForwardSubmit()->forward();
      return Apply(submits_->Forward(node_id, rid,
                                     fwd ? std::span<const std::uint8_t>(fwd->data(), fwd->size())
                                         : std::span<const std::uint8_t>()),
                   node_id);
    }
    case schema::Body::Ack: {
      std::string report_id_hex;
      Status st = queues_->Acknowledge(node_id, *f.body_as_Ack(), &report_id_hex);
      if (!st.ok()) Reject(node_id, rid, st, report_id_hex);
      return;
    }
    case schema::Body::CheckpointRequest:
      SendTo(node_id,
             log_service_->CheckpointReply(rid, f.body_as_CheckpointRequest()->old_size()));
      return;
    case schema::Body::Cosignature:
      if (Status st = log_service_->StoreCosignature(node_id, *f.body_as_Cosignature()); !st.ok()) {
        Reject(node_id, rid, st, "");
      }
      return;
    case schema::Body::TrackRequest:
      SendTo(node_id, queues_->Track(node_id, rid, *f.body_as_TrackRequest()));
      return;
    case schema::Body::ProofRequest:  // Empty: answered after the next checkpoint.
      if (auto r = log_service_->Proof(node_id, rid, f.body_as_ProofRequest()->seq()); !r.empty()) {
        SendTo(node_id, r);
      }
      return;
    case schema::Body::ReleaseRequest:
    case schema::Body::ReleaseDecision:
      return HandleRelease(node_id, f);
    case schema::Body::Error:  // A refused Deliver: counted per copy, audited once if it fails.
      return queues_->Refused(node_id, rid, *f.body_as_Error());
    default:
      return Reject(
          node_id, rid,
          InvalidArgument("WIRE_UNEXPECTED", "the broker does not accept this kind of frame"), "");
  }
}

// Deliver to online recipients, then answer the sender. A failed send leaves the copy pending;
// it is re-sent after the node's next Hello or by the redelivery timer.
void Broker::Apply(SubmitEffects effects, const std::string& sender) {
  for (const Delivery& d : effects.deliveries) queues_->Send(d.node_id, d.report_id_hex, d.copy);
  if (effects.reply) SendTo(sender, *effects.reply);
}

void Broker::Park(const std::string& node_id, std::uint64_t request_id,
                  std::span<const std::uint8_t> frame) {
  auto refusal = backlog_->Offer(node_id, request_id, frame);
  if (!refusal) return;
  if (refusal->record) {
    (void)auditor_->Durable(
        auditor_->RejectedInputThrottled(node_id, refusal->why, refusal->suppressed));
    spdlog::warn("event=submit_busy node={} suppressed={}", node_id, refusal->suppressed);
  }
  SendTo(node_id, refusal->reply);
}

bool Broker::ServeBacklog() {
  if (backlog_->empty()) return false;
  group_->Open();  // A turn of parked submissions shares one sync, like a batch of frames.
  backlog_->ServeTurn([this](const SubmitBacklog::Pending& p) {
    std::vector<std::uint8_t> storage;
    auto frame = DecodeFrame(AlignedForDecode(p.frame, storage));
    if (frame.ok()) Dispatch(p.node_id, **frame, Sessions::Seen{.was_online = true});
  });
  return true;
}

void Broker::Reject(const std::string& node_id, std::uint64_t request_id, const Status& why,
                    const std::string& report_id_hex) {  // Always answered, recorded sparingly.
  if (RateLimiter::Decision d = refusal_records_.Take(node_id); d.allowed) {
    (void)auditor_->Durable(auditor_->RejectedInput(node_id, why, report_id_hex, d.suppressed));
  }
  spdlog::warn("event=input_rejected node={} reason={}", node_id, why.reason());
  SendTo(node_id, EncodeError(request_id, why));
}

void Broker::RefuseSparingly(const Inbound& message, std::uint64_t request_id, const Status& why,
                             std::uint64_t suppressed) {
  (void)auditor_->Durable(auditor_->RejectedInputThrottled(message.node_id, why, suppressed));
  spdlog::warn("event=input_refused_unserved node={} reason={} suppressed={}", message.node_id,
               why.reason(), suppressed);
  (void)socket_->Send(message.routing_id, EncodeError(request_id, why));
}

bool Broker::SendTo(const std::string& node_id, const std::vector<std::uint8_t>& frame) {
  return group_->SendTo(node_id, frame);
}

bool Broker::Transmit(const std::string& node_id, const std::vector<std::uint8_t>& frame) {
  const std::string* routing_id = sessions_.RoutingId(node_id);
  if (routing_id == nullptr) return false;
  switch (socket_->Send(*routing_id, frame)) {
    case RouterSocket::SendResult::kSent:
      return true;
    case RouterSocket::SendResult::kGone:
      sessions_.Forget(node_id);  // The node will say Hello again.
      return false;
    case RouterSocket::SendResult::kBlocked:
      return false;
  }
  return false;
}

}  // namespace tearline::broker
