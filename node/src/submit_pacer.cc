#include "tearline/node/submit_pacer.h"

#include <algorithm>
#include <chrono>

namespace tearline::node {

void SubmitPacer::SetRate(std::uint32_t per_second) {
  rate_ = per_second;
  tokens_ = per_second;
  last_ = clock_.Now();
}

void SubmitPacer::Refill() {
  const auto now = clock_.Now();
  const double elapsed = std::chrono::duration<double>(now - last_).count();
  last_ = now;
  if (elapsed > 0) tokens_ = std::min<double>(rate_, tokens_ + elapsed * rate_);
}

bool SubmitPacer::TryTake() {
  if (rate_ == 0) return true;
  Refill();
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

void SubmitPacer::OnRateLimited() {
  if (rate_ == 0) rate_ = kFallbackSubmitRate;
  Refill();
  tokens_ = 0;
}

}  // namespace tearline::node
