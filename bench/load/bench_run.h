// One tearline-bench run: sets up the cluster, measures the baselines, drives the load in the
// chosen mode with a progress line, and collects what each process cost in the measured window.
// The CLI (bench/tearline_bench.cc) only parses options and prints; the smoke test calls RunBench
// directly.
//
// Thread-safety: RunBench blocks the caller; one run at a time per process is the intended use
// (runs share nothing, but two at once measure each other).
#ifndef TEARLINE_BENCH_LOAD_BENCH_RUN_H_
#define TEARLINE_BENCH_LOAD_BENCH_RUN_H_

#include <filesystem>
#include <ostream>
#include <string>

#include "bench_report.h"
#include "load_plan.h"
#include "tearline/base/status.h"

namespace tearline::bench {

struct BenchOptions {
  std::string mode = "broker";  // "broker" (broker-only) or "e2e" (through node daemons)
  int nodes = 4;
  LoadPlan plan;
  bool baselines = true;
  double baseline_seconds = 0.5;  // Per CPU/disk baseline.
  bool count_syncs = true;
  bool shipped_limits = false;    // See cluster.h: the broker's shipped per-node quotas.
  std::string broker_extra;       // More [broker] configuration lines.
  std::string node_extra;         // More [node] configuration lines.
  std::filesystem::path bin_dir;  // tearline-certs, -broker, -node.
  std::filesystem::path policy;
  std::filesystem::path dir;  // Parent of the run's directory; empty: the system temp dir.
  bool keep_dir = false;
};

// Errors: BENCH_OPTIONS for inconsistent options; BENCH_SETUP, BENCH_COMMAND and the drivers'
// errors otherwise. `progress` (may be null) receives a line about once a second.
Result<RunReport> RunBench(const BenchOptions& options, std::ostream* progress);

}  // namespace tearline::bench

#endif  // TEARLINE_BENCH_LOAD_BENCH_RUN_H_
