#include "tearline/broker/sessions.h"

#include <utility>

#include "tearline/wire/wire.h"

namespace tearline::broker {

Sessions::Sessions(const Clock& clock, std::string broker_id, std::chrono::milliseconds heartbeat,
                   std::uint32_t submit_rate)
    : clock_(clock),
      broker_id_(std::move(broker_id)),
      heartbeat_(heartbeat),
      submit_rate_(submit_rate) {}

Sessions::Stage& Sessions::Peer::StageOf(const std::string& routing) {
  for (auto& [id, stage] : stages) {
    if (id == routing) return stage;
  }
  if (stages.size() >= kConnectionsPerNode) stages.erase(stages.begin());
  return stages.emplace_back(routing, Stage::kAwaitingHello).second;
}

Sessions::Seen Sessions::Touch(const std::string& node_id, const std::string& routing_id) {
  Seen seen;
  seen.was_online = IsOnline(node_id);
  Peer& peer = peers_[node_id];
  seen.reconnected = peer.routing_id != routing_id;
  peer.routing_id = routing_id;
  (void)peer.StageOf(routing_id);  // A new connection starts awaiting its Hello.
  peer.last_seen = clock_.Now();
  return seen;
}

Sessions::Stage Sessions::StageNow(const Peer& peer) {
  for (const auto& [id, stage] : peer.stages) {
    if (id == peer.routing_id) return stage;
  }
  return Stage::kAwaitingHello;
}

bool Sessions::IsOnline(const std::string& node_id) const {
  auto it = peers_.find(node_id);
  if (it == peers_.end() || StageNow(it->second) != Stage::kWelcomed) return false;
  return clock_.Now() - it->second.last_seen < 3 * heartbeat_;
}

Status Sessions::Admit(const std::string& node_id, bool is_hello) const {
  if (is_hello) return Status::Ok();
  auto it = peers_.find(node_id);
  const Stage stage = it == peers_.end() ? Stage::kAwaitingHello : StageNow(it->second);
  switch (stage) {
    case Stage::kWelcomed:
      return Status::Ok();
    case Stage::kRefused:
      return Status(Code::kUnavailable, "NOT_WELCOMED",
                    "this connection's Hello was refused; send a Hello that names the "
                    "node whose key authenticated the connection");
    case Stage::kAwaitingHello:
      break;
  }
  return Status(Code::kUnavailable, "HELLO_REQUIRED",
                "the first frame of a connection must be Hello; nothing else is "
                "served before the broker's Welcome");
}

const std::string* Sessions::RoutingId(const std::string& node_id) const {
  auto it = peers_.find(node_id);
  return it == peers_.end() ? nullptr : &it->second.routing_id;
}

void Sessions::Forget(const std::string& node_id) { peers_.erase(node_id); }

std::vector<std::string> Sessions::OnlineNodes() const {
  std::vector<std::string> online;
  for (const auto& [id, peer] : peers_) {
    if (IsOnline(id)) online.push_back(id);
  }
  return online;
}

Result<std::vector<std::uint8_t>> Sessions::Hello(const std::string& node_id,
                                                  std::uint64_t request_id,
                                                  const std::string& hello_node_id) {
  auto it = peers_.find(node_id);
  if (it != peers_.end()) {
    it->second.StageOf(it->second.routing_id) =
        hello_node_id == node_id ? Stage::kWelcomed : Stage::kRefused;
  }
  if (hello_node_id != node_id) {
    return Unauthenticated("AUTH_NODE_MISMATCH",
                           "Hello names a node other than the one whose key authenticated");
  }
  return EncodeWelcome(request_id, broker_id_, clock_.UnixNow(),
                       static_cast<std::uint32_t>(heartbeat_.count()), submit_rate_);
}

std::vector<std::uint8_t> Sessions::Pong(std::uint64_t request_id, std::uint64_t nonce) const {
  return EncodePong(request_id, nonce);
}

}  // namespace tearline::broker
