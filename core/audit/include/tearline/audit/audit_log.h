// AuditLog: the single interface through which the broker records every decision.
//
// Records are JSON Lines appended to DIR/log.jsonl; each carries `seq` (0-based, gap-free),
// `time` (unix seconds with milliseconds) and `type`, plus the caller's fields. Records never hold
// content or keys: callers pass labels, ids, digests and reasons only.
//
// Durability contract (group commit): AppendBuffered writes the line (sequence number assigned,
// tree updated, readable through Record) but does not fsync it; Sync() makes every record
// buffered so far durable with one fdatasync. Append() is AppendBuffered() followed by Sync().
// A decision recorded with AppendBuffered may take effect (a report forwarded, a reply sent) only
// after a Sync() that returned Ok: a crash before that may lose the record, and an effect
// without its record is exactly what the audit log exists to rule out. Checkpoint() syncs first,
// so a signed checkpoint never covers a record that is not on disk. After a failed fdatasync (or
// a failed write whose partial line cannot be cut off again) the log refuses every later append
// and sync (AUDIT_IO): whether the buffered records reached the disk is then unknown, and the
// broker must stop rather than keep deciding. A failed write that could be undone fails only
// that record.
//
// The log is an RFC 6962 Merkle tree over the exact line bytes (without '\n'). Checkpoint()
// signs a C2SP tlog-checkpoint (DIR/checkpoint, and DIR/checkpoints/<size> for history) with the
// broker's Ed25519 key. On Open the tree is rebuilt and checked against the latest checkpoint: a
// log that no longer matches what was signed is refused, so the broker never signs a checkpoint
// inconsistent with an earlier one. docs/AUDIT.md describes the layout.
//
// Rollback: the checks above only compare the directory with itself, so a whole directory
// restored from an older copy passes them. A writer may therefore keep the last signed
// checkpoint in a `head_file` outside the directory: every Checkpoint() rewrites it, and Open
// refuses (AUDIT_ROLLBACK) a log that is shorter than that head or disagrees with its root.
//
// Ownership: owns the file descriptor. Thread-safety: every public method may be called from any
// thread (one internal mutex).
#ifndef TEARLINE_AUDIT_LOG_H_
#define TEARLINE_AUDIT_LOG_H_

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "tearline/audit/audit_record_types.h"
#include "tearline/base/status.h"
#include "tearline/crypto/keys.h"
#include "tearline/tlog/checkpoint.h"
#include "tearline/tlog/merkle.h"

namespace tearline {

class AuditLog {
 public:
  // Opens (creating if needed) DIR/log.jsonl for appending; continues the sequence after the last
  // complete record. A torn last line (no trailing newline) is reported in `torn_tail` and cut
  // off so the log stays line-aligned.
  // `origin` names the log in checkpoints ("tearline/audit/<broker id>"); `signer` (may be null
  // for read-only uses) signs checkpoints. `head_file` (empty: none) is where the last signed
  // checkpoint is also kept, outside `dir`. Errors: AUDIT_IO, AUDIT_CHECKPOINT_MISMATCH (the log
  // does not reproduce the latest signed checkpoint), AUDIT_CORRUPT, AUDIT_ROLLBACK (the log is
  // older than, or inconsistent with, the head file), AUDIT_HEAD_INVALID (the head file is not a
  // checkpoint of this log).
  static Result<std::unique_ptr<AuditLog>> Open(const std::filesystem::path& dir,
                                                std::string origin = "tearline/audit/broker",
                                                const SigningKeyPair* signer = nullptr,
                                                std::filesystem::path head_file = {});
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Appends one record of `type` with `fields` (an object) and makes it durable (fdatasync)
  // before returning its sequence number. == AppendBuffered() + Sync().
  // Every string in `fields` is bounded and sanitised first, and a record that would still exceed
  // 1 MiB is shortened and marked "truncated" (audit_field_bound.h): a record is never refused
  // for what a node put in it. Errors: AUDIT_IO, AUDIT_RECORD_TOO_LARGE (only for a record that
  // cannot be shortened, e.g. a type name over 1 MiB; nothing written).
  Result<std::uint64_t> Append(std::string_view type, nlohmann::json fields);
  // Writes the record and returns its sequence number without waiting for the disk: the
  // record is not durable until a later Sync() returns Ok (see the contract above).
  Result<std::uint64_t> AppendBuffered(std::string_view type, nlohmann::json fields);
  // The typed forms the broker writes through: the record's type and ToJson(record), so every
  // record matches the one definition its readers decode (audit_record_types.h).
  Result<std::uint64_t> Append(const AnyAuditRecord& record);
  Result<std::uint64_t> AppendBuffered(const AnyAuditRecord& record);
  // Makes every record appended so far durable with one fdatasync; Ok at once when nothing is
  // pending. Errors: AUDIT_IO (then sticky: every later append or sync fails too).
  Status Sync();

  // Number of records (durable or buffered).
  std::uint64_t size() const;
  // Records [0, synced_size()) are known durable (the rest are buffered until the next Sync).
  std::uint64_t synced_size() const;
  // Exact bytes of record `seq` as written (without '\n'), buffered records included; read
  // from the file with pread, so the log's memory stays one offset per record.
  // Errors: AUDIT_NO_RECORD (kNotFound) when seq >= size(), AUDIT_IO.
  Result<std::string> Record(std::uint64_t seq) const;

  // Syncs buffered records, then signs and writes a checkpoint over the whole log when it grew
  // since the last one (or none exists); returns the checkpoint size. Requires a signer.
  Result<std::uint64_t> Checkpoint();
  // Latest signed checkpoint note ("" when none), and its size.
  std::string LatestCheckpoint() const;
  std::uint64_t checkpoint_size() const;
  // RFC 9162 consistency proof between two sizes of this log, and an inclusion proof.
  Result<std::vector<Hash>> ConsistencyProof(std::uint64_t old_size, std::uint64_t new_size) const;
  Result<std::vector<Hash>> InclusionProof(std::uint64_t index, std::uint64_t tree_size) const;
  // The note verifier key line written to DIR/log.pub.
  const std::string& verifier_key() const { return verifier_key_; }
  const std::string& origin() const { return origin_; }
  const std::filesystem::path& dir() const { return dir_; }
  const std::filesystem::path& path() const { return path_; }
  // Bytes of an incomplete final line found (and removed) at open; 0 when the tail was clean.
  std::uint64_t torn_tail_bytes() const { return torn_tail_bytes_; }

 private:
  AuditLog() = default;
  Status SyncLocked();  // Requires mu_.
  Status CheckHead() const;
  std::filesystem::path dir_;
  std::filesystem::path path_;
  std::filesystem::path head_file_;
  std::string origin_;
  const SigningKeyPair* signer_ = nullptr;
  std::string verifier_key_;
  MerkleTree tree_;
  std::string latest_checkpoint_;
  std::uint64_t checkpoint_size_ = 0;
  int fd_ = -1;
  mutable std::mutex mu_;
  std::uint64_t next_seq_ = 0;
  std::uint64_t synced_seq_ = 0;       // Records [0, synced_seq_) are known durable.
  std::vector<std::uint64_t> starts_;  // starts_[i] = file offset of line i.
  std::uint64_t end_offset_ = 0;       // File size: end of the last complete line.
  double last_time_ = 0;               // Keeps `time` non-decreasing if the clock steps back.
  Status failed_ = Status::Ok();       // Sticky write/sync failure.
  std::uint64_t torn_tail_bytes_ = 0;
};

}  // namespace tearline

#endif  // TEARLINE_AUDIT_LOG_H_
