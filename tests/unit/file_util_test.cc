#include "tearline/base/file_util.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "test_support.h"

namespace tearline {
namespace {

std::span<const std::uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

mode_t ModeOf(const std::filesystem::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0);
  return st.st_mode & 0777;
}

std::size_t EntriesIn(const std::filesystem::path& dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

TEST(FileUtilTest, ReplaceWritesAndOverwritesWithExactMode) {
  testing::TempDir dir;
  const auto path = dir.path() / "f";
  ASSERT_TRUE(WriteFileAtomic(path, Bytes("one"), 0600).ok());
  EXPECT_EQ(testing::ReadFile(path), "one");
  EXPECT_EQ(ModeOf(path), 0600u);
  // The umask must not narrow an explicitly requested mode either.
  const mode_t old = ::umask(077);
  const Status st = WriteFileAtomic(path, Bytes("two"), 0644);
  ::umask(old);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(testing::ReadFile(path), "two");
  EXPECT_EQ(ModeOf(path), 0644u);
  EXPECT_EQ(EntriesIn(dir.path()), 1u) << "no temporary file may be left behind";
}

TEST(FileUtilTest, CreateNewRefusesAnExistingFileAndKeepsIt) {
  testing::TempDir dir;
  const auto path = dir.path() / "key";
  ASSERT_TRUE(WriteFileAtomic(path, Bytes("first"), 0600, WriteMode::kCreateNew).ok());
  const Status again = WriteFileAtomic(path, Bytes("second"), 0600, WriteMode::kCreateNew);
  EXPECT_EQ(again.code(), Code::kAlreadyExists);
  EXPECT_EQ(again.reason(), "FILE_EXISTS");
  EXPECT_EQ(testing::ReadFile(path), "first");
  EXPECT_EQ(EntriesIn(dir.path()), 1u);
}

TEST(FileUtilTest, MissingDirectoryIsAnIoErrorNamingThePath) {
  testing::TempDir dir;
  const auto path = dir.path() / "absent" / "f";
  const Status st = WriteFileAtomic(path, Bytes("x"));
  EXPECT_EQ(st.code(), Code::kIoError);
  EXPECT_EQ(st.reason(), "FILE_WRITE");
  EXPECT_NE(st.message().find("absent"), std::string::npos) << st.message();
}

TEST(FileUtilTest, AppendLineDurableAppendsLines) {
  testing::TempDir dir;
  const auto path = dir.path() / "log";
  ASSERT_TRUE(AppendLineDurable(path, "a").ok());
  ASSERT_TRUE(AppendLineDurable(path, "b").ok());
  EXPECT_EQ(testing::ReadFile(path), "a\nb\n");
}

TEST(FileUtilTest, CreatePrivateDirsMakesOnlyNewDirectoriesOwnerOnly) {
  testing::TempDir dir;
  std::filesystem::permissions(dir.path(), std::filesystem::perms::all);
  ASSERT_TRUE(CreatePrivateDirs(dir / "a" / "b").ok());
  EXPECT_EQ(ModeOf(dir / "a"), 0700u);
  EXPECT_EQ(ModeOf(dir / "a" / "b"), 0700u);
  EXPECT_EQ(ModeOf(dir.path()), 0777u);  // Existing: left alone.
  ASSERT_TRUE(WriteFileAtomic(dir / "f", Bytes("x"), 0600).ok());
  EXPECT_EQ(CreatePrivateDirs(dir / "f" / "g").reason(), "FILE_WRITE");
}

TEST(FileUtilTest, MakeTreePrivateRestrictsEverythingUnderTheDirectory) {
  testing::TempDir dir;
  const auto root = dir / "data";
  std::filesystem::create_directories(root / "sub");
  ASSERT_TRUE(WriteFileAtomic(root / "sub" / "log", Bytes("x"), 0644).ok());
  ASSERT_TRUE(WriteFileAtomic(root / "key", Bytes("x"), 0640).ok());
  std::filesystem::permissions(root, std::filesystem::perms::all);
  std::filesystem::permissions(root / "sub", std::filesystem::perms::all);
  std::filesystem::create_directories(dir / "outside");
  std::filesystem::permissions(dir / "outside", std::filesystem::perms::all);
  std::filesystem::create_directory_symlink(dir / "outside", root / "link");
  ASSERT_TRUE(MakeTreePrivate(root).ok());
  EXPECT_EQ(ModeOf(root), 0700u);
  EXPECT_EQ(ModeOf(root / "sub"), 0700u);
  EXPECT_EQ(ModeOf(root / "sub" / "log"), 0600u);
  EXPECT_EQ(ModeOf(root / "key"), 0600u);
  EXPECT_EQ(ModeOf(dir / "outside"), 0777u);  // Links are not followed.
  ASSERT_TRUE(MakeTreePrivate(dir / "new").ok());
  EXPECT_EQ(ModeOf(dir / "new"), 0700u);
}

}  // namespace
}  // namespace tearline
