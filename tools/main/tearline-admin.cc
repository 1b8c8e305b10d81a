// tearline-admin: see tools/include/tearline/tools/admin_command.h.
#include <exception>
#include <iostream>

#include "tearline/tools/admin_command.h"

int main(int argc, char** argv) {
  try {
    return tearline::tools::RunAdminCommand(argc, argv, std::cout, std::cerr);
  } catch (const std::exception& e) {
    std::cerr << "tearline-admin: error: INTERNAL: " << e.what() << "\n";
    return 2;
  }
}
