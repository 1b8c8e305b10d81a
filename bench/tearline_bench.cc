// tearline-bench: see bench/load/bench_command.h and docs/PERFORMANCE.md.
#include <exception>
#include <iostream>

#include "bench_command.h"

int main(int argc, char** argv) {
  try {
    return tearline::bench::RunBenchCommand(argc, argv, std::cout, std::cerr);
  } catch (const std::exception& e) {
    std::cerr << "tearline-bench: error: INTERNAL: " << e.what() << "\n";
    return 2;
  }
}
