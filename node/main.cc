// tearline-node: see node/include/tearline/node/node_command.h.
#include <exception>
#include <iostream>

#include "tearline/cli/daemon_exit.h"
#include "tearline/node/node_command.h"

int main(int argc, char** argv) {
  try {
    return tearline::node::RunNodeCommand(argc, argv, std::cout, std::cerr);
  } catch (const std::exception& e) {
    std::cerr << "tearline-node: error: INTERNAL: " << e.what() << "\n";
    return tearline::cli::kExitSoftware;
  }
}
