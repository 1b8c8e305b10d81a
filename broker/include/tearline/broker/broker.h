// Broker: routes sealed reports between national nodes over ZeroMQ CURVE, enforcing
// releasability per portion and per recipient, without ever holding a content key.
//
// Per Submit: per-node rate limit -> size cap -> FlatBuffers Verifier -> originator ==
// authenticated node -> originator signature (InspectReport) -> expiry -> known report id (an
// identical resubmission is answered with the stored reply, different bytes are
// REPORT_ID_CONFLICT) -> storage headroom -> PlanRouting (policy) and per-recipient queue cap ->
// audit every decision -> store the report and all copies in one durable transaction -> send
// Deliver to online recipients -> reply to the sender with every recipient's outcome. Copies stay
// pending in the ReportStore until the recipient's signed Ack arrives, at most one delivery
// window of them in flight per recipient (the rest wait on disk), are re-sent whenever the node
// says Hello again, are given up (audited `failed`) after a bounded number of permanent
// refusals, and are removed (audited `expired`) once the report expires.
//
// Ordering and crashes. The order is always "audit (fsync'd) -> store commit -> send/reply", so
// no effect is visible that the log does not hold. The steps are taken once per read batch, for
// every decision in it (CommitGroup: one sync and one store transaction for the batch, then
// every frame the batch produced). What a crash between the steps leaves:
// - after the audit records, before the store commit: the log holds `accepted` (and its
//   denied/queued/delivered records) for a report the store does not know; nothing was delivered
//   and the sender got no reply, so it retries with the same id. At start-up the broker scans the
//   log for such "orphaned" accepted reports; a retry of one is routed again WITHOUT a second
//   `accepted` record (the verifier refuses two), after checking that its originator and portion
//   digests match the logged record (else REPORT_ID_CONFLICT). The same path covers a store
//   commit that failed at run time (STORAGE_FULL / STORE_IO), which is additionally audited as
//   `rejected_input` naming the report. The log then holds the earlier, void queued/delivered
//   records followed by the effective ones; nothing was sent twice because nothing is sent before
//   the commit.
// - after the store commit, before send/reply: the copies are pending, so they are sent at the
//   recipient's next Hello; the sender's retry is a duplicate and gets the stored reply.
// A `delivered` record means the copy was released to the recipient and handed to the transport
// (or will be re-sent until acknowledged); re-sends of a copy already recorded as delivered are
// not audited again. A queued copy sent later gets `delivered` with from_queue=true.
//
// Structure: the broker is a loop that dispatches each frame to a unit with one responsibility:
// RouterSocket (transport, ZAP, monitor), Authenticator (the ZAP decision), SessionSlots (the
// live-session count behind max_connections), InboundGate (the per-node frame budget every frame
// passes first), IdentityWatch (revocation and expiry while running: screens every frame,
// withdraws certificates), Sessions (online peers, Hello/Welcome, heartbeats), SubmitPipeline
// (admission to commit, returning effects), SubmitBacklog (submissions parked so that no other
// frame waits behind them; excess answered BROKER_BUSY), CommitGroup (group commit), ReleaseDesk
// (release requests and the originators' signed decisions), DeliveryQueues (pending copies,
// windows, redelivery, acks, refusals, expiry, track), LogService (checkpoints, cosignatures,
// proofs), Auditor (every record written) and BrokerMetrics (the metrics page).
//
// Ownership: owns every unit, the audit log and the report store; holds a reference to the
// clock, which must outlive it. Thread-safety: RequestStop() may be called from any thread or a
// signal handler; the ZAP callback (ZAP thread) runs Authenticator, which reads the directory,
// trust store and session count and writes through the (locked) audit log; everything else runs
// on the Run() thread.
#ifndef TEARLINE_BROKER_BROKER_H_
#define TEARLINE_BROKER_BROKER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tearline/base/clock.h"
#include "tearline/base/status.h"
#include "tearline/broker/auditor.h"
#include "tearline/broker/authenticator.h"
#include "tearline/broker/broker_config.h"
#include "tearline/broker/broker_metrics.h"
#include "tearline/broker/commit_group.h"
#include "tearline/broker/delivery_queues.h"
#include "tearline/broker/identity_watch.h"
#include "tearline/broker/inbound_gate.h"
#include "tearline/broker/log_service.h"
#include "tearline/broker/rate_limiter.h"
#include "tearline/broker/release_desk.h"
#include "tearline/broker/report_store.h"
#include "tearline/broker/router_socket.h"
#include "tearline/broker/session_slots.h"
#include "tearline/broker/sessions.h"
#include "tearline/broker/submit_backlog.h"
#include "tearline/broker/submit_pipeline.h"
#include "tearline/crypto/keys.h"
#include "tearline/identity/directory.h"
#include "tearline/identity/trust_store.h"
#include "tearline/labels/policy.h"

