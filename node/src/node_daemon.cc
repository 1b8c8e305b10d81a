#include "tearline/node/node_daemon.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <exception>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tearline/net/event_loop.h"
#include "tearline/node/broker_frames.h"
#include "tearline/node/broker_link.h"
#include "tearline/node/control_server.h"
#include "tearline/node/data_dir_lock.h"
#include "tearline/node/directory_cache.h"
#include "tearline/node/forwarder.h"
#include "tearline/node/group_commit.h"
#include "tearline/node/log_witness.h"
#include "tearline/node/node_identity.h"
#include "tearline/node/node_sockets.h"
#include "tearline/node/node_stores.h"
#include "tearline/node/outbox.h"
#include "tearline/node/pending_sends.h"
#include "tearline/node/queries.h"
#include "tearline/node/receiver.h"
#include "tearline/node/release_officer.h"
#include "tearline/node/sealer.h"
#include "tearline/wire/wire.h"

namespace tearline::node {
namespace {

using std::chrono::milliseconds;

// How often the loop runs the units' timers (session, deadlines, resubmission).
constexpr milliseconds kTickInterval{50};
// Bounds how late a stop request is noticed.
constexpr milliseconds kMaxPollInterval{100};
constexpr std::size_t kMaxMessagesPerWakeup = 64;

std::string FbString(const flatbuffers::String* s) { return s == nullptr ? "" : s->str(); }

}  // namespace

struct NodeDaemon::Impl final : ControlReplier, ControlHandler {
  Impl(NodeConfig cfg, const Clock& clk, NodeIdentity ident, DataDirLock dir_lock, NodeStores st,
       std::vector<ReleaseRule> rules)
      : config(std::move(cfg)),
        clock(clk),
        identity(std::move(ident)),
        lock(std::move(dir_lock)),
        stores(std::move(st)),
        link(clock, config.id, config.broker_endpoint, milliseconds(config.heartbeat_ms),
             [this](std::span<const std::uint8_t> frame) { return SendToBroker(frame); }),
        directory(clock, *identity.trust, *identity.revocation_floor, *identity.own_cert,
                  *identity.broker_cert, link),
        sealer(clock, identity, ProvenanceStores{&stores.inbox, &stores.sent}),
        outbox(clock, stores.outbox, stores.sent, link, sends),
        sends(clock, config.broker_endpoint, sealer, directory, outbox, link, *this),
        receiver(clock, identity, stores.inbox, directory, link),
        forwarder(clock, identity, stores.inbox, directory, link, *this),
        witness(clock,
                LogWitnessConfig{config.id, identity.broker_cert->node_id(),
                                 identity.broker_cert->fields().signing_key,
                                 config.data_dir / "witness" / "checkpoint"},
                identity.keys.signing, link),
        queries(clock, config.broker_endpoint, identity.broker_cert->node_id(),
                identity.broker_cert->fields().signing_key,
                QuerySources{&stores.sent, &stores.inbox, &outbox}, witness, link, *this),
        releases(clock, identity, directory, stores.inbox, stores.releases, stores.sources,
                 std::move(rules), link, *this),
        control_server(*this, *this),
        started(clock.Now()) {}

  NodeConfig config;
  const Clock& clock;
  NodeIdentity identity;
  DataDirLock lock;
  NodeStores stores;
  BrokerLink link;
  DirectoryCache directory;
  Sealer sealer;
  Outbox outbox;
  PendingSends sends;
  Receiver receiver;
  Forwarder forwarder;
  LogWitness witness;
  Queries queries;
  ReleaseOfficer releases;
  ControlServer control_server;
  Clock::TimePoint started;

  NodeSockets sockets;
  net::Socket& broker = sockets.broker;
  net::Socket& control = sockets.control;
  net::SocketMonitor& monitor = sockets.monitor;

  bool SendToBroker(std::span<const std::uint8_t> frame) { return sockets.SendToBroker(frame); }
  void CloseSockets() { sockets.Close(config.data_dir); }

