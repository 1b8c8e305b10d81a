// The tearline-bench command line: options, single runs, --sweep series and --markdown tables.
// `tearline-bench --help` lists the options; docs/PERFORMANCE.md shows the commands.
//
// Exit codes: 0 when every run finished with every report accepted and every expected copy
// delivered; 1 when a run finished without (refusals, lost copies); 2 for usage and setup errors.
// Thread-safety: call from the program's main thread.
#ifndef TEARLINE_BENCH_LOAD_BENCH_COMMAND_H_
#define TEARLINE_BENCH_LOAD_BENCH_COMMAND_H_

#include <ostream>

namespace tearline::bench {

int RunBenchCommand(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace tearline::bench

#endif  // TEARLINE_BENCH_LOAD_BENCH_COMMAND_H_
