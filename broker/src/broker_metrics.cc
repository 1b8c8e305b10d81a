#include "tearline/broker/broker_metrics.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

#include "tearline/audit/audit_log.h"
#include "tearline/base/reasons.h"
#include "tearline/broker/log_service.h"
#include "tearline/broker/report_store.h"
#include "tearline/broker/sessions.h"
#include "tearline/identity/directory.h"

namespace tearline::broker {
namespace {

struct Family {
  const char* name;
  MetricType type;
  const char* help;
  bool labelled = false;
};

// Every family the page has, declared up front so an unlabelled counter reads 0 from the start.
constexpr Family kFamilies[] = {
    {"tearline_broker_reports_accepted_total", MetricType::kCounter,
     "Reports accepted (audit records `accepted`)."},
    {"tearline_broker_forwards_accepted_total", MetricType::kCounter,
     "Forwards accepted (audit records `forwarded`)."},
    {"tearline_broker_deliveries_total", MetricType::kCounter,
     "Copies handed to their recipient's connection (audit records `delivered`)."},
    {"tearline_broker_copies_queued_total", MetricType::kCounter,
     "Copies queued for an offline or busy recipient (audit records `queued`)."},
    {"tearline_broker_acknowledgements_total", MetricType::kCounter,
     "Copies acknowledged by their recipient (audit records `acknowledged`)."},
    {"tearline_broker_copies_expired_total", MetricType::kCounter,
     "Pending copies removed because the report expired (audit records `expired`)."},
    {"tearline_broker_copies_failed_total", MetricType::kCounter,
     "Copies given up after permanent refusals by the recipient (audit records `failed`)."},
    {"tearline_broker_denials_total", MetricType::kCounter,
     "Recipients or portions denied by policy or limits, by reason (audit records `denied`).",
     true},
    {"tearline_broker_refusals_total", MetricType::kCounter,
     "Refused input by kind (input, connection, forward) and reason, suppressed refusals "
     "included.",
     true},
    {"tearline_broker_limit_refusals_total", MetricType::kCounter,
     "Refusals and denials caused by a limit (a RESOURCE_EXHAUSTED reason), by that reason.", true},
    {"tearline_broker_audit_records_written_total", MetricType::kCounter,
     "Audit records written since start, by type.", true},
    {"tearline_broker_queue_depth", MetricType::kGauge,
     "Pending (unacknowledged) copies per recipient."},
    {"tearline_broker_audit_log_bytes", MetricType::kGauge, "Size of the audit log file."},
    {"tearline_broker_audit_log_records", MetricType::kGauge, "Records in the audit log."},
    {"tearline_broker_checkpoint_size", MetricType::kGauge,
     "Records covered by the latest signed checkpoint."},
    {"tearline_broker_checkpoint_age_seconds", MetricType::kGauge,
     "Seconds since the broker last signed a checkpoint."},
    {"tearline_broker_cosignature_age_seconds", MetricType::kGauge,
     "Seconds since the witness's last valid cosignature (since start when none)."},
    {"tearline_broker_nodes_online", MetricType::kGauge,
     "Nodes welcomed and heard from within three heartbeats."},
    {"tearline_broker_uptime_seconds", MetricType::kGauge, "Seconds since the broker started."},
    {"tearline_broker_start_time_seconds", MetricType::kGauge,
     "Unix time the broker started (counters restart from zero then)."},
};

// A reason the registry knows, else OTHER: labels must stay few whatever a node sends.
std::string ReasonLabel(std::string_view code) {
  return FindReason(code) != nullptr ? std::string(code) : "OTHER";
}

bool IsLimit(std::string_view code) {
  const ReasonInfo* info = FindReason(code);
  return info != nullptr && info->status_class == Code::kResourceExhausted;
}

double Seconds(Clock::Duration d) { return std::chrono::duration<double>(d).count(); }

// Replaces `path` with `text` through a temporary file and rename(2), without fsync.
Status ReplaceFile(const std::filesystem::path& path, const std::string& text) {
  const std::string tmp = path.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("FILE_WRITE", tmp + ": " + std::strerror(errno));
  std::size_t done = 0;
  int error = ::fchmod(fd, 0644) == 0 ? 0 : errno;  // The daemon's umask may be 0077.
  while (error == 0 && done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      error = errno;
    else
      done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0 && error == 0) error = errno;
  if (error == 0 && ::rename(tmp.c_str(), path.c_str()) != 0) error = errno;
  if (error != 0) {
    ::unlink(tmp.c_str());
    return IoError("FILE_WRITE", path.string() + ": " + std::strerror(error));
  }
  return Status::Ok();
}

}  // namespace

GaugeSampler BrokerGaugeSampler(ReportStore& store, const AuditLog& log,
                                const LogService& log_service, const Directory& directory,
                                const Sessions& sessions) {
  return [&store, &log, &log_service, &directory, &sessions] {
    BrokerGauges g;
    for (const auto& [id, cert] : directory.nodes()) {
      auto depth = store.PendingCount(id);  // In memory: the store keeps its counts.
      g.queue_depth[id] = depth.ok() ? *depth : 0;
      auto cosigned = log_service.last_cosignatures().find(id);
      g.last_cosignature[id] = cosigned == log_service.last_cosignatures().end()
                                   ? std::nullopt
                                   : std::optional<Clock::TimePoint>(cosigned->second);
    }
    std::error_code ec;
    const auto bytes = std::filesystem::file_size(log.path(), ec);
    g.audit_log_bytes = ec ? 0 : bytes;
    g.audit_log_records = log.size();
    g.checkpoint_size = log.checkpoint_size();
    g.last_checkpoint = log_service.last_checkpoint();
    g.nodes_online = sessions.OnlineNodes().size();
    return g;
  };
}

BrokerMetrics::BrokerMetrics(const Clock& clock, MetricsOptions options, GaugeSampler sample)
    : clock_(clock),
      options_(std::move(options)),
      sample_(std::move(sample)),
      started_(clock.Now()),
      started_unix_(clock.UnixNow()) {
  for (const Family& f : kFamilies) {
    (void)counters_.Declare(f.name, f.type, f.help);  // Constant, valid names (tested).
    // An unlabelled counter reads 0 before its first record; a labelled one appears with it.
    if (f.type == MetricType::kCounter && !f.labelled) (void)counters_.Set(f.name, {}, 0);
  }
}

void BrokerMetrics::Count(const AnyAuditRecord& record) {
  const std::string_view type = AuditRecordTypeName(record);
  const AuditRecordKeys keys = KeysOf(record);
  const std::string reason = keys.reason ? ReasonLabel(*keys.reason) : "";
  // A throttled refusal stands for itself and the refusals not written before it.
  const double weight = 1.0 + static_cast<double>(std::visit(
                                  [](const auto& r) -> std::uint64_t {
                                    using T = std::decay_t<decltype(r)>;
                                    if constexpr (std::is_same_v<T, RejectedInputRecord> ||
                                                  std::is_same_v<T, ConnectionRefusedRecord>) {
                                      return r.suppressed.value_or(0);
                                    } else {
                                      return 0;
                                    }
                                  },
                                  record));
  const char* counter = nullptr;
  const char* refusal_kind = nullptr;
  if (type == AcceptedRecord::kType) counter = "tearline_broker_reports_accepted_total";
  if (type == ForwardedRecord::kType) counter = "tearline_broker_forwards_accepted_total";
  if (type == DeliveredRecord::kType) counter = "tearline_broker_deliveries_total";
  if (type == QueuedRecord::kType) counter = "tearline_broker_copies_queued_total";
  if (type == AcknowledgedRecord::kType) counter = "tearline_broker_acknowledgements_total";
  if (type == ExpiredRecord::kType) counter = "tearline_broker_copies_expired_total";
  if (type == FailedRecord::kType) counter = "tearline_broker_copies_failed_total";
  if (type == RejectedInputRecord::kType) refusal_kind = "input";
  if (type == ConnectionRefusedRecord::kType) refusal_kind = "connection";
  if (type == ForwardRefusedRecord::kType) refusal_kind = "forward";

  std::lock_guard<std::mutex> lock(mu_);
  (void)counters_.Add("tearline_broker_audit_records_written_total", {{"type", std::string(type)}},
                      1);
  if (counter != nullptr) (void)counters_.Add(counter, {}, 1);
  if (type == DeniedRecord::kType) {
    (void)counters_.Add("tearline_broker_denials_total", {{"reason", reason}}, 1);
  }
  if (refusal_kind != nullptr) {
    (void)counters_.Add("tearline_broker_refusals_total",
                        {{"kind", refusal_kind}, {"reason", reason}}, weight);
  }
  if ((refusal_kind != nullptr || type == DeniedRecord::kType) && keys.reason &&
      IsLimit(*keys.reason)) {
    (void)counters_.Add("tearline_broker_limit_refusals_total", {{"limit", reason}}, weight);
  }
}

Result<std::string> BrokerMetrics::Render() const {
  PrometheusText page;
  {
    std::lock_guard<std::mutex> lock(mu_);
    page = counters_;
  }
  const BrokerGauges g = sample_ ? sample_() : BrokerGauges{};
  const Clock::TimePoint now = clock_.Now();
  auto age = [&](const std::optional<Clock::TimePoint>& since) {
    return Seconds(now - since.value_or(started_));
  };
  for (const auto& [node, depth] : g.queue_depth) {
    TEARLINE_RETURN_IF_ERROR(
        page.Set("tearline_broker_queue_depth", {{"recipient", node}}, static_cast<double>(depth)));
  }
  for (const auto& [node, when] : g.last_cosignature) {
    TEARLINE_RETURN_IF_ERROR(
        page.Set("tearline_broker_cosignature_age_seconds", {{"witness", node}}, age(when)));
  }
  TEARLINE_RETURN_IF_ERROR(
      page.Set("tearline_broker_audit_log_bytes", {}, static_cast<double>(g.audit_log_bytes)));
  TEARLINE_RETURN_IF_ERROR(
      page.Set("tearline_broker_audit_log_records", {}, static_cast<double>(g.audit_log_records)));
  TEARLINE_RETURN_IF_ERROR(
      page.Set("tearline_broker_checkpoint_size", {}, static_cast<double>(g.checkpoint_size)));
  TEARLINE_RETURN_IF_ERROR(
      page.Set("tearline_broker_checkpoint_age_seconds", {}, age(g.last_checkpoint)));
  TEARLINE_RETURN_IF_ERROR(
      page.Set("tearline_broker_nodes_online", {}, static_cast<double>(g.nodes_online)));
  TEARLINE_RETURN_IF_ERROR(page.Set("tearline_broker_uptime_seconds", {}, Seconds(now - started_)));
  TEARLINE_RETURN_IF_ERROR(
      page.Set("tearline_broker_start_time_seconds", {}, static_cast<double>(started_unix_)));
  return page.Render();
}

bool BrokerMetrics::MaybeWrite(bool force) {
  if (options_.file.empty()) return false;
  const Clock::TimePoint now = clock_.Now();
  if (!force && last_write_ && now - *last_write_ < options_.interval) return false;
  last_write_ = now;  // Also after a failure: a broken disk is tried once an interval.
  auto page = Render();
  Status st = page.ok() ? ReplaceFile(options_.file, *page) : page.status();
  if (!st.ok()) {
    if (!write_failing_) {
      spdlog::warn("event=metrics_write_failed reason={} detail=\"{}\"", st.reason(), st.message());
    }
    write_failing_ = true;
    return false;
  }
  if (write_failing_) spdlog::info("event=metrics_write_resumed");
  write_failing_ = false;
  return true;
}

}  // namespace tearline::broker
