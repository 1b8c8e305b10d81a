// The result of one benchmark run: what was asked, what each process cost, the baselines, and
// the ratios that compare them; written as a human summary, as JSON (--json), and as Markdown
// table rows made from one or more JSON files (--markdown), which is how docs/PERFORMANCE.md's
// tables are regenerated.
//
// Thread-safety: plain values and pure functions.
#ifndef TEARLINE_BENCH_LOAD_BENCH_REPORT_H_
#define TEARLINE_BENCH_LOAD_BENCH_REPORT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "baselines.h"
#include "tearline/base/status.h"

namespace tearline::bench {

struct LatencySummary {
  std::uint64_t count = 0;
  double p50_ms = 0, p90_ms = 0, p99_ms = 0, max_ms = 0;
};
// Nearest-rank percentiles of `ms` (empty: all zero).
LatencySummary Summarize(std::vector<double> ms);

struct ProcessCost {
  std::string name;  // "broker", a node id, or "bench" (this process: the load generator)
  double cpu_seconds = 0;
  std::uint64_t write_bytes = 0;
  std::uint64_t peak_rss_kib = 0;
  std::optional<std::uint64_t> syncs;  // Unset: not counted (see syncs_unavailable).
};

struct RunReport {
  // What was asked.
  std::string mode;  // "broker" or "e2e"
  int nodes = 0;
  double rate = 0;  // 0: flat out
  std::uint64_t reports = 0;
  std::uint64_t size = 0;
  int portions = 0;
  int recipients = 0;
  std::uint64_t queue_depth = 0;

  // What happened.
  std::uint64_t submitted = 0, accepted = 0, refused = 0;
  std::string first_refusal;
  std::uint64_t expected_copies = 0, delivered_copies = 0, duplicate_copies = 0;
  std::uint64_t acknowledged_copies = 0;
  double accept_seconds = 0;   // First submission to the last acceptance.
  double deliver_seconds = 0;  // First submission to the last copy in an inbox.
  double ack_seconds = 0;      // First submission to the broker recording every acknowledgement.
  double accepted_per_s = 0, delivered_per_s = 0, acknowledged_per_s = 0;
  double accepted_mib_per_s = 0;
  LatencySummary latency;         // To the recipient's durable inbox (e2e) or the Deliver read.
  LatencySummary stored_latency;  // e2e: to the rename into the inbox, before the recipient's sync.
  std::vector<ProcessCost> processes;
  std::string syncs_unavailable;  // Why sync counts are n/a; empty when counted.

  // Queue drain.
  std::uint64_t drain_copies = 0;
  double drain_per_s = 0;
  std::uint64_t drain_broker_peak_rss_kib = 0;

  Baselines baselines;
  double load_average = -1;  // 1-minute load average when the run started (-1: unknown).

  // Derived.
  std::optional<double> BrokerSyncsPerReport() const;
  // Node daemons' syncs per report handled at a node (e2e): a report is handled once by its
  // sender and once by each recipient, so this is total / (accepted * (1 + recipients)).
  std::optional<double> NodeSyncsPerReport() const;
  double BrokerBytesPerReportByte() const;
  // Reports fully acknowledged per second: acknowledged copies/s over copies per report, so it
  // compares with accepted_per_s whatever the number of recipients.
  double AcknowledgedReportsPerS() const;
  // Durable hops on the measured path: the broker's; end to end also the sender's outbox and
  // the recipient's inbox.
  int DurableHops() const { return mode == "e2e" ? 3 : 1; }
  // The durable-write floor of the measured path, in ms: one append that grows a file plus its
  // fdatasync per durable hop, in sequence (each hop stores new data; on ext4 that commits the
  // journal). Without the append baseline (files of older versions): the overwrite floor.
  double DurableFloorMs() const;
  // One 4 KiB overwrite + fdatasync per durable hop: a lower figure that no hop storing new
  // data reaches, kept for comparison with earlier runs.
  double OverwriteFloorMs() const;
};

std::string ToJson(const RunReport& r);
Result<RunReport> FromJson(const std::string& text);
// The human summary, with the ratios.
std::string ToText(const RunReport& r);
// A Markdown table (header + one row per report) of the figures docs/PERFORMANCE.md shows.
std::string ToMarkdown(const std::vector<RunReport>& reports);

}  // namespace tearline::bench

#endif  // TEARLINE_BENCH_LOAD_BENCH_REPORT_H_
