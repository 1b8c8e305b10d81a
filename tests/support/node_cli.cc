#include "node_cli.h"

#include <sstream>

#include "tearline/node/node_command.h"

namespace tearline::testing {

CliResult RunNodeCli(std::vector<std::string> args) {
  args.insert(args.begin(), "tearline-node");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out;
  std::ostringstream err;
  CliResult r;
  r.code = node::RunNodeCommand(static_cast<int>(argv.size()), argv.data(), out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

}  // namespace tearline::testing
