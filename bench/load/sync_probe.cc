#include "sync_probe.h"

#include <charconv>
#include <fstream>
#include <sstream>

#include "process.h"

namespace tearline::bench {
namespace {

constexpr const char* kEvents =
    "syscalls:sys_enter_fsync,syscalls:sys_enter_fdatasync,syscalls:sys_enter_sync_file_range,"
    "syscalls:sys_enter_msync,syscalls:sys_enter_syncfs";

}  // namespace

SyncProbe SyncProbe::Detect() {
  SyncProbe p;
  auto out =
      RunCommand({"perf", "stat", "-x,", "-e", kEvents, "--", "true"}, std::chrono::seconds(10));
  if (!out.ok()) {
    p.why_ =
        "perf stat cannot count syscall tracepoints here (install linux-perf and run as root, "
        "or with perf_event_paranoid <= 1 and tracefs readable)";
    return p;
  }
  if (out->find("<not supported>") != std::string::npos) {
    p.why_ = "the kernel does not offer the syscalls:sys_enter_* tracepoints";
    return p;
  }
  p.available_ = true;
  p.pdeathsig_ =
      RunCommand({"setpriv", "--pdeathsig", "TERM", "--", "true"}, std::chrono::seconds(10)).ok();
  return p;
}

SyncProbe SyncProbe::Disabled(std::string why) {
  SyncProbe p;
  p.why_ = std::move(why);
  return p;
}

std::vector<std::string> SyncProbe::Wrapper(const std::filesystem::path& out) const {
  if (!available_) return {};
  std::vector<std::string> wrapper = {"perf", "stat",       "-x,", "-I",    "100",
                                      "-o",   out.string(), "-e",  kEvents, "--"};
  // perf does not pass its own death on to the process it runs: setpriv (util-linux) makes that
  // process receive SIGTERM when perf goes, so a killed bench leaves no daemon behind.
  if (pdeathsig_) wrapper.insert(wrapper.end(), {"setpriv", "--pdeathsig", "TERM", "--"});
  return wrapper;
}

Result<std::uint64_t> SyncProbe::CountInText(const std::string& text, double from_s, double to_s) {
  std::istringstream in(text);
  std::string line;
  std::uint64_t total = 0;
  bool any = false;
  while (std::getline(in, line)) {
    // "   1.200345,3,,syscalls:sys_enter_fsync,..." ; counts may read "<not counted>".
    if (line.empty() || line[0] == '#') continue;
    const auto c1 = line.find(',');
    if (c1 == std::string::npos) continue;
    const auto c2 = line.find(',', c1 + 1);
    if (c2 == std::string::npos) continue;
    double t = 0;
    try {
      t = std::stod(line.substr(0, c1));
    } catch (...) {
      continue;
    }
    any = true;
    if (t <= from_s || t > to_s + kIntervalSeconds) continue;
    const std::string count = line.substr(c1 + 1, c2 - c1 - 1);
    if (count.empty() || count[0] == '<') continue;  // "<not counted>", "<not supported>"
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(count.data(), count.data() + count.size(), value);
    if (ec != std::errc() || end != count.data() + count.size()) {
      return InvalidArgument("BENCH_SYNC_PROBE", "unreadable perf count '" + count + "'");
    }
    total += value;
  }
  if (!any) return InvalidArgument("BENCH_SYNC_PROBE", "perf wrote no interval lines");
  return total;
}

Result<std::uint64_t> SyncProbe::CountBetween(const std::filesystem::path& out, double from_s,
                                              double to_s) {
  std::ifstream in(out);
  if (!in) return IoError("BENCH_SYNC_PROBE", "perf wrote no file " + out.filename().string());
  std::stringstream text;
  text << in.rdbuf();
  return CountInText(text.str(), from_s, to_s);
}

}  // namespace tearline::bench
