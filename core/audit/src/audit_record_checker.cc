#include "tearline/audit/audit_record_checker.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>

#include "audit_verify_util.h"
#include "tearline/audit/audit_record_types.h"
#include "tearline/labels/label.h"
#include "tearline/labels/policy.h"
#include "tearline/labels/release.h"

namespace tearline {

using audit_detail::IsLowerHex;
using audit_detail::kMaxPolicyFile;
using audit_detail::LineFailure;
using audit_detail::ShortHex;

namespace {

// Report ids, node ids and labels recur in many records: the checks index and compare them by
// an interned number instead of copying and comparing the text (equal numbers, equal texts).
// An open-addressed table of (hash, id) slots over one arena of the texts: a lookup reads one
// slot and, on a hash match, the text, where a node-based map chased a bucket, a node and the
// string's own heap buffer.
class Interner {
 public:
  std::uint32_t Id(std::string_view text) {
    if (2 * (ids_.size() + 1) > slots_.size()) Grow();
    const std::uint64_t h = Hash(text);
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = static_cast<std::size_t>(h) & mask;; i = (i + 1) & mask) {
      Slot& slot = slots_[i];
      if (slot.id == kEmpty) {
        const auto id = static_cast<std::uint32_t>(ids_.size());
        ids_.push_back({arena_.size(), text.size()});
        arena_.append(text);
        slot = Slot{h, id};
        return id;
      }
      if (slot.hash == h && Text(slot.id) == text) return slot.id;
    }
  }

 private:
  static constexpr std::uint32_t kEmpty = 0xFFFFFFFF;
  struct Slot {
    std::uint64_t hash = 0;
    std::uint32_t id = kEmpty;
  };
  struct Span {
    std::size_t off, len;
  };

  std::string_view Text(std::uint32_t id) const {
    return std::string_view(arena_).substr(ids_[id].off, ids_[id].len);
  }

  // Eight bytes at a time with a multiply-xorshift mix: ids and labels are short, and this is
  // several times cheaper than std::hash's byte-wise tail. Like std::hash it is unseeded; a log
  // crafted to collide costs the auditor time, never a wrong verdict (texts are compared).
  static std::uint64_t Hash(std::string_view s) {
    std::uint64_t h = 0x9E3779B97F4A7C15ull ^ s.size();
    const auto mix = [&h](std::uint64_t w) {
      h = (h ^ w) * 0xFF51AFD7ED558CCDull;
      h ^= h >> 32;
    };
    std::size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
      std::uint64_t w = 0;
      std::memcpy(&w, s.data() + i, 8);
      mix(w);
    }
    std::uint64_t tail = 0;
    if (i < s.size()) std::memcpy(&tail, s.data() + i, s.size() - i);
    mix(tail);
    return h;
  }

  // Keeps the table at most half full, so that probe runs stay short.
  void Grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.empty() ? 64 : 2 * old.size(), Slot{});
    const std::size_t mask = slots_.size() - 1;
    for (const Slot& slot : old) {
      if (slot.id == kEmpty) continue;
      std::size_t i = static_cast<std::size_t>(slot.hash) & mask;
      while (slots_[i].id != kEmpty) i = (i + 1) & mask;
      slots_[i] = slot;
    }
  }

  std::vector<Slot> slots_;  // Power-of-two size.
  std::vector<Span> ids_;    // By id: where its text is in arena_.
  std::string arena_;        // Every interned text, end to end.
};

// Portion index -> interned label, one entry per index (a later one replaces an earlier one).
using PortionLabels = std::vector<std::pair<std::uint64_t, std::uint32_t>>;

const std::uint32_t* LabelAt(const PortionLabels& labels, std::uint64_t index) {
  for (const auto& [i, label] : labels) {
    if (i == index) return &label;
  }
  return nullptr;
}
void SetLabel(PortionLabels& labels, std::uint64_t index, std::uint32_t label) {
  for (auto& [i, l] : labels) {
    if (i == index) {
      l = label;
      return;
    }
  }
  labels.emplace_back(index, label);
}

struct AcceptedInfo {
  std::uint64_t line = 0;
  std::string originator;
  std::string originator_nation;
  PortionLabels labels;
};

