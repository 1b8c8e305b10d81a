// AuditRecordChecker: the checks of audit verification that read the records one at a time, in
// log order (docs/AUDIT.md, verification steps 1, 2 and the ordering part of 5a):
//   - seq equals the record's index and time never goes back;
//   - the logged policy: policy.toml hashes to every policy_loaded record's digest, and no
//     decision record comes before one;
//   - accepted and forwarded records: well-formed ids, the logged policy's digest, canonical
//     labels, one accept per id; a forward names only portions earlier records released to the
//     forwarder, and none that is ORCON;
//   - delivered and queued records follow the accept of their report, repeat its labels, and the
//     logged policy releases every portion to the recipient's nation and clearance; a from-queue
//     delivery follows a queued record; a copy expires or fails only after it was released, and
//     fails once;
//   - a release decision answers one earlier, still open request about the same report, portion,
//     nation, originator and requester. Its signature is checked later, against the
//     certificates (audit_signed_files.h), from decisions().
// A record type this version does not know is skipped: a newer broker may write more types.
//
// Cost: one decode per record; labels parsed and release decisions made once per distinct input
// (pure functions of the text and the fixed policy); ids and labels interned, so memory grows
// with the distinct ids, labels and copies of the log, not with its bytes.
//
// Ownership: reads policy.toml from `dir` when the first policy_loaded record asks; writes
// policy name, version and counts into `result`, which must outlive the checker.
// Thread-safety: none; one thread feeds the records in order.
#ifndef TEARLINE_AUDIT_AUDIT_RECORD_CHECKER_H_
#define TEARLINE_AUDIT_AUDIT_RECORD_CHECKER_H_

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "tearline/audit/audit_log.h"
#include "tearline/audit/audit_verify.h"
#include "tearline/audit/release_decision_check.h"

namespace tearline {

// A release decision record, kept to be checked against its originator's certificates once the
// signed files (and with them the certificates) are loaded.
struct PendingReleaseDecision {
  std::uint64_t line = 0;
  double time = 0;
  std::string_view type;  // A record type name (static storage).
  ReleaseDecisionFields fields;
};

class AuditRecordChecker {
 public:
  AuditRecordChecker(const std::filesystem::path& dir, AuditVerifyResult& result);
  ~AuditRecordChecker();
  AuditRecordChecker(const AuditRecordChecker&) = delete;
  AuditRecordChecker& operator=(const AuditRecordChecker&) = delete;

  // Checks record `index` (0-based) of the log; records are given in order, one at a time. The
  // first failure is returned; the caller stops checking after it (later records would be
  // judged against a history already known to be wrong).
  std::optional<AuditFailure> CheckNext(const AuditRecord& r, std::uint64_t index);

  // The release decision records seen so far, in log order (rare: one per decided request).
  const std::vector<PendingReleaseDecision>& decisions() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tearline

#endif  // TEARLINE_AUDIT_AUDIT_RECORD_CHECKER_H_
