#include "tearline/broker/auditor.h"

#include <spdlog/spdlog.h>

#include <utility>

#include "tearline/audit/audit_log.h"
#include "tearline/base/encoding.h"

namespace tearline::broker {
namespace {

nlohmann::json PortionsJson(const ReportView& view) {
  nlohmann::json portions = nlohmann::json::array();
  for (const auto& p : view.portions) {
    portions.push_back({{"index", p.index},
                        {"label", p.label},
                        {"ciphertext_sha256", ToHex(p.ciphertext_digest)},
                        {"ciphertext_bytes", p.ciphertext_bytes}});
  }
  return portions;
}

}  // namespace

// Implicit conversions, so records are written as JSON literals: Append("type", {{"k", v}}).
struct Auditor::Fields {
  Fields(nlohmann::json j) : json(std::move(j)) {}                 // NOLINT
  Fields(nlohmann::json::initializer_list_t init) : json(init) {}  // NOLINT
  nlohmann::json json;
};

AcceptedFingerprint FingerprintOf(const ReportView& view) {
  return {view.originator, PortionsJson(view).dump()};
}

Auditor::Auditor(AuditLog& log, std::function<void()> on_failure)
    : log_(log), on_failure_(std::move(on_failure)) {}

std::optional<std::uint64_t> Auditor::Append(std::string_view type, Fields fields) {
  auto r = log_.AppendBuffered(type, std::move(fields.json));
  if (!r.ok()) {
    // Without a durable audit record a decision must not take effect; the caller's effect is
    // still pending, so stop serving rather than act unaudited.
    spdlog::critical("event=audit_append_failed type={} reason={}; stopping", type,
                     r.status().reason());
    if (on_failure_) on_failure_();
    return std::nullopt;
  }
  return *r;
}

bool Auditor::Sync() {
  Status st = log_.Sync();
  if (!st.ok()) {
    spdlog::critical("event=audit_sync_failed reason={}; stopping", st.reason());
    if (on_failure_) on_failure_();
    return false;
  }
  return true;
}

std::optional<std::uint64_t> Auditor::Durable(std::optional<std::uint64_t> seq) {
  if (!seq || !Sync()) return std::nullopt;
  return seq;
}

std::optional<std::uint64_t> Auditor::BrokerStart(std::string_view broker_id, std::size_t nodes,
                                                  std::uint64_t torn_tail_bytes) {
  return Append("broker_start",
                {{"broker", broker_id}, {"nodes", nodes}, {"torn_tail_bytes", torn_tail_bytes}});
}

std::optional<std::uint64_t> Auditor::PolicyLoaded(const Policy& policy) {
  return Append("policy_loaded", {{"policy", policy.name()},
                                  {"policy_version", policy.version()},
                                  {"policy_sha256", policy.digest_hex()}});
}

std::optional<std::uint64_t> Auditor::BrokerStop(std::string_view broker_id) {
  return Append("broker_stop", {{"broker", broker_id}});
}

std::optional<std::uint64_t> Auditor::NodeConnected(std::string_view node_id) {
  return Append("node_connected", {{"node", node_id}});
}

std::optional<std::uint64_t> Auditor::ConnectionRefused(
    std::string_view peer_address, const std::array<std::uint8_t, 32>& client_key,
    const Status& why, std::uint64_t suppressed) {
  return Append("connection_refused", {{"peer_address", peer_address},
                                       {"client_key", ToHex(client_key)},
                                       {"reason", why.reason()},
                                       {"explanation", why.message()},
                                       {"suppressed", suppressed}});
}

std::optional<std::uint64_t> Auditor::RejectedInput(std::string_view node_id, const Status& why,
                                                    std::string_view report_id_hex) {
  nlohmann::json rec = {
      {"node", node_id}, {"reason", why.reason()}, {"explanation", why.message()}};
  if (!report_id_hex.empty()) rec["report_id"] = report_id_hex;
  return Append("rejected_input", std::move(rec));
}

std::optional<std::uint64_t> Auditor::RejectedInputThrottled(std::string_view node_id,
                                                             const Status& why,
                                                             std::uint64_t suppressed) {
  return Append("rejected_input", {{"node", node_id},
                                   {"reason", why.reason()},
                                   {"explanation", why.message()},
                                   {"suppressed", suppressed}});
}

std::optional<std::uint64_t> Auditor::DeliveryRejectedByRecipient(
    std::string_view node_id, std::string_view recorded_reason,
    std::string_view recorded_explanation) {
  return Append(
      "delivery_rejected_by_recipient",
      {{"node", node_id}, {"reason", recorded_reason}, {"explanation", recorded_explanation}});
}

std::optional<std::uint64_t> Auditor::Accepted(const ReportView& view, const Policy& policy) {
  return Append("accepted", {{"report_id", ToHex(view.report_id)},
                             {"originator", view.originator},
                             {"originator_nation", view.originator_nation},
                             {"intended_nations", view.intended_nations},
                             {"created", view.created_unix},
                             {"expires", view.expires_unix},
                             {"report_bytes", view.report_bytes},
                             {"portions", PortionsJson(view)},
                             {"policy_sha256", policy.digest_hex()}});
}

std::optional<std::uint64_t> Auditor::PortionDenied(std::string_view report_id_hex,
                                                    std::string_view originator,
                                                    const RecipientPlan& recipient,
                                                    const PortionDecision& decision) {
  return Append("denied", {{"report_id", report_id_hex},
                           {"originator", originator},
                           {"recipient", recipient.node_id},
                           {"nation", recipient.nation},
                           {"portion", decision.index},
                           {"label", decision.label},
                           {"reason", decision.reason},
                           {"explanation", decision.explanation}});
}

std::optional<std::uint64_t> Auditor::RecipientDenied(std::string_view report_id_hex,
                                                      std::string_view originator,
                                                      const RecipientPlan& recipient,
                                                      std::string_view recorded_reason,
                                                      std::string_view recorded_explanation) {
  return Append("denied", {{"report_id", report_id_hex},
                           {"originator", originator},
                           {"recipient", recipient.node_id},
                           {"nation", recipient.nation},
                           {"reason", recorded_reason},
                           {"explanation", recorded_explanation}});
}

std::optional<std::uint64_t> Auditor::Released(bool delivered, std::string_view report_id_hex,
                                               const ReportView& view,
                                               const RecipientPlan& recipient,
                                               std::string_view recipient_clearance) {
  nlohmann::json labels = nlohmann::json::array();
  for (const auto& d : recipient.decisions) {
    if (d.release) labels.push_back({{"index", d.index}, {"label", d.label}});
  }
  return Append(delivered ? "delivered" : "queued", {{"report_id", report_id_hex},
                                                     {"originator", view.originator},
                                                     {"originator_nation", view.originator_nation},
                                                     {"recipient", recipient.node_id},
                                                     {"nation", recipient.nation},
                                                     {"clearance", recipient_clearance},
                                                     {"portions", labels}});
}

std::optional<std::uint64_t> Auditor::DeliveredFromQueue(std::string_view report_id_hex,
                                                         std::string_view node_id) {
  return Append("delivered",
                {{"report_id", report_id_hex}, {"recipient", node_id}, {"from_queue", true}});
}

std::optional<std::uint64_t> Auditor::Acknowledged(std::string_view report_id_hex,
                                                   std::string_view node_id,
                                                   std::span<const std::uint8_t> signature) {
  return Append(
      "acknowledged",
      {{"report_id", report_id_hex}, {"recipient", node_id}, {"signature", ToHex(signature)}});
}

std::optional<std::uint64_t> Auditor::Expired(const ExpiredCopy& e) {
  return Append("expired", {{"report_id", e.report_id},
                            {"originator", e.originator},
                            {"recipient", e.node_id},
                            {"nation", e.nation},
                            {"reason", "REPORT_EXPIRED"},
                            {"explanation", "the report expired before " + e.node_id +
                                                " acknowledged it; the stored copy was removed"}});
}

Result<std::map<std::string, AcceptedFingerprint>> Auditor::FindOrphanedAccepts(
    const AuditLog& log, ReportStore& store) {
  std::map<std::string, AcceptedFingerprint> orphans;
  const std::uint64_t size = log.size();
  for (std::uint64_t seq = 0; seq < size; ++seq) {
    auto line = log.Record(seq);
    if (!line.ok()) return line.status();
    if (line->find("\"type\":\"accepted\"") == std::string::npos) continue;
    nlohmann::json j = nlohmann::json::parse(*line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("report_id") || !j["report_id"].is_string()) continue;
    const std::string id = j["report_id"].get<std::string>();
    auto stored = store.FindReport(id);
    if (!stored.ok()) return stored.status();
    if (stored->has_value()) continue;
    const auto originator = j.find("originator");
    const auto portions = j.find("portions");
    orphans[id] = {
        (originator != j.end() && originator->is_string()) ? originator->get<std::string>() : "",
        (portions != j.end() ? *portions : nlohmann::json::array()).dump()};
  }
  return orphans;
}

}  // namespace tearline::broker
