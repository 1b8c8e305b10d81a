// tearline-certs: see tools/include/tearline/tools/certs_command.h.
#include <exception>
#include <iostream>

#include "tearline/tools/certs_command.h"

int main(int argc, char** argv) {
  try {
    return tearline::tools::RunCertsCommand(argc, argv, std::cout, std::cerr);
  } catch (const std::exception& e) {
    std::cerr << "tearline-certs: error: INTERNAL: " << e.what() << "\n";
    return 2;
  }
}
