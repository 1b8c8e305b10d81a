#include "process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <fstream>
#include <sstream>
#include <thread>

namespace tearline::bench {
namespace {

Status ProcError(pid_t pid, const std::string& what) {
  return IoError("BENCH_PROC", "cannot read " + what + " of process " + std::to_string(pid));
}

// Exit code from a waitpid status: the code, or 128 + the signal that ended it.
int ExitCode(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

[[noreturn]] void ExecOrDie(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  // A parent that ignores SIGINT/SIGTERM (a shell's background job) must not pass that on: the
  // wrapper and the daemons stop on these signals.
  ::signal(SIGINT, SIG_DFL);
  ::signal(SIGTERM, SIG_DFL);
  ::execvp(args[0], args.data());
  ::_exit(127);
}

}  // namespace

Result<ProcSample> ReadProcSample(pid_t pid) {
  ProcSample s;
  const std::string base = "/proc/" + std::to_string(pid);
  {
    std::ifstream in(base + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // The command name may hold spaces and parentheses: fields are counted after the last ')'.
    const auto close = text.rfind(')');
    if (!in.good() && text.empty()) return ProcError(pid, "stat");
    if (close == std::string::npos) return ProcError(pid, "stat");
    std::istringstream fields(text.substr(close + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    // Field 3 (state) is the first after ')'; utime and stime are fields 14 and 15.
    for (int i = 3; i <= 15 && (fields >> field); ++i) {
      if (i == 14) utime = std::stoull(field);
      if (i == 15) stime = std::stoull(field);
    }
    const long ticks = ::sysconf(_SC_CLK_TCK);
    s.cpu_seconds =
        static_cast<double>(utime + stime) / static_cast<double>(ticks > 0 ? ticks : 100);
  }
  {
    std::ifstream in(base + "/io");
    std::string key;
    std::uint64_t value = 0;
    while (in >> key >> value) {
      if (key == "write_bytes:") s.write_bytes = value;
    }
  }
  {
    std::ifstream in(base + "/status");
    if (!in) return ProcError(pid, "status");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("VmHWM:", 0) == 0) s.peak_rss_kib = std::stoull(line.substr(6));
    }
  }
  return s;
}

Result<std::string> RunCommand(const std::vector<std::string>& argv,
                               std::chrono::milliseconds timeout) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return IoError("BENCH_COMMAND", "pipe failed");
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return IoError("BENCH_COMMAND", "fork failed");
  }
  if (pid == 0) {
    const int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, 0);
    ::dup2(fds[1], 1);
    ::dup2(fds[1], 2);
    ExecOrDie(argv);
  }
  ::close(fds[1]);
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timed_out = false;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) < 0 && errno != EINTR) break;
    std::array<char, 4096> buf{};
    const ssize_t n = ::read(fds[0], buf.data(), buf.size());
    if (n > 0) {
      out.append(buf.data(), static_cast<std::size_t>(n));
    } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
      break;
    }
  }
  ::close(fds[0]);
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (timed_out) return IoError("BENCH_COMMAND", argv[0] + " timed out: " + out);
  if (ExitCode(status) != 0) {
    return IoError("BENCH_COMMAND",
                   argv[0] + " exited with " + std::to_string(ExitCode(status)) + ": " + out);
  }
  return out;
}

Process::Process(const std::string& name, const std::vector<std::string>& argv,
                 const std::filesystem::path& log, const std::vector<std::string>& wrapper)
    : name_(name), wrapped_(!wrapper.empty()), started_(std::chrono::steady_clock::now()) {
  std::vector<std::string> full = wrapper;
  full.insert(full.end(), argv.begin(), argv.end());
  pid_ = ::fork();
  if (pid_ == 0) {
    // If the bench dies (a signal, a crash), its daemons must not outlive it: the kernel sends
    // SIGTERM when the forking thread exits (perf passes it on to the process it wraps).
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() == 1) ::_exit(127);  // The bench died before prctl took effect.
    const int devnull = ::open("/dev/null", O_RDONLY);
    const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    ::dup2(devnull, 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    ExecOrDie(full);
  }
  if (!wrapped_) target_ = pid_;
}

Process::~Process() { Stop(std::chrono::seconds(5)); }

pid_t Process::target_pid() {
  if (target_ > 0 || pid_ <= 0) return target_;
  // The wrapper forks the measured process soon after it starts; its pid is the wrapper's child.
  for (int attempt = 0; attempt < 200 && target_ <= 0; ++attempt) {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/task/" + std::to_string(pid_) +
                     "/children");
    pid_t child = -1;
    if (in >> child && child > 0) {
      target_ = child;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return target_;
}

bool Process::running() {
  if (pid_ <= 0 || exit_code_ >= 0) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    exit_code_ = ExitCode(status);
    return false;
  }
  return true;
}

int Process::Stop(std::chrono::milliseconds timeout) {
  if (!running()) return exit_code_;
  const pid_t target = target_pid();
  ::kill(target > 0 ? target : pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (running()) {
    if (target > 0) ::kill(target, SIGKILL);
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    exit_code_ = ExitCode(status);
  }
  return exit_code_;
}

}  // namespace tearline::bench
