// tearline-certs: the coalition root's certificate authority tool.
//
//   tearline-certs init-ca --out DIR [--days N]
//   tearline-certs issue --ca DIR --node ID --nation NAT --clearance LEVEL [--role node|broker]
//                        [--broker] [--days N] --out DIR
//   tearline-certs show FILE
//   tearline-certs verify FILE --ca DIR [--now UNIX]
//   tearline-certs revoke --ca DIR ID
// Every subcommand accepts --policy FILE (default: tearline::DefaultPolicyPath()).
//
// Exit codes: 0 success / valid; 1 a certificate did not verify; 2 invalid input, usage or
// I/O error. Thread-safety: not reentrant with respect to the same CA directory (the serial
// counter and revocation list are read-modify-write); one operator runs the CA at a time.
#ifndef TEARLINE_TOOLS_CERTS_COMMAND_H_
#define TEARLINE_TOOLS_CERTS_COMMAND_H_

#include <ostream>

namespace tearline::tools {

int RunCertsCommand(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace tearline::tools

#endif  // TEARLINE_TOOLS_CERTS_COMMAND_H_
