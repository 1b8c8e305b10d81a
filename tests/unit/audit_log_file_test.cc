// AuditLogFile reads log.jsonl in blocks of whole lines; the verifier's reader over it must see
// exactly what it saw over the text read whole (ReadAuditLogText): the same bytes, lines, records
// and failures, with the same reasons and messages.
#include "tearline/audit/audit_log_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "tearline/audit/audit_records.h"
#include "test_support.h"

namespace tearline {
namespace {

using testing::TempDir;

void WriteLog(const TempDir& dir, const std::string& bytes) {
  std::ofstream(dir / "log.jsonl", std::ios::binary | std::ios::trunc) << bytes;
}

std::string Line(std::uint64_t seq, std::size_t pad) {
  return R"({"seq":)" + std::to_string(seq) + R"(,"time":1764000000,"type":"note","pad":")" +
         std::string(pad, 'x') + "\"}";
}

// Every block, in order, checking the block contract on the way.
std::vector<std::string> Blocks(AuditLogFile& file) {
  std::vector<std::string> blocks;
  std::string_view block;
  bool last = false;
  while (file.NextBlock(block)) {
    EXPECT_FALSE(last) << "a block after the last";
    const bool ends_line = !block.empty() && block.back() == '\n';
    if (!ends_line) {
      last = true;  // Only the last block may hold bytes after the final '\n' (or be empty).
      EXPECT_EQ(block.find('\n'), std::string_view::npos);
    }
    blocks.emplace_back(block);
  }
  return blocks;
}

struct Read {
  std::vector<std::string> lines;
  std::optional<AuditLoadError> error;
};

Read ReadAll(AuditLogReader& reader) {
  Read read;
  AuditRecord record;
  while (reader.Next(record)) {
    EXPECT_EQ(record.line, read.lines.size() + 1);
    read.lines.push_back(record.bytes);
  }
  read.error = reader.error();
  return read;
}

// The reader over the file against the reader over the text read whole.
void ExpectSameAsWhole(const TempDir& dir) {
  auto text = ReadAuditLogText(dir.path());
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  AuditLogReader whole_reader(*text);
  const Read whole = ReadAll(whole_reader);
  auto file = AuditLogFile::Open(dir.path());
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  AuditLogReader block_reader(**file);
  const Read blocks = ReadAll(block_reader);
  EXPECT_EQ(blocks.lines, whole.lines);
  ASSERT_EQ(blocks.error.has_value(), whole.error.has_value());
  if (whole.error) {
    EXPECT_EQ(blocks.error->line, whole.error->line);
    EXPECT_EQ(blocks.error->status.ToString(), whole.error->status.ToString());
  }
}

TEST(AuditLogFileTest, BlocksAreTheFileInWholeLinesWhateverTheLineLengths) {
  TempDir dir;
  std::mt19937 rng(7);
  std::string bytes;
  for (std::uint64_t seq = 0; bytes.size() < 3 * AuditLogFile::kBlockBytes; ++seq) {
    // Mostly short lines; some longer than a block, which the buffer must grow to hold.
    const std::size_t pad = seq % 50 == 7 ? AuditLogFile::kBlockBytes + rng() % 4096 : rng() % 600;
    bytes += Line(seq, pad) + "\n";
  }
  for (const std::string tail : {"", "{\"seq\":"}) {
    WriteLog(dir, bytes + tail);
    auto file = AuditLogFile::Open(dir.path());
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    const std::vector<std::string> blocks = Blocks(**file);
    EXPECT_TRUE((*file)->error().ok()) << (*file)->error().ToString();
    ASSERT_GE(blocks.size(), 4u);
    EXPECT_EQ(blocks.back(), tail);  // What follows the final '\n'.
    std::string joined;
    for (const std::string& b : blocks) joined += b;
    EXPECT_EQ(joined, bytes + tail);
    std::string_view block;
    EXPECT_FALSE((*file)->NextBlock(block));  // And nothing after the end.
    ExpectSameAsWhole(dir);
  }
}

TEST(AuditLogFileTest, TheReaderFailsAtTheSameLineWithTheSameMessage) {
  TempDir dir;
  std::string good;
  for (std::uint64_t seq = 0; seq < 2000; ++seq) good += Line(seq, seq % 300) + "\n";
  const std::vector<std::string> cases = {
      "",                                                      // Empty log.
      good,                                                    // Valid.
      good + Line(2000, 10),                                   // Torn tail.
      good + std::string(AuditLogFile::kBlockBytes * 3, 'x'),  // A torn tail longer than blocks.
      good + Line(2000, kMaxAuditLineBytes) + "\n" + Line(2001, 1) + "\n",  // Too large a line.
      good + "{\"seq\":2000,\n" + good,  // Bad JSON, lines after it.
  };
  for (const std::string& bytes : cases) {
    SCOPED_TRACE(bytes.size());
    WriteLog(dir, bytes);
    ExpectSameAsWhole(dir);
  }
}

TEST(AuditLogFileTest, OpenFailsAsReadingTheLogWholeDoes) {
  TempDir dir;
  const auto same = [](const std::filesystem::path& d) {
    auto whole = ReadAuditLogText(d);
    auto file = AuditLogFile::Open(d);
    ASSERT_FALSE(whole.ok());
    ASSERT_FALSE(file.ok());
    EXPECT_EQ(file.status().ToString(), whole.status().ToString());
  };
  same(dir / "missing");  // AUDIT_DIR_NOT_FOUND
  same(dir.path());       // AUDIT_LOG_NOT_FOUND
  std::filesystem::create_directory(dir / "log.jsonl");
  same(dir.path());  // AUDIT_LOG_READ: not a regular file.
  EXPECT_EQ(AuditLogFile::Open(dir.path()).status().reason(), "AUDIT_LOG_READ");
}

TEST(AuditLogFileTest, AFileThatShrankAfterOpenIsAShortReadAndAppendedBytesAreNotRead) {
  TempDir dir;
  std::string bytes;
  for (std::uint64_t seq = 0; bytes.size() < 2 * AuditLogFile::kBlockBytes; ++seq) {
    bytes += Line(seq, 200) + "\n";
  }
  WriteLog(dir, bytes);
  {
    auto file = AuditLogFile::Open(dir.path());
    ASSERT_TRUE(file.ok());
    std::filesystem::resize_file(dir / "log.jsonl", AuditLogFile::kBlockBytes / 2);
    Blocks(**file);
    EXPECT_EQ((*file)->error().reason(), "AUDIT_LOG_READ");
    EXPECT_NE((*file)->error().message().find("short read"), std::string::npos);
  }
  WriteLog(dir, bytes);
  {
    auto file = AuditLogFile::Open(dir.path());
    ASSERT_TRUE(file.ok());
    std::filesystem::resize_file(dir / "log.jsonl", AuditLogFile::kBlockBytes / 2);
    EXPECT_FALSE((*file)->Drain());  // Drain learns of it too, without keeping the bytes.
    EXPECT_EQ((*file)->error().reason(), "AUDIT_LOG_READ");
  }
  WriteLog(dir, bytes);
  {
    auto file = AuditLogFile::Open(dir.path());
    ASSERT_TRUE(file.ok());
    std::ofstream(dir / "log.jsonl", std::ios::binary | std::ios::app) << "appended\n";
    std::string joined;
    for (const std::string& b : Blocks(**file)) joined += b;
    EXPECT_TRUE((*file)->error().ok());
    EXPECT_EQ(joined, bytes);  // The size is the one Open measured.
  }
}

}  // namespace
}  // namespace tearline
