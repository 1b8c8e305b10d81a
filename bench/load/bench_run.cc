#include "bench_run.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <thread>

#include "baselines.h"
#include "cluster.h"
#include "curve_relay.h"
#include "node_load.h"
#include "process.h"
#include "sync_probe.h"
#include "wire_load.h"

namespace tearline::bench {
namespace {

using Clock = std::chrono::steady_clock;

Status OptionError(std::string message) {
  return InvalidArgument("BENCH_OPTIONS", std::move(message));
}

Status Check(const BenchOptions& o) {
  if (o.mode != "broker" && o.mode != "e2e") return OptionError("--mode is broker or e2e");
  if (o.nodes < 2) return OptionError("--nodes must be at least 2");
  if (o.plan.recipients < 1 || o.plan.recipients > o.nodes - 1) {
    return OptionError("--recipients must be between 1 and --nodes - 1");
  }
  if (o.plan.portions < 1 || o.plan.portions > 64) return OptionError("--portions is 1 to 64");
  if (o.plan.size < static_cast<std::size_t>(o.plan.portions)) {
    return OptionError("--size must give every portion at least one byte");
  }
  if (o.plan.size > (std::size_t{16} << 20) - (std::size_t{64} << 10)) {
    return OptionError("--size must leave room for the envelope within the 16 MiB report cap");
  }
  if (o.plan.in_flight < 1) return OptionError("--in-flight must be at least 1");
  return {};
}

struct Before {
  pid_t pid = -1;
  ProcSample sample;
};

Baselines MeasureBaselines(const BenchOptions& o, const std::filesystem::path& dir) {
  Baselines b;
  b.ed25519_verify_per_s = Ed25519VerifyRate(o.baseline_seconds);
  b.sha256_mib_per_s = Sha256MibRate(o.baseline_seconds);
  if (auto f = FdatasyncRate(dir, o.baseline_seconds); f.ok()) b.fdatasync_per_s = *f;
  if (auto f = AppendFdatasyncRate(dir, o.baseline_seconds); f.ok()) {
    b.append_fdatasync_per_s = *f;
  }
  b.filesystem = FilesystemType(dir);
  // The relay carries messages of about a sealed report's size, in about the same number.
  const std::size_t message = o.plan.size + 512;
  const std::uint64_t by_bytes = (std::uint64_t{256} << 20) / message;
  const std::uint64_t count = std::clamp<std::uint64_t>(by_bytes, 64, 20000);
  if (auto r = RelayRate(message, std::max(1, std::min(o.nodes, 4)), count); r.ok()) {
    b.relay_msgs_per_s = r->msgs_per_s;
    b.relay_mib_per_s = r->mib_per_s;
  }
  return b;
}

}  // namespace

Result<RunReport> RunBench(const BenchOptions& options, std::ostream* progress) {
  TEARLINE_RETURN_IF_ERROR(Check(options));
  ClusterOptions co;
  co.nodes = options.nodes;
  co.bin_dir = options.bin_dir;
  co.policy = options.policy;
  co.parent_dir = options.dir;
  co.keep_dir = options.keep_dir;
  co.shipped_limits = options.shipped_limits;
  co.broker_extra = options.broker_extra;
  co.node_extra = options.node_extra;
  co.probe = options.count_syncs ? SyncProbe::Detect()
                                 : SyncProbe::Disabled("sync counting switched off (--no-syncs)");
  TEARLINE_ASSIGN_OR_RETURN(std::unique_ptr<Cluster> cluster, Cluster::Create(co));
  if (progress != nullptr && options.keep_dir)
    *progress << "run directory: " << cluster->root().string() << "\n";
  TEARLINE_RETURN_IF_ERROR(cluster->StartBroker());
  if (options.mode == "e2e") {
    for (const auto& node : cluster->nodes()) TEARLINE_RETURN_IF_ERROR(cluster->StartNode(node.id));
  }

  RunReport report;
  // Other work on the machine skews every figure; the run records how busy it was.
  if (std::ifstream loadavg("/proc/loadavg"); !(loadavg >> report.load_average)) {
    report.load_average = -1;
  }
  if (options.baselines) {
    if (progress != nullptr) *progress << "measuring baselines...\n";
    report.baselines = MeasureBaselines(options, cluster->root());
  }

  // What each process had cost before the window, taken when the main phase starts.
  std::map<std::string, Before> before;
  Before self;
  auto window_start = Clock::now();
  const auto start_window = [&] {
    for (Process* p : cluster->processes()) {
      Before b;
      b.pid = p->target_pid();
      if (auto s = ReadProcSample(b.pid); s.ok()) b.sample = *s;
      before[p->name()] = b;
    }
    self.pid = ::getpid();
    if (auto s = ReadProcSample(self.pid); s.ok()) self.sample = *s;
    window_start = Clock::now();
  };
  LiveCounters live;
  std::atomic<bool> running{true};
  const auto ticker_start = Clock::now();
  std::thread ticker([&] {
    auto next = ticker_start + std::chrono::seconds(1);
    while (running.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (Clock::now() < next || progress == nullptr) continue;
      next += std::chrono::seconds(1);
      *progress << "progress: "
                << std::chrono::duration<double>(Clock::now() - ticker_start).count()
                << " s  submitted " << live.submitted << "  accepted " << live.accepted
                << "  refused " << live.refused << "  delivered " << live.delivered
                << "  acknowledged " << live.acknowledged << std::endl;
    }
  });
  Result<LoadOutcome> outcome = options.mode == "e2e"
                                    ? RunEndToEnd(*cluster, options.plan, live, start_window)
                                    : RunBrokerOnly(*cluster, options.plan, live, start_window);
  running = false;
  ticker.join();
  if (!outcome.ok()) return outcome.status();
  const auto window_end = Clock::now();
  // Let the sync probes write the interval that holds the window's end.
  std::this_thread::sleep_for(std::chrono::milliseconds(250));

  const LoadOutcome& out = *outcome;
  report.mode = options.mode;
  report.nodes = options.nodes;
  report.rate = options.plan.rate;
  report.reports = options.plan.reports;
  report.size = options.plan.size;
  report.portions = options.plan.portions;
  report.recipients = options.plan.recipients;
  report.queue_depth = options.plan.queue_depth;
  report.submitted = out.submitted;
  report.accepted = out.accepted;
  report.refused = out.refused;
  report.first_refusal = out.first_refusal;
  report.expected_copies = out.expected_copies;
  report.delivered_copies = out.delivered_copies;
  report.duplicate_copies = out.duplicate_copies;
  report.acknowledged_copies = out.acknowledged_copies;
  const auto since_start = [&](SteadyTime t) {
    return out.start == SteadyTime{} || t < out.start
               ? 0.0
               : std::chrono::duration<double>(t - out.start).count();
  };
  report.accept_seconds = since_start(out.last_accept);
  report.deliver_seconds = since_start(out.last_delivery);
  report.ack_seconds = since_start(out.last_ack);
  const auto per_s = [](double n, double s) { return s > 0 ? n / s : 0.0; };
  report.accepted_per_s = per_s(static_cast<double>(out.accepted), report.accept_seconds);
  report.accepted_mib_per_s =
      report.accepted_per_s * static_cast<double>(options.plan.size) / (1024.0 * 1024.0);
  report.delivered_per_s = per_s(static_cast<double>(out.delivered_copies), report.deliver_seconds);
  report.acknowledged_per_s =
      per_s(static_cast<double>(out.acknowledged_copies), report.ack_seconds);
  report.latency = Summarize(out.latency_ms);
  report.stored_latency = Summarize(out.stored_latency_ms);
  report.drain_copies = out.drain_copies;
  report.drain_per_s = per_s(static_cast<double>(out.drain_copies), out.drain_seconds);
  report.drain_broker_peak_rss_kib = out.drain_broker_peak_rss_kib;
  if (!co.probe.available()) report.syncs_unavailable = co.probe.why();

  for (Process* p : cluster->processes()) {
    ProcessCost cost;
    cost.name = p->name();
    const pid_t pid = p->target_pid();
    auto now = ReadProcSample(pid);
    if (!now.ok()) continue;
    auto it = before.find(p->name());
    // A daemon restarted during the run (queue drain) is measured over its new life.
    const ProcSample base =
        it != before.end() && it->second.pid == pid ? it->second.sample : ProcSample{};
    cost.cpu_seconds = now->cpu_seconds - base.cpu_seconds;
    cost.write_bytes = now->write_bytes - base.write_bytes;
    cost.peak_rss_kib = now->peak_rss_kib;
    if (co.probe.available()) {
      const double from = std::chrono::duration<double>(window_start - p->started()).count();
      const double to = std::chrono::duration<double>(window_end - p->started()).count();
      auto syncs = SyncProbe::CountBetween(cluster->SyncFile(p->name()), from, to);
      if (syncs.ok()) {
        cost.syncs = *syncs;
      } else {
        report.syncs_unavailable = syncs.status().message();
      }
    }
    report.processes.push_back(cost);
  }
  if (auto now = ReadProcSample(self.pid); now.ok()) {
    ProcessCost cost;
    cost.name = "bench";
    cost.cpu_seconds = now->cpu_seconds - self.sample.cpu_seconds;
    cost.write_bytes = now->write_bytes - self.sample.write_bytes;
    cost.peak_rss_kib = now->peak_rss_kib;
    report.processes.push_back(cost);
  }
  return report;
}

}  // namespace tearline::bench
