// tearline-label: see tools/include/tearline/tools/label_command.h.
#include <exception>
#include <iostream>

#include "tearline/tools/label_command.h"

int main(int argc, char** argv) {
  try {
    return tearline::tools::RunLabelCommand(argc, argv, std::cout, std::cerr);
  } catch (const std::exception& e) {
    std::cerr << "tearline-label: error: INTERNAL: " << e.what() << "\n";
    return 2;
  }
}
