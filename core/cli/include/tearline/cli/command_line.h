// The command-line scaffolding shared by tearline-node and the tools: one-line error messages
// and parsing a CLI11 application with the same help and usage-error behaviour everywhere.
//
// Every error is one line on stderr, "PROGRAM: error: REASON: message", with newlines in the
// message flattened, so scripts and tests can read it line by line. Usage errors use the reason
// USAGE and end with "(see --help)".
// CLI11 stays out of this header: callers that build an application include it themselves.
// Thread-safety: stateless functions; use from a program's main thread.
#ifndef TEARLINE_CLI_COMMAND_LINE_H_
#define TEARLINE_CLI_COMMAND_LINE_H_

#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "tearline/base/status.h"
#include "tearline/cli/exit_codes.h"

namespace CLI {
class App;
}  // namespace CLI

namespace tearline::cli {

// `text` with every newline and carriage return replaced by a space.
std::string OneLine(std::string_view text);

// Writes "PROGRAM: error: REASON: message" (or "PROGRAM: error: message") as one line.
void PrintError(std::ostream& err, std::string_view program, const Status& status);
void PrintError(std::ostream& err, std::string_view program, std::string_view message);

// PrintError, then `exit_code`: a failure path is one return statement.
int Fail(std::ostream& err, std::string_view program, const Status& status,
         int exit_code = kExitInvalid);

// Parses argv into `app`, whose name is the program's. Returns nullopt when the program should
// go on with the parsed values; otherwise the exit code to return at once:
//   - kExitOk after printing help to `out` (--help; --help-all for every subcommand);
//   - kExitInvalid after printing "PROGRAM: error: USAGE: what is wrong (see --help)" to `err`.
std::optional<int> ParseCommandLine(CLI::App& app, int argc, const char* const* argv,
                                    std::ostream& out, std::ostream& err);

}  // namespace tearline::cli

#endif  // TEARLINE_CLI_COMMAND_LINE_H_
