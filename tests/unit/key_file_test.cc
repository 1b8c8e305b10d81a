#include "tearline/crypto/key_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "test_support.h"

namespace tearline {
namespace {

namespace fs = std::filesystem;
using ::tearline::testing::TempDir;

std::vector<std::uint8_t> ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void WriteRaw(const fs::path& p, const std::vector<std::uint8_t>& data, mode_t mode) {
  {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data.data()),
              static_cast<std::streamsize>(data.size()));
  }
  ASSERT_EQ(0, ::chmod(p.c_str(), mode));
}

mode_t ModeOf(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(0, ::stat(p.c_str(), &st));
  return st.st_mode & 07777;
}

TEST(KeyFileTest, IdentityRoundTripWithMode0600) {
  TempDir dir;
  auto keys = GenerateIdentityKeys();
  ASSERT_TRUE(keys.ok());
  const fs::path path = dir / "node.secret";
  // Even a permissive umask must not make the file readable by others.
  const mode_t old = ::umask(0);
  Status st = WriteIdentitySecret(path, *keys, false);
  ::umask(old);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(ModeOf(path), 0600u);
  EXPECT_EQ(fs::file_size(path), kSecretFileHeaderSize + 128);
  const auto raw = ReadAll(path);
  ASSERT_GE(raw.size(), 8u);
  EXPECT_EQ(0, std::memcmp(raw.data(), "TLSK", 4));
  EXPECT_EQ(raw[4], 1);
  EXPECT_EQ(raw[5], 2);

  auto loaded = ReadIdentitySecret(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->signing.public_key, keys->signing.public_key);
  EXPECT_EQ(loaded->encryption.public_key, keys->encryption.public_key);
  EXPECT_EQ(loaded->transport.public_key, keys->transport.public_key);
  // No temporary files are left behind.
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, 1);
}

TEST(KeyFileTest, RootRoundTrip) {
  TempDir dir;
  auto root = GenerateSigningKeyPair();
  ASSERT_TRUE(root.ok());
  ASSERT_TRUE(WriteRootSecret(dir / "root.secret", *root, false).ok());
  auto loaded = ReadRootSecret(dir / "root.secret");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->public_key, root->public_key);
  // A root file is not an identity file and vice versa.
  auto wrong_kind = ReadIdentitySecret(dir / "root.secret");
  ASSERT_FALSE(wrong_kind.ok());
  EXPECT_EQ(wrong_kind.status().reason(), "KEY_FILE_MALFORMED");
}

TEST(KeyFileTest, RefusesGroupOrOtherReadableFiles) {
  TempDir dir;
  auto root = GenerateSigningKeyPair();
  ASSERT_TRUE(root.ok());
  const fs::path path = dir / "root.secret";
  ASSERT_TRUE(WriteRootSecret(path, *root, false).ok());
  for (mode_t mode : std::vector<mode_t>{0644, 0640, 0604, 0660, 0602, 0704}) {
    ASSERT_EQ(0, ::chmod(path.c_str(), mode));
    auto loaded = ReadRootSecret(path);
    ASSERT_FALSE(loaded.ok()) << std::oct << mode;
    EXPECT_EQ(loaded.status().reason(), "KEY_FILE_PERMISSIONS");
    EXPECT_EQ(loaded.status().code(), Code::kPermissionDenied);
    EXPECT_NE(loaded.status().message().find("chmod 600 " + path.string()), std::string::npos)
        << loaded.status().message();
  }
  ASSERT_EQ(0, ::chmod(path.c_str(), 0400));
  EXPECT_TRUE(ReadRootSecret(path).ok());
}

TEST(KeyFileTest, OverwriteOnlyWhenAsked) {
  TempDir dir;
  auto first = GenerateIdentityKeys();
  auto second = GenerateIdentityKeys();
  ASSERT_TRUE(first.ok() && second.ok());
  const fs::path path = dir / "n.secret";
  ASSERT_TRUE(WriteIdentitySecret(path, *first, false).ok());
  Status again = WriteIdentitySecret(path, *second, false);
  EXPECT_EQ(again.reason(), "KEY_FILE_EXISTS");
  ASSERT_TRUE(WriteIdentitySecret(path, *second, true).ok());
  auto loaded = ReadIdentitySecret(path);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->signing.public_key, second->signing.public_key);
  EXPECT_EQ(ModeOf(path), 0600u);
}

TEST(KeyFileTest, RejectsMalformedFiles) {
  TempDir dir;
  auto root = GenerateSigningKeyPair();
  ASSERT_TRUE(root.ok());
  const fs::path good = dir / "good.secret";
  ASSERT_TRUE(WriteRootSecret(good, *root, false).ok());
  const auto bytes = ReadAll(good);

  struct Case {
    const char* name;
    std::vector<std::uint8_t> data;
  };
  std::vector<Case> cases;
  cases.push_back({"empty", {}});
  cases.push_back({"truncated", {bytes.begin(), bytes.end() - 1}});
  auto trailing = bytes;
  trailing.push_back(0);
  cases.push_back({"trailing", trailing});
  auto magic = bytes;
  magic[0] = 'X';
  cases.push_back({"magic", magic});
  auto version = bytes;
  version[4] = 2;
  cases.push_back({"version", version});
  auto reserved = bytes;
  reserved[6] = 1;
  cases.push_back({"reserved", reserved});
  auto length = bytes;
  length[8] = 63;
  cases.push_back({"length", length});
  for (const Case& c : cases) {
    const fs::path p = dir / (std::string(c.name) + ".secret");
    WriteRaw(p, c.data, 0600);
    auto loaded = ReadRootSecret(p);
    ASSERT_FALSE(loaded.ok()) << c.name;
    EXPECT_EQ(loaded.status().reason(), "KEY_FILE_MALFORMED") << c.name;
  }
}

TEST(KeyFileTest, SizeCapAndMissingFileAndSymlink) {
  TempDir dir;
  const fs::path big = dir / "big.secret";
  WriteRaw(big, std::vector<std::uint8_t>(kMaxSecretFileSize + 1, 0), 0600);
  auto too_big = ReadRootSecret(big);
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.status().reason(), "KEY_FILE_TOO_LARGE");

  auto missing = ReadRootSecret(dir / "absent.secret");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().reason(), "KEY_FILE_NOT_FOUND");

  auto root = GenerateSigningKeyPair();
  ASSERT_TRUE(root.ok());
  ASSERT_TRUE(WriteRootSecret(dir / "real.secret", *root, false).ok());
  fs::create_symlink(dir / "real.secret", dir / "link.secret");
  EXPECT_FALSE(ReadRootSecret(dir / "link.secret").ok());
}

}  // namespace
}  // namespace tearline
