// SubmitBacklog: the broker's queue of received, not yet processed submissions, so that a burst
// of submissions never delays acknowledgements, pings or cosignatures behind it.
//
// Why: ZeroMQ keeps one FIFO per connection. When the broker processed frames in arrival order,
// a node's acknowledgements waited behind its own (and everyone's) submissions; its connection's
// inbound queue filled, ZeroMQ stopped reading it, the transport heartbeat timed out and the
// broker dropped a node that was working (and re-sent every copy it had not seen acknowledged).
// The broker now reads everything a turn brings, serves every other frame at once and parks
// submissions here; each loop turn then processes a bounded share (ServeTurn), so the socket is
// read again within one turn budget plus one submission's processing time.
//
// Bounds (memory a flood can take): at most `max_per_node` submissions of one node and
// `max_total` in all, and at most `max_bytes` of frames (one frame is always taken when the
// backlog is empty). Beyond them Offer() refuses with BROKER_BUSY and a retry-after hint: the
// time the submissions already waiting will take at the measured processing rate. Nodes are
// served round-robin, one submission each in turn, so a flooding node delays another node's
// submission by at most one of its own per turn. At most one refusal per node per second is to
// be audited (Refusal::record, with the count not recorded since).
//
// Ownership: owns the parked frames (copies); holds a reference to the clock, which must outlive
// it. Thread-safety: one thread (the broker's Run() thread).
#ifndef TEARLINE_BROKER_SUBMIT_BACKLOG_H_
#define TEARLINE_BROKER_SUBMIT_BACKLOG_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tearline/base/clock.h"
#include "tearline/base/status.h"
#include "tearline/broker/rate_limiter.h"

namespace tearline::broker {

struct SubmitBacklogOptions {
  std::size_t max_per_node = 1024;
  std::size_t max_total = 16384;
  std::uint64_t max_bytes = std::uint64_t{64} << 20;
  // Per ServeTurn(): at most this many submissions, and no new one once this much time passed.
  std::size_t max_per_turn = 64;
  Clock::Duration turn_budget = std::chrono::milliseconds(50);
};

class SubmitBacklog {
 public:
  SubmitBacklog(const Clock& clock, SubmitBacklogOptions options);
  SubmitBacklog(const SubmitBacklog&) = delete;
  SubmitBacklog& operator=(const SubmitBacklog&) = delete;

  struct Pending {
    std::string node_id;
    std::uint64_t request_id = 0;
    std::vector<std::uint8_t> frame;  // The whole wire frame, as received (size-capped).
  };
  struct Refusal {
    Status why;                        // BROKER_BUSY.
    std::vector<std::uint8_t> reply;   // The SubmitReply to send (error with retry_after_ms).
    std::uint32_t retry_after_ms = 0;  // When the waiting submissions should be processed.
    bool record = false;               // Audit this refusal (at most one per node per second),
    std::uint64_t suppressed = 0;      // noting this many refusals not audited since the last.
  };
  // Parks a copy of `frame` (a Submit from `node_id`), or refuses it when a bound is reached.
  std::optional<Refusal> Offer(const std::string& node_id, std::uint64_t request_id,
                               std::span<const std::uint8_t> frame);

  // Hands parked submissions to `serve` round-robin across nodes until the backlog is empty,
  // max_per_turn were served or turn_budget has passed (at least one is served when any waits).
  // Measures each call to update the processing-time estimate. Returns the number served.
  std::size_t ServeTurn(const std::function<void(const Pending&)>& serve);

  // Discards what `node_id` has parked (a withdrawn node). Returns the number discarded.
  std::size_t Drop(const std::string& node_id);

  bool empty() const { return total_ == 0; }
  std::size_t size() const { return total_; }
  std::uint64_t bytes() const { return bytes_; }
  // The retry-after hint a refusal now would carry, in milliseconds.
  std::uint32_t RetryAfterMs() const;

 private:
  const Clock& clock_;
  const SubmitBacklogOptions options_;
  std::map<std::string, std::deque<Pending>> queues_;  // Per node, arrival order.
  std::deque<std::string> turn_order_;                 // Nodes with something parked.
  std::size_t total_ = 0;
  std::uint64_t bytes_ = 0;
  // Moving average of one submission's processing time (starts at 1 ms until measured).
  Clock::Duration per_submit_ = std::chrono::milliseconds(1);
  RateLimiter records_;  // One audited refusal per node per second.
};

}  // namespace tearline::broker

#endif  // TEARLINE_BROKER_SUBMIT_BACKLOG_H_
