#include "delay_line.h"

#include <algorithm>

namespace tearline::testing {

DelayLine::DelayLine(const Clock& clock, DelayLineOptions options, std::uint64_t seed)
    : clock_(clock), options_(options), rng_(seed) {
  options_.jitter = std::clamp(options_.jitter, Clock::Duration::zero(), options_.delay);
}

std::size_t DelayLine::Room() const {
  return held_ >= options_.max_bytes ? 0 : options_.max_bytes - held_;
}

std::size_t DelayLine::Push(std::string_view bytes) {
  const std::size_t take = std::min(bytes.size(), Room());
  if (take == 0) return 0;
  Clock::Duration offset = Clock::Duration::zero();
  if (options_.jitter > Clock::Duration::zero()) {
    std::uniform_int_distribution<Clock::Duration::rep> dist(-options_.jitter.count(),
                                                             options_.jitter.count());
    offset = Clock::Duration(dist(rng_));
  }
  // A stream keeps its order: a chunk is never due before the one pushed before it.
  const Clock::TimePoint due = std::max(clock_.Now() + options_.delay + offset, last_due_);
  last_due_ = due;
  chunks_.push_back(Chunk{due, std::string(bytes.substr(0, take)), 0});
  held_ += take;
  return take;
}

std::string_view DelayLine::Due() const {
  if (chunks_.empty() || chunks_.front().due > clock_.Now()) return {};
  const Chunk& front = chunks_.front();
  return std::string_view(front.bytes).substr(front.sent);
}

void DelayLine::Consume(std::size_t n) {
  while (n > 0 && !chunks_.empty()) {
    Chunk& front = chunks_.front();
    const std::size_t step = std::min(n, front.bytes.size() - front.sent);
    front.sent += step;
    held_ -= step;
    n -= step;
    if (front.sent == front.bytes.size()) chunks_.pop_front();
  }
}

std::optional<Clock::TimePoint> DelayLine::NextDue() const {
  if (chunks_.empty()) return std::nullopt;
  return chunks_.front().due;
}

}  // namespace tearline::testing
