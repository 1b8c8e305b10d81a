// LogService: the broker's side of the transparency log. Signs checkpoints (after
// checkpoint_every new records, or after checkpoint_interval when anything was appended, and on
// demand), serves the latest checkpoint with a consistency proof, stores witnesses'
// cosignatures after checking them, and serves inclusion proofs of the records that name the
// asking node. Also publishes what auditors need besides the records (the exact policy bytes and
// the certificates of the root and of every node) into the audit directory.
//
// Ownership: holds references to the audit log, directory and clock (all must outlive it).
// Thread-safety: none; the broker's Run() thread only (AuditLog itself is locked, so records may
// be appended from other threads meanwhile).
#ifndef TEARLINE_BROKER_LOG_SERVICE_H_
#define TEARLINE_BROKER_LOG_SERVICE_H_

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tearline/base/clock.h"
#include "tearline/base/status.h"
#include "tearline/identity/directory.h"
#include "tearline/identity/trust_store.h"
#include "tearline/wire/wire.h"

namespace tearline {
class AuditLog;
}  // namespace tearline

namespace tearline::broker {

struct LogServiceOptions {
  std::uint64_t checkpoint_every = 64;
  std::chrono::milliseconds checkpoint_interval{2000};
};

class LogService {
 public:
  LogService(AuditLog& log, const Directory& directory, const Clock& clock,
             LogServiceOptions options);
  LogService(const LogService&) = delete;
  LogService& operator=(const LogService&) = delete;

  // Writes policy.toml (the bytes at `policy_path`) and certs/ (root + every directory node)
  // into the audit directory. Errors: POLICY_*, AUDIT_IO and file errors.
  Status PublishAuditContext(const std::filesystem::path& policy_path, const TrustStore& trust);

  // Signs a checkpoint when due (or `force`d and anything is new); failures are logged.
  void MaybeCheckpoint(bool force);
  // Signs a checkpoint now; for start-up, where a failure must stop the broker.
  Status Checkpoint();

  // Frames answering the node's requests (a reply, or an Error frame).
  std::vector<std::uint8_t> CheckpointReply(std::uint64_t request_id, std::uint64_t old_size);
  std::vector<std::uint8_t> Proof(const std::string& node_id, std::uint64_t request_id,
                                  std::uint64_t seq);
  // Checks a witness's cosignature of one of our checkpoints and stores it. Errors (to be
  // rejected to the node): COSIGNATURE_MALFORMED, COSIGNATURE_UNKNOWN_CHECKPOINT,
  // COSIGNATURE_CHECK and the verification error.
  Status StoreCosignature(const std::string& node_id, const schema::Cosignature& cosignature);

 private:
  AuditLog& log_;
  const Directory& directory_;
  const Clock& clock_;
  const LogServiceOptions options_;
  Clock::TimePoint last_checkpoint_;
};

}  // namespace tearline::broker

#endif  // TEARLINE_BROKER_LOG_SERVICE_H_
