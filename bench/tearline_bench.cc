// tearline-bench: see bench/load/bench_command.h and docs/PERFORMANCE.md.
#include <csignal>
#include <exception>
#include <iostream>

#include "bench_command.h"

int main(int argc, char** argv) {
  // Output piped into a reader that went away must fail a write, not kill the run mid-way.
  std::signal(SIGPIPE, SIG_IGN);
  try {
    return tearline::bench::RunBenchCommand(argc, argv, std::cout, std::cerr);
  } catch (const std::exception& e) {
    std::cerr << "tearline-bench: error: INTERNAL: " << e.what() << "\n";
    return 2;
  }
}
