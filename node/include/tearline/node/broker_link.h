// BrokerLink: the node's session with its broker, above the transport.
//
// The daemon owns the broker socket and its monitor (tearline::net); this unit decides what the
// session does with them, on the injected Clock:
//   - Hello every heartbeat interval until a Welcome arrives (and at once when the transport's
//     CURVE handshake succeeds); then Ping every interval;
//   - no frame from the broker for 3 intervals, a transport disconnect, or an Error frame that
//     shows the broker does not know the session (answer to the last Ping, AUTH_*,
//     NOT_WELCOMED, HELLO_REQUIRED) loses the session, and Hello starts again;
//   - the transport state shown by `tearline-node status` (monitor events, last handshake
//     failure).
// It is the daemon's BrokerChannel: other units send frames through it.
//
// Each event method returns what changed (kSessionUp on a first Welcome of a session,
// kSessionLost when a session just ended) so the daemon can tell the other units.
// Logs: event=hello_sent, broker_welcome, broker_session_lost, broker_transport_up/down,
// broker_auth_failed, broker_handshake_failed.
//
// Ownership: holds the transport function given at construction (it must stay callable) and
// a reference to the Clock. Thread-safety: the daemon's loop thread only.
#ifndef TEARLINE_NODE_BROKER_LINK_H_
#define TEARLINE_NODE_BROKER_LINK_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>

#include "tearline/base/clock.h"
#include "tearline/net/socket_monitor.h"
#include "tearline/node/broker_channel.h"

namespace tearline::node {

inline constexpr int kMissedHeartbeatsForLoss = 3;

class BrokerLink final : public BrokerChannel {
 public:
  // Hands one frame to the broker socket without waiting; false when it was not taken.
  using Transport = std::function<bool(std::span<const std::uint8_t>)>;
  enum class Change { kNone, kSessionUp, kSessionLost };

  BrokerLink(const Clock& clock, std::string node_id, std::string endpoint,
             std::chrono::milliseconds heartbeat, Transport transport);

  std::uint64_t NewRequestId() override { return next_request_id_++; }
  bool Send(std::span<const std::uint8_t> frame) override;
  bool welcomed() const override { return welcomed_; }

  // Every frame that decoded refreshes the liveness timer.
  void OnFrame();
  // A Welcome: adopts the broker's heartbeat (100 ms to 60 s) and starts a session.
  Change OnWelcome(const std::string& broker_id, std::uint32_t heartbeat_ms);
  // An Error frame from the broker.
  Change OnError(std::uint64_t request_id, const std::string& reason);
  // A transport event from the socket monitor.
  Change OnTransportEvent(net::TransportEvent event);
  // Timers: loss detection, Hello until welcomed, Ping while welcomed.
  Change Tick();

  std::chrono::milliseconds heartbeat() const { return heartbeat_; }
  const std::string& broker_id() const { return broker_id_; }
  const std::string& endpoint() const { return endpoint_; }
  bool ever_welcomed() const { return ever_welcomed_; }
  std::uint64_t reconnects() const { return reconnects_; }
  // For status: the last handshake failure if any, else the transport state.
  std::string TransportState() const;
  // -1 when no frame was ever received.
  std::int64_t MillisSinceLastFrame() const;

 private:
  void SendHello();
  Change Lose(const char* why);

  const Clock& clock_;
  std::string node_id_;
  std::string endpoint_;
  std::chrono::milliseconds heartbeat_;
  Transport transport_;
  bool welcomed_ = false;
  bool ever_welcomed_ = false;
  std::uint64_t reconnects_ = 0;
  std::string broker_id_;
  std::optional<Clock::TimePoint> last_rx_;
  std::optional<Clock::TimePoint> last_hello_;  // Unset: greet at the first Tick.
  Clock::TimePoint last_ping_{};
  std::uint64_t last_ping_id_ = 0;
  std::uint64_t next_request_id_ = 1;
  std::string transport_state_ = "connecting";
  std::string transport_failure_;  // Cleared by a successful handshake.
};

}  // namespace tearline::node

#endif  // TEARLINE_NODE_BROKER_LINK_H_