namespace tearline::broker {

class Broker : private FrameSender {
 public:
  // Loads policy, trust store, own identity and the node directory; opens the audit log; starts
  // the ZAP handler; binds the ROUTER and writes the bound endpoint to config.EndpointFile().
  static Result<std::unique_ptr<Broker>> Start(const BrokerConfig& config,
                                               const Clock& clock = SystemClock::Get());
  ~Broker() override;
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  // Serves until RequestStop(); returns OK on clean shutdown, or the audit failure that stopped
  // it (fatal: the caller exits non-zero).
  Status Run();
  void RequestStop() { stop_.store(true); }
  const std::string& endpoint() const { return socket_->endpoint(); }

 private:
  Broker(const BrokerConfig& config, const Clock& clock);
  Status LoadIdentity();
  Status OpenState();
  Status Listen();
  // The periodic work: expiry sweep, redelivery, checkpoints (each limits itself to its period).
  void Housekeeping();
  void HandleMessage(const Inbound& message);
  void Dispatch(const std::string& node_id, const schema::Frame& frame, const Sessions::Seen& seen);
  void Apply(SubmitEffects effects, const std::string& sender);
  // A Submit is parked in the backlog, or refused BROKER_BUSY with a retry-after hint.
  void Park(const std::string& node_id, std::uint64_t request_id,
            std::span<const std::uint8_t> frame);
  // One loop turn's share of parked submissions (SubmitBacklog::ServeTurn), in the open commit
  // group (opened if none is); the caller closes it. False when nothing was parked.
  bool ServeBacklog();
  // broker_release.cc: the release desk's part of the loop.
  Status OpenReleaseDesk();  // Built over the store and pipeline; restores stored requests.
  // Queued copies (the whole window on a new connection, else those due), owed frames.
  void Welcomed(const std::string& node_id, std::uint64_t rid, bool new_connection);
  void HandleRelease(const std::string& node_id, const schema::Frame& frame);
  void ApplyRelease(ReleaseEffects effects, const std::string& sender, std::uint64_t request_id);
  // Audits the refusal (rejected_input) and answers with an Error frame.
  void Reject(const std::string& node_id, std::uint64_t request_id, const Status& why,
              const std::string& report_id_hex);
  // A frame the gate or the identity screen did not serve: audited (rejected_input with
  // `suppressed`) and answered with an Error (echoing `request_id`) over the connection it came
  // from; the callers throttle it (at most once a second per node).
  void RefuseSparingly(const Inbound& message, std::uint64_t request_id, const Status& why,
                       std::uint64_t suppressed);
  // Held back while a commit group is open (CommitGroup), else Transmit.
  bool SendTo(const std::string& node_id, const std::vector<std::uint8_t>& frame) override;
  bool Transmit(const std::string& node_id, const std::vector<std::uint8_t>& frame);

  const BrokerConfig config_;
  const Clock& clock_;
  std::atomic<bool> stop_{false};
  std::shared_ptr<const Policy> policy_;
  std::unique_ptr<TrustStore> trust_;
  Directory directory_;
  std::unique_ptr<IdentityWatch> identity_;  // Revocation and expiry while running.
  std::unique_ptr<IdentityKeys> keys_;
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<ReportStore> store_;
  // Before auditor_: destroyed after it, as the auditor's observer points at it.
  std::unique_ptr<BrokerMetrics> metrics_;
  std::unique_ptr<Auditor> auditor_;
  std::unique_ptr<CommitGroup> group_;  // Every frame below goes out through it.
  Sessions sessions_;
  std::unique_ptr<LogService> log_service_;
  std::unique_ptr<SubmitPipeline> submits_;
  std::unique_ptr<DeliveryQueues> queues_;
  std::unique_ptr<ReleaseDesk> releases_;
  std::unique_ptr<SessionSlots> slots_;  // Read by the ZAP thread through authenticator_.
  std::unique_ptr<InboundGate> gate_;
  RateLimiter refusal_records_{clock_, kRefusalRecordLimit};  // Reject()'s audit records.
  std::unique_ptr<SubmitBacklog> backlog_;
  bool backlog_served_ = false;  // This loop turn's share of the backlog was served.
  std::unique_ptr<Authenticator> authenticator_;
  // Last member: destroyed first, so the ZAP thread has stopped before what it reads goes.
  std::unique_ptr<RouterSocket> socket_;
};

}  // namespace tearline::broker

#endif  // TEARLINE_BROKER_BROKER_H_
