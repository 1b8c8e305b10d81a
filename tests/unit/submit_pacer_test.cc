// SubmitPacer: one second's worth at once, then the broker's rate; RATE_LIMITED empties the
// bucket (one token's wait, never a doubling); no announced rate leaves submits unpaced until a
// RATE_LIMITED, then the fallback rate. FakeClock: no sleeps.
#include "tearline/node/submit_pacer.h"

#include <gtest/gtest.h>

#include <chrono>

#include "tearline/base/clock.h"

namespace tearline::node {
namespace {

using namespace std::chrono_literals;

int Drain(SubmitPacer& p) {
  int n = 0;
  while (p.TryTake() && n < 100000) ++n;
  return n;
}

TEST(SubmitPacerTest, PacesAtTheAnnouncedRate) {
  FakeClock clock;
  SubmitPacer pacer(clock);
  pacer.SetRate(10);
  EXPECT_EQ(pacer.rate(), 10u);
  EXPECT_EQ(Drain(pacer), 10);
  clock.Advance(100ms);
  EXPECT_EQ(Drain(pacer), 1);
  clock.Advance(50ms);
  EXPECT_EQ(Drain(pacer), 0);
  clock.Advance(10s);  // Idle time does not pile up beyond one second's worth.
  EXPECT_EQ(Drain(pacer), 10);
}

TEST(SubmitPacerTest, RateLimitedWaitsOneTokenNotADoubling) {
  FakeClock clock;
  SubmitPacer pacer(clock);
  pacer.SetRate(4);
  ASSERT_TRUE(pacer.TryTake());
  pacer.OnRateLimited();
  EXPECT_FALSE(pacer.TryTake());
  clock.Advance(250ms);
  EXPECT_TRUE(pacer.TryTake());
  for (int i = 0; i < 5; ++i) pacer.OnRateLimited();  // Refusals do not compound.
  clock.Advance(250ms);
  EXPECT_TRUE(pacer.TryTake());
}

TEST(SubmitPacerTest, NoAnnouncedRateIsUnpacedUntilTheFirstRefusal) {
  FakeClock clock;
  SubmitPacer pacer(clock);
  EXPECT_EQ(Drain(pacer), 100000);
  pacer.OnRateLimited();
  EXPECT_EQ(pacer.rate(), kFallbackSubmitRate);
  EXPECT_EQ(Drain(pacer), 0);
  clock.Advance(1s);
  EXPECT_EQ(Drain(pacer), static_cast<int>(kFallbackSubmitRate));
}

}  // namespace
}  // namespace tearline::node
