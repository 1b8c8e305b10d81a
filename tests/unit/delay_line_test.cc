#include "delay_line.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "tearline/base/clock.h"

namespace tearline::testing {
namespace {

using std::chrono::milliseconds;

DelayLineOptions Options(int delay_ms, int jitter_ms, std::size_t max_bytes = 1 << 20) {
  DelayLineOptions o;
  o.delay = milliseconds(delay_ms);
  o.jitter = milliseconds(jitter_ms);
  o.max_bytes = max_bytes;
  return o;
}

TEST(DelayLineTest, BytesAreHeldForTheDelayThenReleased) {
  FakeClock clock;
  DelayLine line(clock, Options(100, 0), 1);
  EXPECT_EQ(line.Push("hello"), 5u);
  EXPECT_TRUE(line.Due().empty());
  ASSERT_TRUE(line.NextDue().has_value());
  EXPECT_EQ(*line.NextDue(), clock.Now() + milliseconds(100));
  clock.Advance(milliseconds(99));
  EXPECT_TRUE(line.Due().empty());
  clock.Advance(milliseconds(1));
  EXPECT_EQ(line.Due(), "hello");
  line.Consume(5);
  EXPECT_EQ(line.Held(), 0u);
  EXPECT_FALSE(line.NextDue().has_value());
}

TEST(DelayLineTest, JitterVariesTheDelayWithinItsBoundsButNeverReordersTheStream) {
  FakeClock clock;
  DelayLine line(clock, Options(100, 20), 7);
  Clock::TimePoint previous{};
  bool varied = false;
  std::string expected;
  for (int i = 0; i < 200; ++i) {
    const std::string chunk = std::to_string(i) + ",";
    expected += chunk;
    ASSERT_EQ(line.Push(chunk), chunk.size());
    clock.Advance(milliseconds(1));
  }
  // Drain in time order: every due chunk comes out in the order it went in, each no earlier than
  // delay - jitter after it was pushed and no later than delay + jitter after the last push.
  std::string out;
  const Clock::TimePoint start = clock.Now();
  while (line.Held() > 0) {
    const auto due = line.NextDue();
    ASSERT_TRUE(due.has_value());
    if (previous != Clock::TimePoint{} && *due != previous) varied = true;
    EXPECT_GE(*due, previous);
    previous = *due;
    if (*due > clock.Now()) clock.Advance(*due - clock.Now());
    const std::string_view ready = line.Due();
    ASSERT_FALSE(ready.empty());
    out.append(ready);
    line.Consume(ready.size());
  }
  EXPECT_EQ(out, expected);
  EXPECT_TRUE(varied);
  EXPECT_GE(previous, start + milliseconds(79));
  EXPECT_LE(previous, start + milliseconds(120));
}

TEST(DelayLineTest, JitterDrawsBothSidesOfTheDelay) {
  FakeClock clock;
  bool early = false;
  bool late = false;
  for (std::uint64_t seed = 0; seed < 64; ++seed) {
    DelayLine line(clock, Options(100, 20), seed);
    line.Push("x");
    const auto d = *line.NextDue() - clock.Now();
    EXPECT_GE(d, milliseconds(80));
    EXPECT_LE(d, milliseconds(120));
    early |= d < milliseconds(100);
    late |= d > milliseconds(100);
  }
  EXPECT_TRUE(early);
  EXPECT_TRUE(late);
}

TEST(DelayLineTest, AFullLineTakesNoMoreBytesUntilSomeAreConsumed) {
  FakeClock clock;
  DelayLine line(clock, Options(10, 0, 8), 1);
  EXPECT_EQ(line.Push("abcdef"), 6u);
  EXPECT_EQ(line.Room(), 2u);
  EXPECT_EQ(line.Push("ghijkl"), 2u);  // Only what fits is taken; the caller keeps the rest.
  EXPECT_EQ(line.Room(), 0u);
  EXPECT_EQ(line.Push("m"), 0u);
  clock.Advance(milliseconds(10));
  ASSERT_EQ(line.Due(), "abcdef");
  line.Consume(4);  // A partial write: the rest stays at the front.
  EXPECT_EQ(line.Room(), 4u);
  EXPECT_EQ(line.Due(), "ef");
  line.Consume(2);
  EXPECT_EQ(line.Due(), "gh");
}

TEST(DelayLineTest, JitterLargerThanTheDelayIsClampedSoNothingIsDueBeforeItArrives) {
  FakeClock clock;
  for (std::uint64_t seed = 0; seed < 64; ++seed) {
    DelayLine line(clock, Options(5, 50), seed);
    line.Push("y");
    EXPECT_GE(*line.NextDue(), clock.Now());
    EXPECT_LE(*line.NextDue(), clock.Now() + milliseconds(10));
  }
}

}  // namespace
}  // namespace tearline::testing
