// Verification of a broker's audit directory (layout and algorithm: docs/AUDIT.md), as a library
// so that the auditor's tool, the broker's tests and fuzzers all run the same code.
//
// VerifyAuditDirectory checks, in one pass over the records and then over the signed files:
//   1. every line of log.jsonl is a JSON object with seq == line index, non-decreasing time;
//   2. policy.toml hashes to the policy_sha256 of every policy_loaded record (and accepted
//      records name the same policy); every delivered/queued record with portions follows an
//      accepted record for the same report whose portion labels it repeats, and
//      DecideRelease(label, {nation, clearance, originator_nation}) releases every portion;
//      a from_queue delivery follows a queued record for the same report and recipient;
//   3. every checkpoint (checkpoints/<size> and checkpoint) carries a valid log signature
//      (log.pub), its root equals the root recomputed from the records at its size, successive
//      checkpoints are consistent, and checkpoint is the newest;
//   4. every cosignature (cosignatures/<size>.<node>) verifies under the witness's certified key
//      (certs/*.cert, certified by certs/root.cert or the auditor's own CA root);
//   5. every checkpoint the auditor already trusts (e.g. one a node cosigned) matches the root
//      recomputed at its size: this is what exposes a broker that re-signs a rewritten history;
//   6. log.pub is the signing key of the broker certificate broker.cert, valid under the root at
//      the newest record's time (required with ca_dir, checked whenever present): a log
//      re-signed with a fresh key is not the broker's;
//   7. every release decision record (release_decided, release_auto_approved, release_sanitised)
//      carries the ReleaseDecisionBody its originator signed, the signature verifies under a
//      certificate of the originator valid at the record's time, and the record's fields agree
//      with the body (release_decision_check.h): a broker cannot invent or alter a release;
//   8. at least min_witnesses distinct witnesses (node ids whose certificate is valid under the
//      root and not revoked) cosigned some checkpoint.
// A log that passes with neither a trusted checkpoint nor a witness is only as good as the
// broker's word: AuditVerdict says "PASS (unwitnessed)".
// The first failure is reported: the one with the smallest line number, else the first failure
// about a file; an exact failure (one record) inside a failing range wins over the range. When only
// a root comparison fails, the altered record can only be located between the last matching
// checkpoint and the failing one: `line` is the first line of that range and `last_line` its end.
//
// Every file is hostile input: size-capped, parsed strictly, signatures checked before contents
// are trusted. No exception escapes. Thread-safety: pure functions (they only read files).
#ifndef TEARLINE_AUDIT_VERIFY_H_
#define TEARLINE_AUDIT_VERIFY_H_

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "tearline/audit/audit_records.h"
#include "tearline/base/status.h"
#include "tearline/tlog/checkpoint.h"

namespace tearline {

inline constexpr std::string_view kAuditOriginPrefix = "tearline/audit/";
// Caps on the number of files an audit directory may hold in each sub-directory.
inline constexpr std::size_t kMaxAuditCheckpointFiles = 1'000'000;
inline constexpr std::size_t kMaxAuditCertFiles = 10'000;
// The broker's own certificate inside the audit directory.
inline constexpr std::string_view kAuditBrokerCertFile = "broker.cert";

struct AuditVerifyOptions {
  std::filesystem::path dir;                    // The audit directory.
  std::optional<std::filesystem::path> ca_dir;  // Pins the coalition root (CADIR/root.cert).
  // Signed checkpoints the auditor obtained independently (e.g. cosigned earlier by a node).
  std::vector<std::filesystem::path> trusted_checkpoints;
  // Fewer distinct trusted witnesses than this is a failure (AUDIT_TOO_FEW_WITNESSES).
  std::uint64_t min_witnesses = 0;
};

struct AuditFailure {
  std::uint64_t line = 0;       // 1-based first bad record; 0 when the failure is about a file.
  std::uint64_t last_line = 0;  // The bad record lies in [line, last_line]; == line when exact.
  std::string file;             // The file concerned, relative to the audit directory, if any.
  std::string reason;           // Stable reason code, e.g. AUDIT_SEQ_MISMATCH.
  std::string message;          // One sentence.

  // "line 7: AUDIT_SEQ_MISMATCH: ...", "lines 5-8: ...", "checkpoints/12: ...".
  std::string ToString() const;
};

struct AuditVerifyResult {
  std::optional<AuditFailure> failure;  // Empty when everything verified.
  bool ok() const { return !failure.has_value(); }

  std::uint64_t records = 0;
  std::uint64_t checkpoints = 0;   // Distinct checkpoint sizes verified.
  std::uint64_t cosignatures = 0;  // Cosignature files verified.
  std::uint64_t trusted_checkpoints = 0;
  std::uint64_t deliveries_checked = 0;  // delivered/queued records checked against the policy.
  std::uint64_t portions_checked = 0;
  std::string origin;                  // Log origin from log.pub.
  std::optional<Checkpoint> latest;    // DIR/checkpoint, when it verified.
  std::vector<std::string> witnesses;  // Node ids with at least one valid cosignature.
  std::uint64_t witnessed_size = 0;    // Largest checkpoint size a witness cosigned.
  std::string policy_name;
  std::string policy_version;
  bool root_pinned = false;  // The root came from ca_dir, not from the directory itself.
  std::string broker;        // Broker id of broker.cert when it vouched for log.pub.

  // Nothing independent of the broker vouches for the history: no trusted checkpoint matched
  // and no witness cosigned.
  bool unwitnessed() const { return trusted_checkpoints == 0 && witnesses.empty(); }
};

// "PASS", "PASS (unwitnessed)" or "FAIL": the verdict every auditor tool prints.
std::string AuditVerdict(const AuditVerifyResult& result);

AuditVerifyResult VerifyAuditDirectory(const AuditVerifyOptions& options);

// DIR/log.pub, parsed; must be a plain Ed25519 key named "tearline/audit/<broker-id>".
// Reasons LOG_KEY_NOT_FOUND, LOG_KEY_TOO_LARGE, LOG_KEY_INVALID.
Result<NoteVerifierKey> LoadAuditLogKey(const std::filesystem::path& dir);

// DIR/checkpoint opened with `log_key` (witness signatures in it are ignored).
// Reasons CHECKPOINT_NOT_FOUND, CHECKPOINT_TOO_LARGE, plus OpenCheckpoint's.
Result<Checkpoint> LoadLatestAuditCheckpoint(const std::filesystem::path& dir,
                                             const NoteVerifierKey& log_key);

}  // namespace tearline

#endif  // TEARLINE_AUDIT_VERIFY_H_
