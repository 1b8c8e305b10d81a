#include "tearline/base/clock.h"

#include <gtest/gtest.h>

namespace tearline {
namespace {

using std::chrono::seconds;

TEST(FakeClockTest, MovesOnlyWhenAdvanced) {
  FakeClock clock(1'000);
  const Clock::TimePoint start = clock.Now();
  EXPECT_EQ(clock.Now(), start);
  EXPECT_EQ(clock.UnixNow(), 1'000);
  clock.Advance(seconds(90));
  EXPECT_EQ(clock.Now() - start, seconds(90));
  EXPECT_EQ(clock.UnixNow(), 1'090);
}

TEST(FakeClockTest, SettingTheWallClockLeavesMonotonicTimeAlone) {
  FakeClock clock(1'000);
  clock.Advance(seconds(5));
  const Clock::TimePoint before = clock.Now();
  clock.SetUnix(50);
  EXPECT_EQ(clock.Now(), before);
  EXPECT_EQ(clock.UnixNow(), 50);
  clock.Advance(seconds(3));
  EXPECT_EQ(clock.UnixNow(), 53);
}

TEST(SystemClockTest, ReadsTheMachineClocks) {
  const Clock& clock = SystemClock::Get();
  const Clock::TimePoint a = clock.Now();
  const Clock::TimePoint b = clock.Now();
  EXPECT_LE(a, b);
  // 2024-01-01: any machine running this test is past it.
  EXPECT_GT(clock.UnixNow(), 1'704'067'200);
}

}  // namespace
}  // namespace tearline
