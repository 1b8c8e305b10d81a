#include "tearline/broker/commit_group.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tearline/audit/audit_log.h"
#include "tearline/base/clock.h"
#include "test_support.h"

namespace tearline::broker {
namespace {

using testing::TempDir;

StoredReport Row(const std::string& id) {
  StoredReport r;
  r.report_id = id;
  r.originator = "usa-1";
  r.sha256 = std::string(64, 'a');
  r.expires_unix = 2000000000;
  r.reply = {1};
  return r;
}

StoredCopy Queued(const std::string& node) {
  return {node, "GBR", CopyState::kQueued, "", std::vector<std::uint8_t>(64, 7), 10, 1};
}

class CommitGroupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = AuditLog::Open(dir_.path() / "audit");
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    log_ = std::move(log).value();
    store_ = OpenStore();
    ASSERT_NE(store_, nullptr);
    auditor_ = std::make_unique<Auditor>(*log_, nullptr);
    group_ = std::make_unique<CommitGroup>(
        *auditor_, *store_,
        [this](const std::string& node, const std::vector<std::uint8_t>& frame) {
          if (!reachable_) return false;
          sent_.emplace_back(node, frame);
          return true;
        },
        [this] { stopped_ = true; }, clock_,
        CommitGroup::Limits{std::chrono::milliseconds(50), 100});
  }