// What the log says happened to one copy: a (report, recipient) pair.
struct CopyState {
  bool queued = false;    // A queued record stored it.
  bool released = false;  // A queued or delivered record released it.
  bool failed = false;    // A failed record gave it up.
  PortionLabels held;     // The labels released to the recipient: what it may forward.
};

// A release decision record, checked against its originator's certificates once the signed

}  // namespace

class AuditRecordChecker::Impl {
 public:
  Impl(const std::filesystem::path& dir, AuditVerifyResult& result) : dir_(dir), result_(result) {}

  // Checks record `index` (0-based) of the log; records are given in order, one at a time.
  std::optional<AuditFailure> CheckNext(const AuditRecord& r, std::uint64_t index) {
    if (r.seq != index) {
      return LineFailure(r.line, "AUDIT_SEQ_MISMATCH",
                         "seq is " + std::to_string(r.seq) + " but the record is at index " +
                             std::to_string(index) +
                             ": a record was deleted, inserted or moved here");
    }
    if (r.time < last_time_) {
      return LineFailure(r.line, "AUDIT_TIME_REGRESSION",
                         "time " + FormatAuditTime(r.time) + " is earlier than the previous " +
                             "record's " + FormatAuditTime(last_time_));
    }
    last_time_ = r.time;
    return CheckOne(r);
  }

  // The release decision records seen so far (they are rare: one per decided request).
  const std::vector<PendingReleaseDecision>& decisions() const { return decisions_pending_; }

 private:
  // The state of the copy of `report` for `recipient` (a fresh one when the log has not named it).
  static std::uint64_t CopyKey(std::uint32_t report, std::uint32_t recipient) {
    return (static_cast<std::uint64_t>(report) << 32) | recipient;
  }
  CopyState& Copy(std::string_view report, std::string_view recipient) {
    return copies_[CopyKey(ids_.Id(report), ids_.Id(recipient))];
  }

  using LabelCache = std::map<std::string, Result<Label>, std::less<>>;

  // Labels repeat from record to record: each distinct text is parsed once. Parsing is a pure
  // function of the text and the policy, and the policy is fixed once loaded. The cache holds
  // one entry per distinct label, bounded by the size of the log.
  const Result<Label>& Parsed(std::string_view text, LabelCache& cache) {
    auto it = cache.find(text);
    if (it == cache.end()) {
      it = cache
               .emplace(std::string(text), &cache == &canonical_labels_
                                               ? ParseCanonicalPortion(text, *policy_)
                                               : ParseLabel(text, *policy_))
               .first;
    }
    return it->second;
  }

  // Release decisions likewise, per (label, nation, clearance, originator nation): DecideRelease
  // reads nothing else.
  const Result<ReleaseDecision>& Decided(std::string_view label, const Label& parsed,
                                         const Recipient& who) {
    // Each part length-prefixed: texts from the log may hold any byte, NUL included, so no
    // separator could keep two different inputs from sharing a key.
    std::string& key = decision_key_;  // Reused: no allocation once it has grown.
    key.clear();
    const auto part = [&key](std::string_view text) {
      const auto size = static_cast<std::uint32_t>(text.size());
      key.append(reinterpret_cast<const char*>(&size), sizeof size);
      key.append(text);
    };
    part(label);
    part(who.nation);
    part(std::to_string(*who.clearance));
    part(who.originator_nation.value_or(""));
    auto it = decisions_.find(key);
    if (it == decisions_.end()) {
      it = decisions_.emplace(key, DecideRelease(parsed, who, *policy_)).first;
    }
    return it->second;
  }

  std::optional<AuditFailure> LoadPolicy(std::uint64_t line) {
    if (policy_ || policy_error_) return policy_error_;
    auto text = ReadSmallFile(dir_ / "policy.toml", kMaxPolicyFile, "POLICY_FILE");
    if (!text.ok()) {
      policy_error_ =
          LineFailure(line, text.status().reason(),
                      "the logged policy cannot be checked: " + text.status().message());
      return policy_error_;
    }
    auto policy = Policy::Parse(*text, "policy.toml");
    if (!policy.ok()) {
      policy_error_ = LineFailure(line, "POLICY_INVALID",
                                  "policy.toml does not parse: " + policy.status().ToString());
      return policy_error_;
    }
    policy_digest_ = Sha256Hex(*text);
    policy_ = std::move(policy).value();
    result_.policy_name = policy_->name();
    result_.policy_version = policy_->version();
    return std::nullopt;
  }

