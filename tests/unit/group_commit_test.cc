// GroupCommit: many writes, one sync; work registered for "after durable" runs only after a
// successful sync, in order; a failed sync runs nothing and is retried; work registered while
// flushing waits for the next batch; WriteReplacing leaves its sync to the batch.
#include "tearline/node/group_commit.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_support.h"

namespace tearline::node {
namespace {

using tearline::testing::TempDir;

class GroupCommitTest : public ::testing::Test {
 protected:
  GroupCommitTest()
      : commit_([this] {
          if (!disk_ok_) return IoError("NODE_SYNC_IO", "the disk refused");
          ++syncs_;
          return Status::Ok();
        }) {}

  bool disk_ok_ = true;
  int syncs_ = 0;
  GroupCommit commit_;
};

TEST_F(GroupCommitTest, ManyWritesShareOneSyncAndWorkRunsAfterItInOrder) {
  std::vector<int> ran;
  for (int i = 0; i < 5; ++i) {
    commit_.MarkWritten();
    commit_.AfterDurable([&ran, i] { ran.push_back(i); });
  }
  EXPECT_TRUE(ran.empty());
  EXPECT_FALSE(commit_.idle());
  ASSERT_TRUE(commit_.Flush().ok());
  EXPECT_EQ(syncs_, 1);
  EXPECT_EQ(commit_.syncs(), 1u);
  EXPECT_EQ(ran, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_TRUE(commit_.idle());
  // Nothing written: no sync, but waiting work still runs.
  commit_.AfterDurable([&ran] { ran.push_back(9); });
  ASSERT_TRUE(commit_.Flush().ok());
  EXPECT_EQ(syncs_, 1);
  EXPECT_EQ(ran.back(), 9);
}

TEST_F(GroupCommitTest, AFailedSyncRunsNothingAndIsRetried) {
  int acks = 0;
  commit_.MarkWritten();
  commit_.AfterDurable([&acks] { ++acks; });
  disk_ok_ = false;
  auto failed = commit_.Flush();
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.reason(), "NODE_SYNC_IO");
  EXPECT_EQ(acks, 0);
  disk_ok_ = true;
  ASSERT_TRUE(commit_.Flush().ok());
  EXPECT_EQ(syncs_, 1);
  EXPECT_EQ(acks, 1);
}

TEST_F(GroupCommitTest, WorkRegisteredWhileFlushingWaitsForTheNextBatch) {
  bool second = false;
  commit_.MarkWritten();
  commit_.AfterDurable([&] {
    commit_.MarkWritten();  // E.g. a sent record written when an answer arrives.
    commit_.AfterDurable([&second] { second = true; });
  });
  ASSERT_TRUE(commit_.Flush().ok());
  EXPECT_FALSE(second);
  ASSERT_TRUE(commit_.Flush().ok());
  EXPECT_TRUE(second);
  EXPECT_EQ(syncs_, 2);
}

TEST_F(GroupCommitTest, WriteReplacingLeavesTheSyncToTheBatch) {
  TempDir tmp;
  const auto target = tmp.path() / "a.json";
  const std::string text = "{}";
  const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(text.data()),
                                            text.size());
  ASSERT_TRUE(WriteReplacing(target, bytes, 0600, &commit_, "X_IO").ok());
  EXPECT_FALSE(commit_.idle()) << "the write must be carried by the next sync";
  EXPECT_EQ(tearline::testing::ReadFile(target), "{}");
  // Without a batch the file is synced at once and nothing is left pending.
  GroupCommit other([] { return Status::Ok(); });
  ASSERT_TRUE(WriteReplacing(tmp.path() / "b.json", bytes, 0600, nullptr, "X_IO").ok());
  EXPECT_TRUE(other.idle());
  auto bad = WriteReplacing(tmp.path() / "missing" / "c.json", bytes, 0600, nullptr, "X_IO");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.reason(), "X_IO");
}

TEST(GroupCommitOpenTest, SyncsTheRealFilesystemOnce) {
  TempDir tmp;
  std::filesystem::create_directories(tmp.path() / "inbox");
  std::filesystem::create_directories(tmp.path() / "outbox");
  auto commit = GroupCommit::Open({tmp.path() / "inbox", tmp.path() / "outbox"});
  ASSERT_TRUE(commit.ok()) << commit.status().ToString();
  commit->MarkWritten();
  ASSERT_TRUE(commit->Flush().ok());
  EXPECT_EQ(commit->syncs(), 1u);
  auto missing = GroupCommit::Open({tmp.path() / "nowhere"});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().reason(), "NODE_SYNC_IO");
}

}  // namespace
}  // namespace tearline::node
