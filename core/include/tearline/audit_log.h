// AuditLog: the single interface through which the broker records every decision.
//
// Records are JSON Lines appended to DIR/log.jsonl; each carries `seq` (0-based, gap-free),
// `time` (unix seconds with milliseconds) and `type`, plus the caller's fields. Records never hold
// content or keys: callers pass labels, ids, digests and reasons only. Each Append is written and
// fsync'd before it returns, so a decision is durable before it takes effect.
// (The tamper-evident Merkle tree and signed checkpoints are layered on this file format.)
//
// Ownership: owns the file descriptor. Thread-safety: Append may be called from any thread.
#ifndef TEARLINE_AUDIT_LOG_H_
#define TEARLINE_AUDIT_LOG_H_

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string_view>

#include "tearline/status.h"

namespace tearline {

class AuditLog {
 public:
  // Opens (creating if needed) DIR/log.jsonl for appending; continues the sequence after the last
  // complete record. A torn last line (no trailing newline) is reported in `torn_tail` and cut
  // off so the log stays line-aligned.
  static Result<std::unique_ptr<AuditLog>> Open(const std::filesystem::path& dir);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Appends one record of `type` with `fields` (an object). Returns its sequence number.
  Result<std::uint64_t> Append(std::string_view type, nlohmann::json fields);

  std::uint64_t size() const;
  const std::filesystem::path& path() const { return path_; }
  // Bytes of an incomplete final line found (and removed) at open; 0 when the tail was clean.
  std::uint64_t torn_tail_bytes() const { return torn_tail_bytes_; }

 private:
  AuditLog(std::filesystem::path path, int fd, std::uint64_t next_seq, std::uint64_t torn)
      : path_(std::move(path)), fd_(fd), next_seq_(next_seq), torn_tail_bytes_(torn) {}
  std::filesystem::path path_;
  int fd_ = -1;
  mutable std::mutex mu_;
  std::uint64_t next_seq_ = 0;
  std::uint64_t torn_tail_bytes_ = 0;
};

}  // namespace tearline

#endif  // TEARLINE_AUDIT_LOG_H_
