#include "tearline/base/clock.h"

#include <chrono>
#include <ctime>

namespace tearline {

const Clock& SystemClock::Get() {
  static const SystemClock kClock;
  return kClock;
}

std::int64_t SystemClock::UnixNow() const { return static_cast<std::int64_t>(std::time(nullptr)); }

std::int64_t SystemClock::UnixMillisNow() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace tearline
