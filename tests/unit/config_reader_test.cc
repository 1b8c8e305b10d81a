#include "tearline/base/config_reader.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "test_support.h"

namespace tearline {
namespace {

using tearline::testing::TempDir;

// The configuration file of each test: daemon.toml in a fresh directory.
std::filesystem::path Write(const TempDir& dir, const std::string& text) {
  const auto path = dir / "daemon.toml";
  testing::WriteText(path, text);
  return path;
}

constexpr const char* kValid = R"([daemon]
name = "usa-1"
data_dir = "data/usa-1"
key = "/keys/usa-1.secret"
heartbeat_ms = 250
)";

// The message must say where: "FILE:LINE: ..." and what.
void ExpectInvalidAt(const Status& s, const std::filesystem::path& file, int line,
                     const std::string& cause) {
  EXPECT_EQ(s.reason(), "CONFIG_INVALID");
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find(file.string() + ":" + std::to_string(line) + ": "), std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find(cause), std::string::npos) << s.message();
}

TEST(ConfigReaderTest, KeysComeInTheOrderOfTheFile) {
  TempDir tmp;
  auto r = ConfigReader::Open(Write(tmp, kValid), "daemon");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->keys(), (std::vector<std::string>{"name", "data_dir", "key", "heartbeat_ms"}));
  EXPECT_TRUE(r->Has("name"));
  EXPECT_FALSE(r->Has("colour"));
}

TEST(ConfigReaderTest, TypedGetters) {
  TempDir tmp;
  auto r = ConfigReader::Open(Write(tmp, kValid), "daemon");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r->String("name"), "usa-1");
  EXPECT_EQ(*r->Integer("heartbeat_ms", 100, 60000), 250);
  // Relative paths are relative to the file, absolute ones stay.
  EXPECT_EQ(*r->Path("data_dir"), tmp.path() / "data/usa-1");
  EXPECT_EQ(*r->Path("key"), std::filesystem::path("/keys/usa-1.secret"));
}

TEST(ConfigReaderTest, WrongTypesEmptyStringsAndRangesNameTheLine) {
  TempDir tmp;
  const auto path = Write(tmp, R"([daemon]
name = 42
empty = ""
small = 5
big = 9000000
negative = -1
zero = 0
text = "7"
)");
  auto r = ConfigReader::Open(path, "daemon");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ExpectInvalidAt(r->String("name").status(), path, 2, "name must be a non-empty string");
  ExpectInvalidAt(r->Path("empty").status(), path, 3, "empty must be a non-empty string");
  ExpectInvalidAt(r->Integer("small", 100, 60000).status(), path, 4,
                  "small must be an integer between 100 and 60000");
  ExpectInvalidAt(r->Integer("big", 1, 65536).status(), path, 5,
                  "big must be an integer between 1 and 65536");
  ExpectInvalidAt(r->Integer("negative", 0).status(), path, 6,
                  "negative must be a non-negative integer");
  ExpectInvalidAt(r->Integer("zero", 1).status(), path, 7, "zero must be a positive integer");
  ExpectInvalidAt(r->Integer("zero", 65536).status(), path, 7,
                  "zero must be an integer of at least 65536");
  ExpectInvalidAt(r->Integer("text", 0).status(), path, 8, "text must be a non-negative integer");
  EXPECT_EQ(*r->Integer("big", 0), 9000000);
}

TEST(ConfigReaderTest, UnknownAndMissingKeysAreNamed) {
  TempDir tmp;
  const auto path = Write(tmp, "# comment\n[daemon]\nname = \"x\"\ncolour = \"blue\"\n");
  auto r = ConfigReader::Open(path, "daemon");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ExpectInvalidAt(r->UnknownKey("colour"), path, 4, "unknown key 'colour' in [daemon]");
  EXPECT_TRUE(r->Require({"name"}).ok());
  // All missing keys at once, at the section's line.
  ExpectInvalidAt(r->Require({"name", "data_dir", "key", "port"}), path, 2,
                  "[daemon] needs 'data_dir', 'key' and 'port'");
  ExpectInvalidAt(r->Error("", "something is off"), path, 2, "something is off");
  ExpectInvalidAt(r->String("absent").status(), path, 2, "absent must be a non-empty string");
}

// What a daemon's loader fills.
struct DaemonConfig {
  std::string name;
  std::filesystem::path data_dir;
  std::filesystem::path key;
  std::uint32_t heartbeat_ms = 1000;
  std::size_t queue = 0;
};

