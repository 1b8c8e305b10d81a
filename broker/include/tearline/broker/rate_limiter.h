// RateLimiter: one token bucket per key (a node id, a peer address), used for every limit the
// broker applies: submissions per node, and the throttles that keep a flood of refusals from
// filling the audit log with one record per refused attempt.
//
// A key may take `burst` tokens at once and regains `per_second` tokens a second. Implemented as
// the equivalent GCRA (a "theoretical arrival time" per key, in Clock::Duration units), so a
// bucket with burst 1 and rate 1/s allows exactly one take per full second without floating
// point drift. Each key also counts the takes refused since its last allowed one, so a throttled
// record can say how many were not written. A fresh key starts with a full bucket; keys whose
// bucket is full again and that owe no refusal count are forgotten once `max_keys` is reached
// (forgetting them changes no decision), so an attacker cycling addresses cannot grow memory
// beyond what it keeps busy.
//
// Ownership: holds a reference to the clock, which must outlive it.
// Thread-safety: every method may be called from any thread (one internal mutex).
#ifndef TEARLINE_BROKER_RATE_LIMITER_H_
#define TEARLINE_BROKER_RATE_LIMITER_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "tearline/base/clock.h"

namespace tearline::broker {

struct RateLimit {
  double per_second = 1;  // Must be > 0; 0 or less refuses every take.
  double burst = 1;       // Tokens available at once (at least 1).
  std::size_t max_keys = 4096;
};

// How many `rejected_input` records one node's refused frames may cause: a burst of 20 (enough
// evidence of what a misbehaving node sent), then 2 a second, each saying how many refusals were
// not written since the previous one. Without it every refused frame would cost an audit record
// and a sync, at whatever rate the frame gate lets through.
inline constexpr RateLimit kRefusalRecordLimit{.per_second = 2, .burst = 20, .max_keys = 4096};

class RateLimiter {
 public:
  struct Decision {
    bool allowed = false;
    // When allowed: the takes refused for this key since its previous allowed take (then reset).
    // When refused: 0.
    std::uint64_t suppressed = 0;
  };

  RateLimiter(const Clock& clock, RateLimit limit);
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  Decision Take(std::string_view key);
  // Number of keys remembered (for tests of the pruning bound).
  std::size_t size() const;

 private:
  struct Bucket {
    Clock::TimePoint tat{};  // Theoretical arrival time: the bucket is full at or after it.
    std::uint64_t refused = 0;
  };
  void PruneLocked(Clock::TimePoint now);

  const Clock& clock_;
  const RateLimit limit_;
  Clock::Duration interval_{};   // Time to regain one token.
  Clock::Duration tolerance_{};  // (burst - 1) intervals: how far ahead takes may run.
  mutable std::mutex mu_;
  std::map<std::string, Bucket, std::less<>> buckets_;
};

}  // namespace tearline::broker

#endif  // TEARLINE_BROKER_RATE_LIMITER_H_