  std::optional<AuditFailure> RequirePolicy(const AuditRecord& r) {
    if (!policy_loaded_) {
      return LineFailure(r.line, "AUDIT_NO_POLICY",
                         "a " + r.type + " record appears before any policy_loaded record");
    }
    return std::nullopt;
  }

  std::optional<AuditFailure> CheckOne(const AuditRecord& r) {
    const AnyAuditRecord* decoded = nullptr;
    if (Status st = decoder_.Decode(r, decoded); !st.ok()) {
      // A type this version does not know is skipped: a newer broker may write more types.
      if (st.reason() == "AUDIT_RECORD_UNKNOWN_TYPE") return std::nullopt;
      return LineFailure(r.line, st.reason(), st.message());
    }
    if (const auto* p = std::get_if<PolicyLoadedRecord>(decoded)) return CheckPolicyLoaded(r, *p);
    if (const auto* a = std::get_if<AcceptedRecord>(decoded)) return CheckAccepted(r, *a);
    if (const auto* f = std::get_if<ForwardedRecord>(decoded)) return CheckForwarded(r, *f);
    if (const auto* d = std::get_if<DeliveredRecord>(decoded)) return CheckDelivery(r, *d);
    if (const auto* q = std::get_if<QueuedRecord>(decoded)) return CheckDelivery(r, *q);
    if (const auto* d = std::get_if<DeliveredFromQueueRecord>(decoded)) {
      return CheckFromQueue(r, *d);
    }
    if (const auto* e = std::get_if<ExpiredRecord>(decoded)) return CheckExpired(r, *e);
    if (const auto* f = std::get_if<FailedRecord>(decoded)) return CheckFailed(r, *f);
    if (const auto* q = std::get_if<ReleaseRequestedRecord>(decoded)) return KeepRequest(r, *q);
    if (const auto* d = std::get_if<ReleaseDecidedRecord>(decoded)) return KeepDecision(r, *d);
    if (const auto* d = std::get_if<ReleaseAutoApprovedRecord>(decoded)) {
      return KeepDecision(r, *d);
    }
    if (const auto* d = std::get_if<ReleaseSanitisedRecord>(decoded)) return KeepDecision(r, *d);
    return std::nullopt;
  }

  // A request id is open until decided. The broker forgets decided requests when it needs room
  // (docs/PROTOCOL.md, *Release*), so a requester may use a decided id again: that starts a new
  // request. An id that is still open cannot be requested again.
  std::optional<AuditFailure> KeepRequest(const AuditRecord& r, const ReleaseRequestedRecord& q) {
    auto [it, fresh] = requests_.try_emplace(q.request_id, OpenRequest{q, false});
    if (fresh) return std::nullopt;
    if (!it->second.decided) {
      return LineFailure(r.line, "AUDIT_RELEASE_REQUEST_REPEATED",
                         "release request " + ShortHex(q.request_id) +
                             " is recorded again while it is still undecided");
    }
    it->second = OpenRequest{q, false};
    return std::nullopt;
  }

  // A decision answers one earlier request, once, and about what was asked: the broker cannot
  // log a release nobody requested, or decide a request twice. Its signature is checked later,
  // with the certificates (CheckAuditSignedFiles, audit_signed_files.h).
  template <typename T>
  std::optional<AuditFailure> KeepDecision(const AuditRecord& r, const T& d) {
    auto it = requests_.find(d.request_id);
    if (it == requests_.end()) {
      return LineFailure(r.line, "AUDIT_RELEASE_WITHOUT_REQUEST",
                         "a " + std::string(T::kType) + " record for request " +
                             ShortHex(d.request_id) + " follows no release_requested record");
    }
    const ReleaseRequestedRecord& q = it->second.request;
    if (q.report_id != d.report_id || q.portion != d.portion || q.to_nation != d.to_nation ||
        q.originator != d.originator || q.requester != d.requester) {
      return LineFailure(r.line, "AUDIT_RELEASE_WITHOUT_REQUEST",
                         "the " + std::string(T::kType) +
                             " record names another report, portion, "
                             "nation, originator or requester than request " +
                             ShortHex(d.request_id));
    }
    if (it->second.decided) {
      return LineFailure(r.line, "AUDIT_RELEASE_DECIDED_TWICE",
                         "request " + ShortHex(d.request_id) + " was already decided");
    }
    it->second.decided = true;
    decisions_pending_.push_back(PendingReleaseDecision{r.line, r.time, T::kType, d});
    return std::nullopt;
  }

