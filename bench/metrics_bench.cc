// What the broker's metrics cost, next to the work each audit record already costs, in the same
// run (CPU time):
//   BM_AppendBuffered   the baseline: AuditLog::AppendBuffered of a `denied` record (typed
//                       record -> JSON line, write, Merkle leaf), no fsync;
//   BM_Count            BrokerMetrics::Count of the same record (what the auditor's observer adds
//                       to every record);
//   BM_Render           one metrics page for a directory of 64 nodes with every counter family
//                       filled (written once per metrics_interval, not per record).
// The summary prints Count / AppendBuffered: the share the metrics add to each record.
//
// Run: build/bin/metrics_bench [--benchmark_min_time=0.3]
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "tearline/audit/audit_log.h"
#include "tearline/base/clock.h"
#include "tearline/broker/broker_metrics.h"

namespace {

namespace fs = std::filesystem;
using tearline::broker::BrokerGauges;
using tearline::broker::BrokerMetrics;

tearline::DeniedRecord Denied(std::uint64_t n) {
  tearline::DeniedRecord r;
  char id[33];
  std::snprintf(id, sizeof id, "%032llx", static_cast<unsigned long long>(n));
  r.report_id = id;
  r.originator = "usa-1";
  r.recipient = "gbr-1";
  r.nation = "GBR";
  r.portion = 1;
  r.label = "(S//NF)";
  r.reason = "NOFORN";
  r.explanation = "the portion is not releasable to foreign nationals";
  return r;
}

void BM_AppendBuffered(benchmark::State& state) {
  std::string tmpl = (fs::temp_directory_path() / "tearline-metrics-bench-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
  {
    auto log = tearline::AuditLog::Open(tmpl);
    if (!log.ok()) std::abort();
    std::uint64_t n = 0;
    const tearline::AnyAuditRecord record = Denied(n);
    for (auto _ : state) {
      auto seq = (*log)->AppendBuffered(record);
      benchmark::DoNotOptimize(seq);
      ++n;
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  }
  std::error_code ec;
  fs::remove_all(tmpl, ec);
}
BENCHMARK(BM_AppendBuffered);

void BM_Count(benchmark::State& state) {
  tearline::FakeClock clock;
  BrokerMetrics metrics(clock, {}, [] { return BrokerGauges{}; });
  const tearline::AnyAuditRecord record = Denied(1);
  for (auto _ : state) metrics.Count(record);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_Count);

void BM_Render(benchmark::State& state) {
  tearline::FakeClock clock;
  BrokerGauges gauges;
  for (int i = 0; i < 64; ++i) {
    const std::string node = "node-" + std::to_string(i);
    gauges.queue_depth[node] = static_cast<std::uint64_t>(i);
    gauges.last_cosignature[node] = clock.Now();
  }
  BrokerMetrics metrics(clock, {}, [&] { return gauges; });
  for (const char* reason : {"NOFORN", "NOT_RELEASABLE", "NO_NODE", "QUEUE_FULL"}) {
    tearline::DeniedRecord r = Denied(1);
    r.reason = reason;
    metrics.Count(r);
  }
  for (auto _ : state) {
    auto page = metrics.Render();
    benchmark::DoNotOptimize(page);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_Render)->Unit(benchmark::kMicrosecond);

class RecordingReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      if (r.run_type != Run::RT_Iteration || r.error_occurred) continue;
      if (auto it = r.counters.find("items_per_second"); it != r.counters.end()) {
        rates_[r.benchmark_name()] = it->second.value;
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }
  double Get(const std::string& name) const {
    auto it = rates_.find(name);
    return it == rates_.end() ? -1.0 : it->second;
  }

 private:
  std::map<std::string, double> rates_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  RecordingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  const double append = reporter.Get("BM_AppendBuffered");
  const double count = reporter.Get("BM_Count");
  const double render = reporter.Get("BM_Render");
  if (append > 0 && count > 0) {
    std::printf("\nRatio summary, same run, CPU time\n");
    std::printf("    metrics Count per record: %.1f%% of AppendBuffered's time\n",
                100.0 * append / count);
  }
  if (append > 0 && render > 0) {
    std::printf("    one page (64 nodes): the time of %.0f buffered appends\n", append / render);
  }
  benchmark::Shutdown();
  return 0;
}
