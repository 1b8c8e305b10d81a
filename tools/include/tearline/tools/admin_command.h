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
// Exit codes: 0 served, 1 refused/no answer, 2 invalid input.
#ifndef TEARLINE_TOOLS_ADMIN_COMMAND_H_
#define TEARLINE_TOOLS_ADMIN_COMMAND_H_

#include <ostream>

namespace tearline::tools {

int RunAdminCommand(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace tearline::tools

#endif  // TEARLINE_TOOLS_ADMIN_COMMAND_H_
