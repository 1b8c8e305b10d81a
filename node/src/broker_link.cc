#include "tearline/node/broker_link.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <utility>

#include "tearline/wire/wire.h"

namespace tearline::node {

using std::chrono::milliseconds;

BrokerLink::BrokerLink(const Clock& clock, std::string node_id, std::string endpoint,
                       milliseconds heartbeat, Transport transport)
    : clock_(clock),
      node_id_(std::move(node_id)),
      endpoint_(std::move(endpoint)),
      heartbeat_(heartbeat),
      transport_(std::move(transport)) {}

bool BrokerLink::Send(std::span<const std::uint8_t> frame) { return transport_(frame); }

void BrokerLink::SendHello() {
  last_hello_ = clock_.Now();
  if (Send(EncodeHello(NewRequestId(), node_id_))) {
    spdlog::debug("event=hello_sent broker={}", endpoint_);
  }
}

BrokerLink::Change BrokerLink::Lose(const char* why) {
  if (!welcomed_) return Change::kNone;
  welcomed_ = false;
  spdlog::warn("event=broker_session_lost broker={} reason={}", endpoint_, why);
  return Change::kSessionLost;
}

void BrokerLink::OnFrame() { last_rx_ = clock_.Now(); }

BrokerLink::Change BrokerLink::OnWelcome(const std::string& broker_id, std::uint32_t heartbeat_ms) {
  broker_id_ = broker_id;
  if (heartbeat_ms >= 100 && heartbeat_ms <= 60000) heartbeat_ = milliseconds(heartbeat_ms);
  last_ping_ = clock_.Now();
  if (welcomed_) return Change::kNone;
  if (ever_welcomed_) ++reconnects_;
  ever_welcomed_ = true;
  welcomed_ = true;
  spdlog::info("event=broker_welcome broker_id={} heartbeat_ms={} reconnects={}", broker_id_,
               heartbeat_.count(), reconnects_);
  return Change::kSessionUp;
}

BrokerLink::Change BrokerLink::OnError(std::uint64_t request_id, const std::string& reason) {
  // The broker does not know this session (e.g. it restarted): greet it again.
  if (request_id == last_ping_id_ || reason.rfind("AUTH_", 0) == 0 || reason == "NOT_WELCOMED" ||
      reason == "HELLO_REQUIRED") {
    return Lose(reason.c_str());
  }
  return Change::kNone;
}

BrokerLink::Change BrokerLink::OnTransportEvent(net::TransportEvent event) {
  switch (event) {
    case net::TransportEvent::kConnected:
      transport_state_ = "tcp connected, handshaking";
      spdlog::debug("event=broker_tcp_connected broker={}", endpoint_);
      return Change::kNone;
    case net::TransportEvent::kHandshakeSucceeded:
      transport_state_ = "connected";
      transport_failure_.clear();
      spdlog::info("event=broker_transport_up broker={}", endpoint_);
      // Greet at once instead of waiting for the next timer tick.
      if (!welcomed_) SendHello();
      return Change::kNone;
    case net::TransportEvent::kDisconnected:
      transport_state_ = "disconnected, reconnecting";
      spdlog::warn("event=broker_transport_down broker={}", endpoint_);
      return Lose("connection closed");
    case net::TransportEvent::kAuthFailed:
      transport_failure_ = "the broker refused this node's key (authentication failed); retrying";
      spdlog::error("event=broker_auth_failed broker={}", endpoint_);
      return Change::kNone;
    case net::TransportEvent::kHandshakeFailed:
      transport_failure_ = "CURVE handshake failed (is broker_certificate the broker's?); retrying";
      spdlog::error("event=broker_handshake_failed broker={}", endpoint_);
      return Change::kNone;
    default:
      return Change::kNone;
  }
}

BrokerLink::Change BrokerLink::Tick() {
  const auto now = clock_.Now();
  Change change = Change::kNone;
  if (welcomed_ && last_rx_ && now - *last_rx_ > heartbeat_ * kMissedHeartbeatsForLoss) {
    change = Lose("no frame for 3 heartbeat intervals");
  }
  if (!welcomed_) {
    if (!last_hello_ || now - *last_hello_ >= heartbeat_) SendHello();
  } else if (now - last_ping_ >= heartbeat_) {
    last_ping_ = now;
    last_ping_id_ = NewRequestId();
    (void)Send(EncodePing(last_ping_id_, randombytes_random()));
  }
  return change;
}

std::string BrokerLink::TransportState() const {
  return transport_failure_.empty() ? transport_state_ : transport_failure_;
}

std::int64_t BrokerLink::MillisSinceLastFrame() const {
  if (!last_rx_) return -1;
  return std::chrono::duration_cast<milliseconds>(clock_.Now() - *last_rx_).count();
}

}  // namespace tearline::node
