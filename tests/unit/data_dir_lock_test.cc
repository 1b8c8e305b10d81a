// DataDirLock: the data directory is created owner-only and a second daemon is refused while
// the first holds the lock; the lock goes with its holder.
#include "tearline/node/data_dir_lock.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <utility>

#include "test_support.h"

namespace tearline::node {
namespace {

using tearline::testing::TempDir;

TEST(DataDirLockTest, CreatesAnOwnerOnlyDirectory) {
  TempDir dir;
  auto lock = DataDirLock::Acquire(dir / "data" / "usa-1");
  ASSERT_TRUE(lock.ok()) << lock.status().ToString();
  EXPECT_TRUE(lock->held());
  struct stat st {};
  ASSERT_EQ(::stat((dir / "data" / "usa-1").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST(DataDirLockTest, SecondHolderIsRefusedUntilTheFirstGoes) {
  TempDir dir;
  auto first = DataDirLock::Acquire(dir.path());
  ASSERT_TRUE(first.ok());
  auto second = DataDirLock::Acquire(dir.path());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().reason(), "NODE_ALREADY_RUNNING");
  // Moving keeps the lock; destroying releases it.
  DataDirLock moved = std::move(first).value();
  EXPECT_TRUE(moved.held());
  EXPECT_FALSE(DataDirLock::Acquire(dir.path()).ok());
  moved = DataDirLock();
  EXPECT_TRUE(DataDirLock::Acquire(dir.path()).ok());
}

TEST(DataDirLockTest, UncreatableDirectoryIsNamed) {
  TempDir dir;
  std::filesystem::create_directories(dir / "file-parent");
  { std::ofstream(dir / "file-parent" / "x") << "x"; }
  auto lock = DataDirLock::Acquire(dir / "file-parent" / "x" / "data");
  ASSERT_FALSE(lock.ok());
  EXPECT_EQ(lock.status().reason(), "NODE_DATA_DIR");
}

}  // namespace
}  // namespace tearline::node
