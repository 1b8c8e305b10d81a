// `tearline-audit`: the auditor's tool for a broker's audit directory (docs/AUDIT.md).
//
//   tearline-audit verify DIR [--trusted-checkpoint FILE]... [--ca CADIR]
//     Runs tearline::VerifyAuditDirectory: prints `PASS: ...` (exit 0) or
//     `FAIL line N: REASON: message` naming the first bad record (exit 1).
//   tearline-audit query DIR [--nation N] [--report ID] [--decision TYPE] [--since T]
//                        [--until T] [--json|--csv]
//     Lists matching records (T: unix seconds or ISO-8601 UTC). --json prints the exact lines.
//   tearline-audit custody DIR REPORT_ID
//     Every record mentioning the report, in order, each with its inclusion proof against the
//     latest checkpoint, verified.
//   tearline-audit prove DIR --leaf N [--size S]
//   tearline-audit prove DIR --consistency OLD NEW
//     Proofs for an independent verifier: sizes, roots, then base64 hashes one per line.
//   tearline-audit report DIR [--html FILE] [--text] [--trusted-checkpoint FILE]... [--ca CADIR]
//     A self-contained HTML page for auditors (no scripts, no external resources) and/or the
//     same summary as text on stdout; at least one of --html and --text.
//
// Exit codes: 0 success / verified; 1 verification failed, malformed log (line named), nothing
// found, or report written with a FAIL verdict; 2 usage error or unusable arguments.
// Thread-safety: not applicable (a command-line entry point).
#ifndef TEARLINE_TOOLS_AUDIT_COMMAND_H_
#define TEARLINE_TOOLS_AUDIT_COMMAND_H_

#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "tearline/audit/audit_records.h"
#include "tearline/audit/audit_verify.h"
#include "tearline/base/status.h"

namespace tearline::tools {

int RunAuditCommand(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

// Renders the auditor's HTML report for `records` (already loaded from the directory in
// `options`) together with a verification result. Pure: reads DIR/policy.toml only.
std::string RenderAuditReportHtml(const AuditVerifyOptions& options,
                                  const std::vector<AuditRecord>& records,
                                  const AuditVerifyResult& verification);
// The same figures as plain text for a terminal: verdict, who shared with whom, denials by
// reason and nation, restrictive markings, submission-to-delivery times, records by type.
std::string RenderAuditReportText(const AuditVerifyOptions& options,
                                  const std::vector<AuditRecord>& records,
                                  const AuditVerifyResult& verification);

}  // namespace tearline::tools

#endif  // TEARLINE_TOOLS_AUDIT_COMMAND_H_
