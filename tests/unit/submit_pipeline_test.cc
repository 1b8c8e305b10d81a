#include "tearline/broker/submit_pipeline.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <set>

#include "mini_coalition.h"
#include "tearline/audit/audit_log.h"
#include "tearline/base/clock.h"
#include "tearline/base/encoding.h"
#include "tearline/broker/commit_group.h"
#include "tearline/wire/wire.h"
#include "test_support.h"

namespace tearline::broker {
namespace {

using testing::MiniCoalition;
using testing::TempDir;

constexpr std::int64_t kNow = 1'800'000'000;

class SubmitPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override { Build({}); }

  void Build(SubmitOptions options) {
    pipeline_.reset();
    if (!log_) {
      auto log = AuditLog::Open(dir_ / "audit");
      ASSERT_TRUE(log.ok()) << log.status().ToString();
      log_ = std::move(log).value();
      auto store = ReportStore::Open(dir_ / "reports.db");
      ASSERT_TRUE(store.ok()) << store.status().ToString();
      store_ = std::move(store).value();
      auditor_ = std::make_unique<Auditor>(*log_, [this] { ++audit_failures_; });
    }
    options.data_dir = dir_.path();
    options.min_free_bytes = 0;
    pipeline_ = std::make_unique<SubmitPipeline>(
        coalition_.directory(), coalition_.policy(), *store_, *auditor_, clock_, options,
        [this](const std::string& node) { return online_.contains(node); });
  }

  static SubmitReplyInfo Reply(const SubmitEffects& effects) {
    EXPECT_TRUE(effects.reply.has_value());
    if (!effects.reply) return {};
    std::vector<std::uint8_t> storage;
    auto frame = DecodeFrame(AlignedForDecode(*effects.reply, storage));
    EXPECT_TRUE(frame.ok());
    const auto* reply = frame.ok() ? (*frame)->body_as_SubmitReply() : nullptr;
    EXPECT_NE(reply, nullptr);
    return reply ? ToSubmitReplyInfo(*reply) : SubmitReplyInfo{};
  }

  const RecipientOutcomeInfo* Outcome(const SubmitReplyInfo& reply, const std::string& node) {
    for (const auto& o : reply.outcomes) {
      if (o.node_id == node) return &o;
    }
    return nullptr;
  }

  std::size_t CountRecords(const std::string& type, const std::string& reason = "") const {
    std::size_t n = 0;
    for (std::uint64_t i = 0; i < log_->size(); ++i) {
      auto j = nlohmann::json::parse(*log_->Record(i));
      if (j["type"] == type && (reason.empty() || j.value("reason", "") == reason)) ++n;
    }
    return n;
  }

  SealedReport Shared(std::int64_t expires = kNow + 3600) {
    return coalition_.Seal("usa-1", {"(S//REL TO USA, GBR)"}, {"GBR", "JPN"}, expires);
  }

