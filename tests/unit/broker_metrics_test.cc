#include "tearline/broker/broker_metrics.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "prometheus_parser.h"
#include "tearline/base/clock.h"
#include "test_support.h"

namespace tearline::broker {
namespace {

using testing::ParsedMetrics;
using testing::ParsePrometheusText;

RejectedInputRecord Rejected(const std::string& reason, std::optional<std::uint64_t> suppressed) {
  RejectedInputRecord r;
  r.node = "usa-1";
  r.reason = reason;
  r.explanation = "refused";
  r.suppressed = suppressed;
  return r;
}

DeniedRecord Denied(const std::string& reason) {
  DeniedRecord r;
  r.report_id = "00";
  r.recipient = "gbr-1";
  r.nation = "GBR";
  r.reason = reason;
  r.explanation = "denied";
  return r;
}

class BrokerMetricsTest : public ::testing::Test {
 protected:
  BrokerMetrics Make(MetricsOptions options = {}) {
    return BrokerMetrics(clock_, std::move(options), [this] { return gauges_; });
  }
  ParsedMetrics Parse(const BrokerMetrics& m) {
    auto text = m.Render();
    EXPECT_TRUE(text.ok()) << text.status().ToString();
    ParsedMetrics parsed;
    std::string error;
    EXPECT_TRUE(ParsePrometheusText(text.ok() ? *text : "", &parsed, &error)) << error;
    return parsed;
  }
  FakeClock clock_;
  BrokerGauges gauges_;
};

TEST_F(BrokerMetricsTest, CountsDecisionsFromTheAuditRecordsTheyWrite) {
  BrokerMetrics m = Make();
  ParsedMetrics before = Parse(m);
  EXPECT_EQ(before.Value("tearline_broker_reports_accepted_total"), 0.0)
      << "unlabelled counters read 0 before their first record";
  EXPECT_EQ(before.types.at("tearline_broker_denials_total"), "counter");

  m.Count(AcceptedRecord{});
  m.Count(AcceptedRecord{});
  m.Count(DeliveredRecord{});
  m.Count(DeliveredFromQueueRecord{});
  m.Count(QueuedRecord{});
  m.Count(AcknowledgedRecord{});
  m.Count(Denied("NOFORN"));
  m.Count(Denied("NOFORN"));
  m.Count(Denied("QUEUE_FULL"));
  m.Count(Rejected("WIRE_MALFORMED", std::nullopt));
  ParsedMetrics p = Parse(m);
  EXPECT_EQ(p.Value("tearline_broker_reports_accepted_total"), 2.0);
  EXPECT_EQ(p.Value("tearline_broker_deliveries_total"), 2.0) << "directly and from the queue";
  EXPECT_EQ(p.Value("tearline_broker_copies_queued_total"), 1.0);
  EXPECT_EQ(p.Value("tearline_broker_acknowledgements_total"), 1.0);
  EXPECT_EQ(p.Value("tearline_broker_denials_total", {{"reason", "NOFORN"}}), 2.0);
  EXPECT_EQ(p.Value("tearline_broker_denials_total", {{"reason", "QUEUE_FULL"}}), 1.0);
  EXPECT_EQ(
      p.Value("tearline_broker_refusals_total", {{"kind", "input"}, {"reason", "WIRE_MALFORMED"}}),
      1.0);
  // A policy denial is no limit; a full queue is.
  EXPECT_EQ(p.Value("tearline_broker_limit_refusals_total", {{"limit", "QUEUE_FULL"}}), 1.0);
  EXPECT_FALSE(p.Value("tearline_broker_limit_refusals_total", {{"limit", "NOFORN"}}));
  EXPECT_FALSE(p.Value("tearline_broker_limit_refusals_total", {{"limit", "WIRE_MALFORMED"}}));
  EXPECT_EQ(p.Value("tearline_broker_audit_records_written_total", {{"type", "delivered"}}), 2.0);
  EXPECT_EQ(p.Sum("tearline_broker_audit_records_written_total"), 10.0);
}

TEST_F(BrokerMetricsTest, ThrottledRefusalsCountWhatTheyStandForByLimit) {
  BrokerMetrics m = Make();
  m.Count(Rejected("RATE_LIMITED", 41));  // This refusal and 41 not written before it.
  m.Count(Rejected("BROKER_BUSY", std::nullopt));
  ConnectionRefusedRecord c;
  c.peer_address = "10.0.0.9";
  c.reason = "CONNECTION_LIMIT";
  c.suppressed = 4;
  m.Count(c);
  ParsedMetrics p = Parse(m);
  EXPECT_EQ(p.Value("tearline_broker_limit_refusals_total", {{"limit", "RATE_LIMITED"}}), 42.0);
  EXPECT_EQ(p.Value("tearline_broker_limit_refusals_total", {{"limit", "BROKER_BUSY"}}), 1.0);
  EXPECT_EQ(p.Value("tearline_broker_limit_refusals_total", {{"limit", "CONNECTION_LIMIT"}}), 5.0);
  EXPECT_EQ(p.Value("tearline_broker_refusals_total",
                    {{"kind", "connection"}, {"reason", "CONNECTION_LIMIT"}}),
            5.0);
}

TEST_F(BrokerMetricsTest, ReasonsNoRegistryKnowsShareOneLabel) {
  BrokerMetrics m = Make();
  // What a hostile node might get into a record: a reason of its own making, any bytes.
  for (int i = 0; i < 100; ++i) m.Count(Rejected("MADE_UP_" + std::to_string(i) + "\"\n", 0));
  ParsedMetrics p = Parse(m);
  EXPECT_EQ(p.Value("tearline_broker_refusals_total", {{"kind", "input"}, {"reason", "OTHER"}}),
            100.0);
  std::size_t refusal_samples = 0;
  for (const auto& s : p.samples) refusal_samples += s.name == "tearline_broker_refusals_total";
  EXPECT_EQ(refusal_samples, 1u) << "the page must not grow with a node's reason strings";
}

TEST_F(BrokerMetricsTest, GaugesShowQueuesLogAndAgesFromTheInjectedClock) {
  BrokerMetrics m = Make();
  const Clock::TimePoint start = clock_.Now();
  clock_.Advance(std::chrono::seconds(10));
  gauges_.queue_depth = {{"gbr-1", 3}, {"jpn-1", 0}};
  gauges_.audit_log_bytes = 4096;
  gauges_.audit_log_records = 17;
  gauges_.checkpoint_size = 16;
  gauges_.last_checkpoint = clock_.Now();
  gauges_.last_cosignature = {{"gbr-1", clock_.Now()}, {"jpn-1", std::nullopt}};
  gauges_.nodes_online = 2;
  clock_.Advance(std::chrono::milliseconds(2500));
  ParsedMetrics p = Parse(m);
  EXPECT_EQ(p.Value("tearline_broker_queue_depth", {{"recipient", "gbr-1"}}), 3.0);
  EXPECT_EQ(p.Value("tearline_broker_queue_depth", {{"recipient", "jpn-1"}}), 0.0);
  EXPECT_EQ(p.Value("tearline_broker_audit_log_bytes"), 4096.0);
  EXPECT_EQ(p.Value("tearline_broker_audit_log_records"), 17.0);
  EXPECT_EQ(p.Value("tearline_broker_checkpoint_size"), 16.0);
  EXPECT_EQ(p.Value("tearline_broker_checkpoint_age_seconds"), 2.5);
  EXPECT_EQ(p.Value("tearline_broker_cosignature_age_seconds", {{"witness", "gbr-1"}}), 2.5);
  EXPECT_EQ(p.Value("tearline_broker_cosignature_age_seconds", {{"witness", "jpn-1"}}), 12.5)
      << "a witness that never cosigned is as old as the broker";
  EXPECT_EQ(p.Value("tearline_broker_nodes_online"), 2.0);
  EXPECT_EQ(p.Value("tearline_broker_uptime_seconds"),
            std::chrono::duration<double>(clock_.Now() - start).count());
  EXPECT_EQ(p.Value("tearline_broker_start_time_seconds"), 1'800'000'000.0);
  for (const auto& [family, type] : p.types) EXPECT_TRUE(p.help.contains(family)) << family;
}

TEST_F(BrokerMetricsTest, WritesThePageEveryIntervalByReplacingTheFile) {
  testing::TempDir dir;
  const auto file = dir / "tearline_broker.prom";
  BrokerMetrics m = Make({file, std::chrono::seconds(15)});
  ::umask(077);  // As under the systemd unit: the page must still be readable by the collector.
  EXPECT_TRUE(m.MaybeWrite());
  ::umask(022);
  ASSERT_TRUE(std::filesystem::exists(file));
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  EXPECT_FALSE(std::filesystem::exists(file.string() + ".tmp"));

  m.Count(AcceptedRecord{});
  clock_.Advance(std::chrono::seconds(14));
  EXPECT_FALSE(m.MaybeWrite()) << "not before the interval";
  EXPECT_EQ(testing::ReadFile(file).find("tearline_broker_reports_accepted_total 1"),
            std::string::npos);
  clock_.Advance(std::chrono::seconds(1));
  EXPECT_TRUE(m.MaybeWrite());
  ParsedMetrics p;
  std::string error;
  ASSERT_TRUE(ParsePrometheusText(testing::ReadFile(file), &p, &error)) << error;
  EXPECT_EQ(p.Value("tearline_broker_reports_accepted_total"), 1.0);
  EXPECT_TRUE(m.MaybeWrite(true)) << "forced (the final page at stop)";
}

TEST_F(BrokerMetricsTest, NoFileConfiguredWritesNothingAndAFailedWriteIsNotFatal) {
  EXPECT_FALSE(Make().MaybeWrite(true));
  testing::TempDir dir;
  const auto file = dir / "missing" / "tearline_broker.prom";
  BrokerMetrics m = Make({file, std::chrono::seconds(1)});
  EXPECT_FALSE(m.MaybeWrite());
  clock_.Advance(std::chrono::seconds(1));
  std::filesystem::create_directory(dir / "missing");
  EXPECT_TRUE(m.MaybeWrite()) << "tried again an interval later";
  EXPECT_TRUE(std::filesystem::exists(file));
}

}  // namespace
}  // namespace tearline::broker
