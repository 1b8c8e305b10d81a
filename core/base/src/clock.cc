#include "tearline/base/clock.h"

#include <ctime>

namespace tearline {

const Clock& SystemClock::Get() {
  static const SystemClock kClock;
  return kClock;
}

std::int64_t SystemClock::UnixNow() const { return static_cast<std::int64_t>(std::time(nullptr)); }

}  // namespace tearline
