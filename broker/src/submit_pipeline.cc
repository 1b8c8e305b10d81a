#include "tearline/broker/submit_pipeline.h"

#include <spdlog/spdlog.h>
#include <sys/statvfs.h>

#include <utility>

#include "submit_pipeline_internal.h"
#include "tearline/audit/audit_records.h"
#include "tearline/base/encoding.h"
#include "tearline/broker/admission.h"
#include "tearline/broker/provenance_gate.h"
#include "tearline/crypto/keys.h"
#include "tearline/envelope/envelope.h"
#include "tearline/wire/wire.h"

namespace tearline::broker {
namespace {

Status StorageFull(const std::string& why) {
  return Status(Code::kResourceExhausted, "STORAGE_FULL",
                "the broker cannot store new reports now (" + why +
                    "); nothing was routed, retry later with the same report");
}

Status IdConflict(const std::string& id_hex) {
  return Status(Code::kAlreadyExists, "REPORT_ID_CONFLICT",
                "report id " + id_hex +
                    " was already accepted with different content; a new report needs a new id");
}

std::vector<std::uint8_t> RefusalReply(std::uint64_t request_id, const Status& why) {
  SubmitReplyInfo reply;
  reply.accepted = false;
  reply.error_reason = why.reason();
  reply.error_message = why.message();
  return EncodeSubmitReply(request_id, reply);
}

}  // namespace

SubmitPipeline::SubmitPipeline(const Directory& directory, const Policy& policy, ReportStore& store,
                               Auditor& auditor, const Clock& clock, SubmitOptions options,
                               std::function<bool(const std::string&)> is_online)
    : directory_(directory),
      policy_(policy),
      store_(store),
      auditor_(auditor),
      clock_(clock),
      options_(std::move(options)),
      is_online_(std::move(is_online)),
      submits_(clock, {.per_second = static_cast<double>(options_.rate_per_node),
                       .burst = 2.0 * options_.rate_per_node,
                       .max_keys = 4096}),
      refusal_records_(clock, {.per_second = 1, .burst = 1, .max_keys = 4096}),
      garbage_records_(clock, kRefusalRecordLimit) {}

void SubmitPipeline::SetOrphanedAccepts(std::map<std::string, AcceptedFingerprint> orphans) {
  orphans_ = std::move(orphans);
}

SubmitEffects SubmitPipeline::Refuse(const std::string& node_id, std::uint64_t request_id,
                                     const Status& why, const std::string& report_id_hex) {
  // The reply goes out even when the record could not be written: a refusal changes nothing.
  // A refusal that names a report is evidence about it and always recorded (the submit rate
  // bounds those); bytes that are not even a report are recorded sparingly.
  RateLimiter::Decision record{.allowed = true};
  if (report_id_hex.empty()) record = garbage_records_.Take(node_id);
  if (record.allowed) {
    (void)auditor_.Durable(auditor_.RejectedInput(node_id, why, report_id_hex, record.suppressed));
  }
  spdlog::warn("event=submit_rejected node={} reason={}", node_id, why.reason());
  SubmitEffects effects;
  effects.reply = RefusalReply(request_id, why);
  return effects;
}

SubmitEffects SubmitPipeline::Submit(const std::string& node_id, std::uint64_t request_id,
                                     std::span<const std::uint8_t> report) {
  if (auto limited = CheckRate(node_id, request_id)) return std::move(*limited);
  auto admitted = Admit(node_id, report);
  if (!admitted.ok()) return Refuse(node_id, request_id, admitted.status(), "");
  const std::string& id_hex = admitted->id_hex;
  if (auto duplicate = Dedupe(node_id, request_id, *admitted)) return std::move(*duplicate);
  if (Status st = CheckAdmissible(*admitted); !st.ok()) {
    return Refuse(node_id, request_id, st, id_hex);
  }
  auto prepared = Prepare(*admitted, report);
  if (!prepared.ok()) return Refuse(node_id, request_id, prepared.status(), id_hex);
  return Commit(node_id, request_id, *admitted, std::move(prepared).value());
}

std::optional<SubmitEffects> SubmitPipeline::CheckRate(const std::string& node_id,
                                                       std::uint64_t request_id) {
  if (submits_.Take(node_id).allowed) return std::nullopt;
  const Status why(Code::kResourceExhausted, "RATE_LIMITED",
                   "more than " + std::to_string(options_.rate_per_node) +
                       " submissions per second from " + node_id + "; retry later");
  // Answered every time, audited at most once per node per second.
  if (const auto record = refusal_records_.Take(node_id); record.allowed) {
    (void)auditor_.Durable(auditor_.RejectedInputThrottled(node_id, why, record.suppressed));
  }
  SubmitEffects effects;
  effects.reply = RefusalReply(request_id, why);
  return effects;
}

Result<SubmitPipeline::Admitted> SubmitPipeline::Admit(const std::string& node_id,
                                                       std::span<const std::uint8_t> report) const {
  // One decode: the originator named in the header picks the key its signature is checked with.
  auto view = InspectReport(
      report, [&](std::string_view originator) -> Result<std::span<const std::uint8_t>> {
        if (originator != node_id) {
          return PermissionDenied("ORIGINATOR_MISMATCH",
                                  "report claims originator '" + std::string(originator) +
                                      "' but the connection authenticated as '" + node_id + "'");
        }
        const Certificate* cert = directory_.FindNode(node_id);
        if (cert == nullptr) {
          return Unauthenticated("AUTH_UNKNOWN_NODE", "originator is not in the directory");
        }
        return std::span<const std::uint8_t>(cert->fields().signing_key);
      });
  if (!view.ok()) return view.status();
  // Signed provenance, checked again here: the originating node may skip its own check.
  if (Status st = CheckReportProvenance(*view, policy_); !st.ok()) return st;
  Admitted admitted;
  admitted.id_hex = ToHex(view->report_id);
  admitted.digest = Sha256Hex({reinterpret_cast<const char*>(report.data()), report.size()});
  admitted.view = std::move(view).value();
  admitted.submitter = node_id;
  return admitted;
}

std::optional<SubmitEffects> SubmitPipeline::Dedupe(const std::string& node_id,
                                                    std::uint64_t request_id,
                                                    const Admitted& admitted) {
  const std::string& id_hex = admitted.id_hex;
  auto known = store_.FindReport(id_hex);
  if (!known.ok()) return Refuse(node_id, request_id, known.status(), id_hex);
  if (!known->has_value()) return std::nullopt;
  const StoredReport& stored = **known;
  if (stored.sha256 != admitted.digest || stored.originator != node_id) {
    return Refuse(node_id, request_id, IdConflict(id_hex), id_hex);
  }
  // An idempotent retry (e.g. the reply was lost): answer exactly as the first time.
  std::vector<std::uint8_t> storage;
  auto frame = DecodeFrame(AlignedForDecode(stored.reply, storage));
  if (!frame.ok() || (*frame)->body_as_SubmitReply() == nullptr) {
    return Refuse(
        node_id, request_id,
        Internal("STORE_CORRUPT", "the stored reply of report " + id_hex + " cannot be decoded"),
        id_hex);
  }
  SubmitReplyInfo reply = ToSubmitReplyInfo(*(*frame)->body_as_SubmitReply());
  reply.duplicate = true;
  const Status duplicate(Code::kAlreadyExists, "DUPLICATE_REPORT",
                         "resubmission of an accepted report; answered with the stored outcome, "
                         "not routed again");
  SubmitEffects effects;
  if (!auditor_.Durable(auditor_.RejectedInput(node_id, duplicate, id_hex))) return effects;
  effects.reply = EncodeSubmitReply(request_id, reply);
  return effects;
}

Status SubmitPipeline::CheckAdmissible(const Admitted& admitted) const {
  // Admit found the certificate; the directory does not change while a Submit runs.
  const Certificate* cert = directory_.FindNode(admitted.view.originator);
  if (cert == nullptr) {
    return Unauthenticated("AUTH_UNKNOWN_NODE", "originator is not in the directory");
  }
  TEARLINE_RETURN_IF_ERROR(CheckOriginatorClaims(admitted.view, *cert, policy_));
  if (admitted.view.expires_unix <= clock_.UnixNow()) {
    return InvalidArgument("REPORT_EXPIRED", "the report expired before it was submitted");
  }
  // The signed expiry cannot be clamped without breaking the originator's signature, so a
  // report that would keep its copies beyond the policy's horizon is refused.
  const std::int64_t horizon = policy_.max_expiry_seconds();
  if (admitted.view.expires_unix - clock_.UnixNow() > horizon) {
    return InvalidArgument("REPORT_EXPIRY_TOO_FAR",
                           "the report expires " +
                               std::to_string(admitted.view.expires_unix - clock_.UnixNow()) +
                               " seconds from now, beyond the policy's maximum of " +
                               std::to_string(horizon / 86400) + " days (max_expiry_days)");
  }
  auto orphan = orphans_.find(admitted.id_hex);
  if (orphan != orphans_.end() && orphan->second != FingerprintOf(admitted.view)) {
    return IdConflict(admitted.id_hex);
  }
  return CheckStorageHeadroom();
}

Status SubmitPipeline::CheckStorageHeadroom() const {
  const ReportStore::StorageUse use = store_.Usage();
  if (use.disk_bytes > options_.max_store_bytes) {
    return StorageFull("the report store holds " + std::to_string(use.disk_bytes) +
                       " bytes, more than max_store_bytes " +
                       std::to_string(options_.max_store_bytes));
  }
  struct statvfs fs {};
  if (statvfs(options_.data_dir.c_str(), &fs) == 0) {
    const std::uint64_t free_bytes =
        static_cast<std::uint64_t>(fs.f_bavail) * static_cast<std::uint64_t>(fs.f_frsize);
    // What the store's write-ahead log will still claim is not free (report_store.h).
    const std::uint64_t claimed = use.pending_growth_bytes;
    const std::uint64_t usable = free_bytes > claimed ? free_bytes - claimed : 0;
    if (usable < options_.min_free_bytes) {
      return StorageFull("only " + std::to_string(usable) + " bytes are free on the broker's " +
                         "disk, less than min_free_bytes " +
                         std::to_string(options_.min_free_bytes) + " (" + std::to_string(claimed) +
                         " more are kept for its write-ahead log)");
    }
  }
  return Status::Ok();
}

// Decides every recipient before anything is recorded: the copies and the queue caps.
Result<SubmitPipeline::Prepared> SubmitPipeline::Prepare(
    const Admitted& admitted, std::span<const std::uint8_t> report) const {
  auto plan = PlanRouting(admitted.view, directory_, policy_);
  if (!plan.ok()) return plan.status();
  Prepared prepared;
  prepared.plan = std::move(plan).value();
  prepared.copies.resize(prepared.plan.recipients.size());
  for (std::size_t i = 0; i < prepared.plan.recipients.size(); ++i) {
    const RecipientPlan& r = prepared.plan.recipients[i];
    if (r.portions.empty()) continue;
    auto queued = store_.PendingCount(r.node_id);
    if (!queued.ok()) return queued.status();
    if (*queued >= options_.max_queue_per_node) {
      prepared.copies[i].denied = Status(
          Code::kResourceExhausted, "QUEUE_FULL",
          r.node_id + " already has " + std::to_string(*queued) +
              " unacknowledged reports waiting (max_queue_per_node); nothing was stored for it");
      continue;
    }
    // Each sender's share of a recipient's queue is bounded, so one node that floods a
    // recipient (or one the recipient never acknowledges) leaves room for every other sender.
    auto from_sender = store_.PendingCountFor(r.node_id, admitted.submitter);
    if (!from_sender.ok()) return from_sender.status();
    if (*from_sender >= options_.max_queue_per_sender_per_recipient) {
      prepared.copies[i].denied =
          Status(Code::kResourceExhausted, "SENDER_QUEUE_QUOTA",
                 r.node_id + " already has " + std::to_string(*from_sender) +
                     " unacknowledged reports from " + admitted.submitter +
                     " (max_queue_per_sender_per_recipient); nothing was stored for it");
      continue;
    }
    auto copy = admitted.forward ? SelectForwardPortions(report, r.portions)
                                 : SelectPortions(report, r.portions);
    if (!copy.ok()) {
      prepared.copies[i].denied =
          Status(Code::kInternal, "BROKER_STORAGE",
                 "the broker could not build the copy: " + copy.status().message());
      continue;
    }
    prepared.copies[i].bytes = std::move(copy).value();
  }
  TEARLINE_RETURN_IF_ERROR(CheckSenderStoreQuota(admitted.submitter, prepared));
  return prepared;
}

// Bytes are what fill the shared store, so each originator's pending copies are capped: one
// node cannot bring every other node to STORAGE_FULL.
Status SubmitPipeline::CheckSenderStoreQuota(const std::string& originator,
                                             const Prepared& prepared) const {
  std::uint64_t adding = 0;
  for (const PreparedCopy& c : prepared.copies) adding += c.bytes.size();
  if (adding == 0) return Status::Ok();
  auto held = store_.PendingBytesFrom(originator);
  if (!held.ok()) return held.status();
  const std::uint64_t quota = options_.max_store_bytes_per_node;
  if (*held + adding > quota) {
    return Status(Code::kResourceExhausted, "SENDER_STORE_QUOTA",
                  originator + "'s unacknowledged copies hold " + std::to_string(*held) +
                      " bytes at the broker and this report adds " + std::to_string(adding) +
                      ", more than max_store_bytes_per_node " + std::to_string(quota) +
                      "; nothing was routed, retry when recipients have acknowledged");
  }
  return Status::Ok();
}

// Audits (buffered) what one recipient gets: a record per withheld portion, then either a
// whole-recipient denial or the release (`delivered` when the node is online, else `queued`).
// Fills the recipient's outcome; returns its store row, or nullopt when the audit log failed.
std::optional<StoredCopy> SubmitPipeline::DecideRecipient(const Admitted& admitted,
                                                          const RecipientPlan& r,
                                                          PreparedCopy& prepared, std::int64_t now,
                                                          RecipientOutcomeInfo& outcome) {
  const ReportView& view = admitted.view;
  const std::string& id_hex = admitted.id_hex;
  const Status& denied = prepared.denied;
  std::optional<std::uint64_t> first_denial;
  for (const PortionDecision& d : r.decisions) {
    if (d.release) continue;
    auto seq = auditor_.PortionDenied(id_hex, view.originator, r, d);
    if (!seq) return std::nullopt;
    if (!first_denial) first_denial = seq;
  }
  if (r.portions.empty() || !denied.ok()) {
    std::string reason = denied.ok() ? r.reason : denied.reason();
    if (!denied.ok()) {
      outcome.state = schema::DeliveryState::Denied;
      outcome.portions.clear();
      outcome.reason = denied.reason();
      outcome.explanation = denied.message();
    }
    if (reason.empty()) {
      // Every portion was withheld: the first portion's reason stands for the recipient.
      for (const PortionDecision& d : r.decisions) {
        if (!d.release) {
          reason = d.reason;
          break;
        }
      }
    } else {
      auto seq = auditor_.RecipientDenied(id_hex, view.originator, r, reason,
                                          denied.ok() ? r.explanation : denied.message());
      if (!seq) return std::nullopt;
      if (!first_denial) first_denial = seq;
    }
    outcome.record_seq = first_denial.value_or(0);
    return StoredCopy{r.node_id, r.nation, CopyState::kDenied, reason, {}, now, outcome.record_seq};
  }
  const bool send_now = is_online_(r.node_id);
  outcome.state = send_now ? schema::DeliveryState::Delivered : schema::DeliveryState::Queued;
  const Certificate* recipient_cert = directory_.FindNode(r.node_id);
  auto seq = auditor_.Released(send_now, id_hex, view, r,
                               recipient_cert ? recipient_cert->fields().clearance : "");
  if (!seq) return std::nullopt;
  outcome.record_seq = *seq;
  return StoredCopy{r.node_id,
                    r.nation,
                    send_now ? CopyState::kDelivered : CopyState::kQueued,
                    "",
                    std::move(prepared.bytes),
                    now,
                    *seq};
}

SubmitEffects SubmitPipeline::Commit(const std::string& node_id, std::uint64_t request_id,
                                     const Admitted& admitted, Prepared prepared) {
  const ReportView& view = admitted.view;
  const std::string& id_hex = admitted.id_hex;
  const RoutingPlan& plan = prepared.plan;
  SubmitEffects none;
  // 1. Audit every decision (group commit: one sync below, before any effect). A retry of an
  // orphaned report already has its `accepted` record.
  if (admitted.forward) {
    if (!auditor_.Forwarded(*admitted.forward, policy_)) return none;
  } else if (!orphans_.contains(id_hex) && !auditor_.Accepted(view, policy_)) {
    return none;
  }
  const std::int64_t now = clock_.UnixNow();
  SubmitReplyInfo reply;
  reply.report_id.assign(view.report_id.begin(), view.report_id.end());
  reply.accepted = true;
  reply.outcomes = ToOutcomes(plan);
  std::vector<StoredCopy> copies;  // copies[i] is recipient i's row.
  for (std::size_t i = 0; i < plan.recipients.size(); ++i) {
    auto copy =
        DecideRecipient(admitted, plan.recipients[i], prepared.copies[i], now, reply.outcomes[i]);
    if (!copy) return none;
    copies.push_back(std::move(*copy));
  }
  if (!auditor_.Sync()) return none;

  // 2. Store the report and every copy in one durable transaction.
  StoredReport row;
  row.report_id = id_hex;
  row.originator = admitted.submitter;
  row.sha256 = admitted.digest;
  row.expires_unix = view.expires_unix;
  row.reply = EncodeSubmitReply(0, reply);
  if (Status st = store_.InsertReport(row, copies); !st.ok()) {
    // The records above took no effect; a retry with the same id is routed again without a
    // second `accepted` record.
    if (!admitted.forward) orphans_[id_hex] = FingerprintOf(view);
    const Status why = st.reason() == "STORAGE_FULL"
                           ? StorageFull("the report store is full: " + st.message())
                           : Status(st.code(), st.reason(),
                                    "the broker could not store the report, so nothing was "
                                    "routed (" +
                                        st.message() + "); retry later with the same report");
    return Refuse(node_id, request_id, why, id_hex);
  }
  orphans_.erase(id_hex);

  // 3. Effects: copies for online recipients, then the answer to the sender.
  SubmitEffects effects;
  for (StoredCopy& c : copies) {
    if (c.state == CopyState::kDelivered) {
      effects.deliveries.push_back({c.node_id, id_hex, std::move(c.bytes)});
    }
  }
  effects.reply = EncodeSubmitReply(request_id, reply);
  return effects;
}

}  // namespace tearline::broker
