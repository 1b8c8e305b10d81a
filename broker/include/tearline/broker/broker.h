// Broker: routes sealed reports between national nodes over ZeroMQ CURVE, enforcing
// releasability per portion and per recipient, without ever holding a content key.
//
// Per Submit: size cap -> FlatBuffers Verifier -> originator == authenticated node -> originator
// signature (InspectReport) -> expiry -> duplicate suppression -> PlanRouting (policy) -> store
// each recipient's copy durably in its queue -> send now if the node is online, else QUEUED ->
// reply to the sender with every recipient's outcome. Every decision is appended to the audit log
// before it takes effect. Copies stay queued until the recipient's signed Ack arrives and are
// re-sent whenever the node says Hello again.
//
// Ownership: owns the ZeroMQ context, the ZAP handler thread and the ROUTER socket (used only by
// the thread that calls Run()). Thread-safety: RequestStop() may be called from any thread or a
// signal handler; everything else from the Run() thread.
#ifndef TEARLINE_BROKER_BROKER_H_
#define TEARLINE_BROKER_BROKER_H_

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "tearline/audit_log.h"
#include "tearline/broker/broker_config.h"
#include "tearline/broker/zap_handler.h"
#include "tearline/directory.h"
#include "tearline/keys.h"
#include "tearline/policy.h"
#include "tearline/status.h"
#include "tearline/trust_store.h"
#include "tearline/wire.h"

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

  Broker() = default;
  Status Bind();
  void HandleMessage(const std::string& routing_id, zmq::message_t& payload);
  void HandleSubmit(const std::string& node_id, std::uint64_t request_id,
                    std::span<const std::uint8_t> report);
  void HandleAck(const std::string& node_id, const schema::Ack& ack);
  void HandleCheckpointRequest(const std::string& node_id, std::uint64_t request_id,
                               std::uint64_t old_size);
  void HandleCosignature(const std::string& node_id, const schema::Cosignature& cosignature);
  void MaybeCheckpoint(bool force);
  Status PublishAuditContext();
  void Reject(const std::string& node_id, std::uint64_t request_id, const Status& why,
              const std::string& report_id_hex);
  void FlushQueue(const std::string& node_id);
  bool SendTo(const std::string& node_id, const std::vector<std::uint8_t>& frame);
  bool IsOnline(const std::string& node_id) const;
  void Audit(std::string_view type, nlohmann::json fields);
  Status LoadQueue();
  Status PersistSeen(const std::string& report_id_hex);
  std::filesystem::path QueuePath(const std::string& node_id,
                                  const std::string& report_id_hex) const;

  BrokerConfig config_;
  std::shared_ptr<const Policy> policy_;
  std::unique_ptr<TrustStore> trust_;
  Directory directory_;
  std::unique_ptr<IdentityKeys> keys_;
  std::unique_ptr<AuditLog> audit_;
  zmq::context_t ctx_;
  std::unique_ptr<ZapHandler> zap_;
  std::unique_ptr<zmq::socket_t> router_;
  std::string endpoint_;
  std::atomic<bool> stop_{false};
  std::uint64_t next_delivery_id_ = 1;
  std::chrono::steady_clock::time_point last_checkpoint_ = std::chrono::steady_clock::now();
  std::map<std::string, Peer> peers_;                     // node id -> connection
  std::map<std::string, std::set<std::string>> pending_;  // node id -> report ids (hex)
  std::set<std::string> seen_reports_;                    // report ids (hex) accepted
};

}  // namespace tearline::broker

#endif  // TEARLINE_BROKER_BROKER_H_
