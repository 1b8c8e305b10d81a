// tearline-audit: see tools/include/tearline/tools/audit_command.h.
#include <exception>
#include <iostream>

#include "tearline/tools/audit_command.h"

int main(int argc, char** argv) {
  try {
    return tearline::tools::RunAuditCommand(argc, argv, std::cout, std::cerr);
  } catch (const std::exception& e) {
    std::cerr << "tearline-audit: error: INTERNAL: " << e.what() << "\n";
    return 2;
  }
}
