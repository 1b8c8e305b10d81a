// Auditor: every audit record the broker writes, one method per record, so the field names of
// docs/AUDIT.md live in this unit alone (and can move to typed records in one place).
//
// Durability follows AuditLog's group commit: every record method appends a BUFFERED record and
// returns its sequence number; Sync() makes everything buffered so far durable. A decision may
// take effect (a copy sent, a reply given, a store row changed) only after a Sync() that returned
// true; Durable(seq) is the shorthand for "this one record, then sync". When an append or a sync
// fails the auditor calls `on_failure` (the broker stops: without a durable record a decision
// must not take effect) and returns nullopt / false.
//
// It also reads back what recovery needs: the `accepted` records whose report the store lost in
// a crash (see broker.h), each with the content fingerprint a retry must match.
//
// Ownership: holds references to the log (which must outlive it). Thread-safety: the record
// methods may be called from any thread (AuditLog is internally locked); `on_failure` must be
// safe to call from any thread.
#ifndef TEARLINE_BROKER_AUDITOR_H_
#define TEARLINE_BROKER_AUDITOR_H_

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tearline/base/status.h"
#include "tearline/broker/report_store.h"
#include "tearline/broker/routing.h"
#include "tearline/envelope/envelope.h"
#include "tearline/labels/policy.h"

namespace tearline {
class AuditLog;
}  // namespace tearline

namespace tearline::broker {

// What identifies a report's content in its `accepted` record (originator and, per portion,
// index, label, ciphertext digest and size): a retry of an orphaned report must match it.
struct AcceptedFingerprint {
  std::string originator;
  std::string portions;  // Canonical JSON text of the record's `portions` array.
  friend bool operator==(const AcceptedFingerprint&, const AcceptedFingerprint&) = default;
};
AcceptedFingerprint FingerprintOf(const ReportView& view);

class Auditor {
 public:
  Auditor(AuditLog& log, std::function<void()> on_failure);
  Auditor(const Auditor&) = delete;
  Auditor& operator=(const Auditor&) = delete;

  [[nodiscard]] bool Sync();
  // `seq` followed by Sync(): the record's sequence number once durable, else nullopt.
  [[nodiscard]] std::optional<std::uint64_t> Durable(std::optional<std::uint64_t> seq);

  // Lifecycle.
  std::optional<std::uint64_t> BrokerStart(std::string_view broker_id, std::size_t nodes,
                                           std::uint64_t torn_tail_bytes);
  std::optional<std::uint64_t> PolicyLoaded(const Policy& policy);
  std::optional<std::uint64_t> BrokerStop(std::string_view broker_id);

  // Sessions and refused input.
  std::optional<std::uint64_t> NodeConnected(std::string_view node_id);
  std::optional<std::uint64_t> ConnectionRefused(std::string_view peer_address,
                                                 const std::array<std::uint8_t, 32>& client_key,
                                                 const Status& why, std::uint64_t suppressed);
  // `report_id_hex` may be empty (the record then has no report_id).
  std::optional<std::uint64_t> RejectedInput(std::string_view node_id, const Status& why,
                                             std::string_view report_id_hex);
  // A throttled refusal: `suppressed` refusals of the same kind were not written since the last.
  std::optional<std::uint64_t> RejectedInputThrottled(std::string_view node_id, const Status& why,
                                                      std::uint64_t suppressed);
  std::optional<std::uint64_t> DeliveryRejectedByRecipient(std::string_view node_id,
                                                           std::string_view recorded_reason,
                                                           std::string_view recorded_explanation);

  // The routing of one report.
  std::optional<std::uint64_t> Accepted(const ReportView& view, const Policy& policy);
  std::optional<std::uint64_t> PortionDenied(std::string_view report_id_hex,
                                             std::string_view originator,
                                             const RecipientPlan& recipient,
                                             const PortionDecision& decision);
  std::optional<std::uint64_t> RecipientDenied(std::string_view report_id_hex,
                                               std::string_view originator,
                                               const RecipientPlan& recipient,
                                               std::string_view recorded_reason,
                                               std::string_view recorded_explanation);
  // `delivered` when sent at once, else `queued`; lists the released portions' labels.
  std::optional<std::uint64_t> Released(bool delivered, std::string_view report_id_hex,
                                        const ReportView& view, const RecipientPlan& recipient,
                                        std::string_view recipient_clearance);

  // The life of a stored copy.
  std::optional<std::uint64_t> DeliveredFromQueue(std::string_view report_id_hex,
                                                  std::string_view node_id);
  std::optional<std::uint64_t> Acknowledged(std::string_view report_id_hex,
                                            std::string_view node_id,
                                            std::span<const std::uint8_t> signature);
  std::optional<std::uint64_t> Expired(const ExpiredCopy& copy);

  // Report ids with an `accepted` record that `store` does not hold -> their fingerprints.
  static Result<std::map<std::string, AcceptedFingerprint>> FindOrphanedAccepts(const AuditLog& log,
                                                                                ReportStore& store);

 private:
  struct Fields;  // The record's fields (JSON), kept out of this header.
  std::optional<std::uint64_t> Append(std::string_view type, Fields fields);

  AuditLog& log_;
  std::function<void()> on_failure_;
};

}  // namespace tearline::broker

#endif  // TEARLINE_BROKER_AUDITOR_H_
