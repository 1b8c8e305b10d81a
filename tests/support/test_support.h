// Helpers shared by Tearline's tests: source-tree paths, scratch directories that clean
// themselves up, and running a real binary with a hard time limit.
#ifndef TEARLINE_TESTS_TEST_SUPPORT_H_
#define TEARLINE_TESTS_TEST_SUPPORT_H_

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "tearline/labels/policy.h"

namespace tearline::testing {

// Absolute path of a file in the source tree, e.g. SourcePath("deploy/policy/coalition.toml").
std::filesystem::path SourcePath(const std::string& relative);
// Absolute path of a built executable, e.g. BinaryPath("tearline-label").
std::filesystem::path BinaryPath(const std::string& name);

// The shipped coalition policy, loaded once per process (aborts the test on failure).
const Policy& CoalitionPolicy();

// A fresh directory under the system temp dir, removed recursively on destruction (kept, and
// its path printed, when TEARLINE_KEEP_TEST_DIRS is set: for post-mortems).
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

struct ProcessResult {
  int exit_code = -1;      // Exit status, or 128+signal when killed by a signal.
  bool timed_out = false;  // The process was killed because it exceeded the time limit.
  std::string out;         // Captured standard output.
  std::string err;         // Captured standard error.
};

// Runs argv[0] (a path) with arguments, no stdin, capturing output; kills it (SIGKILL) after
// `timeout`. Never leaves a child behind.
ProcessResult RunProcess(const std::vector<std::string>& argv,
                         std::chrono::milliseconds timeout = std::chrono::seconds(30));

// A long-running child (broker, node daemon) with stdout/stderr going to `log_path`.
// The destructor sends SIGTERM, waits up to 5 s, then SIGKILLs: no test leaves a process behind.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, const std::filesystem::path& log_path);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  int pid() const { return pid_; }
  bool running();
  // Sends `sig` (followed by SIGCONT, so a stopped process can act on it) and waits up to
  // `timeout` for exit; returns the exit code (128+signal when killed), or -1 if it did not exit
  // in time (it is then SIGKILLed).
  int Stop(int sig, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  void Signal(int sig);

 private:
  int pid_ = -1;
  int exit_code_ = -1;
};

// Polls `predicate` every 20 ms until it returns true or `timeout` passes.
bool WaitFor(const std::function<bool()>& predicate,
             std::chrono::milliseconds timeout = std::chrono::seconds(10));

// Reads a whole file ("" when missing).
std::string ReadFile(const std::filesystem::path& path);
// Writes `text` as the whole file, creating its directory when needed.
void WriteText(const std::filesystem::path& path, const std::string& text);
// The lines of `text`, without their newlines (a last line without one counts too).
std::vector<std::string> SplitLines(const std::string& text);
// Each line followed by a newline.
std::string JoinLines(const std::vector<std::string>& lines);

}  // namespace tearline::testing

#endif  // TEARLINE_TESTS_TEST_SUPPORT_H_
