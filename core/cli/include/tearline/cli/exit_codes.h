// Exit codes of every Tearline command (tearline-node's analyst commands and the tools), in one
// place so scripts can rely on them whichever program they call. Each program's header says which
// of its answers map to which code. The daemons (tearline-broker, tearline-node run) exit with the
// sysexits-style statuses supervisors rely on instead: see daemon_exit.h.
#ifndef TEARLINE_CLI_EXIT_CODES_H_
#define TEARLINE_CLI_EXIT_CODES_H_

namespace tearline::cli {

// Success, or a positive answer (RELEASE, valid, delivered).
inline constexpr int kExitOk = 0;
// A well-formed question answered "no" (DENY, invalid log, recipient denied, proof failed).
inline constexpr int kExitNegative = 1;
// Invalid input or usage: nothing was done.
inline constexpr int kExitInvalid = 2;
// Accepted but not yet confirmed; the work continues without the caller (tearline-node send:
// the report is kept in the outbox and resent with the same id). Retrying by hand would repeat it.
inline constexpr int kExitPending = 3;

}  // namespace tearline::cli

#endif  // TEARLINE_CLI_EXIT_CODES_H_
