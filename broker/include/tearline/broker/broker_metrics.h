// BrokerMetrics: the broker's metrics page in the Prometheus text format (PrometheusText),
// written to a file for node_exporter's textfile collector.
//
// Counters are derived from the audit records the broker writes (Count() sees every record the
// Auditor appends), so the page never disagrees with the log it summarises: accepted reports,
// forwards, deliveries, queued, acknowledged, expired and failed copies, denials by reason,
// refusals by kind and reason, refusals by the limit that caused them (every reason the registry
// classes RESOURCE_EXHAUSTED: RATE_LIMITED, CONNECTION_LIMIT, BROKER_BUSY, SENDER_*_QUOTA,
// QUEUE_FULL, STORAGE_FULL, ...) and records by type. A throttled refusal record counts itself
// plus the refusals it says were suppressed before it; refusals after a node's last record are
// counted when its next record is written (the audit log holds no more either). A reason label
// is the reason code when the registry knows it, else OTHER: a node cannot grow the page with
// reason strings of its own. Counters start at zero when the broker starts (Prometheus treats
// the drop as a counter reset; tearline_broker_start_time_seconds tells when).
//
// Gauges are read from the broker's units each time the page is rendered (GaugeSampler): queue
// depth per recipient, audit log size in bytes and records, the size and age of the last signed
// checkpoint, the age of each directory node's last cosignature, online sessions and uptime. An
// age counts from the broker's start while nothing happened since (a witness that never
// cosigns grows old like one that stopped).
//
// MaybeWrite() renders and replaces the file every `interval` of the injected clock: the page
// is written to FILE.tmp (mode 0644: node_exporter runs as another user; the page holds counts,
// node ids and reason codes, never content or keys) and renamed over FILE, so the collector
// never reads half a page. No fsync: a page lost in a crash is rewritten one interval later.
// A failed write is logged (event=metrics_write_failed, once until a write succeeds again) and
// never stops the broker.
//
// Ownership: owns the counters; the sampler's captures must outlive it. Thread-safety: Count()
// may be called from any thread (the ZAP thread audits refused connections); Render() and
// MaybeWrite() from one thread (the broker's loop).
#ifndef TEARLINE_BROKER_BROKER_METRICS_H_
#define TEARLINE_BROKER_BROKER_METRICS_H_

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "tearline/audit/audit_record_types.h"
#include "tearline/base/clock.h"
#include "tearline/base/prometheus_text.h"
#include "tearline/base/status.h"

namespace tearline {
class AuditLog;
class Directory;
}  // namespace tearline

namespace tearline::broker {

class LogService;
class ReportStore;
class Sessions;

struct MetricsOptions {
  std::filesystem::path file;  // Empty: no page is written (Count still counts).
  std::chrono::seconds interval{15};
};

// What the page shows besides the counters, read when it is rendered.
struct BrokerGauges {
  std::map<std::string, std::uint64_t> queue_depth;  // Recipient -> pending copies.
  std::uint64_t audit_log_bytes = 0;
  std::uint64_t audit_log_records = 0;
  std::uint64_t checkpoint_size = 0;  // Records the latest signed checkpoint covers.
  std::optional<Clock::TimePoint> last_checkpoint;
  // Every directory node -> its last valid cosignature since start (nullopt: none).
  std::map<std::string, std::optional<Clock::TimePoint>> last_cosignature;
  std::uint64_t nodes_online = 0;
};
using GaugeSampler = std::function<BrokerGauges()>;

// The broker's sampler: reads only in-memory state and one stat() of the log file.
GaugeSampler BrokerGaugeSampler(ReportStore& store, const AuditLog& log,
                                const LogService& log_service, const Directory& directory,
                                const Sessions& sessions);

class BrokerMetrics {
 public:
  BrokerMetrics(const Clock& clock, MetricsOptions options, GaugeSampler sample);
  BrokerMetrics(const BrokerMetrics&) = delete;
  BrokerMetrics& operator=(const BrokerMetrics&) = delete;

  // Counts one appended audit record.
  void Count(const AnyAuditRecord& record);
  // The page now. Errors: METRIC_INVALID (a bug; the page is not written).
  Result<std::string> Render() const;
  // Writes the page when `interval` has passed since the last write (or `force`), when a file
  // is configured. Returns whether a page was written.
  bool MaybeWrite(bool force = false);

 private:
  const Clock& clock_;
  const MetricsOptions options_;
  const GaugeSampler sample_;
  const Clock::TimePoint started_;
  const std::int64_t started_unix_;
  mutable std::mutex mu_;
  PrometheusText counters_;  // Guarded by mu_.
  std::optional<Clock::TimePoint> last_write_;
  bool write_failing_ = false;  // A failure was logged; the next success is logged too.
};

}  // namespace tearline::broker

#endif  // TEARLINE_BROKER_BROKER_METRICS_H_
