// SubmitPipeline: what the broker does with one Submit, as a function from the submitted bytes
// to the EFFECTS to apply (copies to send now, the reply to the sender); it never touches a
// socket, so every rule is unit tested with a FakeClock.
//
// Steps, cheapest first (a flooding node costs no signature verification):
//   1. rate limit per node (token bucket, burst twice the rate; RATE_LIMITED, audited at most
//      once per node per second with the count not written);
//   2. admit: originator == authenticated node, node in the directory, structure and originator
//      signature (InspectReport); then what the originator claims against its certificate
//      (admission.h: nation, canonical labels, clearance), after dedupe so it is audited with
//      the report id;
//   3. dedupe: a known report id with identical bytes is answered with the stored reply (audited
//      DUPLICATE_REPORT), different bytes are REPORT_ID_CONFLICT;
//   4. expiry (REPORT_EXPIRED; REPORT_EXPIRY_TOO_FAR beyond the policy's max_expiry_days), a
//      retry of an orphaned `accepted` record must match its content (REPORT_ID_CONFLICT),
//      storage headroom (STORAGE_FULL);
//   5. plan: PlanRouting (policy) and, per recipient, the queue cap (QUEUE_FULL), the sender's
//      share of that queue (SENDER_QUEUE_QUOTA) and its copy; then the sender's share of the
//      store (SENDER_STORE_QUOTA: bytes of its unacknowledged copies, this report included);
//   6. commit: audit every decision (buffered), one sync, then store the report and all copies
//      in one transaction; only then are effects returned. Inside a CommitGroup (the broker's
//      loop) the sync and the transaction are the group's: the broker holds the effects'
//      frames until the group is durable (commit_group.h).
// Every refusal is audited (rejected_input) and answered with a SubmitReply. broker.h explains
// the crash-ordering this preserves and the "orphaned accepts" recovered at start-up.
//
// Ownership: holds references to the directory, policy, store, auditor and clock (all must
// outlive it). Thread-safety: none; the broker's Run() thread only.
#ifndef TEARLINE_BROKER_SUBMIT_PIPELINE_H_
#define TEARLINE_BROKER_SUBMIT_PIPELINE_H_

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tearline/base/clock.h"
#include "tearline/base/status.h"
#include "tearline/broker/auditor.h"
#include "tearline/broker/rate_limiter.h"
#include "tearline/broker/report_store.h"
#include "tearline/broker/routing.h"
#include "tearline/envelope/forward.h"
#include "tearline/identity/directory.h"
#include "tearline/labels/policy.h"

namespace tearline::broker {

struct SubmitOptions {
  std::uint32_t rate_per_node = 20;  // Submits per second per node; burst twice that.
  std::size_t max_queue_per_node = 10000;
  // Pending copies one originator may have queued for one recipient (its share of that queue).
  std::size_t max_queue_per_sender_per_recipient = 1000;
  // Bytes of pending copies one originator may hold in the store (its share of the store).
  std::uint64_t max_store_bytes_per_node = std::uint64_t{128} << 20;
  std::uint64_t max_store_bytes = std::uint64_t{1} << 30;
  std::uint64_t min_free_bytes = std::uint64_t{16} << 20;
  std::filesystem::path data_dir;  // Whose file system must keep min_free_bytes free.
};

// A stored copy to hand to an online recipient now.
struct Delivery {
  std::string node_id;
  std::string report_id_hex;
  std::vector<std::uint8_t> copy;
};

struct SubmitEffects {
  std::vector<Delivery> deliveries;  // Send these first (each stays pending until acknowledged)...
  // ...then this SubmitReply frame to the sender. Unset when the audit log failed: the broker is
  // stopping and nothing may take effect.
  std::optional<std::vector<std::uint8_t>> reply;
};

class SubmitPipeline {
 public:
  SubmitPipeline(const Directory& directory, const Policy& policy, ReportStore& store,
                 Auditor& auditor, const Clock& clock, SubmitOptions options,
                 std::function<bool(const std::string&)> is_online);
  SubmitPipeline(const SubmitPipeline&) = delete;
  SubmitPipeline& operator=(const SubmitPipeline&) = delete;

  // Report ids whose `accepted` record has no stored report (Auditor::FindOrphanedAccepts): a
  // retry of one is routed again without a second `accepted` record.
  void SetOrphanedAccepts(std::map<std::string, AcceptedFingerprint> orphans);
  std::size_t orphaned_accepts() const { return orphans_.size(); }

  SubmitEffects Submit(const std::string& node_id, std::uint64_t request_id,
                       std::span<const std::uint8_t> report);
  // A ForwardSubmit (re-share within the label; submit_forward.cc): the same rate limit, storage
  // checks, routing, queue caps and commit as Submit, routed to the grant's target nation under
  // the originator's labels, after the checks of forward_check.h (the forwarder holds the
  // portions by the broker's own records; none is ORCON). The forward id stands for the report
  // id in the reply, the store and the delivery records; `forwarded` replaces `accepted` and
  // every refusal is audited `forward_refused`.
  SubmitEffects Forward(const std::string& node_id, std::uint64_t request_id,
                        std::span<const std::uint8_t> forward);
  // Refuses a Submit (audited rejected_input, answered with a SubmitReply, so the sender's outbox
  // sees an answer to its request rather than a stray Error). `report_id_hex` may be empty.
  SubmitEffects Refuse(const std::string& node_id, std::uint64_t request_id, const Status& why,
                       const std::string& report_id_hex);

 private:
  struct Admitted;
  struct PreparedCopy;
  struct Prepared;
  SubmitEffects RefuseForward(const std::string& node_id, std::uint64_t request_id,
                              const Status& why, const ForwardInfo* forward);
  Result<ForwardView> InspectForwardFrom(const std::string& node_id,
                                         std::span<const std::uint8_t> forward) const;
  Status CheckForward(const std::string& node_id, const ForwardView& view) const;
  std::optional<SubmitEffects> CheckRate(const std::string& node_id, std::uint64_t request_id);
  Result<Admitted> Admit(const std::string& node_id, std::span<const std::uint8_t> report) const;
  std::optional<SubmitEffects> Dedupe(const std::string& node_id, std::uint64_t request_id,
                                      const Admitted& admitted);
  Status CheckAdmissible(const Admitted& admitted) const;
  Status CheckStorageHeadroom() const;
  Result<Prepared> Prepare(const Admitted& admitted, std::span<const std::uint8_t> report) const;
  Status CheckSenderStoreQuota(const std::string& originator, const Prepared& prepared) const;
  std::optional<StoredCopy> DecideRecipient(const Admitted& admitted, const RecipientPlan& r,
                                            PreparedCopy& prepared, std::int64_t now,
                                            RecipientOutcomeInfo& outcome);
  SubmitEffects Commit(const std::string& node_id, std::uint64_t request_id,
                       const Admitted& admitted, Prepared prepared);

  const Directory& directory_;
  const Policy& policy_;
  ReportStore& store_;
  Auditor& auditor_;
  const Clock& clock_;
  const SubmitOptions options_;
  std::function<bool(const std::string&)> is_online_;
  RateLimiter submits_;          // rate_per_node, burst 2x.
  RateLimiter refusal_records_;  // One RATE_LIMITED record per node per second.
  RateLimiter garbage_records_;  // Refusals naming no report: kRefusalRecordLimit.
  std::map<std::string, AcceptedFingerprint> orphans_;
};

}  // namespace tearline::broker

#endif  // TEARLINE_BROKER_SUBMIT_PIPELINE_H_
