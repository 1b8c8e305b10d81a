#include "tearline/audit/audit_log.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tearline/audit/audit_field_bound.h"
#include "tearline/crypto/keys.h"
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

TEST(AuditLogTest, RecordReturnsExactLinesAlsoAfterReopen) {
  testing::TempDir dir;
  {
    auto log = AuditLog::Open(dir.path());
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    ASSERT_TRUE((*log)->Append("a", {{"x", 1}}).ok());
    ASSERT_TRUE((*log)->AppendBuffered("b", {{"note", "tab\there"}}).ok());
    ASSERT_TRUE((*log)->Append("c", {}).ok());
    auto lines = Lines(dir / "log.jsonl");
    ASSERT_EQ(lines.size(), 3u);
    for (std::uint64_t i = 0; i < 3; ++i) {
      auto rec = (*log)->Record(i);
      ASSERT_TRUE(rec.ok()) << rec.status().ToString();
      EXPECT_EQ(*rec, lines[i]);
    }
  }
  std::ofstream(dir / "log.jsonl", std::ios::app) << "{\"seq\":3";  // Torn tail, cut at open.
  auto log = AuditLog::Open(dir.path());
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  ASSERT_TRUE((*log)->Append("d", {}).ok());
  auto lines = Lines(dir / "log.jsonl");
  ASSERT_EQ(lines.size(), 4u);
  for (std::uint64_t i = 0; i < 4; ++i) {
    auto rec = (*log)->Record(i);
    ASSERT_TRUE(rec.ok()) << rec.status().ToString();
    EXPECT_EQ(*rec, lines[i]);
  }
  EXPECT_EQ(nlohmann::json::parse(*(*log)->Record(3))["type"], "d");
}

TEST(AuditLogTest, RecordOutOfRangeIsNotFound) {
  testing::TempDir dir;
  auto log = AuditLog::Open(dir.path());
  ASSERT_TRUE(log.ok());
  EXPECT_EQ((*log)->Record(0).status().reason(), "AUDIT_NO_RECORD");
  ASSERT_TRUE((*log)->AppendBuffered("a", {}).ok());
  EXPECT_TRUE((*log)->Record(0).ok());
  auto missing = (*log)->Record(1);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_EQ(missing.status().reason(), "AUDIT_NO_RECORD");
  EXPECT_EQ((*log)->Record(UINT64_MAX).status().reason(), "AUDIT_NO_RECORD");
}

TEST(AuditLogTest, BufferedRecordsAreVisibleAfterSyncAndReopen) {
  testing::TempDir dir;
  {
    auto log = AuditLog::Open(dir.path());
    ASSERT_TRUE(log.ok());
    for (int i = 0; i < 10; ++i) {
      auto seq = (*log)->AppendBuffered("queued", {{"i", i}});
      ASSERT_TRUE(seq.ok()) << seq.status().ToString();
      EXPECT_EQ(*seq, static_cast<std::uint64_t>(i));
    }
    EXPECT_EQ((*log)->size(), 10u);
    ASSERT_TRUE((*log)->Sync().ok());
    ASSERT_TRUE((*log)->Sync().ok());  // Nothing pending: still Ok.
  }
  auto log = AuditLog::Open(dir.path());
  ASSERT_TRUE(log.ok());
  EXPECT_EQ((*log)->size(), 10u);
  EXPECT_EQ((*log)->torn_tail_bytes(), 0u);
  EXPECT_EQ(nlohmann::json::parse(*(*log)->Record(9))["i"], 9);
  EXPECT_EQ(*(*log)->Append("next", {}), 10u);
}

TEST(AuditLogTest, CheckpointCoversBufferedRecords) {
  testing::TempDir dir;
  auto key = GenerateSigningKeyPair();
  ASSERT_TRUE(key.ok());
  {
    auto log = AuditLog::Open(dir.path(), "tearline/audit/test", &*key);
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE((*log)->Append("broker_start", {}).ok());
    ASSERT_TRUE((*log)->AppendBuffered("a", {}).ok());
    ASSERT_TRUE((*log)->AppendBuffered("b", {}).ok());
    auto size = (*log)->Checkpoint();
    ASSERT_TRUE(size.ok()) << size.status().ToString();
    EXPECT_EQ(*size, 3u);
    EXPECT_EQ((*log)->checkpoint_size(), 3u);
    EXPECT_NE((*log)->LatestCheckpoint().find("tearline/audit/test\n3\n"), std::string::npos);
  }
  // The signed checkpoint must be reproducible from what is on disk.
  auto log = AuditLog::Open(dir.path(), "tearline/audit/test", &*key);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_EQ((*log)->size(), 3u);
  EXPECT_EQ((*log)->checkpoint_size(), 3u);
}

