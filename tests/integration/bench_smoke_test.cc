// tearline-bench end to end, briefly: a broker-only run through the library (in-process wire
// nodes against the real broker) and an end-to-end run through the tearline-bench binary (real
// node daemons), each checking that every field the JSON result promises is there and that every
// expected copy arrived exactly once. Never a timing assertion: the figures are only printed.
// Skipped when the bench is not built (TEARLINE_BUILD_BENCH=OFF, e.g. the sanitizer builds).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "test_support.h"

#ifdef TEARLINE_HAVE_BENCH
#include "bench_report.h"
#include "bench_run.h"
#endif

namespace tearline {
namespace {

using nlohmann::json;

#ifdef TEARLINE_HAVE_BENCH

// Every field docs/PERFORMANCE.md describes, present with the right kind of value.
void ExpectResultFields(const json& j) {
  for (const char* key :
       {"mode", "nodes", "rate", "reports", "size", "portions", "recipients", "queue_depth"}) {
    EXPECT_TRUE(j["config"].contains(key)) << key;
  }
  for (const char* key : {"submitted", "accepted", "refused", "expected", "delivered", "duplicates",
                          "acknowledged"}) {
    EXPECT_TRUE(j[key].is_number_unsigned()) << key;
  }
  for (const char* key :
       {"accepted_per_s", "delivered_per_s", "acknowledged_per_s", "accepted_mib_per_s"}) {
    EXPECT_TRUE(j["throughput"][key].is_number()) << key;
  }
  for (const char* key : {"count", "p50", "p90", "p99", "max"}) {
    EXPECT_TRUE(j["latency_ms"][key].is_number()) << key;
  }
  ASSERT_TRUE(j["processes"].is_array());
  bool broker = false;
  for (const json& p : j["processes"]) {
    for (const char* key : {"cpu_seconds", "write_bytes", "peak_rss_kib"}) {
      EXPECT_TRUE(p[key].is_number()) << key;
    }
    // A count, or null with the reason in syncs_unavailable.
    EXPECT_TRUE(p.contains("syncs"));
    if (p["name"] == "broker") {
      broker = true;
      EXPECT_GT(p["peak_rss_kib"].get<double>(), 0);
      if (p["syncs"].is_null()) {
        EXPECT_FALSE(j["syncs_unavailable"].get<std::string>().empty());
      }
    }
  }
  EXPECT_TRUE(broker);
  for (const char* key : {"ed25519_verify_per_s", "sha256_mib_per_s", "fdatasync_per_s",
                          "append_fdatasync_per_s", "relay_msgs_per_s", "relay_mib_per_s"}) {
    EXPECT_GT(j["baselines"][key].get<double>(), 0) << key;
  }
  for (const char* key :
       {"accepted_per_ed25519_verify", "acknowledged_per_accepted", "accepted_per_relay_msg",
        "p99_per_durable_floor", "p99_per_overwrite_floor", "durable_floor_ms",
        "overwrite_floor_ms", "broker_bytes_written_per_report_byte", "broker_syncs_per_report"}) {
    EXPECT_TRUE(j["ratios"].contains(key)) << key;
  }
}

bench::BenchOptions SmallRun(const std::string& mode) {
  bench::BenchOptions o;
  o.mode = mode;
  o.nodes = 3;
  o.plan.reports = 30;
  o.plan.recipients = 2;
  o.plan.size = 512;
  o.plan.portions = 2;
  o.plan.drain_timeout_seconds = 20;
  o.baseline_seconds = 0.05;
  o.bin_dir = testing::BinaryPath("tearline-broker").parent_path();
  o.policy = testing::SourcePath("deploy/policy/coalition.toml");
  return o;
}

TEST(BenchSmokeTest, BrokerOnlyRunDeliversEveryCopyOnceAndReportsEveryField) {
  bench::BenchOptions o = SmallRun("broker");
  o.plan.queue_depth = 20;
  auto r = bench::RunBench(o, nullptr);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::printf("%s", bench::ToText(*r).c_str());
  const json j = json::parse(bench::ToJson(*r));
  ExpectResultFields(j);
  EXPECT_EQ(j["accepted"], 30u) << j["first_refusal"];
  EXPECT_EQ(j["expected"], 60u);
  EXPECT_EQ(j["delivered"], j["expected"]);
  EXPECT_EQ(j["duplicates"], 0u);
  EXPECT_EQ(j["acknowledged"], j["expected"]);
  EXPECT_EQ(j["latency_ms"]["count"], 60u);
  EXPECT_EQ(j["drain"]["copies"], 20u);
  // The JSON reads back into the same figures (what --markdown-from relies on).
  auto back = bench::FromJson(bench::ToJson(*r));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->delivered_copies, r->delivered_copies);
  EXPECT_NE(bench::ToMarkdown({*back}).find("| broker | 3 | 512 | 2 | 2 |"), std::string::npos);
}

TEST(BenchSmokeTest, EndToEndRunThroughTheBinaryDrainsAQueueAndDeliversEveryCopyOnce) {
  testing::TempDir dir;
  const auto out = dir / "e2e.json";
  // Small on purpose: 3 daemons, 20 reports to 2 recipients each, 5 queued for a stopped node.
  const std::vector<std::string> argv = {
      testing::BinaryPath("tearline-bench").string(),
      "--mode=e2e",
      "--nodes=3",
      "--reports=20",
      "--recipients=2",
      "--in-flight=2",
      "--size=300",
      "--queue-depth=5",
      "--baseline-seconds=0.05",
      "--policy=" + testing::SourcePath("deploy/policy/coalition.toml").string(),
      "--dir=" + dir.path().string(),
      "--json=" + out.string()};
  auto run = testing::RunProcess(argv, std::chrono::seconds(60));
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_NE(run.err.find("measuring baselines"), std::string::npos) << run.err;
  std::printf("%s", run.out.c_str());
  const json j = json::parse(testing::ReadFile(out));
  ExpectResultFields(j);
  EXPECT_EQ(j["config"]["mode"], "e2e");
  EXPECT_EQ(j["accepted"], 20u) << j["first_refusal"];
  EXPECT_EQ(j["expected"], 40u);
  EXPECT_EQ(j["delivered"], j["expected"]);
  EXPECT_EQ(j["duplicates"], 0u);
  // Node 0's daemon was stopped while 5 reports were sent to it, then restarted: all 5 drained.
  EXPECT_EQ(j["drain"]["copies"], 5u);
  // Three processes besides the broker: every node daemon was measured.
  EXPECT_GE(j["processes"].size(), 4u);
  // Each copy is durable (the recipient's sync done) after its rename into the inbox, so every
  // order statistic of the durable latency is at least the rename's.
  const json& durable = j["latency_ms"];
  const json& renamed = j["latency_to_rename_ms"];
  EXPECT_EQ(durable["count"], 40u);
  EXPECT_EQ(renamed["count"], 40u);
  for (const char* key : {"p50", "p90", "p99", "max"}) {
    EXPECT_GE(durable[key].get<double>(), renamed[key].get<double>()) << key;
  }
}

#else

TEST(BenchSmokeTest, SkippedWithoutTheBench) {
  GTEST_SKIP() << "tearline-bench is not built here (configure with -DTEARLINE_BUILD_BENCH=ON)";
}

#endif

}  // namespace
}  // namespace tearline
