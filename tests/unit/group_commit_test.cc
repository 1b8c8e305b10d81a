// GroupCommit: many writes, one sync; work registered for "after durable" runs only after a
// successful sync, in order; a failed sync runs nothing and is retried; work registered while
// flushing waits for the next batch; WriteReplacing leaves its sync to the batch, which syncs the
// files and directories written, not the filesystem.
#include "tearline/node/group_commit.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
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

// Descriptors open in this process (the test is single-threaded: nothing else opens any).
std::size_t OpenDescriptors() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

// A batch syncs exactly the files it wrote and their directories, not the whole filesystem (which
// waits for every other writer's dirty pages); only MarkWritten, which says nothing of where,
// syncs the filesystem. The written files' descriptors are held until the sync, then closed.
TEST(GroupCommitOpenTest, ABatchSyncsItsOwnFilesNotTheFilesystem) {
  TempDir tmp;
  std::filesystem::create_directories(tmp.path() / "inbox");
  std::filesystem::create_directories(tmp.path() / "outbox");
  auto commit = GroupCommit::Open({tmp.path() / "inbox", tmp.path() / "outbox"});
  ASSERT_TRUE(commit.ok()) << commit.status().ToString();
  const std::string text = "{}";
  const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(text.data()),
                                            text.size());
  const std::size_t before = OpenDescriptors();
  bool ran = false;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(WriteReplacing(tmp.path() / "inbox" / (std::to_string(i) + ".json"), bytes, 0600,
                               &*commit, "X_IO")
                    .ok());
  }
  ASSERT_TRUE(
      WriteReplacing(tmp.path() / "outbox" / "a.report", bytes, 0600, &*commit, "X_IO").ok());
  commit->AfterDurable([&ran] { ran = true; });
  EXPECT_EQ(OpenDescriptors(), before + 4) << "held until the batch sync";
  EXPECT_FALSE(ran);
  ASSERT_TRUE(commit->Flush().ok());
  EXPECT_TRUE(ran);
  EXPECT_EQ(commit->syncs(), 1u);
  EXPECT_EQ(commit->filesystem_syncs(), 0u);
  EXPECT_TRUE(commit->idle());
  // The four files closed; the two directories synced stay open for the next batches.
  EXPECT_EQ(OpenDescriptors(), before + 2);
  EXPECT_EQ(tearline::testing::ReadFile(tmp.path() / "inbox" / "2.json"), "{}");
  // A removal names only its directory; the next batch syncs it alone.
  ASSERT_TRUE(SyncDirectoryOrBatch(tmp.path() / "outbox", &*commit, "X_IO").ok());
  EXPECT_FALSE(commit->idle());
  ASSERT_TRUE(commit->Flush().ok());
  EXPECT_EQ(commit->syncs(), 2u);
  EXPECT_EQ(commit->filesystem_syncs(), 0u);
  // Written somewhere unknown (a previous life): the filesystem is synced.
  commit->MarkWritten();
  ASSERT_TRUE(commit->Flush().ok());
  EXPECT_EQ(commit->syncs(), 3u);
  EXPECT_EQ(commit->filesystem_syncs(), 1u);
  EXPECT_EQ(OpenDescriptors(), before + 2);
}

// Under load a batch writes many files: beyond kMaxTargetedFiles one syncfs costs less than one
// fsync per file. Their descriptors are still closed only after that sync (an observer takes
// the close as the sign that the file is durable).
TEST(GroupCommitOpenTest, ALargeBatchSyncsTheFilesystemOnceAndClosesAfterIt) {
  TempDir tmp;
  auto commit = GroupCommit::Open({tmp.path()});
  ASSERT_TRUE(commit.ok()) << commit.status().ToString();
  const std::string text = "x";
  const std::span<const std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(text.data()),
                                            text.size());
  const std::size_t before = OpenDescriptors();
  for (std::size_t i = 0; i < GroupCommit::kMaxTargetedFiles; ++i) {
    ASSERT_TRUE(
        WriteReplacing(tmp.path() / (std::to_string(i) + ".json"), bytes, 0600, &*commit, "X_IO")
            .ok());
  }
  EXPECT_EQ(OpenDescriptors(), before + GroupCommit::kMaxTargetedFiles);
  ASSERT_TRUE(WriteReplacing(tmp.path() / "last.json", bytes, 0600, &*commit, "X_IO").ok());
  EXPECT_EQ(OpenDescriptors(), before + GroupCommit::kMaxTargetedFiles + 1);
  EXPECT_EQ(commit->syncs(), 0u);
  EXPECT_FALSE(commit->idle());
  ASSERT_TRUE(commit->Flush().ok());
  EXPECT_EQ(commit->syncs(), 1u);
  EXPECT_EQ(commit->filesystem_syncs(), 1u);
  EXPECT_EQ(OpenDescriptors(), before);
  EXPECT_TRUE(commit->idle());
}

// A batch never holds more than kMaxHeldFiles descriptors: reaching the bound syncs at once and
// closes them; a failed sync keeps them (none is closed before it is durable) and Flush retries.
TEST_F(GroupCommitTest, TheHeldDescriptorBoundSyncsEarlyAndNeverClosesUnsynced) {
  TempDir tmp;
  const auto file = tmp.path() / "f";
  tearline::testing::WriteText(file, "x");
  const std::size_t before = OpenDescriptors();
  auto add = [&](std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) commit_.AddFile(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  };
  add(GroupCommit::kMaxHeldFiles - 1);
  EXPECT_EQ(syncs_, 0);
  EXPECT_EQ(OpenDescriptors(), before + GroupCommit::kMaxHeldFiles - 1);
  disk_ok_ = false;
  add(1);  // The bound: the sync fails, every descriptor stays open.
  EXPECT_EQ(syncs_, 0);
  EXPECT_EQ(OpenDescriptors(), before + GroupCommit::kMaxHeldFiles);
  disk_ok_ = true;
  add(1);  // Synced at once, then closed.
  EXPECT_EQ(syncs_, 1);
  EXPECT_EQ(commit_.syncs(), 1u);
  EXPECT_EQ(OpenDescriptors(), before);
  add(2);
  EXPECT_EQ(OpenDescriptors(), before + 2);
  ASSERT_TRUE(commit_.Flush().ok());
  EXPECT_EQ(syncs_, 2);
  EXPECT_EQ(OpenDescriptors(), before);
  EXPECT_TRUE(commit_.idle());
}

}  // namespace
}  // namespace tearline::node
