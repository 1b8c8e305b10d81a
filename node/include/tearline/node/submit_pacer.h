// SubmitPacer: spaces this node's Submits at the rate the broker accepts them, so a burst
// drains at that rate instead of being refused and backed off.
//
// A token bucket: `rate` tokens a second, holding at most one second's worth (the broker's own
// bucket holds two, so a node that keeps to this one never meets RATE_LIMITED from its steady
// flow). The rate is the one the broker announces in Welcome (submit_rate_per_node); a broker
// that announces none (0, an older broker) leaves submissions unpaced until its first
// RATE_LIMITED, after which kFallbackSubmitRate applies. A RATE_LIMITED answer empties the
// bucket, so the next Submit waits one token's time: the wait after a refusal is bounded by
// 1/rate, never doubled.
//
// Ownership: references the Clock. Thread-safety: the daemon's loop thread only.
#ifndef TEARLINE_NODE_SUBMIT_PACER_H_
#define TEARLINE_NODE_SUBMIT_PACER_H_

#include <cstdint>

#include "tearline/base/clock.h"

namespace tearline::node {

// Submits per second assumed after a RATE_LIMITED from a broker that announced no rate: the
// broker's documented default rate_per_node.
inline constexpr std::uint32_t kFallbackSubmitRate = 100;

class SubmitPacer {
 public:
  explicit SubmitPacer(const Clock& clock) : clock_(clock) {}

  // The broker's announced rate (0: none announced). Starts with a full bucket.
  void SetRate(std::uint32_t per_second);
  // True (and a token is spent) when a Submit may leave now.
  bool TryTake();
  // The broker refused a Submit with RATE_LIMITED.
  void OnRateLimited();
  // Submits per second in force; 0 while unpaced.
  std::uint32_t rate() const { return rate_; }

 private:
  void Refill();

  const Clock& clock_;
  std::uint32_t rate_ = 0;
  double tokens_ = 0;
  Clock::TimePoint last_{};
};

}  // namespace tearline::node

#endif  // TEARLINE_NODE_SUBMIT_PACER_H_