  void Reply(const std::string& client, std::string payload) override {
    if (!control.valid() || control.SendTo(client, payload) != net::SendResult::kSent) {
      spdlog::warn("event=control_reply_failed");
    }
    if (!payload.empty()) sodium_memzero(payload.data(), payload.size());  // May hold content.
  }

  // --- broker frames --------------------------------------------------------------------------

  void OnLinkChange(BrokerLink::Change change) {
    if (change == BrokerLink::Change::kSessionLost) {
      directory.OnSessionChange();
      sends.OnSessionLost();
    } else if (change == BrokerLink::Change::kSessionUp) {
      directory.OnSessionChange();
      (void)directory.Request();
      outbox.OnSessionUp(link.heartbeat());
    }
  }

  void OnBrokerFrame(std::span<const std::uint8_t> raw) {
    std::vector<std::uint8_t> aligned;
    auto decoded = DecodeFrame(AlignedForDecode(raw, aligned));
    if (!decoded.ok()) {
      spdlog::warn("event=broker_frame_rejected reason={} bytes={}", decoded.status().reason(),
                   raw.size());
      return;
    }
    const schema::Frame* frame = *decoded;
    link.OnFrame();
    const std::uint64_t rid = frame->request_id();
    switch (frame->body_type()) {
      case schema::Body::Welcome: {
        const auto* w = frame->body_as_Welcome();
        (void)link.OnWelcome(FbString(w->broker_id()), w->heartbeat_interval_ms());
        outbox.SetBrokerRate(w->submit_rate_per_node());
        // Every Welcome (also a repeat): a fresh directory; the outbox resubmits (same bytes).
        OnLinkChange(BrokerLink::Change::kSessionUp);
        break;
      }
      case schema::Body::Pong:
        break;
      case schema::Body::DirectoryChanged:  // Revocation or expiry: no send uses the old one.
        directory.OnChangeNotice();
        break;
      case schema::Body::CheckpointReply:
        witness.OnCheckpointReply(ToCheckpointAnswer(*frame->body_as_CheckpointReply()));
        break;
      case schema::Body::Directory:
        directory.OnDirectory(ToDirectoryUpdate(*frame->body_as_Directory()));
        // Waiting sends can be sealed now; deliveries from unknown originators are retried.
        sends.OnDirectoryUpdated();
        receiver.RetryStashed();
        break;
      case schema::Body::SubmitReply:
        if (auto info = ToSubmitReplyInfo(*frame->body_as_SubmitReply());
            !forwarder.OnSubmitReply(rid, info)) {
          outbox.OnSubmitReply(rid, std::move(info));
        }
        break;
      case schema::Body::TrackReply:
        queries.OnTrackReply(rid, ToTrackReplyInfo(*frame->body_as_TrackReply()));
        break;
      case schema::Body::ProofReply:
        queries.OnProofReply(rid, ToRecordProof(*frame->body_as_ProofReply()));
        break;
      case schema::Body::Deliver: {
        const auto* report = frame->body_as_Deliver()->report();
        receiver.OnDeliver(rid, report == nullptr
                                    ? std::vector<std::uint8_t>{}
                                    : std::vector<std::uint8_t>(report->begin(), report->end()));
        break;
      }
      case schema::Body::Error: {
        const auto* e = frame->body_as_Error();
        const std::string reason = FbString(e->reason());
        const std::string message = FbString(e->message());
        spdlog::warn("event=broker_error request={} reason={} message=\"{}\"", rid, reason,
                     message);
        const std::string known = reason.empty() ? "BROKER_ERROR" : reason;
        if (!forwarder.OnError(rid, known, message)) outbox.OnError(rid, known, message);
        queries.OnError(rid, known, message);
        releases.OnError(rid, known, message);
        witness.OnError(rid, reason);
        OnLinkChange(link.OnError(rid, reason));
        break;
      }
      default:  // Release frames; a body this node does not know is only logged.
        if (releases.OnFrame(*frame)) break;
        spdlog::warn("event=broker_frame_unexpected type={}",
                     schema::EnumNameBody(frame->body_type()));
        break;
    }
  }

