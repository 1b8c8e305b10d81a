// AuditLog: the single interface through which the broker records every decision.
//
// Records are JSON Lines appended to DIR/log.jsonl; each carries `seq` (0-based, gap-free),
// `time` (unix seconds with milliseconds) and `type`, plus the caller's fields. Records never hold
// content or keys: callers pass labels, ids, digests and reasons only. Each Append is written and
// fsync'd before it returns, so a decision is durable before it takes effect.
//
// The log is an RFC 6962 Merkle tree over the exact line bytes (without '\n'). Checkpoint()
// signs a C2SP tlog-checkpoint (DIR/checkpoint, and DIR/checkpoints/<size> for history) with the
// broker's Ed25519 key. On Open the tree is rebuilt and checked against the latest checkpoint: a
// log that no longer matches what was signed is refused, so the broker never signs a checkpoint
// inconsistent with an earlier one. docs/AUDIT.md describes the layout.
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
#include <string_view>

#include "tearline/checkpoint.h"
#include "tearline/keys.h"
#include "tearline/merkle.h"
#include "tearline/status.h"

namespace tearline {

class AuditLog {
 public:
  // Opens (creating if needed) DIR/log.jsonl for appending; continues the sequence after the last
  // complete record. A torn last line (no trailing newline) is reported in `torn_tail` and cut
  // off so the log stays line-aligned.
  // `origin` names the log in checkpoints ("tearline/audit/<broker id>"); `signer` (may be null
  // for read-only uses) signs checkpoints. Errors: AUDIT_IO, AUDIT_CHECKPOINT_MISMATCH (the log
  // does not reproduce the latest signed checkpoint), AUDIT_CORRUPT.
  static Result<std::unique_ptr<AuditLog>> Open(const std::filesystem::path& dir,
                                                std::string origin = "tearline/audit/broker",
                                                const SigningKeyPair* signer = nullptr);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Appends one record of `type` with `fields` (an object). Returns its sequence number.
  Result<std::uint64_t> Append(std::string_view type, nlohmann::json fields);

  std::uint64_t size() const;

  // Signs and writes a checkpoint over the whole log when it grew since the last one (or none
  // exists); returns the checkpoint size. Requires a signer.
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
  std::filesystem::path dir_;
  std::filesystem::path path_;
  std::string origin_;
  const SigningKeyPair* signer_ = nullptr;
  std::string verifier_key_;
  MerkleTree tree_;
  std::string latest_checkpoint_;
  std::uint64_t checkpoint_size_ = 0;
  int fd_ = -1;
  mutable std::mutex mu_;
  std::uint64_t next_seq_ = 0;
  std::uint64_t torn_tail_bytes_ = 0;
};

}  // namespace tearline

#endif  // TEARLINE_AUDIT_LOG_H_
