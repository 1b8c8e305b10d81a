#include "tearline/broker/auditor.h"

#include <spdlog/spdlog.h>

#include <utility>
#include <variant>

#include "tearline/audit/audit_log.h"
#include "tearline/audit/audit_records.h"
#include "tearline/base/encoding.h"
#include "tearline/broker/provenance_gate.h"

namespace tearline::broker {
namespace {

std::vector<AcceptedPortion> AcceptedPortionsOf(const ReportView& view) {
  std::vector<AcceptedPortion> portions;
  portions.reserve(view.portions.size());
  for (const auto& p : view.portions) {
    AcceptedPortion portion;
    portion.index = p.index;
    portion.label = p.label;
    portion.ciphertext_sha256 = ToHex(p.ciphertext_digest);
    portion.ciphertext_bytes = p.ciphertext_bytes;
    DescribeProvenance(p.provenance, portion);
    portions.push_back(std::move(portion));
  }
  return portions;
}

// The fields every `denied` record has, whichever way the recipient was denied.
DeniedRecord DeniedFor(std::string_view report_id_hex, std::string_view originator,
                       const RecipientPlan& recipient) {
  DeniedRecord r;
  r.report_id = report_id_hex;
  r.originator = std::string(originator);
  r.recipient = recipient.node_id;
  r.nation = recipient.nation;
  return r;
}

}  // namespace

AcceptedFingerprint FingerprintOf(const ReportView& view) {
  return {view.originator, AcceptedPortionsOf(view)};
}

AcceptedFingerprint FingerprintOf(const AcceptedRecord& record) {
  return {record.originator, record.portions};
}

Result<AnyAuditRecord> DecodeLoggedRecord(std::string_view line) {
  // ParseAuditLog reads whole logs; one line with its terminator is a log of one record.
  std::string text(line);
  text.push_back('\n');
  std::optional<AuditLoadError> error;
  std::vector<AuditRecord> records = ParseAuditLog(text, error);
  if (error) return error->status;
  if (records.size() != 1) {
    return InvalidArgument("AUDIT_RECORD_MALFORMED", "expected one audit record per line");
  }
  return DecodeAuditRecord(records.front());
}

Auditor::Auditor(AuditLog& log, std::function<void()> on_failure)
    : log_(log), on_failure_(std::move(on_failure)) {}

std::optional<std::uint64_t> Auditor::Append(const AnyAuditRecord& record) {
  auto r = log_.AppendBuffered(record);
  if (!r.ok()) {
    // Without a durable audit record a decision must not take effect; the caller's effect is
    // still pending, so stop serving rather than act unaudited.
    spdlog::critical("event=audit_append_failed type={} reason={}; stopping",
                     AuditRecordTypeName(record), r.status().reason());
    Fail(r.status());
    return std::nullopt;
  }
  if (observer_) observer_(record);
  return *r;
}

void Auditor::BeginGroup() { group_thread_.store(std::this_thread::get_id()); }

bool Auditor::EndGroup() {
  group_thread_.store(std::thread::id());
  return Sync();
}

bool Auditor::Sync() {
  if (group_thread_.load() == std::this_thread::get_id()) return failure().ok();
  Status st = log_.Sync();
  if (!st.ok()) {
    spdlog::critical("event=audit_sync_failed reason={}; stopping", st.reason());
    Fail(st);
    return false;
  }
  return true;
}

void Auditor::Fail(const Status& why) {
  {
    std::lock_guard lock(mu_);
    if (failure_.ok()) failure_ = why;
  }
  if (on_failure_) on_failure_();
}

Status Auditor::failure() const {
  std::lock_guard lock(mu_);
  return failure_;
}

std::optional<std::uint64_t> Auditor::Durable(std::optional<std::uint64_t> seq) {
  if (!seq || !Sync()) return std::nullopt;
  return seq;
}

std::optional<std::uint64_t> Auditor::BrokerStart(std::string_view broker_id, std::size_t nodes,
                                                  std::uint64_t torn_tail_bytes) {
  BrokerStartRecord r;
  r.broker = broker_id;
  r.nodes = nodes;
  r.torn_tail_bytes = torn_tail_bytes;
  return Append(r);
}

std::optional<std::uint64_t> Auditor::PolicyLoaded(const Policy& policy) {
  PolicyLoadedRecord r;
  r.policy = policy.name();
  r.policy_version = policy.version();
  r.policy_sha256 = policy.digest_hex();
  return Append(r);
}

std::optional<std::uint64_t> Auditor::BrokerStop(std::string_view broker_id) {
  BrokerStopRecord r;
  r.broker = broker_id;
  return Append(r);
}

std::optional<std::uint64_t> Auditor::ReleaseRequested(const ReleaseRequestedRecord& record) {
  return Append(record);
}

std::optional<std::uint64_t> Auditor::CertificateAccepted(const CertificateAcceptedRecord& record) {
  return Append(record);
}

std::optional<std::uint64_t> Auditor::ReleaseDecision(const ReleaseDecisionFields& fields,
                                                      bool sanitised) {
  if (fields.rule) return Append(ReleaseAutoApprovedRecord{fields});
  if (sanitised) return Append(ReleaseSanitisedRecord{fields});
  return Append(ReleaseDecidedRecord{fields});
}

std::optional<std::uint64_t> Auditor::NodeConnected(std::string_view node_id) {
  NodeConnectedRecord r;
  r.node = node_id;
  return Append(r);
}

std::optional<std::uint64_t> Auditor::ConnectionRefused(
    std::string_view peer_address, const std::array<std::uint8_t, 32>& client_key,
    const Status& why, std::uint64_t suppressed) {
  ConnectionRefusedRecord r;
  r.peer_address = peer_address;
  r.client_key = ToHex(client_key);
  r.reason = why.reason();
  r.explanation = why.message();
  r.suppressed = suppressed;
  return Append(r);
}

std::optional<std::uint64_t> Auditor::RejectedInput(std::string_view node_id, const Status& why,
                                                    std::string_view report_id_hex,
                                                    std::uint64_t suppressed) {
  RejectedInputRecord r;
  r.node = node_id;
  r.reason = why.reason();
  r.explanation = why.message();
  if (!report_id_hex.empty()) r.report_id = std::string(report_id_hex);
  if (suppressed > 0) r.suppressed = suppressed;
  return Append(r);
}

std::optional<std::uint64_t> Auditor::RejectedInputThrottled(std::string_view node_id,
                                                             const Status& why,
                                                             std::uint64_t suppressed) {
  RejectedInputRecord r;
  r.node = node_id;
  r.reason = why.reason();
  r.explanation = why.message();
  r.suppressed = suppressed;
  return Append(r);
}

std::optional<std::uint64_t> Auditor::DeliveryRejectedByRecipient(
    std::string_view node_id, std::string_view recorded_reason,
    std::string_view recorded_explanation) {
  DeliveryRejectedByRecipientRecord r;
  r.node = node_id;
  r.reason = recorded_reason;
  r.explanation = recorded_explanation;
  return Append(r);
}

std::optional<std::uint64_t> Auditor::Accepted(const ReportView& view, const Policy& policy) {
  AcceptedRecord r;
  r.report_id = ToHex(view.report_id);
  r.originator = view.originator;
  r.originator_nation = view.originator_nation;
  r.intended_nations = view.intended_nations;
  r.created = view.created_unix;
  r.expires = view.expires_unix;
  r.report_bytes = view.report_bytes;
  r.portions = AcceptedPortionsOf(view);
  r.policy_sha256 = policy.digest_hex();
  return Append(r);
}

std::optional<std::uint64_t> Auditor::Forwarded(const ForwardView& view, const Policy& policy) {
  ForwardedRecord r;
  r.forward_id = ToHex(view.forward_id);
  r.report_id = ToHex(view.report_id);
  r.originator = view.report.originator;
  r.originator_nation = view.report.originator_nation;
  r.forwarder = view.forwarder;
  r.forwarder_nation = view.forwarder_nation;
  r.target_nation = view.target_nation;
  r.portions = AcceptedPortionsOf(view.report);
  r.policy_sha256 = policy.digest_hex();
  return Append(r);
}

std::optional<std::uint64_t> Auditor::ForwardRefused(std::string_view node_id, const Status& why,
                                                     const ForwardInfo* forward) {
  ForwardRefusedRecord r;
  r.node = node_id;
  r.reason = why.reason();
  r.explanation = why.message();
  if (forward != nullptr) {
    r.forward_id = ToHex(forward->forward_id);
    r.report_id = ToHex(forward->report_id);
    r.target_nation = forward->target_nation;
    r.indices = forward->portions;
  }
  return Append(r);
}

std::optional<std::uint64_t> Auditor::PortionDenied(std::string_view report_id_hex,
                                                    std::string_view originator,
                                                    const RecipientPlan& recipient,
                                                    const PortionDecision& decision) {
  DeniedRecord r = DeniedFor(report_id_hex, originator, recipient);
  r.portion = decision.index;
  r.label = decision.label;
  r.reason = decision.reason;
  r.explanation = decision.explanation;
  return Append(r);
}

std::optional<std::uint64_t> Auditor::RecipientDenied(std::string_view report_id_hex,
                                                      std::string_view originator,
                                                      const RecipientPlan& recipient,
                                                      std::string_view recorded_reason,
                                                      std::string_view recorded_explanation) {
  DeniedRecord r = DeniedFor(report_id_hex, originator, recipient);
  r.reason = recorded_reason;
  r.explanation = recorded_explanation;
  return Append(r);
}

std::optional<std::uint64_t> Auditor::Released(bool delivered, std::string_view report_id_hex,
                                               const ReportView& view,
                                               const RecipientPlan& recipient,
                                               std::string_view recipient_clearance) {
  ReleasedCopy copy;
  copy.report_id = report_id_hex;
  copy.originator = view.originator;
  copy.originator_nation = view.originator_nation;
  copy.recipient = recipient.node_id;
  copy.nation = recipient.nation;
  copy.clearance = recipient_clearance;
  for (const auto& d : recipient.decisions) {
    if (d.release) copy.portions.push_back({d.index, d.label});
  }
  if (delivered) return Append(DeliveredRecord{std::move(copy)});
  return Append(QueuedRecord{std::move(copy)});
}

std::optional<std::uint64_t> Auditor::DeliveredFromQueue(std::string_view report_id_hex,
                                                         std::string_view node_id) {
  DeliveredFromQueueRecord r;
  r.report_id = report_id_hex;
  r.recipient = node_id;
  return Append(r);
}

std::optional<std::uint64_t> Auditor::Acknowledged(std::string_view report_id_hex,
                                                   std::string_view node_id,
                                                   std::span<const std::uint8_t> signature) {
  AcknowledgedRecord r;
  r.report_id = report_id_hex;
  r.recipient = node_id;
  r.signature = ToHex(signature);
  return Append(r);
}

std::optional<std::uint64_t> Auditor::Expired(const ExpiredCopy& e) {
  ExpiredRecord r;
  r.report_id = e.report_id;
  r.originator = e.originator;
  r.recipient = e.node_id;
  r.nation = e.nation;
  r.reason = "REPORT_EXPIRED";
  r.explanation =
      "the report expired before " + e.node_id + " acknowledged it; the stored copy was removed";
  return Append(r);
}

std::optional<std::uint64_t> Auditor::Failed(std::string_view report_id_hex,
                                             std::string_view originator, std::string_view node_id,
                                             std::string_view nation,
                                             std::string_view recorded_reason,
                                             std::uint64_t refusals) {
  FailedRecord r;
  r.report_id = report_id_hex;
  r.originator = originator;
  r.recipient = node_id;
  r.nation = nation;
  r.reason = recorded_reason;
  r.refusals = refusals;
  // The recipient's own message is not logged: it is unauthenticated free text.
  r.explanation = std::string(node_id) + " refused the copy " + std::to_string(refusals) +
                  " times for a reason that does not change on a re-send; the broker gave it up "
                  "and removed the stored copy";
  return Append(r);
}

Result<std::map<std::string, AcceptedFingerprint>> Auditor::FindOrphanedAccepts(
    const AuditLog& log, ReportStore& store) {
  std::map<std::string, AcceptedFingerprint> orphans;
  const std::uint64_t size = log.size();
  for (std::uint64_t seq = 0; seq < size; ++seq) {
    auto line = log.Record(seq);
    if (!line.ok()) return line.status();
    // Cheap pre-filter: a line that never spells the type name cannot be an `accepted` record,
    // so start-up parses only the few lines that might be.
    if (line->find(AcceptedRecord::kType) == std::string::npos) continue;
    auto record = DecodeLoggedRecord(*line);
    if (!record.ok()) {
      if (record.status().code() != Code::kNotFound) {  // A type this version does not know.
        spdlog::warn("event=orphan_scan_skipped seq={} reason={}", seq, record.status().reason());
      }
      continue;
    }
    const auto* accepted = std::get_if<AcceptedRecord>(&*record);
    if (accepted == nullptr) continue;
    auto stored = store.FindReport(accepted->report_id);
    if (!stored.ok()) return stored.status();
    if (stored->has_value()) continue;
    orphans[accepted->report_id] = FingerprintOf(*accepted);
  }
  return orphans;
}

}  // namespace tearline::broker