  std::optional<AuditFailure> CheckPolicyLoaded(const AuditRecord& r, const PolicyLoadedRecord& p) {
    if (!IsLowerHex(p.policy_sha256, 64)) {
      return LineFailure(r.line, "AUDIT_RECORD_MALFORMED",
                         "policy_loaded has no valid policy_sha256");
    }
    if (auto f = LoadPolicy(r.line)) return f;
    if (p.policy_sha256 != policy_digest_) {
      return LineFailure(r.line, "POLICY_DIGEST_MISMATCH",
                         "the record names policy " + ShortHex(p.policy_sha256) +
                             " but policy.toml hashes to " + ShortHex(policy_digest_));
    }
    policy_loaded_ = true;
    return std::nullopt;
  }

  // The broker only expires a copy it stored: an `expired` record without an earlier release
  // of that report to that recipient would claim a copy that never existed.
  std::optional<AuditFailure> CheckExpired(const AuditRecord& r, const ExpiredRecord& e) {
    if (!Copy(e.report_id, e.recipient).released) {
      return LineFailure(r.line, "EXPIRY_WITHOUT_COPY",
                         "report " + ShortHex(e.report_id) + " expired for " + e.recipient +
                             " but no earlier queued or delivered record released it to " +
                             "that recipient");
    }
    return std::nullopt;
  }

  // Likewise a copy can only fail after it was released, and fails at most once: a second
  // `failed` record would claim a copy re-sent after the broker gave it up.
  std::optional<AuditFailure> CheckFailed(const AuditRecord& r, const FailedRecord& f) {
    CopyState& copy = Copy(f.report_id, f.recipient);
    if (!copy.released) {
      return LineFailure(r.line, "FAILED_WITHOUT_COPY",
                         "report " + ShortHex(f.report_id) + " failed for " + f.recipient +
                             " but no earlier queued or delivered record released it to " +
                             "that recipient");
    }
    if (std::exchange(copy.failed, true)) {
      return LineFailure(r.line, "AUDIT_DUPLICATE_FAILED",
                         "report " + ShortHex(f.report_id) + " already failed for " + f.recipient +
                             " in an earlier record");
    }
    return std::nullopt;
  }

  std::optional<AuditFailure> CheckAccepted(const AuditRecord& r, const AcceptedRecord& a) {
    if (auto f = RequirePolicy(r)) return f;
    if (!IsLowerHex(a.report_id, 32)) {
      return LineFailure(r.line, "AUDIT_RECORD_MALFORMED",
                         "accepted record's report_id is not 32 lower-case hex digits");
    }
    if (a.policy_sha256 != policy_digest_) {
      return LineFailure(r.line, "POLICY_DIGEST_MISMATCH",
                         "accepted record was decided under a policy other than policy.toml");
    }
    const std::uint32_t report = ids_.Id(a.report_id);
    if (auto earlier = accepted_.find(report); earlier != accepted_.end()) {
      return LineFailure(r.line, "AUDIT_DUPLICATE_ACCEPT",
                         "report " + a.report_id + " was already accepted at line " +
                             std::to_string(earlier->second.line));
    }
    AcceptedInfo info{r.line, a.originator, a.originator_nation, {}};
    for (const AcceptedPortion& p : a.portions) {
      // Canonical bytes only: delivery records are compared with these bytes, and the broker
      // refuses any other form (LABEL_NOT_CANONICAL) before it writes `accepted`.
      const Result<Label>& parsed = Parsed(p.label, canonical_labels_);
      if (!parsed.ok()) {
        return LineFailure(r.line, "AUDIT_BAD_LABEL",
                           "portion label '" + p.label + "' does not parse under the logged " +
                               "policy: " + parsed.status().ToString());
      }
      SetLabel(info.labels, p.index, label_ids_.Id(p.label));
    }
    accepted_[report] = std::move(info);
    return std::nullopt;
  }

