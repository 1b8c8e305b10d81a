// What a benchmark run asks of the system (LoadPlan), the counters a progress line reads while it
// runs (LiveCounters), and what a driver observed (LoadOutcome). Shared by the broker-only driver
// (wire_load.h) and the end-to-end driver (node_load.h).
//
// Thread-safety: LiveCounters are atomics, updated by the drivers' threads and read by the
// progress printer; LoadPlan and LoadOutcome are plain values.
#ifndef TEARLINE_BENCH_LOAD_LOAD_PLAN_H_
#define TEARLINE_BENCH_LOAD_LOAD_PLAN_H_

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tearline::bench {

struct LoadPlan {
  std::uint64_t reports = 1000;  // Reports in total, spread evenly over the sending nodes.
  double max_seconds = 60;       // Sending stops after this long (the rest is not counted).
  double rate = 0;               // Reports/s over all senders; 0: flat out.
  std::size_t size = 1024;       // Plaintext bytes per report (split over the portions).
  int portions = 1;
  int recipients = 1;                 // Copies per report: the next `recipients` nodes.
  int in_flight = 16;                 // Unanswered submits per sending node.
  std::uint64_t queue_depth = 0;      // Copies queued for an offline recipient before it connects.
  double drain_timeout_seconds = 60;  // Bound on waiting for deliveries and acknowledgements.
};

struct LiveCounters {
  std::atomic<std::uint64_t> submitted{0};
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> refused{0};
  std::atomic<std::uint64_t> delivered{0};  // Copies that reached a recipient's inbox.
  std::atomic<std::uint64_t> acknowledged{0};
};

using SteadyTime = std::chrono::steady_clock::time_point;

struct LoadOutcome {
  std::uint64_t submitted = 0;
  std::uint64_t accepted = 0;
  std::uint64_t refused = 0;
  std::string first_refusal;          // Reason and message of the first refusal, for the report.
  std::uint64_t expected_copies = 0;  // Copies the broker said it would deliver or queue.
  std::uint64_t delivered_copies = 0;
  std::uint64_t duplicate_copies = 0;  // A copy a recipient had already received.
  std::uint64_t acknowledged_copies = 0;
  SteadyTime start{};              // First submission.
  SteadyTime last_accept{};        // Last SubmitReply / send answer that accepted.
  SteadyTime last_delivery{};      // Last copy into an inbox.
  SteadyTime last_ack{};           // The broker had recorded every acknowledgement.
  std::vector<double> latency_ms;  // Per copy: submission to the recipient's durable inbox.
  // e2e, per copy: submission to the rename into the recipient's inbox, before its sync.
  std::vector<double> stored_latency_ms;

  // Queue drain (queue_depth > 0): copies queued while the recipient was offline, then drained.
  std::uint64_t drain_copies = 0;
  double drain_seconds = 0;
  std::uint64_t drain_broker_peak_rss_kib = 0;
};

}  // namespace tearline::bench

#endif  // TEARLINE_BENCH_LOAD_LOAD_PLAN_H_
