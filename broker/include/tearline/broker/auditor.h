// Auditor: every audit record the broker writes, one method per record. Each method fills the
// record's typed definition (tearline/audit/audit_record_types.h, the one place a field name is
// spelled) from the broker's own values and appends it through AuditLog's typed AppendBuffered.
//
// Durability follows AuditLog's group commit: every record method appends a BUFFERED record and
// returns its sequence number; Sync() makes everything buffered so far durable. A decision may
// take effect (a copy sent, a reply given, a store row changed) only after a Sync() that returned
// true; Durable(seq) is the shorthand for "this one record, then sync". When an append or a sync
// fails the auditor calls `on_failure` (the broker stops: without a durable record a decision
// must not take effect) and returns nullopt / false; failure() keeps the first such status, so the
// broker can exit non-zero with it.
//
// It also reads back what recovery needs: the `accepted` records whose report the store lost in
// a crash (see broker.h), each with the content fingerprint a retry must match. Records are read
// back through the same typed definitions (DecodeLoggedRecord), never by field name.
//
// Ownership: holds references to the log (which must outlive it). Thread-safety: the record
// methods may be called from any thread (AuditLog is internally locked); `on_failure` must be
// safe to call from any thread.
#ifndef TEARLINE_BROKER_AUDITOR_H_
#define TEARLINE_BROKER_AUDITOR_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tearline/audit/audit_record_types.h"
#include "tearline/base/status.h"
#include "tearline/broker/report_store.h"
#include "tearline/broker/routing.h"
#include "tearline/envelope/envelope.h"
#include "tearline/envelope/forward.h"
#include "tearline/labels/policy.h"

namespace tearline {
class AuditLog;
}  // namespace tearline

namespace tearline::broker {

// What identifies a report's content in its `accepted` record (originator and, per portion,
// index, label, ciphertext digest and size): a retry of an orphaned report must match it.
struct AcceptedFingerprint {
  std::string originator;
  std::vector<AcceptedPortion> portions;  // As the record lists them (increasing index).
  friend bool operator==(const AcceptedFingerprint&, const AcceptedFingerprint&) = default;
};
// The fingerprint an `accepted` record for `view` carries (every descriptive member set, as the
// broker writes them).
AcceptedFingerprint FingerprintOf(const ReportView& view);
AcceptedFingerprint FingerprintOf(const AcceptedRecord& record);

// Decodes one line of the broker's own log (AuditLog::Record bytes) into its typed record.
// Reasons: AUDIT_BAD_JSON, AUDIT_RECORD_MALFORMED (not a log record, or a field missing or of
// the wrong type), AUDIT_RECORD_UNKNOWN_TYPE (kNotFound).
Result<AnyAuditRecord> DecodeLoggedRecord(std::string_view line);

class Auditor {
 public:
  Auditor(AuditLog& log, std::function<void()> on_failure);
  Auditor(const Auditor&) = delete;
  Auditor& operator=(const Auditor&) = delete;

  [[nodiscard]] bool Sync();
  // Group commit: from BeginGroup() on, Sync() and Durable() called on the calling thread only
  // check that no append or sync has failed; EndGroup() makes every record durable with one
  // sync. Safe only while nothing decided in the group takes effect before EndGroup() returned
  // true (CommitGroup holds every frame back until then). Other threads (the ZAP handler) still
  // sync their own records.
  void BeginGroup();
  [[nodiscard]] bool EndGroup();
  // The first append or sync failure (Ok while none happened). Fatal for the broker: it stops
  // serving and exits non-zero with this status.
  Status failure() const;
  // Records a fatal failure of the audit trail found elsewhere (a checkpoint that cannot be
  // written): failure() returns the first one and the broker stops.
  void Fail(const Status& why);
  // `seq` followed by Sync(): the record's sequence number once durable, else nullopt.
  [[nodiscard]] std::optional<std::uint64_t> Durable(std::optional<std::uint64_t> seq);
  // Called with every record appended (the metrics count them). Set before any other thread
  // appends; it runs on the appending thread and must be thread-safe itself.
  void SetObserver(std::function<void(const AnyAuditRecord&)> observer) {
    observer_ = std::move(observer);
  }

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
  // `report_id_hex` may be empty (the record then has no report_id); `suppressed` > 0 says how
  // many refusals of this node were not written since its previous record (kRefusalRecordLimit).
  std::optional<std::uint64_t> RejectedInput(std::string_view node_id, const Status& why,
                                             std::string_view report_id_hex,
                                             std::uint64_t suppressed = 0);
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
  // The copy's recipient refused it `refusals` times for a permanent reason; it is given up.
  std::optional<std::uint64_t> Failed(std::string_view report_id_hex, std::string_view originator,
                                      std::string_view node_id, std::string_view nation,
                                      std::string_view recorded_reason, std::uint64_t refusals);

  // Forwards (re-share within the label). `view.report` describes the forwarded portions.
  std::optional<std::uint64_t> Forwarded(const ForwardView& view, const Policy& policy);
  // `forward` may be null (the forward did not decode far enough to name its ids).
  std::optional<std::uint64_t> ForwardRefused(std::string_view node_id, const Status& why,
                                              const ForwardInfo* forward);
  // Release requests (the release desk fills the records; see audit_record_types.h).
  std::optional<std::uint64_t> ReleaseRequested(const ReleaseRequestedRecord& record);
  std::optional<std::uint64_t> CertificateAccepted(const CertificateAcceptedRecord& record);
  // Written as release_auto_approved when `fields.rule` is set, as release_sanitised when
  // `sanitised`, else as release_decided.
  std::optional<std::uint64_t> ReleaseDecision(const ReleaseDecisionFields& fields, bool sanitised);

  // Report ids with an `accepted` record that `store` does not hold -> their fingerprints. A
  // line that does not decode as a record is skipped (logged as a warning): it cannot name a
  // report to recover.
  static Result<std::map<std::string, AcceptedFingerprint>> FindOrphanedAccepts(const AuditLog& log,
                                                                                ReportStore& store);

 private:
  std::optional<std::uint64_t> Append(const AnyAuditRecord& record);

  AuditLog& log_;
  std::function<void()> on_failure_;
  std::function<void(const AnyAuditRecord&)> observer_;
  mutable std::mutex mu_;
  Status failure_ = Status::Ok();  // Guarded by mu_.
  // The thread whose syncs wait for EndGroup(); a default id while no group is open.
  std::atomic<std::thread::id> group_thread_{};
};

}  // namespace tearline::broker

#endif  // TEARLINE_BROKER_AUDITOR_H_
