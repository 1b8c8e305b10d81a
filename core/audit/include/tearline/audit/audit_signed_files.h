// CheckAuditSignedFiles: the checks of audit verification that read the signed files of an audit
// directory, after the records (docs/AUDIT.md, verification steps 3 to 8):
//   - log.pub, checkpoints/<size> and checkpoint: each a valid note signed with the log key, its
//     root equal to the root recomputed from the records at its size, checkpoint the newest;
//   - cosignatures/<size>.<node>: each verifies under its witness's certificate (certs/, under
//     certs/root.cert or the auditor's pinned root), and at least min_witnesses distinct,
//     unrevoked witnesses cosigned;
//   - every checkpoint the auditor already trusts matches the recomputed root at its size;
//   - broker.cert ties log.pub to a broker certificate valid at the newest record's time;
//   - every release decision the record checks kept (audit_record_checker.h) carries a body
//     signed by a certificate of its originator valid at the record's time, and agrees with it
//     (release_decision_check.h).
// Every file is hostile input: listed with a cap per directory, size-capped, parsed strictly,
// signatures checked before contents are trusted.
//
// Returns every failure found, in the order found (the caller picks the one to report).
// `roots` gives the Merkle roots of the log's records at any size (it is prepared here for the
// checkpoint sizes); `log_time` is the time of the newest record. Writes the origin, witness and
// checkpoint figures into `result`. Thread-safety: reads files only; the caller owns every
// argument.
#ifndef TEARLINE_AUDIT_AUDIT_SIGNED_FILES_H_
#define TEARLINE_AUDIT_AUDIT_SIGNED_FILES_H_

#include <vector>

#include "tearline/audit/audit_record_checker.h"
#include "tearline/audit/audit_verify.h"
#include "tearline/tlog/prefix_roots.h"

namespace tearline {

std::vector<AuditFailure> CheckAuditSignedFiles(
    const AuditVerifyOptions& options, PrefixRoots& roots, double log_time,
    const std::vector<PendingReleaseDecision>& decisions, AuditVerifyResult& result);

}  // namespace tearline

#endif  // TEARLINE_AUDIT_AUDIT_SIGNED_FILES_H_