// Was RefusesRecordsOverOneMebibyte: a refused record stopped the broker, so any node could stop
// it with one long Error message. Now the record is written, bounded, with a marker.
TEST(AuditLogTest, BoundsRecordsOverOneMebibyteInsteadOfRefusingThem) {
  testing::TempDir dir;
  auto log = AuditLog::Open(dir.path());
  ASSERT_TRUE(log.ok());
  auto big = (*log)->Append("x", {{"blob", std::string(std::size_t{1} << 20, 'a')}});
  ASSERT_TRUE(big.ok()) << big.status().ToString();
  EXPECT_EQ(*big, 0u);
  auto line = (*log)->Record(0);
  ASSERT_TRUE(line.ok());
  EXPECT_LE(line->size(), 2048u);
  EXPECT_NE(line->find("...[truncated "), std::string::npos);
  EXPECT_EQ(*(*log)->Append("y", {}), 1u);
  log->reset();
  EXPECT_TRUE(AuditLog::Open(dir.path()).ok());
}

// The writer serialises a record once and shortens only a line over the cap; what it writes must
// be exactly what bounding and shrinking the fields first gives, in both cases.
TEST(AuditLogTest, WritesTheFieldsThatBoundingAndShrinkingGive) {
  testing::TempDir dir;
  auto log = AuditLog::Open(dir.path());
  ASSERT_TRUE(log.ok());
  nlohmann::json small = {{"node", "n1"}, {"why", std::string("bell\x07 and \xff")}};
  // Each string fits its own bound; together they are about 2 MiB.
  nlohmann::json large = {{"items", std::vector<std::string>(2048, std::string(1000, 'b'))}};
  for (const nlohmann::json& fields : {small, large}) {
    nlohmann::json expected = fields;
    BoundAuditFields(expected);
    ASSERT_TRUE(ShrinkAuditFieldsToFit(expected, (std::size_t{1} << 20) - 256));
    auto seq = (*log)->Append("x", fields);
    ASSERT_TRUE(seq.ok()) << seq.status().ToString();
    auto line = (*log)->Record(*seq);
    ASSERT_TRUE(line.ok());
    EXPECT_LE(line->size(), std::size_t{1} << 20);
    nlohmann::json written = nlohmann::json::parse(*line);
    EXPECT_EQ(written["seq"], *seq);
    EXPECT_EQ(written["type"], "x");
    for (const char* key : {"seq", "time", "type"}) written.erase(key);
    EXPECT_EQ(written, expected);
  }
  EXPECT_TRUE(nlohmann::json::parse(*(*log)->Record(1)).contains("truncated"));
  log->reset();
  EXPECT_TRUE(AuditLog::Open(dir.path()).ok());
}

TEST(AuditLogTest, TimeNeverGoesBackwards) {
  testing::TempDir dir;
  // A previous run whose clock was far ahead of ours.
  std::ofstream(dir / "log.jsonl") << "{\"seq\":0,\"time\":99999999999.5,\"type\":\"a\"}\n";
  auto log = AuditLog::Open(dir.path());
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE((*log)->Append("b", {}).ok());
  ASSERT_TRUE((*log)->Append("c", {}).ok());
  EXPECT_GE(nlohmann::json::parse(*(*log)->Record(1))["time"].get<double>(), 99999999999.5);
  EXPECT_GE(nlohmann::json::parse(*(*log)->Record(2))["time"].get<double>(), 99999999999.5);
}

// A crash between creating and renaming a checkpoint leaves a hidden temporary; the writer
// removes it on the next start so the directory auditors receive stays clean.
TEST(AuditLogTest, WriterRemovesTemporariesLeftByACrash) {
  testing::TempDir dir;
  auto key = GenerateSigningKeyPair();
  ASSERT_TRUE(key.ok());
  {
    auto log = AuditLog::Open(dir.path(), "tearline/audit/test", &*key);
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE((*log)->Append("broker_start", {}).ok());
    ASSERT_TRUE((*log)->Checkpoint().ok());
  }
  const auto debris = dir.path() / "checkpoints" / ".2.tmp12345";
  const auto keep = dir.path() / "checkpoints" / "notes";
  std::ofstream(debris) << "half a checkpoint";
  std::ofstream(keep) << "not ours to delete";
  {
    // Readers (no signer) leave the directory alone.
    auto reader = AuditLog::Open(dir.path());
    ASSERT_TRUE(reader.ok());
    EXPECT_TRUE(std::filesystem::exists(debris));
  }
  auto log = AuditLog::Open(dir.path(), "tearline/audit/test", &*key);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_FALSE(std::filesystem::exists(debris));
  EXPECT_TRUE(std::filesystem::exists(keep));
}

}  // namespace
}  // namespace tearline
