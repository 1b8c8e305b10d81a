// Reading a time window out of perf's interval lines: the count of each event in every interval
// whose end falls in the window (plus the one holding its end), skipping comments and intervals
// perf could not count. Skipped when the bench is not built.
#include <gtest/gtest.h>

#include <string>

#ifdef TEARLINE_HAVE_BENCH
#include "sync_probe.h"
#endif

namespace tearline::bench {
namespace {

#ifdef TEARLINE_HAVE_BENCH

const std::string kIntervals =
    "# started on Tue Dec  1 03:12:49 2026\n"
    "\n"
    "     0.100,4,,syscalls:sys_enter_fsync,100,100.00,,\n"
    "     0.100,1,,syscalls:sys_enter_fdatasync,100,100.00,,\n"
    "     0.200,2,,syscalls:sys_enter_fsync,100,100.00,,\n"
    "     0.200,<not counted>,,syscalls:sys_enter_msync,0,100.00,,\n"
    "     0.300,3,,syscalls:sys_enter_fdatasync,100,100.00,,\n"
    "     0.400,10,,syscalls:sys_enter_fsync,100,100.00,,\n";

TEST(SyncProbeTest, CountsTheIntervalsOfTheWindow) {
  // Window (0.1, 0.2]: intervals ending at 0.2 and, for the window's end, 0.3.
  auto n = SyncProbe::CountInText(kIntervals, 0.1, 0.2);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 5u);
  auto all = SyncProbe::CountInText(kIntervals, 0, 1);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, 20u);
  auto none = SyncProbe::CountInText(kIntervals, 0.5, 1);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, 0u);
}

TEST(SyncProbeTest, AFileWithoutIntervalsIsAnError) {
  auto n = SyncProbe::CountInText("# started on ...\n\n", 0, 1);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().reason(), "BENCH_SYNC_PROBE");
  EXPECT_FALSE(SyncProbe::CountInText("0.1,12x,,e\n", 0, 1).ok());
}

TEST(SyncProbeTest, ADisabledProbeWrapsNothingAndSaysWhy) {
  const SyncProbe p = SyncProbe::Disabled("switched off");
  EXPECT_FALSE(p.available());
  EXPECT_EQ(p.why(), "switched off");
  EXPECT_TRUE(p.Wrapper("/tmp/x").empty());
}

#else

TEST(SyncProbeTest, SkippedWithoutTheBench) {
  GTEST_SKIP() << "tearline-bench is not built here (configure with -DTEARLINE_BUILD_BENCH=ON)";
}

#endif

}  // namespace
}  // namespace tearline::bench
