// Counting a process's sync calls (fsync, fdatasync, syncfs, sync_file_range, msync) with
// low overhead: the process is started under `perf stat` with the kernel's syscall-entry
// tracepoints, printing cumulative counts every 100 ms to a file; the count of a time window is
// read from those interval lines. Attaching perf to a running pid (-p) counts nothing on some
// kernels and containers, and strace stops the process at every syscall, so neither is used.
//
// The window is accurate to one interval at each edge (a few syncs at most), which is why runs
// count thousands of reports.
// Thread-safety: plain values and pure functions (Detect runs a process).
#ifndef TEARLINE_BENCH_LOAD_SYNC_PROBE_H_
#define TEARLINE_BENCH_LOAD_SYNC_PROBE_H_

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tearline/base/status.h"

namespace tearline::bench {

class SyncProbe {
 public:
  // Checks that perf runs and can count the tracepoints here. When it cannot, available() is
  // false and why() says so in a sentence (printed in place of the counts as "n/a (why)").
  static SyncProbe Detect();
  // A probe that is switched off (--no-syncs), with `why` as the reason.
  static SyncProbe Disabled(std::string why);

  bool available() const { return available_; }
  const std::string& why() const { return why_; }

  // The argv prefix that runs a command under the probe, writing intervals to `out`.
  std::vector<std::string> Wrapper(const std::filesystem::path& out) const;

  // Syncs counted in the interval lines of `out` whose end lies in (from_s, to_s + one
  // interval]; times are seconds since the wrapped process started. Errors: BENCH_SYNC_PROBE.
  static Result<std::uint64_t> CountBetween(const std::filesystem::path& out, double from_s,
                                            double to_s);
  // Same, over the text of such a file (for tests).
  static Result<std::uint64_t> CountInText(const std::string& text, double from_s, double to_s);

  static constexpr double kIntervalSeconds = 0.1;

 private:
  bool available_ = false;
  bool pdeathsig_ = false;  // setpriv --pdeathsig works here (see Wrapper).
  std::string why_;
};

}  // namespace tearline::bench

#endif  // TEARLINE_BENCH_LOAD_SYNC_PROBE_H_
