// Runs the tearline-node command line in-process (RunNodeCommand with captured output), so unit
// tests can drive the node CLI without spawning the binary.
// Thread-safety: as RunNodeCommand (`run` installs signal handlers: main thread only).
#ifndef TEARLINE_TESTS_SUPPORT_NODE_CLI_H_
#define TEARLINE_TESTS_SUPPORT_NODE_CLI_H_

#include <string>
#include <vector>

namespace tearline::testing {

struct CliResult {
  int code = -1;    // Exit code.
  std::string out;  // Standard output.
  std::string err;  // Standard error.
};

// `args` without the program name, e.g. {"status", "--config", path}.
CliResult RunNodeCli(std::vector<std::string> args);

}  // namespace tearline::testing

#endif  // TEARLINE_TESTS_SUPPORT_NODE_CLI_H_
