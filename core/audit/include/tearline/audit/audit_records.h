// Loading an audit directory's log.jsonl for auditors: one record per line, kept byte-exact
// (the Merkle leaf is the exact line without its '\n'), parsed as JSON by the strict flat reader
// of audit_json.h (no DOM per record), with size caps applied before anything is parsed. The layout
// and record schema are described in docs/AUDIT.md.
//
// Every byte is treated as hostile: the file and each line are size-capped, a final line without
// '\n' (a torn tail) is an error, and JSON parse errors are caught and reported with the 1-based
// line number. Nothing here judges the records' meaning; that is audit_verify.h's job.
//
// Thread-safety: pure functions over values.
#ifndef TEARLINE_AUDIT_RECORDS_H_
#define TEARLINE_AUDIT_RECORDS_H_

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tearline/audit/audit_json.h"
#include "tearline/audit/audit_log_file.h"
#include "tearline/audit/audit_record_types.h"
#include "tearline/base/status.h"
#include "tearline/tlog/merkle.h"

namespace tearline {

// The record types themselves (kAuditRecordTypes, the typed records) are in
// audit_record_types.h.

// Larger logs and lines are refused before parsing (an auditor's machine must not be exhausted
// by a hostile directory).
inline constexpr std::uint64_t kMaxAuditLogBytes = 256ull << 20;  // 256 MiB
inline constexpr std::size_t kMaxAuditLineBytes = 1 << 20;        // 1 MiB
inline constexpr std::size_t kMaxAuditJsonDepth = 16;

struct AuditRecord {
  std::uint64_t line = 0;    // 1-based line number in log.jsonl (leaf index = line - 1).
  std::string bytes;         // The exact line, without its '\n': the Merkle leaf data.
  AuditJsonDocument fields;  // Parsed object (has at least seq, time, type; see ParseAuditLog).
  std::uint64_t seq = 0;     // The "seq" field.
  double time = 0;           // The "time" field, unix seconds.
  std::string type;          // The "type" field.

  // The parsed object, a view into this record (valid while it lives and is not modified).
  AuditJsonValue object() const { return fields.Root(bytes); }
};

// Where loading failed.
struct AuditLoadError {
  std::uint64_t line = 0;  // 1-based; 0 when not tied to a line (e.g. the file is missing).
  Status status;
};

// Reads log text one line at a time into a caller's AuditRecord, reusing its buffers (the line,
// the parsed document, the type), so that a reader of many lines (the verifier) allocates only
// while they grow and holds one record at a time. The checks are ParseAuditLog's (below).
// Ownership: views the text, or reads the file block by block; either must outlive the reader.
// Thread-safety: one thread.
class AuditLogReader {
 public:
  explicit AuditLogReader(std::string_view text) : text_(text) {}
  // The same lines and verdicts as over the file's text read whole, except that a failure to
  // read the file is an error at line 0 (AUDIT_LOG_READ) once the reader reaches it.
  explicit AuditLogReader(AuditLogFile& file) : file_(&file) {}

  // Reads the next line into `record`. False at the end of the text or at the first line that
  // fails; error() then holds the failure (and every later call returns false).
  [[nodiscard]] bool Next(AuditRecord& record);
  const std::optional<AuditLoadError>& error() const { return error_; }
  // Lines read successfully so far.
  std::uint64_t lines() const { return line_; }

 private:
  // Moves to the file's next block; false at its end or on a read error (error_ then set).
  bool NextBlock();

  std::string_view text_;
  AuditLogFile* file_ = nullptr;  // Null when reading text given whole.
  std::size_t pos_ = 0;
  std::uint64_t line_ = 0;
  std::optional<AuditLoadError> error_;
};

// Splits and parses log text. Each line must be exactly one JSON object with unique keys (the
// record line grammar of docs/AUDIT.md: no byte order mark, no NUL byte, a non-object is
// AUDIT_BAD_JSON too), no deeper than kMaxAuditJsonDepth, with an unsigned integer "seq", a finite
// non-negative number "time" and a non-empty string "type". Reasons (with the line):
// AUDIT_LINE_TOO_LARGE, AUDIT_TORN_TAIL (last line has no '\n'), AUDIT_BAD_JSON,
// AUDIT_RECORD_MALFORMED. `seq` is NOT compared with the line index here (the verifier reports that
// as a sequencing failure). On success `error` is untouched; on failure the records parsed so far
// are returned in `records` and `error` is set.
std::vector<AuditRecord> ParseAuditLog(std::string_view text, std::optional<AuditLoadError>& error);

// Reads DIR/log.jsonl whole, with the size cap above. Reasons AUDIT_DIR_NOT_FOUND,
// AUDIT_LOG_NOT_FOUND, AUDIT_LOG_TOO_LARGE, AUDIT_LOG_READ.
Result<std::string> ReadAuditLogText(const std::filesystem::path& dir);

// Reads DIR/log.jsonl (ReadAuditLogText, its failures at line 0) and parses it.
std::vector<AuditRecord> LoadAuditLog(const std::filesystem::path& dir,
                                      std::optional<AuditLoadError>& error);

// Leaf hashes of the records, in order, as a tree.
MerkleTree BuildAuditTree(const std::vector<AuditRecord>& records);

// Reads a small file whole, refusing anything above `max_size`. Reasons <prefix>_NOT_FOUND,
// <prefix>_TOO_LARGE, <prefix>_READ.
Result<std::string> ReadSmallFile(const std::filesystem::path& path, std::size_t max_size,
                                  std::string_view reason_prefix);

// Lower-case hex SHA-256 of `bytes`.
std::string Sha256Hex(std::string_view bytes);

// Parses a time given as unix seconds ("1764000000", "1764000000.5") or ISO-8601 UTC
// ("2026-11-29T12:00:00Z", optional fraction, "Z" optional, a date alone means midnight).
// Reason AUDIT_BAD_TIME.
Result<double> ParseAuditTime(std::string_view text);

// "YYYY-MM-DDTHH:MM:SS.mmmZ".
std::string FormatAuditTime(double unix_seconds);

}  // namespace tearline

#endif  // TEARLINE_AUDIT_RECORDS_H_
