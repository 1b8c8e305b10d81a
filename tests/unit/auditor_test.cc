#include "tearline/broker/auditor.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "tearline/audit/audit_log.h"
#include "tearline/base/encoding.h"
#include "test_support.h"

namespace tearline::broker {
namespace {

using testing::TempDir;

class AuditorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = AuditLog::Open(dir_ / "audit");
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    log_ = std::move(log).value();
    auto store = ReportStore::Open(dir_ / "reports.db");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    auditor_ = std::make_unique<Auditor>(*log_, [this] { ++failures_; });
  }

  nlohmann::json RecordAt(std::uint64_t seq) {
    auto line = log_->Record(seq);
    EXPECT_TRUE(line.ok());
    return line.ok() ? nlohmann::json::parse(*line) : nlohmann::json();
  }

  TempDir dir_;
  std::unique_ptr<AuditLog> log_;
  std::unique_ptr<ReportStore> store_;
  std::unique_ptr<Auditor> auditor_;
  int failures_ = 0;
};

TEST_F(AuditorTest, RejectedInputNamesTheReportOnlyWhenKnown) {
  const Status why = InvalidArgument("WIRE_MALFORMED", "bad frame");
  auto a = auditor_->Durable(auditor_->RejectedInput("usa-1", why, ""));
  auto b = auditor_->Durable(auditor_->RejectedInput("usa-1", why, "00ff"));
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*b, *a + 1);
  const auto ra = RecordAt(*a);
  EXPECT_EQ(ra["type"], "rejected_input");
  EXPECT_EQ(ra["node"], "usa-1");
  EXPECT_EQ(ra["reason"], "WIRE_MALFORMED");
  EXPECT_EQ(ra["explanation"], "bad frame");
  EXPECT_FALSE(ra.contains("report_id"));
  EXPECT_EQ(RecordAt(*b)["report_id"], "00ff");
  EXPECT_EQ(failures_, 0);
}

TEST_F(AuditorTest, ThrottledRecordsCarryTheSuppressedCount) {
  const Status why(Code::kResourceExhausted, "RATE_LIMITED", "too many");
  auto seq = auditor_->Durable(auditor_->RejectedInputThrottled("gbr-1", why, 7));
  ASSERT_TRUE(seq);
  EXPECT_EQ(RecordAt(*seq)["suppressed"], 7);
  std::array<std::uint8_t, 32> key{};
  key[0] = 0xab;
  seq = auditor_->Durable(auditor_->ConnectionRefused("tcp://10.0.0.1", key, why, 3));
  ASSERT_TRUE(seq);
  const auto r = RecordAt(*seq);
  EXPECT_EQ(r["type"], "connection_refused");
  EXPECT_EQ(r["peer_address"], "tcp://10.0.0.1");
  EXPECT_EQ(r["client_key"].get<std::string>().substr(0, 2), "ab");
  EXPECT_EQ(r["suppressed"], 3);
}

TEST_F(AuditorTest, FailedAppendStopsTheBrokerAndReturnsNothing) {
  // A record over the log's 1 MiB line limit is refused: the decision must not take effect.
  const Status huge(Code::kInvalidArgument, "X", std::string(2 << 20, 'x'));
  EXPECT_FALSE(auditor_->Durable(auditor_->RejectedInput("usa-1", huge, "")));
  EXPECT_EQ(failures_, 1);
  EXPECT_EQ(log_->size(), 0u);
}

TEST_F(AuditorTest, FindsAcceptedReportsTheStoreLost) {
  ReportView view;
  view.report_id[0] = 1;
  view.originator = "usa-1";
  view.originator_nation = "USA";
  view.expires_unix = 100;
  PortionView p;
  p.index = 0;
  p.label = "(U)";
  p.ciphertext_bytes = 42;
  view.portions.push_back(p);
  const Policy& policy = testing::CoalitionPolicy();
  ASSERT_TRUE(auditor_->Durable(auditor_->Accepted(view, policy)));
  ReportView stored = view;
  stored.report_id[0] = 2;
  ASSERT_TRUE(auditor_->Durable(auditor_->Accepted(stored, policy)));
  StoredReport row;
  row.report_id = ToHex(stored.report_id);
  row.originator = "usa-1";
  row.sha256 = "00";
  row.reply = {1};
  ASSERT_TRUE(store_->InsertReport(row, {}).ok());

  auto orphans = Auditor::FindOrphanedAccepts(*log_, *store_);
  ASSERT_TRUE(orphans.ok()) << orphans.status().ToString();
  ASSERT_EQ(orphans->size(), 1u);
  const auto& [id, fingerprint] = *orphans->begin();
  EXPECT_EQ(id, ToHex(view.report_id));
  // A retry of the same content matches the logged record; different content does not.
  EXPECT_EQ(fingerprint, FingerprintOf(view));
  ReportView changed = view;
  changed.portions[0].label = "(S)";
  EXPECT_NE(fingerprint, FingerprintOf(changed));
}

}  // namespace
}  // namespace tearline::broker
