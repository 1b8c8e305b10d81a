#include "tearline/audit_log.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "test_support.h"

namespace tearline {
namespace {

std::vector<std::string> Lines(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

TEST(AuditLogTest, AppendsNumberedJsonLines) {
  testing::TempDir dir;
  {
    auto log = AuditLog::Open(dir.path());
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    EXPECT_EQ(*(*log)->Append("broker_start", {{"broker", "b"}}), 0u);
    EXPECT_EQ(*(*log)->Append("denied", {{"reason", "NOFORN"}, {"explanation", "line\nbreak"}}),
              1u);
  }
  auto lines = Lines(dir / "log.jsonl");
  ASSERT_EQ(lines.size(), 2u);
  auto first = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(first["seq"], 0);
  EXPECT_EQ(first["type"], "broker_start");
  auto second = nlohmann::json::parse(lines[1]);
  EXPECT_EQ(second["explanation"], "line\nbreak");  // Escaped inside one line.
}

TEST(AuditLogTest, ContinuesSequenceAndCutsTornTail) {
  testing::TempDir dir;
  {
    auto log = AuditLog::Open(dir.path());
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE((*log)->Append("a", {}).ok());
    ASSERT_TRUE((*log)->Append("b", {}).ok());
  }
  std::ofstream(dir / "log.jsonl", std::ios::app) << "{\"seq\":2,\"ty";  // Crash mid-write.
  auto log = AuditLog::Open(dir.path());
  ASSERT_TRUE(log.ok());
  EXPECT_EQ((*log)->torn_tail_bytes(), 12u);
  EXPECT_EQ(*(*log)->Append("c", {}), 2u);
  auto lines = Lines(dir / "log.jsonl");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(nlohmann::json::parse(lines[2])["type"], "c");
}

}  // namespace
}  // namespace tearline
