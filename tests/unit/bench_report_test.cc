// The bench's result arithmetic and formats: nearest-rank percentiles, the derived per-report
// figures, the JSON round trip that --markdown-from relies on, and the Markdown table. Skipped
// when the bench is not built.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#ifdef TEARLINE_HAVE_BENCH
#include "bench_report.h"
#endif

namespace tearline::bench {
namespace {

#ifdef TEARLINE_HAVE_BENCH

TEST(BenchReportTest, PercentilesAreNearestRank) {
  std::vector<double> ms;
  for (int i = 100; i >= 1; --i) ms.push_back(i);  // Unsorted on purpose.
  const LatencySummary s = Summarize(ms);
  EXPECT_EQ(s.count, 100u);
  EXPECT_DOUBLE_EQ(s.p50_ms, 50);
  EXPECT_DOUBLE_EQ(s.p90_ms, 90);
  EXPECT_DOUBLE_EQ(s.p99_ms, 99);
  EXPECT_DOUBLE_EQ(s.max_ms, 100);
  EXPECT_EQ(Summarize({}).count, 0u);
  EXPECT_DOUBLE_EQ(Summarize({7}).p99_ms, 7);
}

RunReport Sample() {
  RunReport r;
  r.mode = "e2e";
  r.nodes = 4;
  r.size = 1000;
  r.portions = 1;
  r.recipients = 1;
  r.accepted = r.submitted = 100;
  r.expected_copies = r.delivered_copies = r.acknowledged_copies = 100;
  r.accepted_per_s = 50;
  r.acknowledged_per_s = 40;
  r.baselines.ed25519_verify_per_s = 1000;
  r.baselines.fdatasync_per_s = 300;  // 3.33 ms per sync
  r.latency.p99_ms = 20;
  r.processes.push_back({"broker", 1.5, 400000, 2048, 30});
  r.processes.push_back({"usa-1", 0.5, 1000, 1024, 100});
  r.processes.push_back({"gbr-1", 0.5, 1000, 1024, 100});
  return r;
}

TEST(BenchReportTest, DerivedFiguresDivideByWhatEachProcessHandled) {
  const RunReport r = Sample();
  ASSERT_TRUE(r.BrokerSyncsPerReport().has_value());
  EXPECT_DOUBLE_EQ(*r.BrokerSyncsPerReport(), 0.3);
  // 200 node syncs over 100 reports, each handled by a sender and one recipient.
  ASSERT_TRUE(r.NodeSyncsPerReport().has_value());
  EXPECT_DOUBLE_EQ(*r.NodeSyncsPerReport(), 1.0);
  EXPECT_DOUBLE_EQ(r.BrokerBytesPerReportByte(), 4.0);
  // End to end: three durable hops (outbox, broker, inbox). Without the append baseline (a file
  // of an older version) the floor is the overwrite floor.
  EXPECT_NEAR(r.DurableFloorMs(), 10.0, 1e-9);
  EXPECT_NEAR(r.OverwriteFloorMs(), 10.0, 1e-9);
  RunReport broker = r;
  broker.mode = "broker";
  EXPECT_NEAR(broker.DurableFloorMs(), 10.0 / 3, 1e-9);
  // Two copies per report: 40 copies/s acknowledged is 20 reports/s.
  RunReport two = r;
  two.expected_copies = 200;
  EXPECT_DOUBLE_EQ(two.AcknowledgedReportsPerS(), 20);
}

// The path floor is three appends that grow a file (write + fdatasync each), not three
// overwrites: each hop stores new data. The overwrite floor stays beside it.
TEST(BenchReportTest, TheFloorOfThePathIsThreeGrowingAppends) {
  RunReport r = Sample();
  r.baselines.append_fdatasync_per_s = 100;  // 10 ms per append + fdatasync
  EXPECT_EQ(r.DurableHops(), 3);
  EXPECT_NEAR(r.DurableFloorMs(), 30.0, 1e-9);
  EXPECT_NEAR(r.OverwriteFloorMs(), 10.0, 1e-9);
  RunReport broker = r;
  broker.mode = "broker";
  EXPECT_EQ(broker.DurableHops(), 1);
  EXPECT_NEAR(broker.DurableFloorMs(), 10.0, 1e-9);
  const std::string text = ToText(r);
  EXPECT_NE(text.find("p99 / durable floor (3 x append + fdatasync, 30.00 ms) = 0.667"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("p99 / overwrite floor (10.00 ms) = 2.000"), std::string::npos) << text;
  const std::string table = ToMarkdown({r});
  EXPECT_NE(table.find("| 0.667 | 30.00 | 10.00 |"), std::string::npos) << table;
  // Both survive the JSON round trip, with the latency to the rename before the sync.
  r.stored_latency.p99_ms = 12;
  r.stored_latency.count = 100;
  auto back = FromJson(ToJson(r));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_DOUBLE_EQ(back->baselines.append_fdatasync_per_s, 100);
  EXPECT_DOUBLE_EQ(back->stored_latency.p99_ms, 12);
  EXPECT_EQ(back->stored_latency.count, 100u);
  EXPECT_NEAR(back->DurableFloorMs(), 30.0, 1e-9);
}

TEST(BenchReportTest, UncountedSyncsStayUnknownInsteadOfZero) {
  RunReport r = Sample();
  r.processes[2].syncs.reset();
  EXPECT_FALSE(r.NodeSyncsPerReport().has_value());
  r.syncs_unavailable = "perf is not installed";
  EXPECT_NE(ToText(r).find("n/a (perf is not installed)"), std::string::npos);
}

TEST(BenchReportTest, JsonRoundTripKeepsTheTableFigures) {
  const RunReport r = Sample();
  auto back = FromJson(ToJson(r));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(ToMarkdown({*back}), ToMarkdown({r}));
  EXPECT_EQ(back->processes.size(), 3u);
  EXPECT_EQ(back->processes[0].syncs, std::optional<std::uint64_t>(30));
  EXPECT_FALSE(FromJson("{}").ok());
  EXPECT_FALSE(FromJson("not json").ok());
  EXPECT_EQ(FromJson("not json").status().reason(), "BENCH_JSON");
}

TEST(BenchReportTest, MarkdownHasOneRowPerRunAndTheRatios) {
  const std::string table = ToMarkdown({Sample(), Sample()});
  std::size_t rows = 0;
  for (std::size_t pos = 0; (pos = table.find("\n| e2e |", pos)) != std::string::npos; ++pos) {
    ++rows;
  }
  EXPECT_EQ(rows, 2u);
  EXPECT_NE(table.find("| 0.050 |"), std::string::npos) << table;  // accepted / ed25519
  EXPECT_NE(table.find("| 0.800 |"), std::string::npos) << table;  // acked / accepted
}

#else

TEST(BenchReportTest, SkippedWithoutTheBench) {
  GTEST_SKIP() << "tearline-bench is not built here (configure with -DTEARLINE_BUILD_BENCH=ON)";
}

#endif

}  // namespace
}  // namespace tearline::bench