Result<DaemonConfig> LoadDaemon(const std::filesystem::path& path) {
  TEARLINE_ASSIGN_OR_RETURN(ConfigReader r, ConfigReader::Open(path, "daemon"));
  DaemonConfig c;
  r.BindString("name", c.name);
  r.BindPath("data_dir", c.data_dir);
  r.BindPath("key", c.key);
  r.BindInteger("heartbeat_ms", c.heartbeat_ms, 100, 60000);
  r.BindInteger("queue", c.queue, 1);
  TEARLINE_RETURN_IF_ERROR(r.ReadBound());
  TEARLINE_RETURN_IF_ERROR(r.Require({"name", "data_dir"}));
  return c;
}

TEST(ConfigReaderTest, BoundKeysFillTheirFieldsAndAbsentOnesKeepDefaults) {
  TempDir tmp;
  auto c = LoadDaemon(Write(tmp, kValid));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->name, "usa-1");
  EXPECT_EQ(c->data_dir, tmp.path() / "data/usa-1");
  EXPECT_EQ(c->key, std::filesystem::path("/keys/usa-1.secret"));
  EXPECT_EQ(c->heartbeat_ms, 250u);
  EXPECT_EQ(c->queue, 0u);
}

TEST(ConfigReaderTest, ReadingBoundKeysStopsAtTheFirstProblemInFileOrder) {
  TempDir tmp;
  const auto path = Write(tmp, R"([daemon]
name = "usa-1"
queue = 0
colour = "blue"
data_dir = ""
)");
  auto c = LoadDaemon(path);
  ASSERT_FALSE(c.ok());
  ExpectInvalidAt(c.status(), path, 3, "queue must be a positive integer");

  const auto unknown = Write(tmp, "[daemon]\nname = \"usa-1\"\ncolour = \"blue\"\nqueue = 0\n");
  auto u = LoadDaemon(unknown);
  ASSERT_FALSE(u.ok());
  ExpectInvalidAt(u.status(), unknown, 3, "unknown key 'colour' in [daemon]");

  const auto missing = Write(tmp, "[daemon]\nname = \"usa-1\"\n");
  auto m = LoadDaemon(missing);
  ASSERT_FALSE(m.ok());
  ExpectInvalidAt(m.status(), missing, 1, "[daemon] needs 'data_dir'");
}

TEST(ConfigReaderTest, MissingFileIsNotFound) {
  TempDir tmp;
  auto r = ConfigReader::Open(tmp / "absent.toml", "daemon");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  EXPECT_EQ(r.status().reason(), "CONFIG_NOT_FOUND");
  EXPECT_NE(r.status().message().find("absent.toml"), std::string::npos);
}

TEST(ConfigReaderTest, DirectoryIsNotAConfigurationFile) {
  TempDir tmp;
  auto r = ConfigReader::Open(tmp.path(), "daemon");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "CONFIG_INVALID");
  EXPECT_NE(r.status().message().find("not a regular file"), std::string::npos);
}

TEST(ConfigReaderTest, SyntaxErrorNamesFileAndLine) {
  TempDir tmp;
  const auto path = Write(tmp, "[daemon]\nname = \"x\nother = 1\n");
  auto r = ConfigReader::Open(path, "daemon");
  ASSERT_FALSE(r.ok());
  ExpectInvalidAt(r.status(), path, 2, "");
}

TEST(ConfigReaderTest, MissingSectionIsNamed) {
  TempDir tmp;
  const auto path = Write(tmp, "[other]\nname = \"x\"\n");
  auto r = ConfigReader::Open(path, "daemon");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "CONFIG_INVALID");
  EXPECT_NE(r.status().message().find("missing [daemon] table"), std::string::npos);
}

TEST(ConfigReaderTest, FilesAboveTheCapAreRefusedBeforeParsing) {
  TempDir tmp;
  const std::string text = "[daemon]\nname = \"" + std::string(200, 'x') + "\"\n";
  const auto path = Write(tmp, text);
  auto at_cap = ConfigReader::Open(path, "daemon", text.size());
  EXPECT_TRUE(at_cap.ok()) << at_cap.status().ToString();
  auto above = ConfigReader::Open(path, "daemon", text.size() - 1);
  ASSERT_FALSE(above.ok());
  EXPECT_EQ(above.status().code(), Code::kResourceExhausted);
  EXPECT_EQ(above.status().reason(), "CONFIG_TOO_LARGE");
}

}  // namespace
}  // namespace tearline
