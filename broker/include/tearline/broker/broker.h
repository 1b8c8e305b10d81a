// Broker: routes sealed reports between national nodes over ZeroMQ CURVE, enforcing
// releasability per portion and per recipient, without ever holding a content key.
//
// Per Submit: per-node rate limit -> size cap -> FlatBuffers Verifier -> originator ==
// authenticated node -> originator signature (InspectReport) -> expiry -> known report id (an
// identical resubmission is answered with the stored reply, different bytes are
// REPORT_ID_CONFLICT) -> storage headroom -> PlanRouting (policy) and per-recipient queue cap ->
// audit every decision -> store the report and all copies in one durable transaction -> send
// Deliver to online recipients -> reply to the sender with every recipient's outcome. Copies stay
// pending in the ReportStore until the recipient's signed Ack arrives, are re-sent whenever the
// node says Hello again, and are removed (audited `expired`) once the report expires.
//
// Ordering and crashes. The order is always "audit (fsync'd) -> store commit -> send/reply", so
// no effect is visible that the log does not hold. What a crash between the steps leaves:
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
// Ownership: owns the ZeroMQ context, the ZAP handler thread, the ROUTER socket and its monitor
// socket, the audit log and the report store (all but the ZAP handler used only by the thread
// that calls Run()). Thread-safety: RequestStop() may be called from any thread or a signal
// handler; the ZAP callback (ZAP thread) touches only the directory and trust store (read-only),
// the audit log (internally locked), the refusal throttle (zap_mu_) and the atomic session
// counter; everything else runs on the Run() thread.
#ifndef TEARLINE_BROKER_BROKER_H_
#define TEARLINE_BROKER_BROKER_H_

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>
#include <zmq.hpp>

#include "tearline/audit/audit_log.h"
#include "tearline/base/status.h"
#include "tearline/broker/broker_config.h"
#include "tearline/broker/report_store.h"
#include "tearline/broker/zap_handler.h"
#include "tearline/crypto/keys.h"
#include "tearline/identity/directory.h"
#include "tearline/identity/trust_store.h"
#include "tearline/labels/policy.h"
#include "tearline/wire/wire.h"

namespace tearline::broker {

class Broker {
 public:
  // Loads policy, trust store, own identity and the node directory; opens the audit log; starts
  // the ZAP handler; binds the ROUTER and writes the bound endpoint to config.EndpointFile().
  static Result<std::unique_ptr<Broker>> Start(const BrokerConfig& config);
  ~Broker();
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  // Serves until RequestStop(); returns OK on clean shutdown.
  Status Run();
  void RequestStop() { stop_.store(true); }
  const std::string& endpoint() const { return endpoint_; }

 private:
  struct Peer {
    std::string routing_id;
    std::chrono::steady_clock::time_point last_seen;
  };

  // Rate limiting state of one node (Run thread only).
  struct RateState {
    double tokens = 0;
    std::chrono::steady_clock::time_point refilled{};
    std::chrono::steady_clock::time_point last_record{};
    std::uint64_t suppressed = 0;
  };
  // Refusal throttle of one peer address (ZAP thread, under zap_mu_).
  struct RefusalState {
    std::chrono::steady_clock::time_point last_record{};
    std::uint64_t suppressed = 0;
  };

  Broker() = default;
  Status Bind();
  Status StartMonitor();
  void HandleMonitorEvents();
  Result<std::string> AuthenticateClient(const std::array<std::uint8_t, 32>& key,
                                         const std::string& address);
  void HandleMessage(const std::string& routing_id, zmq::message_t& payload);
  void HandleSubmit(const std::string& node_id, std::uint64_t request_id,
                    std::span<const std::uint8_t> report);
  void HandleAck(const std::string& node_id, const schema::Ack& ack);
  void HandleTrack(const std::string& node_id, std::uint64_t request_id,
                   const schema::TrackRequest& request);
  void HandleProof(const std::string& node_id, std::uint64_t request_id, std::uint64_t seq);
  void HandleCheckpointRequest(const std::string& node_id, std::uint64_t request_id,
                               std::uint64_t old_size);
  void HandleCosignature(const std::string& node_id, const schema::Cosignature& cosignature);
  void MaybeCheckpoint(bool force);
  void MaybeSweepExpired();
  Status PublishAuditContext();
  Status FindOrphanedAccepts();
  bool TakeRateToken(const std::string& node_id, std::uint64_t request_id);
  Status CheckStorageHeadroom() const;
  void Reject(const std::string& node_id, std::uint64_t request_id, const Status& why,
              const std::string& report_id_hex);
  void RejectSubmit(const std::string& node_id, std::uint64_t request_id, const Status& why,
                    const std::string& report_id_hex);
  // Sends the node's pending copies (auditing the first send of each queued one). With
  // `due_only`, copies already sent are skipped unless unacknowledged for kRedeliverAfter.
  void FlushQueue(const std::string& node_id, bool due_only = false);
  // Once a second: FlushQueue(due_only) for every online node, so a copy queued or lost in a
  // race with a reconnect still goes out without waiting for the node's next Hello.
  void MaybeRedeliver();
  bool SendTo(const std::string& node_id, const std::vector<std::uint8_t>& frame);
  bool IsOnline(const std::string& node_id) const;
  // Durable append (fsync'd); nullopt when the log failed (the broker then stops).
  std::optional<std::uint64_t> Audit(std::string_view type, nlohmann::json fields);
  // Group commit: buffered appends made durable by one AuditSync() before any effect.
  std::optional<std::uint64_t> AuditBuffered(std::string_view type, nlohmann::json fields);
  bool AuditSync();

  BrokerConfig config_;
  std::shared_ptr<const Policy> policy_;
  std::unique_ptr<TrustStore> trust_;
  Directory directory_;
  std::unique_ptr<IdentityKeys> keys_;
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<ReportStore> store_;
  zmq::context_t ctx_;
  std::unique_ptr<ZapHandler> zap_;
  std::unique_ptr<zmq::socket_t> router_;
  std::unique_ptr<zmq::socket_t> monitor_;  // PAIR end of the ROUTER's socket monitor.
  std::string endpoint_;
  std::atomic<bool> stop_{false};
  std::uint64_t next_delivery_id_ = 1;
  std::chrono::steady_clock::time_point last_checkpoint_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_sweep_{};
  std::chrono::steady_clock::time_point last_redeliver_{};
  // (report id hex, node id) -> when its copy was last handed to the transport.
  std::map<std::pair<std::string, std::string>, std::chrono::steady_clock::time_point> last_sent_;
  std::map<std::string, Peer> peers_;  // node id -> connection
  // Report ids (hex) with an `accepted` record but no stored report -> that record's
  // originator and portions, to recognise a retry (see the ordering note above).
  std::map<std::string, nlohmann::json> orphaned_accepts_;
  std::map<std::string, RateState> rates_;
  // Live authenticated sessions: file descriptors seen in HANDSHAKE_SUCCEEDED events (Run
  // thread) and their count (read by the ZAP thread).
  std::set<std::uint32_t> session_fds_;
  std::atomic<std::uint32_t> sessions_{0};
  std::mutex zap_mu_;
  std::map<std::string, RefusalState> refusals_;  // peer address -> throttle (under zap_mu_)
};

}  // namespace tearline::broker

#endif  // TEARLINE_BROKER_BROKER_H_