  // --- control requests -----------------------------------------------------------------------

  StatusResult GetStatus() override {
    StatusResult s;
    const auto& f = identity.own_cert->fields();
    s.node_id = config.id;
    s.nation = f.nation;
    s.clearance = f.clearance;
    s.broker_endpoint = config.broker_endpoint;
    s.broker_id = link.broker_id();
    s.connected = link.welcomed();
    s.transport = link.TransportState();
    s.last_broker_frame_ms_ago = link.MillisSinceLastFrame();
    s.reconnects = link.reconnects();
    s.directory_nodes = directory.directory().nodes().size();
    s.inbox_reports = stores.inbox.reports();
    s.pending_sends = sends.size();
    s.outbox_reports = outbox.size();
    s.uptime_s = std::chrono::duration_cast<std::chrono::seconds>(clock.Now() - started).count();
    witness.FillStatus(s);
    return s;
  }

  Result<std::vector<InboxEntry>> ListInbox() override {
    std::size_t skipped = 0;
    auto list = stores.inbox.List(&skipped);
    if (skipped > 0) spdlog::warn("event=inbox_entries_unreadable count={}", skipped);
    return list;
  }

  Result<ReadResult> ReadReport(const std::string& id) override { return receiver.Read(id); }

  void StartSend(const std::string& client, ControlRequest request) override {
    sends.Start(client, std::move(request), link.ever_welcomed());
  }
  void StartTrack(const std::string& client, const ControlRequest& request) override {
    queries.StartTrack(client, request);
  }
  void StartProve(const std::string& client, const ControlRequest& request) override {
    queries.StartProve(client, request);
  }
  void StartForward(const std::string& client, const ControlRequest& request) override {
    forwarder.Start(client, request);
  }
  void StartRelease(const std::string& client, ControlRequest request) override {
    releases.Start(client, request);
  }

  void UseGroupCommit() {
    GroupCommit* gc = &stores.commit;
    stores.inbox.UseGroupCommit(gc);
    stores.outbox.UseGroupCommit(gc);
    stores.sent.UseGroupCommit(gc);
    stores.sources.UseGroupCommit(gc);
    outbox.UseGroupCommit(gc);
    receiver.UseGroupCommit(gc);
    directory.FollowChangeNotices(true);
    // What an earlier life wrote but had not synced (killed before its batch sync) is synced
    // before anything found in the stores is acknowledged again.
    gc->MarkWritten();
  }

  // --- loop -----------------------------------------------------------------------------------

  void Tick() {
    OnLinkChange(link.Tick());
    directory.Tick();
    witness.Tick(link.heartbeat());
    sends.Tick();
    outbox.Tick(link.heartbeat());
    queries.Tick();
    forwarder.Tick();
    releases.Tick();
  }

  void Flush() {
    if (Status s = stores.commit.Flush(); !s.ok()) {
      // Nothing waiting on it ran (no Ack, no Submit): the next wake-up syncs again.
      spdlog::error("event=node_sync_failed reason={} detail=\"{}\"", s.reason(), s.message());
    }
  }

  void DrainBroker() {
    for (std::size_t i = 0; i < kMaxMessagesPerWakeup; ++i) {
      auto parts = broker.TryReceive();
      if (!parts) break;
      for (const auto& part : *parts) {
        try {
          OnBrokerFrame(part.bytes());
        } catch (const std::exception& e) {
          // One bad frame must not take the node down; nothing is acknowledged for it.
          spdlog::error("event=broker_frame_internal_error error=\"{}\"", e.what());
        }
      }
    }
  }

  void DrainMonitor() {
    for (std::size_t i = 0; i < kMaxMessagesPerWakeup; ++i) {
      auto event = monitor.TryNext();
      if (!event) break;
      OnLinkChange(link.OnTransportEvent(event->type));
    }
  }