  FakeClock clock_{kNow};
  MiniCoalition coalition_{kNow};
  TempDir dir_;
  std::unique_ptr<AuditLog> log_;
  std::unique_ptr<ReportStore> store_;
  std::unique_ptr<Auditor> auditor_;
  std::unique_ptr<SubmitPipeline> pipeline_;
  std::set<std::string> online_;
  int audit_failures_ = 0;
};

TEST_F(SubmitPipelineTest, RoutesPerRecipientAndReturnsEffectsAfterCommit) {
  online_ = {"gbr-1"};
  const SealedReport report = Shared();
  SubmitEffects effects = pipeline_->Submit("usa-1", 11, report.bytes);
  const SubmitReplyInfo reply = Reply(effects);
  ASSERT_TRUE(reply.accepted) << reply.error_reason << ": " << reply.error_message;
  EXPECT_FALSE(reply.duplicate);
  // gbr-1 (SECRET, online) gets its copy now; gbr-2 (CONFIDENTIAL) is denied; JPN is not
  // released to.
  ASSERT_EQ(effects.deliveries.size(), 1u);
  EXPECT_EQ(effects.deliveries[0].node_id, "gbr-1");
  EXPECT_EQ(effects.deliveries[0].report_id_hex, ToHex(report.report_id));
  EXPECT_FALSE(effects.deliveries[0].copy.empty());
  ASSERT_NE(Outcome(reply, "gbr-1"), nullptr);
  EXPECT_EQ(Outcome(reply, "gbr-1")->state, schema::DeliveryState::Delivered);
  ASSERT_NE(Outcome(reply, "gbr-2"), nullptr);
  EXPECT_EQ(Outcome(reply, "gbr-2")->state, schema::DeliveryState::Denied);
  // Audited before the store commit; the store holds the report and its pending copy.
  EXPECT_EQ(CountRecords("accepted"), 1u);
  EXPECT_EQ(CountRecords("delivered"), 1u);
  EXPECT_GE(CountRecords("denied"), 1u);
  auto copy = store_->FindCopy(ToHex(report.report_id), "gbr-1");
  ASSERT_TRUE(copy.ok() && copy->has_value());
  EXPECT_EQ((*copy)->state, CopyState::kDelivered);
}

TEST_F(SubmitPipelineTest, OfflineRecipientIsQueuedWithoutEffects) {
  const SealedReport report = Shared();
  SubmitEffects effects = pipeline_->Submit("usa-1", 1, report.bytes);
  const SubmitReplyInfo reply = Reply(effects);
  ASSERT_TRUE(reply.accepted);
  EXPECT_TRUE(effects.deliveries.empty());
  EXPECT_EQ(Outcome(reply, "gbr-1")->state, schema::DeliveryState::Queued);
  EXPECT_EQ(CountRecords("queued"), 1u);
}

TEST_F(SubmitPipelineTest, IdenticalResubmissionGetsTheStoredReplyDifferentBytesConflict) {
  const SealedReport report = Shared();
  ASSERT_TRUE(Reply(pipeline_->Submit("usa-1", 1, report.bytes)).accepted);
  online_ = {"gbr-1"};
  SubmitEffects again = pipeline_->Submit("usa-1", 2, report.bytes);
  const SubmitReplyInfo dup = Reply(again);
  EXPECT_TRUE(dup.accepted);
  EXPECT_TRUE(dup.duplicate);
  EXPECT_TRUE(again.deliveries.empty());  // Not routed again.
  EXPECT_EQ(Outcome(dup, "gbr-1")->state, schema::DeliveryState::Queued);
  EXPECT_EQ(CountRecords("rejected_input", "DUPLICATE_REPORT"), 1u);

  const SealedReport other =
      coalition_.Seal("usa-1", {"(U)"}, {"GBR"}, kNow + 3600, report.report_id);
  const SubmitReplyInfo conflict = Reply(pipeline_->Submit("usa-1", 3, other.bytes));
  EXPECT_FALSE(conflict.accepted);
  EXPECT_EQ(conflict.error_reason, "REPORT_ID_CONFLICT");
  EXPECT_EQ(CountRecords("accepted"), 1u);
}

TEST_F(SubmitPipelineTest, RefusesWhatDoesNotPassAdmission) {
  const SealedReport report = Shared();
  EXPECT_EQ(Reply(pipeline_->Submit("gbr-1", 1, report.bytes)).error_reason, "ORIGINATOR_MISMATCH");
  std::vector<std::uint8_t> tampered = report.bytes;
  tampered[tampered.size() / 2] ^= 0x01;
  EXPECT_FALSE(Reply(pipeline_->Submit("usa-1", 2, tampered)).accepted);
  EXPECT_FALSE(Reply(pipeline_->Submit("usa-1", 3, std::vector<std::uint8_t>{1, 2, 3})).accepted);
  EXPECT_EQ(CountRecords("rejected_input"), 3u);
  EXPECT_EQ(CountRecords("accepted"), 0u);
}

TEST_F(SubmitPipelineTest, ExpiryIsJudgedByTheInjectedClock) {
  const SealedReport report = Shared(kNow + 60);
  clock_.Advance(std::chrono::seconds(60));
  const SubmitReplyInfo reply = Reply(pipeline_->Submit("usa-1", 1, report.bytes));
  EXPECT_FALSE(reply.accepted);
  EXPECT_EQ(reply.error_reason, "REPORT_EXPIRED");
}

TEST_F(SubmitPipelineTest, ExpiryBeyondThePolicyHorizonIsRefused) {
  const std::int64_t horizon = coalition_.policy().max_expiry_seconds();
  const SealedReport far = Shared(kNow + horizon + 1);
  const SubmitReplyInfo reply = Reply(pipeline_->Submit("usa-1", 1, far.bytes));
  EXPECT_FALSE(reply.accepted);
  EXPECT_EQ(reply.error_reason, "REPORT_EXPIRY_TOO_FAR");
  EXPECT_EQ(CountRecords("rejected_input", "REPORT_EXPIRY_TOO_FAR"), 1u);
  EXPECT_EQ(CountRecords("accepted"), 0u);
  // At the horizon exactly is still accepted.
  EXPECT_TRUE(Reply(pipeline_->Submit("usa-1", 2, Shared(kNow + horizon).bytes)).accepted);
}

TEST_F(SubmitPipelineTest, RateLimitPerNodeWithBurstAndOneRecordPerSecond) {
  SubmitOptions options;
  options.rate_per_node = 2;  // Burst 4.
  Build(options);
  const std::vector<std::uint8_t> junk{1, 2, 3};
  for (int i = 0; i < 4; ++i) {
    EXPECT_NE(Reply(pipeline_->Submit("usa-1", 1, junk)).error_reason, "RATE_LIMITED") << i;
  }
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Reply(pipeline_->Submit("usa-1", 1, junk)).error_reason, "RATE_LIMITED") << i;
  }
  // Another node has its own bucket.
  EXPECT_NE(Reply(pipeline_->Submit("gbr-1", 1, junk)).error_reason, "RATE_LIMITED");
  EXPECT_EQ(CountRecords("rejected_input", "RATE_LIMITED"), 1u);
  clock_.Advance(std::chrono::milliseconds(500));  // One token at 2/s.
  EXPECT_NE(Reply(pipeline_->Submit("usa-1", 1, junk)).error_reason, "RATE_LIMITED");
  EXPECT_EQ(Reply(pipeline_->Submit("usa-1", 1, junk)).error_reason, "RATE_LIMITED");
  EXPECT_EQ(CountRecords("rejected_input", "RATE_LIMITED"), 1u);
  clock_.Advance(std::chrono::milliseconds(500));
  EXPECT_NE(Reply(pipeline_->Submit("usa-1", 1, junk)).error_reason, "RATE_LIMITED");
  EXPECT_EQ(Reply(pipeline_->Submit("usa-1", 1, junk)).error_reason, "RATE_LIMITED");
  ASSERT_EQ(CountRecords("rejected_input", "RATE_LIMITED"), 2u);
  for (std::uint64_t i = log_->size(); i-- > 0;) {
    auto j = nlohmann::json::parse(*log_->Record(i));
    if (j.value("reason", "") != "RATE_LIMITED") continue;
    EXPECT_EQ(j["suppressed"], 3);  // Two in the first second, one at 500 ms.
    break;
  }
}