  std::unique_ptr<ReportStore> OpenStore() {
    auto s = ReportStore::Open(dir_.path() / "reports.db");
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  // A decision as the pipeline makes one: a record said durable, then its effect.
  void Decide(const std::string& node, std::uint8_t tag) {
    ASSERT_TRUE(auditor_->Durable(auditor_->BrokerStart("broker", 1, 0)).has_value());
    ASSERT_TRUE(group_->SendTo(node, {tag}));
  }

  TempDir dir_;
  std::unique_ptr<AuditLog> log_;
  std::unique_ptr<ReportStore> store_;
  std::unique_ptr<Auditor> auditor_;
  std::unique_ptr<CommitGroup> group_;
  std::vector<std::pair<std::string, std::vector<std::uint8_t>>> sent_;
  bool reachable_ = true;
  bool stopped_ = false;
  FakeClock clock_;
};

TEST_F(CommitGroupTest, WithoutAGroupFramesGoOutAtOnceAndRecordsSyncAtOnce) {
  Decide("gbr-1", 1);
  EXPECT_EQ(log_->synced_size(), log_->size());
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_TRUE(group_->Close().ok());  // Nothing open: nothing to do.
}

TEST_F(CommitGroupTest, ManyDecisionsShareOneSyncAndNothingLeavesBeforeIt) {
  const std::uint64_t before = log_->synced_size();
  group_->Open();
  for (std::uint8_t i = 0; i < 50; ++i) Decide(i % 2 ? "gbr-1" : "jpn-1", i);
  // Not one record synced and not one frame sent while the group is open.
  EXPECT_EQ(log_->synced_size(), before);
  EXPECT_EQ(log_->size(), before + 50);
  EXPECT_TRUE(sent_.empty());
  EXPECT_EQ(group_->held(), 50u);

  ASSERT_TRUE(group_->Close().ok());
  EXPECT_EQ(log_->synced_size(), log_->size());
  ASSERT_EQ(sent_.size(), 50u);
  for (std::uint8_t i = 0; i < 50; ++i) {
    EXPECT_EQ(sent_[i].first, i % 2 ? "gbr-1" : "jpn-1");
    EXPECT_EQ(sent_[i].second, std::vector<std::uint8_t>{i});  // In the order given.
  }
  EXPECT_EQ(group_->counters().groups, 1u);
  EXPECT_EQ(group_->counters().largest_group, 50u);
  EXPECT_FALSE(group_->open());
  Decide("gbr-1", 99);  // Closed: straight through again.
  EXPECT_EQ(sent_.size(), 51u);
}

TEST_F(CommitGroupTest, StoreWritesOfAGroupCommitTogetherAfterTheAuditSync) {
  auto other = OpenStore();  // A second connection sees only committed rows.
  ASSERT_NE(other, nullptr);
  group_->Open();
  ASSERT_TRUE(store_->InsertReport(Row(std::string(32, '1')), {Queued("gbr-1")}).ok());
  ASSERT_TRUE(store_->InsertReport(Row(std::string(32, '2')), {Queued("gbr-1")}).ok());
  ASSERT_TRUE(
      *store_->SetState(std::string(32, '1'), "gbr-1", CopyState::kAcknowledged, "", 11, 2));
  // The group's own reads see its writes; nobody else does yet.
  EXPECT_EQ(*store_->PendingCount("gbr-1"), 1u);
  EXPECT_TRUE(store_->FindReport(std::string(32, '2'))->has_value());
  EXPECT_FALSE(other->FindReport(std::string(32, '1'))->has_value());

  ASSERT_TRUE(group_->Close().ok());
  EXPECT_TRUE(other->FindReport(std::string(32, '1'))->has_value());
  EXPECT_TRUE(other->FindReport(std::string(32, '2'))->has_value());
  EXPECT_EQ((*other->FindCopy(std::string(32, '1'), "gbr-1"))->state, CopyState::kAcknowledged);
  EXPECT_FALSE(stopped_);
}

TEST_F(CommitGroupTest, AFailedWriteIsUndoneAloneAndTheRestOfTheGroupCommits) {
  group_->Open();
  ASSERT_TRUE(store_->InsertReport(Row(std::string(32, '1')), {Queued("gbr-1")}).ok());
  // The same id again: refused inside the group without undoing the first.
  const Status dup = store_->InsertReport(Row(std::string(32, '1')), {Queued("jpn-1")});
  EXPECT_EQ(dup.reason(), "STORE_DUPLICATE");
  ASSERT_TRUE(store_->InsertReport(Row(std::string(32, '2')), {Queued("jpn-1")}).ok());
  ASSERT_TRUE(group_->Close().ok());
  auto reopened = OpenStore();
  EXPECT_TRUE(reopened->FindReport(std::string(32, '1'))->has_value());
  EXPECT_TRUE(reopened->FindReport(std::string(32, '2'))->has_value());
  EXPECT_FALSE((*reopened->FindCopy(std::string(32, '1'), "jpn-1")).has_value());
  EXPECT_EQ(*reopened->PendingCount("gbr-1"), 1u);
  EXPECT_EQ(*reopened->PendingCount("jpn-1"), 1u);
}

TEST_F(CommitGroupTest, UnsentHookRunsForAFrameTheTransportRefusesAfterTheGroup) {
  group_->Open();
  int unsent = 0;
  ASSERT_TRUE(group_->SendTracked("gbr-1", {1}, [&] { ++unsent; }));
  ASSERT_TRUE(group_->SendTracked("gbr-1", {2}, [&] { unsent += 10; }));
  reachable_ = false;
  ASSERT_TRUE(group_->Close().ok());
  EXPECT_EQ(unsent, 11);
  // Without a group the refusal is the return value; the hook is not also run.
  EXPECT_FALSE(group_->SendTracked("gbr-1", {3}, [&] { ++unsent; }));
  EXPECT_EQ(unsent, 11);
}

TEST_F(CommitGroupTest, AnAnswerAFullPipeRefusedIsOfferedAgainThenGivenUp) {
  group_->Open();
  ASSERT_TRUE(group_->SendTo("usa-1", {1}));
  reachable_ = false;
  ASSERT_TRUE(group_->Close().ok());
  EXPECT_TRUE(sent_.empty());
  reachable_ = true;
  group_->Open();
  ASSERT_TRUE(group_->SendTo("usa-1", {2}));
  ASSERT_TRUE(group_->Close().ok());
  // The older answer first: a node's answers keep their order.
  ASSERT_EQ(sent_.size(), 2u);
  EXPECT_EQ(sent_[0].second, std::vector<std::uint8_t>{1});
  EXPECT_EQ(sent_[1].second, std::vector<std::uint8_t>{2});

  // A peer that never reads: its answer is given up after a bounded number of offers.
  group_->Open();
  ASSERT_TRUE(group_->SendTo("usa-1", {3}));
  reachable_ = false;
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(group_->Close().ok());
  EXPECT_EQ(group_->counters().unsent, 1u);
  reachable_ = true;
  ASSERT_TRUE(group_->Close().ok());
  EXPECT_EQ(sent_.size(), 2u);
}

TEST_F(CommitGroupTest, AnotherThreadsRecordsStillSyncWhileAGroupIsOpen) {
  group_->Open();
  Decide("gbr-1", 1);
  const std::uint64_t grouped = log_->size();
  EXPECT_LT(log_->synced_size(), grouped);
  // The ZAP handler's thread: its Durable must not wait for this thread's group.
  std::thread other([this] { EXPECT_TRUE(auditor_->Durable(auditor_->BrokerStop("b"))); });
  other.join();
  EXPECT_EQ(log_->synced_size(), log_->size());
  ASSERT_TRUE(group_->Close().ok());
}

TEST_F(CommitGroupTest, AGroupIsDueAfterItsTimeOrItsBytesSoAnswersNeverWaitForAWholeBatch) {
  EXPECT_FALSE(group_->Due()) << "no group is open";
  group_->Open();
  Decide("usa-1", 1);
  EXPECT_FALSE(group_->Due());
  clock_.Advance(std::chrono::milliseconds(49));
  EXPECT_FALSE(group_->Due());
  clock_.Advance(std::chrono::milliseconds(1));
  EXPECT_TRUE(group_->Due()) << "open for max_open";
  ASSERT_TRUE(group_->Close().ok());
  EXPECT_FALSE(group_->Due());
  EXPECT_EQ(sent_.size(), 1u);

  // Bytes: the limit is 100 bytes of held frames, whatever the time.
  group_->Open();
  EXPECT_TRUE(group_->SendTo("gbr-1", std::vector<std::uint8_t>(60, 7)));
  EXPECT_FALSE(group_->Due());
  EXPECT_TRUE(group_->SendTo("gbr-1", std::vector<std::uint8_t>(40, 7)));
  EXPECT_EQ(group_->held_bytes(), 100u);
  EXPECT_TRUE(group_->Due()) << "holds max_held_bytes";
  ASSERT_TRUE(group_->Close().ok());
  EXPECT_EQ(group_->held_bytes(), 0u);
  EXPECT_EQ(sent_.size(), 3u);
}

}  // namespace
}  // namespace tearline::broker
