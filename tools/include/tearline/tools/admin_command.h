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
// Exit codes: 0 served (and, with --frame, answered positively), 1 refused/no answer, 2 invalid
// input.
#ifndef TEARLINE_TOOLS_ADMIN_COMMAND_H_
#define TEARLINE_TOOLS_ADMIN_COMMAND_H_

#include <ostream>

namespace tearline::tools {

int RunAdminCommand(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace tearline::tools

#endif  // TEARLINE_TOOLS_ADMIN_COMMAND_H_