TEST_F(SubmitPipelineTest, QueueCapDeniesOnlyTheFullRecipient) {
  SubmitOptions options;
  options.max_queue_per_node = 1;
  Build(options);
  ASSERT_TRUE(Reply(pipeline_->Submit("usa-1", 1, Shared().bytes)).accepted);
  const SubmitReplyInfo second = Reply(pipeline_->Submit("usa-1", 2, Shared().bytes));
  ASSERT_TRUE(second.accepted);
  const RecipientOutcomeInfo* gbr = Outcome(second, "gbr-1");
  ASSERT_NE(gbr, nullptr);
  EXPECT_EQ(gbr->state, schema::DeliveryState::Denied);
  EXPECT_EQ(gbr->reason, "QUEUE_FULL");
  EXPECT_EQ(CountRecords("denied", "QUEUE_FULL"), 1u);
}

TEST_F(SubmitPipelineTest, RetryOfAnOrphanedAcceptIsRoutedWithoutASecondAcceptedRecord) {
  const SealedReport report = Shared();
  auto view =
      InspectReport(report.bytes, coalition_.directory().FindNode("usa-1")->fields().signing_key);
  ASSERT_TRUE(view.ok());
  const std::string id = ToHex(report.report_id);
  // A different report under the same id does not match the logged content.
  std::map<std::string, AcceptedFingerprint> orphans;
  orphans[id] = {"usa-1", {}};
  pipeline_->SetOrphanedAccepts(orphans);
  EXPECT_EQ(Reply(pipeline_->Submit("usa-1", 1, report.bytes)).error_reason, "REPORT_ID_CONFLICT");
  orphans[id] = FingerprintOf(*view);
  pipeline_->SetOrphanedAccepts(orphans);
  EXPECT_TRUE(Reply(pipeline_->Submit("usa-1", 2, report.bytes)).accepted);
  EXPECT_EQ(CountRecords("accepted"), 0u);
  EXPECT_EQ(CountRecords("queued"), 1u);
  EXPECT_EQ(pipeline_->orphaned_accepts(), 0u);
}

TEST_F(SubmitPipelineTest, StorageHeadroom) {
  SubmitOptions options;
  options.max_store_bytes = 1;  // The store's file is already larger.
  Build(options);
  const SubmitReplyInfo reply = Reply(pipeline_->Submit("usa-1", 1, Shared().bytes));
  EXPECT_FALSE(reply.accepted);
  EXPECT_EQ(reply.error_reason, "STORAGE_FULL");
  EXPECT_EQ(CountRecords("accepted"), 0u);
}

