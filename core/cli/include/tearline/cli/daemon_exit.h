// Exit statuses of the two daemons (tearline-broker, tearline-node run), chosen from the Status
// that ended them, so a supervisor can tell "fix the configuration" from "the disk failed" from
// "a bug" without reading logs:
//   0   kExitOk        stopped by SIGTERM/SIGINT (a clean stop: the broker signs a final
//                      checkpoint first)
//   2   kExitInvalid   usage error, or a start-up refusal other than the configuration file
//                      itself (key file permissions, audit rollback, identity mismatch, ...):
//                      the state or files need an operator, not a restart
//   78  kExitConfig    the configuration file is missing, too large or invalid (CONFIG_*)
//   74  kExitIoError   after start, a read or write failed (Code::kIoError, or a full disk /
//                      file-size limit: Code::kResourceExhausted)
//   70  kExitSoftware  after start, anything else (the audit log refused a record, internal)
// Pure functions; thread-safe.
#ifndef TEARLINE_CLI_DAEMON_EXIT_H_
#define TEARLINE_CLI_DAEMON_EXIT_H_

#include "tearline/base/status.h"
#include "tearline/cli/exit_codes.h"

namespace tearline::cli {

// The BSD sysexits values supervisors know (systemd's RestartPreventExitStatus=, monitoring).
// The configuration file, or a file it names, is missing or invalid (EX_CONFIG).
inline constexpr int kExitConfig = 78;
// A fatal read or write failed after start (disk full, file size limit, EIO) (EX_IOERR).
inline constexpr int kExitIoError = 74;
// Any other fatal failure after start: the audit log refused a record, an internal error
// (EX_SOFTWARE).
inline constexpr int kExitSoftware = 70;

// True for the reasons ConfigReader gives about the configuration file itself.
bool IsConfigFileError(const Status& status);

// Exit status for a daemon that could not start because of `status` (not OK).
int StartupExitCode(const Status& status);

// Exit status for a daemon whose loop ended with `status` (OK: a clean stop).
int RunExitCode(const Status& status);

}  // namespace tearline::cli

#endif  // TEARLINE_CLI_DAEMON_EXIT_H_
