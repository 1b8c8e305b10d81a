// The processes a benchmark run starts (tearline-broker, tearline-node, tearline-certs) and what
// the kernel says each one cost: CPU time, bytes written to storage, peak resident memory, and
// (through an optional `perf stat` wrapper, see sync_probe.h) the sync calls it made.
//
// Ownership: a Process owns its child (and the perf wrapper around it, if any); the destructor
// stops both (SIGTERM, then SIGKILL after a bound), and a child gets SIGTERM from the kernel if
// the bench dies first (PR_SET_PDEATHSIG), so a run never leaves a process behind. Create
// Processes from a thread that outlives them (the kernel ties that signal to the forking thread).
// Thread-safety: one thread at a time per Process; ReadProcSample is safe from any thread.
#ifndef TEARLINE_BENCH_LOAD_PROCESS_H_
#define TEARLINE_BENCH_LOAD_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "tearline/base/status.h"

namespace tearline::bench {

// What /proc says a process has cost so far (all threads).
struct ProcSample {
  double cpu_seconds = 0;          // utime + stime of /proc/<pid>/stat.
  std::uint64_t write_bytes = 0;   // /proc/<pid>/io write_bytes: bytes sent to the block layer.
  std::uint64_t peak_rss_kib = 0;  // VmHWM of /proc/<pid>/status.
};
// Errors: BENCH_PROC when the process is gone or /proc is unreadable.
Result<ProcSample> ReadProcSample(pid_t pid);

// Runs argv (argv[0] a path) to completion with no stdin and output captured; kills it after
// `timeout`. Errors: BENCH_COMMAND with the command's output when it fails or times out.
Result<std::string> RunCommand(const std::vector<std::string>& argv,
                               std::chrono::milliseconds timeout);

class Process {
 public:
  // Starts argv with stdout/stderr appended to `log`. With `wrapper` (e.g. perf stat ... --), the
  // wrapper is exec'd with argv appended and the measured process is its child.
  Process(const std::string& name, const std::vector<std::string>& argv,
          const std::filesystem::path& log, const std::vector<std::string>& wrapper = {});
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  const std::string& name() const { return name_; }
  // The measured process (the wrapper's child when wrapped; found lazily), or -1 when unknown.
  pid_t target_pid();
  bool running();
  // SIGTERM to the measured process, then waits for it (and its wrapper, which then writes its
  // totals) up to `timeout` before SIGKILL. Returns the exit code (128 + signal), -1 if unknown.
  int Stop(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  std::chrono::steady_clock::time_point started() const { return started_; }

 private:
  std::string name_;
  pid_t pid_ = -1;
  pid_t target_ = -1;
  bool wrapped_ = false;
  int exit_code_ = -1;
  std::chrono::steady_clock::time_point started_;
};

}  // namespace tearline::bench

#endif  // TEARLINE_BENCH_LOAD_PROCESS_H_