  // A forward stands for an `accepted` record of its forward id, with the originator's labels,
  // so its copies are checked as deliveries. The forwarder must have held every forwarded portion
  // (a `delivered` or `queued` record of the report to it with that label) and none is ORCON.
  std::optional<AuditFailure> CheckForwarded(const AuditRecord& r, const ForwardedRecord& f) {
    if (auto fail = RequirePolicy(r)) return fail;
    if (!IsLowerHex(f.forward_id, 32) || !IsLowerHex(f.report_id, 32)) {
      return LineFailure(r.line, "AUDIT_RECORD_MALFORMED",
                         "forwarded record's ids are not 32 lower-case hex digits");
    }
    if (f.policy_sha256 != policy_digest_) {
      return LineFailure(r.line, "POLICY_DIGEST_MISMATCH",
                         "forwarded record was decided under a policy other than policy.toml");
    }
    const std::uint32_t forward = ids_.Id(f.forward_id);
    if (accepted_.contains(forward)) {
      return LineFailure(r.line, "AUDIT_DUPLICATE_ACCEPT",
                         "id " + f.forward_id + " was already accepted");
    }
    AcceptedInfo info{r.line, f.originator, f.originator_nation, {}};
    for (const AcceptedPortion& p : f.portions) {
      const std::uint32_t* held = LabelAt(Copy(f.report_id, f.forwarder).held, p.index);
      if (held == nullptr || *held != label_ids_.Id(p.label)) {
        return LineFailure(r.line, "FORWARD_WITHOUT_COPY",
                           "forward " + ShortHex(f.forward_id) + " by " + f.forwarder +
                               " names portion " + std::to_string(p.index) + " of report " +
                               ShortHex(f.report_id) +
                               ", which no earlier record released to the forwarder");
      }
      const Result<Label>& parsed = Parsed(p.label, labels_);
      if (!parsed.ok()) return LineFailure(r.line, "AUDIT_BAD_LABEL", parsed.status().ToString());
      if (parsed->orcon) {
        return LineFailure(r.line, "FORWARD_OF_ORCON",
                           "forward " + ShortHex(f.forward_id) + " moved ORCON portion " +
                               std::to_string(p.index) + " without its originator");
      }
      SetLabel(info.labels, p.index, label_ids_.Id(p.label));
    }
    accepted_[forward] = std::move(info);
    return std::nullopt;
  }

  std::optional<AuditFailure> CheckFromQueue(const AuditRecord& r,
                                             const DeliveredFromQueueRecord& d) {
    if (!Copy(d.report_id, d.recipient).queued) {
      return LineFailure(r.line, "DELIVERY_NOT_QUEUED",
                         "report " + ShortHex(d.report_id) + " is delivered to " + d.recipient +
                             " from the queue, but no earlier queued record stored it for " +
                             "that recipient");
    }
    return std::nullopt;
  }