  void DrainControl() {
    for (std::size_t i = 0; i < kMaxMessagesPerWakeup; ++i) {
      auto parts = control.TryReceive();
      if (!parts) break;
      std::vector<std::string_view> views;
      for (const auto& p : *parts) {
        views.emplace_back(reinterpret_cast<const char*>(p.bytes().data()), p.bytes().size());
      }
      control_server.OnMessage(views);
      // The request may hold report content: wipe the received copy in place.
      for (auto& p : *parts) {
        auto b = p.bytes();
        if (!b.empty()) sodium_memzero(const_cast<std::uint8_t*>(b.data()), b.size());
      }
    }
  }

  Status Loop(const std::atomic<bool>& stop) {
    spdlog::info("event=node_started node={} nation={} clearance={} broker={} control={}",
                 config.id, identity.nation(), identity.own_cert->fields().clearance,
                 config.broker_endpoint, config.ControlEndpoint());
    net::EventLoop loop(clock);
    // Each wake-up's writes share one sync; Acks and first Submits leave after it.
    loop.AddReader(broker, "broker", [this] {
      DrainBroker();
      Flush();
    });
    loop.AddReader(monitor.events(), "broker_monitor", [this] {
      DrainMonitor();
      Flush();
    });
    loop.AddReader(control, "control", [this] {
      DrainControl();
      Flush();
    });
    (void)loop.AddTimer(kTickInterval, "tick", [this] {
      Tick();
      Flush();
    });
    Tick();  // Greet at once.
    Status s = loop.Run(stop, kMaxPollInterval);
    if (!s.ok()) s = Internal("NODE_POLL_FAILED", s.message());
    Flush();
    spdlog::info("event=node_stopping pending_sends={} syncs={}", sends.size(),
                 stores.commit.syncs());
    sends.StopAll();
    queries.StopAll();
    return s;
  }
};

NodeDaemon::NodeDaemon(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

NodeDaemon::~NodeDaemon() {
  if (impl_) impl_->CloseSockets();
}

Result<std::unique_ptr<NodeDaemon>> NodeDaemon::Create(const NodeConfig& config,
                                                       const Clock& clock) {
  TEARLINE_ASSIGN_OR_RETURN(NodeIdentity identity, NodeIdentity::Load(config, clock.UnixNow()));
  // Data directory: owner-only, locked against a second daemon (binding the ipc endpoint
  // would silently take the socket file over from a running one).
  TEARLINE_ASSIGN_OR_RETURN(DataDirLock lock, DataDirLock::Acquire(config.data_dir));
  TEARLINE_ASSIGN_OR_RETURN(NodeStores stores, OpenNodeStores(config));
  // Standing release authorisations live in the policy file the identity was loaded from.
  TEARLINE_ASSIGN_OR_RETURN(
      auto rules,
      LoadReleaseRules(config.policy.empty() ? DefaultPolicyPath() : config.policy.string(),
                       *identity.policy));
  auto impl = std::make_unique<Impl>(config, clock, std::move(identity), std::move(lock),
                                     std::move(stores), std::move(rules));
  impl->sealer.SetSourceKeeper([&releases = impl->releases](auto& id, auto& labels, auto& c) {
    releases.KeepSources(id, labels, c);
  });
  impl->outbox.Load(
      [&sealer = impl->sealer](const std::string& id, std::span<const std::uint8_t> bytes) {
        return sealer.Inspect(id, bytes);
      });
  impl->witness.Load();
  impl->UseGroupCommit();
  return std::unique_ptr<NodeDaemon>(new NodeDaemon(std::move(impl)));
}

Status NodeDaemon::Run(const std::atomic<bool>& stop) {
  TEARLINE_RETURN_IF_ERROR(
      impl_->sockets.Open(impl_->config, impl_->identity, impl_->link.heartbeat()));
  Status s = impl_->Loop(stop);
  impl_->CloseSockets();
  spdlog::info("event=node_stopped");
  return s;
}

}  // namespace tearline::node
