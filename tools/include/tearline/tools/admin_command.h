// `tearline-admin`: operator tools.
//
//   tearline-admin probe --endpoint tcp://HOST:PORT --broker-cert FILE --secret FILE --node ID
//                        [--timeout-ms N]
//     Connects to a broker over CURVE with the transport key from a node's .secret file, says
//     Hello, and reports whether the broker served the key: prints `SERVED` (exit 0) or
//     `REFUSED: ...` (exit 1). Used to check a node's credentials without starting its daemon,
//     and to demonstrate that a key the coalition did not issue gets no service. The broker
//     certificate is not verified here (a probe is a diagnostic, it sends no report).
//
//   tearline-admin probe ... --frame FILE
//     After the broker served the key, sends FILE's bytes verbatim as one wire frame (at most
//     the protocol's frame limit plus one byte, so oversize handling can be checked) and prints
//     the broker's answer on a second line: `ANSWER: ERROR REASON: message` or
//     `ANSWER: REFUSED REASON: message` (a SubmitReply that did not accept) -> exit 1;
//     `ANSWER: ACCEPTED <report id hex>[ DUPLICATE]` or `ANSWER: <body type>` -> exit 0;
//     `ANSWER: NONE ...` when nothing came back in time -> exit 1. For operators checking how a
//     broker treats a captured or crafted frame, and for the abuse tests.
//
//   tearline-admin backup (--config BROKER.toml | --data-dir DIR) --out NEW_DIR
//     An online backup of the broker's state while it runs (broker/state_backup.h): the report
//     store through SQLite's online backup API, then a consistent copy of the audit directory,
//     verified as an auditor would. Prints `BACKED UP ...` with the record count. Run it as the
//     broker's user.
//
//   tearline-admin restore --backup DIR (--config BROKER.toml | --data-dir DIR [--head-file F])
//                          [--accept-rollback]
//     Copies a verified backup into an empty data directory, the broker stopped. When the
//     broker's head file shows it signed records the backup lacks, refuses (RESTORE_ROLLBACK,
//     exit 1) unless --accept-rollback, which keeps the head file as FILE.rolled-back-N and
//     prints `ROLLED BACK: ...`.
//
// Exit codes: 0 served (and, with --frame, answered positively) / backed up / restored, 1
// refused or no answer (probe), rollback not accepted or an I/O failure (backup, restore), 2
// invalid input (usage, a target that is not empty, no broker state, a backup that does not
// verify).
#ifndef TEARLINE_TOOLS_ADMIN_COMMAND_H_
#define TEARLINE_TOOLS_ADMIN_COMMAND_H_

#include <ostream>

namespace tearline::tools {

int RunAdminCommand(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace tearline::tools

#endif  // TEARLINE_TOOLS_ADMIN_COMMAND_H_
