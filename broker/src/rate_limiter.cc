#include "tearline/broker/rate_limiter.h"

#include <algorithm>
#include <chrono>
#include <utility>

namespace tearline::broker {

RateLimiter::RateLimiter(const Clock& clock, RateLimit limit) : clock_(clock), limit_(limit) {
  if (limit_.per_second > 0) {
    interval_ = std::chrono::duration_cast<Clock::Duration>(
        std::chrono::duration<double>(1.0 / limit_.per_second));
    const double extra = std::max(0.0, limit_.burst - 1);
    tolerance_ = std::chrono::duration_cast<Clock::Duration>(
        std::chrono::duration<double>(extra / limit_.per_second));
  }
}

RateLimiter::Decision RateLimiter::Take(std::string_view key) {
  const Clock::TimePoint now = clock_.Now();
  std::lock_guard<std::mutex> lock(mu_);
  if (limit_.per_second <= 0) return {};
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= limit_.max_keys) PruneLocked(now);
    it = buckets_.emplace(std::string(key), Bucket{now, 0}).first;
  }
  Bucket& b = it->second;
  const Clock::TimePoint tat = std::max(b.tat, now);
  if (tat - now > tolerance_) {
    ++b.refused;
    return {};
  }
  b.tat = tat + interval_;
  return {true, std::exchange(b.refused, 0)};
}

std::size_t RateLimiter::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return buckets_.size();
}

void RateLimiter::PruneLocked(Clock::TimePoint now) {
  std::erase_if(buckets_,
                [&](const auto& e) { return e.second.tat <= now && e.second.refused == 0; });
}

}  // namespace tearline::broker
