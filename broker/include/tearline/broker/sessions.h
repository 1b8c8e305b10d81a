// Sessions: who is connected. Tracks each authenticated node's routing id and when its last
// frame arrived (a node is online while it is welcomed and frames keep coming within three
// heartbeat intervals), answers Hello (Welcome) and Ping (Pong), and holds the conversation's
// one rule: Hello is the first frame of every connection (docs/PROTOCOL.md, "The
// conversation"). The number of live connections is SessionSlots' job (max_connections).
//
// Ownership: value state; holds a reference to the clock, which must outlive it.
// Thread-safety: belongs to the broker's Run() thread.
#ifndef TEARLINE_BROKER_SESSIONS_H_
#define TEARLINE_BROKER_SESSIONS_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tearline/base/clock.h"
#include "tearline/base/status.h"

namespace tearline::broker {

class Sessions {
 public:
  // `submit_rate` (submits per second per node) is announced in every Welcome; 0: none.
  Sessions(const Clock& clock, std::string broker_id, std::chrono::milliseconds heartbeat,
           std::uint32_t submit_rate = 0);
  Sessions(const Sessions&) = delete;
  Sessions& operator=(const Sessions&) = delete;

  struct Seen {
    bool was_online = false;   // Online before this frame.
    bool reconnected = false;  // The frame came over a new connection (routing id changed).
  };
  // A frame from `node_id` arrived over the connection `routing_id`. A new connection starts
  // unwelcomed: its first frame must be Hello.
  Seen Touch(const std::string& node_id, const std::string& routing_id);
  // Whether a frame may be served on the node's current connection (after Touch): Hello always
  // is; any other frame only once a Hello on this connection was welcomed. Errors:
  // HELLO_REQUIRED (no Hello yet), NOT_WELCOMED (the last Hello was refused).
  [[nodiscard]] Status Admit(const std::string& node_id, bool is_hello) const;
  bool IsOnline(const std::string& node_id) const;
  // The routing id to reach `node_id`, or nullptr when the node never connected (or was lost).
  const std::string* RoutingId(const std::string& node_id) const;
  // The transport reported the connection gone: the node will say Hello again.
  void Forget(const std::string& node_id);
  std::vector<std::string> OnlineNodes() const;

  // Hello must name the node whose key authenticated the connection (AUTH_NODE_MISMATCH).
  // Returns the Welcome frame to send; the connection is welcomed, or refused on error (a later
  // correct Hello on it is still welcomed).
  Result<std::vector<std::uint8_t>> Hello(const std::string& node_id, std::uint64_t request_id,
                                          const std::string& hello_node_id);
  std::vector<std::uint8_t> Pong(std::uint64_t request_id, std::uint64_t nonce) const;

 private:
  enum class Stage { kAwaitingHello, kWelcomed, kRefused };
  // A node may hold more than one connection (an operator's probe beside its daemon): the
  // conversation's stage is kept per connection, for its most recent few.
  static constexpr std::size_t kConnectionsPerNode = 8;
  struct Peer {
    std::string routing_id;  // The connection the node last sent a frame on.
    Clock::TimePoint last_seen{};
    std::vector<std::pair<std::string, Stage>> stages;  // Oldest first.
    Stage& StageOf(const std::string& routing);
  };
  // The stage of the connection the node last used.
  static Stage StageNow(const Peer& peer);

  const Clock& clock_;
  const std::string broker_id_;
  const std::chrono::milliseconds heartbeat_;
  const std::uint32_t submit_rate_;
  std::map<std::string, Peer> peers_;  // node id -> connection
};

}  // namespace tearline::broker

#endif  // TEARLINE_BROKER_SESSIONS_H_