// Not a check: a measurement of submits per second from one node while its own pending copies
// pile up (each admission now also counts the sender's share of the queue and of the store).
// Run: build/tests/submit_pipeline_test --gtest_also_run_disabled_tests
//        --gtest_filter='*DISABLED_MeasureSubmitsPerSecond*'
TEST_F(SubmitPipelineTest, DISABLED_MeasureSubmitsPerSecond) {
  SubmitOptions options;
  options.rate_per_node = 100000;
  Build(options);
  constexpr std::size_t kBatch = 200;
  for (std::size_t batch = 0; batch < 5; ++batch) {
    std::vector<SealedReport> reports;
    for (std::size_t i = 0; i < kBatch; ++i) reports.push_back(Shared());
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < kBatch; ++i) {
      ASSERT_TRUE(Reply(pipeline_->Submit("usa-1", i, reports[i].bytes)).accepted);
    }
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    std::printf("pending before batch %4zu: %.0f submits/s\n", batch * kBatch,
                kBatch / took.count());
  }
}

// Not a check: submits per second with an empty queue and with 10,000 copies queued for the
// same recipients, in commit groups of 100 as the broker makes them under load (each submit
// must cost the same: counters and indexes, no count over the queue). Prints the ratio.
// Run: build/tests/submit_pipeline_test --gtest_also_run_disabled_tests
//        --gtest_filter='*DISABLED_MeasureSubmitRateWithTenThousandQueued*'
TEST_F(SubmitPipelineTest, DISABLED_MeasureSubmitRateWithTenThousandQueued) {
  SubmitOptions options;
  options.rate_per_node = 1000000;
  options.max_queue_per_node = 100000;
  options.max_queue_per_sender_per_recipient = 100000;
  options.max_store_bytes_per_node = std::uint64_t{1} << 40;
  options.max_store_bytes = std::uint64_t{1} << 40;
  Build(options);
  CommitGroup group(
      *auditor_, *store_, [](const std::string&, const std::vector<std::uint8_t>&) { return true; },
      nullptr, clock_, CommitGroup::Limits());  // Closed by hand every kGroup submits.
  constexpr std::size_t kSubmits = 1000, kGroup = 100;
  // Wall-clock rate, and the rate per CPU second of this process (what the queue could cost
  // shows there even when other work on the machine skews the wall clock).
  double cpu_rate = 0;
  auto cpu_seconds = [] {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
  };
  auto rate = [&](std::uint64_t first_request) {
    std::vector<SealedReport> reports;
    for (std::size_t i = 0; i < kSubmits; ++i) reports.push_back(Shared());
    const double cpu_start = cpu_seconds();
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < kSubmits; ++i) {
      if (i % kGroup == 0) group.Open();
      EXPECT_TRUE(Reply(pipeline_->Submit("usa-1", first_request + i, reports[i].bytes)).accepted);
      if (i % kGroup == kGroup - 1) {
        EXPECT_TRUE(group.Close().ok());
      }
    }
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    cpu_rate = kSubmits / (cpu_seconds() - cpu_start);
    return kSubmits / took.count();
  };
  rate(1);  // Warm-up: the first pass pays for page cache and WAL growth.
  const double empty = rate(10000);
  const double empty_cpu = cpu_rate;
  // Fill both recipients' queues to 10,000 copies (what the first run queued counts too).
  group.Open();
  for (std::uint64_t i = *store_->PendingCount("gbr-1"); i < 10000; ++i) {
    StoredReport row;
    row.report_id = ToHex(Shared().report_id);
    row.originator = "usa-1";
    row.sha256 = std::string(64, 'a');
    row.expires_unix = kNow + 3600;
    row.reply = {1};
    const std::vector<std::uint8_t> copy(1024, 7);
    ASSERT_TRUE(store_
                    ->InsertReport(row, {{"gbr-1", "GBR", CopyState::kQueued, "", copy, kNow, 1},
                                         {"jpn-1", "JPN", CopyState::kQueued, "", copy, kNow, 1}})
                    .ok());
  }
  ASSERT_TRUE(group.Close().ok());
  const std::uint64_t queued = *store_->PendingCount("gbr-1");
  rate(100000);  // The same warm-up after the bulk insert (its WAL checkpoint lands here).
  const double full = rate(200000);
  std::printf("submits/s from an empty queue: %.0f; with %llu queued: %.0f; ratio %.2f\n", empty,
              static_cast<unsigned long long>(queued), full, full / empty);
  std::printf(
      "submits per CPU second from an empty queue: %.0f; with %llu queued: %.0f; ratio %.2f\n",
      empty_cpu, static_cast<unsigned long long>(queued), cpu_rate, cpu_rate / empty_cpu);
}

}  // namespace
}  // namespace tearline::broker
