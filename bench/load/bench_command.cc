#include "bench_command.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <fstream>
#include <sstream>
#include <vector>

#include "bench_run.h"
#include "tearline/cli/command_line.h"
#include "tearline/labels/policy.h"

namespace tearline::bench {
namespace {

constexpr const char* kProgram = "tearline-bench";
// The largest plaintext that still fits the 16 MiB report cap with its envelope.
constexpr std::size_t kMaxSize = (std::size_t{16} << 20) - (std::size_t{64} << 10);

std::filesystem::path OwnDirectory() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::current_path() : exe.parent_path();
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The runs of a --sweep: each a copy of `base` with one dimension changed. Report counts shrink
// for large reports so that a step moves at most about 256 MiB.
std::vector<BenchOptions> Sweep(const BenchOptions& base, const std::string& what) {
  std::vector<BenchOptions> runs;
  const auto add = [&](auto change) {
    BenchOptions o = base;
    change(o);
    runs.push_back(o);
  };
  if (what == "size") {
    for (std::size_t size : {std::size_t{1} << 10, std::size_t{16} << 10, std::size_t{256} << 10,
                             std::size_t{1} << 20, std::size_t{4} << 20, kMaxSize}) {
      add([&](BenchOptions& o) {
        o.plan.size = size;
        o.plan.reports =
            std::clamp<std::uint64_t>((std::uint64_t{256} << 20) / size, 16, base.plan.reports);
      });
    }
  } else if (what == "portions") {
    for (int p : {1, 4, 16, 64}) add([&](BenchOptions& o) { o.plan.portions = p; });
  } else if (what == "recipients") {
    for (int r : {1, 4, 16, 64}) {
      add([&](BenchOptions& o) {
        o.plan.recipients = r;
        o.nodes = std::max(o.nodes, r + 1);
      });
    }
  } else if (what == "nodes") {
    for (int n : {2, 4, 8, 16, 32}) {
      add([&](BenchOptions& o) {
        o.nodes = n;
        o.plan.recipients = std::min(o.plan.recipients, n - 1);
      });
    }
  } else if (what == "queue") {
    for (std::uint64_t q : {std::uint64_t{0}, std::uint64_t{1000}, std::uint64_t{10000}}) {
      add([&](BenchOptions& o) { o.plan.queue_depth = q; });
    }
  }
  return runs;
}

// Every submitted report accepted and every expected copy in its inbox. A copy the broker sent
// again (its acknowledgement was late) is counted as a duplicate but is legal: the recipient
// keeps one.
bool Delivered(const RunReport& r) {
  return r.delivered_copies == r.expected_copies && r.refused == 0 && r.accepted == r.submitted;
}

}  // namespace

int RunBenchCommand(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  BenchOptions o;
  o.bin_dir = OwnDirectory();
  o.policy = DefaultPolicyPath();
  std::string json_path, sweep, bin_dir, policy, dir;
  std::vector<std::string> markdown_from;
  bool markdown = false, no_baselines = false, no_syncs = false;
  double seconds = 0;
  std::uint64_t reports = 0;

  CLI::App app{
      "Tearline's load generator: starts a broker and N nodes on 127.0.0.1 in a temporary "
      "directory and measures throughput, latency, syncs, bytes written, CPU and memory, next "
      "to this machine's baselines measured in the same run (see docs/PERFORMANCE.md).",
      kProgram};
  app.add_option("--mode", o.mode,
                 "broker: in-process wire senders against the real broker; "
                 "e2e: through the real node daemons")
      ->check(CLI::IsMember({"broker", "e2e"}));
  app.add_option("--nodes", o.nodes, "benchmark nodes (default 4)");
  app.add_option("--rate", o.plan.rate, "reports/s over all senders; 0 = flat out (default)");
  app.add_option("--reports", reports, "reports in total (default 2000 broker, 500 e2e)");
  app.add_option("--seconds", seconds, "stop sending after this long (default: no limit)");
  app.add_option("--size", o.plan.size, "plaintext bytes per report (default 1024)");
  app.add_option("--portions", o.plan.portions, "portions per report, 1 to 64 (default 1)");
  app.add_option("--recipients", o.plan.recipients, "recipient nodes per report (default 1)");
  app.add_option("--queue-depth", o.plan.queue_depth,
                 "copies to queue for an offline recipient first, then time its drain");
  app.add_option("--in-flight", o.plan.in_flight, "unanswered submits per sending node (16)");
  app.add_option("--json", json_path, "write the run's result as JSON to this file");
  app.add_flag("--markdown", markdown, "print the result as a Markdown table row");
  app.add_option("--markdown-from", markdown_from,
                 "print a Markdown table of these --json files and exit");
  app.add_option("--sweep", sweep, "run a series: size, portions, recipients, nodes or queue")
      ->check(CLI::IsMember({"size", "portions", "recipients", "nodes", "queue"}));
  app.add_flag("--no-baselines", no_baselines, "skip the baselines (ratios print n/a)");
  app.add_option("--baseline-seconds", o.baseline_seconds, "time per baseline (default 0.5)");
  app.add_flag("--no-syncs", no_syncs, "do not count sync calls (no perf wrapper)");
  app.add_flag("--shipped-limits", o.shipped_limits,
               "keep the broker's shipped per-node quotas instead of raising them");
  app.add_option("--broker-config", o.broker_extra,
                 "more [broker] lines, e.g. 'delivery_window = 64'");
  app.add_option("--node-config", o.node_extra, "more [node] lines");
  app.add_option("--bin-dir", bin_dir,
                 "where tearline-certs/-broker/-node are (default: beside this program)");
  app.add_option("--policy", policy, "coalition policy (default: the shipped one)");
  app.add_option("--dir", dir, "parent of the run's directory (default: the system temp dir)");
  app.add_flag("--keep", o.keep_dir, "keep the run's directory (logs, data) for a post-mortem");
  if (auto code = cli::ParseCommandLine(app, argc, argv, out, err)) return *code;

  if (!markdown_from.empty()) {
    std::vector<RunReport> rows;
    for (const auto& path : markdown_from) {
      auto r = FromJson(ReadAll(path));
      if (!r.ok()) return cli::Fail(err, kProgram, r.status());
      rows.push_back(*r);
    }
    out << ToMarkdown(rows);
    return 0;
  }
  if (!bin_dir.empty()) o.bin_dir = bin_dir;
  if (!policy.empty()) o.policy = policy;
  if (!dir.empty()) o.dir = dir;
  o.baselines = !no_baselines;
  o.count_syncs = !no_syncs;
  o.plan.reports = reports > 0 ? reports : (o.mode == "e2e" ? 500 : 2000);
  o.plan.max_seconds = seconds > 0 ? seconds : 3600;
  if (o.plan.size > kMaxSize) o.plan.size = kMaxSize;

  std::vector<BenchOptions> runs = sweep.empty() ? std::vector<BenchOptions>{o} : Sweep(o, sweep);
  std::vector<RunReport> results;
  bool all_delivered = true;
  for (const auto& run : runs) {
    auto r = RunBench(run, &err);
    if (!r.ok()) return cli::Fail(err, kProgram, r.status());
    out << ToText(*r);
    all_delivered = all_delivered && Delivered(*r);
    results.push_back(*r);
  }
  if (markdown || !sweep.empty()) out << "\n" << ToMarkdown(results);
  if (!json_path.empty()) {
    std::ofstream f(json_path);
    if (results.size() == 1) {
      f << ToJson(results.front());
    } else {
      // A sweep writes one file per run: NAME.json -> NAME-1.json, NAME-2.json, ...
      f.close();
      std::filesystem::remove(json_path);
      const std::filesystem::path base(json_path);
      for (std::size_t i = 0; i < results.size(); ++i) {
        auto path = base.parent_path() / (base.stem().string() + "-" + std::to_string(i + 1) +
                                          base.extension().string());
        std::ofstream(path) << ToJson(results[i]);
      }
    }
  }
  if (!all_delivered) {
    err << kProgram
        << ": error: DELIVERY: a report was refused or an expected copy never arrived\n";
    return 1;
  }
  return 0;
}

}  // namespace tearline::bench
