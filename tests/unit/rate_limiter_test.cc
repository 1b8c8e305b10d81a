#include "tearline/broker/rate_limiter.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "tearline/base/clock.h"

namespace tearline::broker {
namespace {

using std::chrono::milliseconds;

TEST(RateLimiterTest, BurstThenSteadyRate) {
  FakeClock clock;
  RateLimiter limiter(clock, {.per_second = 20, .burst = 40});
  for (int i = 0; i < 40; ++i) EXPECT_TRUE(limiter.Take("usa-1").allowed) << i;
  EXPECT_FALSE(limiter.Take("usa-1").allowed);
  // Another key has its own bucket.
  EXPECT_TRUE(limiter.Take("gbr-1").allowed);
  clock.Advance(milliseconds(49));
  EXPECT_FALSE(limiter.Take("usa-1").allowed);
  clock.Advance(milliseconds(1));  // 50 ms: one token at 20/s.
  EXPECT_TRUE(limiter.Take("usa-1").allowed);
  EXPECT_FALSE(limiter.Take("usa-1").allowed);
  // A long pause refills to the burst, never beyond.
  clock.Advance(std::chrono::hours(1));
  for (int i = 0; i < 40; ++i) EXPECT_TRUE(limiter.Take("usa-1").allowed) << i;
  EXPECT_FALSE(limiter.Take("usa-1").allowed);
}

TEST(RateLimiterTest, OncePerSecondThrottleCountsSuppressed) {
  FakeClock clock;
  RateLimiter throttle(clock, {.per_second = 1, .burst = 1});
  auto first = throttle.Take("10.0.0.1");
  EXPECT_TRUE(first.allowed);
  EXPECT_EQ(first.suppressed, 0u);
  for (int i = 0; i < 5; ++i) {
    clock.Advance(milliseconds(100));
    auto d = throttle.Take("10.0.0.1");
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.suppressed, 0u);
  }
  clock.Advance(milliseconds(499));  // 999 ms after the first record.
  EXPECT_FALSE(throttle.Take("10.0.0.1").allowed);
  clock.Advance(milliseconds(1));  // Exactly one second.
  auto again = throttle.Take("10.0.0.1");
  EXPECT_TRUE(again.allowed);
  EXPECT_EQ(again.suppressed, 6u);
  clock.Advance(std::chrono::seconds(1));
  EXPECT_EQ(throttle.Take("10.0.0.1").suppressed, 0u);
}

TEST(RateLimiterTest, ForgetsOnlyIdleKeysAtTheBound) {
  FakeClock clock;
  RateLimiter throttle(clock, {.per_second = 1, .burst = 1, .max_keys = 4});
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(throttle.Take("addr" + std::to_string(i)).allowed);
  EXPECT_FALSE(throttle.Take("addr0").allowed);  // addr0 owes a suppressed count.
  // Nothing is idle yet: the map may exceed the bound rather than lose a pending decision.
  EXPECT_TRUE(throttle.Take("addr4").allowed);
  EXPECT_EQ(throttle.size(), 5u);
  clock.Advance(std::chrono::seconds(1));
  EXPECT_TRUE(throttle.Take("addr5").allowed);
  EXPECT_EQ(throttle.size(), 2u);  // addr0 (owes a count) and addr5.
  auto d = throttle.Take("addr0");
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.suppressed, 1u);
}

TEST(RateLimiterTest, ZeroRateRefusesEverything) {
  FakeClock clock;
  RateLimiter limiter(clock, {.per_second = 0, .burst = 0});
  EXPECT_FALSE(limiter.Take("x").allowed);
  clock.Advance(std::chrono::hours(1));
  EXPECT_FALSE(limiter.Take("x").allowed);
}

}  // namespace
}  // namespace tearline::broker