  std::optional<AuditFailure> CheckDelivery(const AuditRecord& r, const ReleasedCopy& c) {
    if (auto f = RequirePolicy(r)) return f;
    const std::uint32_t report = ids_.Id(c.report_id);
    auto acc = accepted_.find(report);
    if (acc == accepted_.end()) {
      return LineFailure(r.line, "DELIVERY_WITHOUT_ACCEPT",
                         "report " + ShortHex(c.report_id) + " is " + r.type + " to " +
                             c.recipient + " but no earlier accepted record has that report id");
    }
    if (c.portions.empty()) {
      return LineFailure(r.line, "AUDIT_RECORD_MALFORMED", r.type + " record has no portions");
    }
    if ((c.originator && *c.originator != acc->second.originator) ||
        (c.originator_nation && *c.originator_nation != acc->second.originator_nation)) {
      return LineFailure(r.line, "DELIVERY_ORIGINATOR_MISMATCH",
                         "originator differs from the accepted record at line " +
                             std::to_string(acc->second.line));
    }
    Recipient who;
    who.nation = c.nation;
    who.originator_nation = acc->second.originator_nation;
    who.clearance = policy_->FindLevel(c.clearance);
    if (!who.clearance) {
      return LineFailure(r.line, "DELIVERY_BAD_CLEARANCE",
                         "clearance '" + c.clearance + "' is not a level of the logged policy");
    }
    for (const ReleasedPortion& p : c.portions) {
      const std::uint32_t* logged = LabelAt(acc->second.labels, p.index);
      // Equal ids, equal labels: the released label is the accepted one, already interned.
      if (logged == nullptr || *logged != label_ids_.Id(p.label)) {
        return LineFailure(r.line, "DELIVERY_LABEL_MISMATCH",
                           "portion " + std::to_string(p.index) + " labelled '" + p.label +
                               "' does not match the accepted record at line " +
                               std::to_string(acc->second.line));
      }
      const Result<Label>& parsed = Parsed(p.label, labels_);
      if (!parsed.ok()) {
        return LineFailure(r.line, "AUDIT_BAD_LABEL", parsed.status().ToString());
      }
      const Result<ReleaseDecision>& decision = Decided(p.label, *parsed, who);
      if (!decision.ok()) {
        return LineFailure(
            r.line, "DELIVERY_BAD_RECIPIENT",
            "cannot decide release to " + who.nation + ": " + decision.status().ToString());
      }
      if (!decision->release) {
        return LineFailure(r.line, "DELIVERY_NOT_ALLOWED",
                           "portion " + std::to_string(p.index) + " '" + p.label + "' of report " +
                               ShortHex(c.report_id) + " went to " + c.recipient + " (" +
                               who.nation + ") but the logged policy denies " +
                               "it: " + std::string(DenyReasonName(decision->reason)) + ": " +
                               decision->explanation);
      }
      ++result_.portions_checked;
    }
    ++result_.deliveries_checked;
    CopyState& copy = copies_[CopyKey(report, ids_.Id(c.recipient))];
    if (r.type == QueuedRecord::kType) copy.queued = true;
    for (const ReleasedPortion& p : c.portions) {
      // Every label here matched the accepted record's: reuse its id rather than hash again.
      SetLabel(copy.held, p.index, *LabelAt(acc->second.labels, p.index));
    }
    copy.released = true;
    return std::nullopt;
  }

  std::filesystem::path dir_;
  AuditVerifyResult& result_;
  std::optional<Policy> policy_;
  std::optional<AuditFailure> policy_error_;
  std::string policy_digest_;
  bool policy_loaded_ = false;
  double last_time_ = 0;
  AuditRecordDecoder decoder_;   // Reused for every record: no allocation per record.
  LabelCache labels_;            // ParseLabel by text.
  LabelCache canonical_labels_;  // ParseCanonicalPortion by text.
  std::map<std::string, Result<ReleaseDecision>, std::less<>> decisions_;
  std::string decision_key_;
  Interner ids_;                                              // Report ids and node ids.
  Interner label_ids_;                                        // Portion labels.
  std::unordered_map<std::uint32_t, AcceptedInfo> accepted_;  // By report (or forward) id.
  std::unordered_map<std::uint64_t, CopyState> copies_;       // By CopyKey.
  struct OpenRequest {
    ReleaseRequestedRecord request;
    bool decided = false;
  };
  std::unordered_map<std::string, OpenRequest> requests_;  // By request id.
  std::vector<PendingReleaseDecision> decisions_pending_;
};

AuditRecordChecker::AuditRecordChecker(const std::filesystem::path& dir, AuditVerifyResult& result)
    : impl_(std::make_unique<Impl>(dir, result)) {}
AuditRecordChecker::~AuditRecordChecker() = default;

std::optional<AuditFailure> AuditRecordChecker::CheckNext(const AuditRecord& r,
                                                          std::uint64_t index) {
  return impl_->CheckNext(r, index);
}

const std::vector<PendingReleaseDecision>& AuditRecordChecker::decisions() const {
  return impl_->decisions();
}

}  // namespace tearline
