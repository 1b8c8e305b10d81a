#include "tearline/audit/audit_verify.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <set>
#include <span>
#include <unordered_map>
#include <utility>

#include "tearline/audit/audit_record_types.h"
#include "tearline/audit/release_decision_check.h"
#include "tearline/identity/certificate.h"
#include "tearline/identity/trust_store.h"
#include "tearline/labels/label.h"
#include "tearline/labels/policy.h"
#include "tearline/labels/release.h"
#include "tearline/tlog/prefix_roots.h"

namespace tearline {
namespace {

constexpr std::size_t kMaxSmallFile = 4096;
constexpr std::size_t kMaxPolicyFile = 1 << 20;

AuditFailure LineFailure(std::uint64_t line, std::string reason, std::string message) {
  return AuditFailure{line, line, "", std::move(reason), std::move(message)};
}
AuditFailure RangeFailure(std::uint64_t first, std::uint64_t last, std::string file,
                          std::string reason, std::string message) {
  return AuditFailure{first, last, std::move(file), std::move(reason), std::move(message)};
}
AuditFailure FileFailure(std::string file, const Status& st) {
  return AuditFailure{0, 0, std::move(file), st.reason(), st.message()};
}
AuditFailure FileFailure(std::string file, std::string reason, std::string message) {
  return AuditFailure{0, 0, std::move(file), std::move(reason), std::move(message)};
}

bool IsCanonicalDecimal(std::string_view s, std::uint64_t& value) {
  if (s.empty() || s.size() > 19 || (s.size() > 1 && s[0] == '0')) return false;
  value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return true;
}

bool IsLowerHex(const std::string& s, std::size_t size) {
  if (s.size() != size) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string ShortHex(const std::string& s) { return s.size() > 12 ? s.substr(0, 12) + "…" : s; }

// ----- Record checks ---------------------------------------------------------------------------

// Report ids, node ids and labels recur in many records: the checks index and compare them by
// an interned number instead of copying and comparing the text (equal numbers, equal texts).
class Interner {
 public:
  std::uint32_t Id(std::string_view text) {
    if (auto it = ids_.find(text); it != ids_.end()) return it->second;
    const auto id = static_cast<std::uint32_t>(ids_.size());
    ids_.emplace(std::string(text), id);
    return id;
  }

 private:
  // Eight bytes at a time with a multiply-xorshift mix: ids and labels are short, and this is
  // several times cheaper than std::hash's byte-wise tail. Like std::hash it is unseeded; a log
  // crafted to collide costs the auditor time, never a wrong verdict.
  struct TextHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const {
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
      return static_cast<std::size_t>(h);
    }
  };
  std::unordered_map<std::string, std::uint32_t, TextHash, std::equal_to<>> ids_;
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
// files (and with them the certificates) are loaded.
struct PendingDecision {
  std::uint64_t line = 0;
  double time = 0;
  std::string_view type;  // A record type name (static storage).
  ReleaseDecisionFields fields;
};

class RecordChecker {
 public:
  RecordChecker(const std::filesystem::path& dir, AuditVerifyResult& result)
      : dir_(dir), result_(result) {}

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
  const std::vector<PendingDecision>& decisions() const { return decisions_pending_; }

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
  // with the certificates (SignedFileChecker::CheckReleaseDecisions).
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
    decisions_pending_.push_back(PendingDecision{r.line, r.time, T::kType, d});
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
  std::vector<PendingDecision> decisions_pending_;
};

// ----- Signed files ----------------------------------------------------------------------------

struct Witness {
  Certificate cert;
  NoteVerifierKey key;
};

// Lists regular files of `dir` (sorted by name); a missing directory is empty.
Result<std::vector<std::string>> ListFiles(const std::filesystem::path& dir, std::size_t cap) {
  std::vector<std::string> names;
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) return names;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (names.size() >= cap) {
      return Status(Code::kResourceExhausted, "AUDIT_TOO_MANY_FILES",
                    dir.filename().string() + " holds more than " + std::to_string(cap) + " files");
    }
    std::string name = it->path().filename().string();
    // Hidden files are the broker's in-flight temporaries (written, then renamed into place);
    // one left by a crash or caught mid-copy is not part of the signed layout.
    if (name.starts_with('.')) continue;
    names.push_back(std::move(name));
  }
  if (ec) return IoError("AUDIT_IO", dir.string() + ": " + ec.message());
  std::sort(names.begin(), names.end());
  return names;
}

struct CheckpointFile {
  std::string file;  // Relative name.
  Checkpoint checkpoint;
  std::string text;
};

class SignedFileChecker {
 public:
  // `log_time`: the time of the newest record (the broker certificate must be valid then).
  SignedFileChecker(const AuditVerifyOptions& options, PrefixRoots& roots, double log_time,
                    const std::vector<PendingDecision>& decisions, AuditVerifyResult& result)
      : options_(options),
        dir_(options.dir),
        tree_(roots),
        log_time_(log_time),
        decisions_(decisions),
        result_(result) {}

  // Returns every failure found (the caller picks the first by line).
  std::vector<AuditFailure> Run() {
    auto key = LoadAuditLogKey(dir_);
    if (!key.ok()) return {FileFailure("log.pub", key.status())};
    log_key_ = *key;
    result_.origin = log_key_.name;
    LoadWitnesses();
    if (!failures_.empty()) return failures_;
    CheckReleaseDecisions();
    if (!LoadCheckpoints()) return failures_;
    // Every signed root in one pass over the leaves (trusted checkpoints of other sizes are
    // computed when asked).
    std::vector<std::uint64_t> sizes;
    for (const auto& entry : checkpoints_) sizes.push_back(entry.first);
    tree_.Prepare(sizes);
    CheckCosignatures();
    CheckTrusted();
    CheckRoots();
    CheckBrokerCertificate();
    CheckWitnessCount();
    return failures_;
  }

 private:
  // log.pub is only the broker's claim about its key: the certificate the coalition root issued
  // to the broker ties it to the broker. Without that tie, a log rewritten and re-signed with a
  // fresh key verifies on its own. Required when the auditor pins the root (--ca); checked
  // whenever the file is there.
  void CheckBrokerCertificate() {
    const std::string rel(kAuditBrokerCertFile);
    std::error_code ec;
    if (!std::filesystem::exists(dir_ / rel, ec)) {
      if (options_.ca_dir) {
        failures_.push_back(FileFailure(rel, "AUDIT_BROKER_CERT_MISSING",
                                        "the audit directory holds no broker certificate, so "
                                        "nothing ties log.pub to a key the coalition root "
                                        "issued"));
      }
      return;
    }
    auto cert = ReadCertificateFile((dir_ / rel).string());
    if (!cert.ok()) {
      failures_.push_back(FileFailure(rel, cert.status()));
      return;
    }
    if (cert->role() != CertRole::kBroker) {
      failures_.push_back(FileFailure(rel, "AUDIT_BROKER_CERT_UNTRUSTED",
                                      "broker.cert is not a broker certificate"));
      return;
    }
    if (!store_) {
      failures_.push_back(FileFailure(rel, store_error_));
      return;
    }
    const auto when = static_cast<std::int64_t>(log_time_);
    if (Status st = store_->VerifyCertificate(*cert, when); !st.ok()) {
      failures_.push_back(FileFailure(rel, "AUDIT_BROKER_CERT_UNTRUSTED",
                                      "the broker certificate is not valid under the coalition "
                                      "root at " +
                                          FormatAuditTime(log_time_) + ": " + st.ToString()));
      return;
    }
    const std::string origin = std::string(kAuditOriginPrefix) + cert->node_id();
    auto expected = MakeNoteVerifierKey(origin, NoteKeyType::kEd25519, cert->fields().signing_key);
    if (!expected.ok() || !(log_key_ == *expected)) {
      failures_.push_back(FileFailure(
          "log.pub", "LOG_KEY_NOT_BROKER",
          "log.pub is not the signing key of broker '" + cert->node_id() +
              "' that the coalition root certified (broker.cert): the log and its checkpoints "
              "were signed by some other key, e.g. a history rewritten and re-signed"));
      return;
    }
    result_.broker = cert->node_id();
  }

  // Each release decision must be what its originator signed, under a certificate of the
  // originator valid under the root at the record's time (release_decision_check.h).
  void CheckReleaseDecisions() {
    for (const PendingDecision& d : decisions_) {
      std::vector<PublicKey> keys;
      if (auto w = witnesses_.find(d.fields.originator); w != witnesses_.end() && store_) {
        for (const Witness& candidate : w->second) {
          if (store_->VerifyCertificate(candidate.cert, static_cast<std::int64_t>(d.time)).ok()) {
            keys.push_back(candidate.cert.fields().signing_key);
          }
        }
      }
      if (Status st = CheckReleaseDecisionRecord(d.type, d.fields, keys); !st.ok()) {
        failures_.push_back(LineFailure(d.line, st.reason(), st.message()));
      }
    }
  }

  void CheckWitnessCount() {
    if (result_.witnesses.size() >= options_.min_witnesses) return;
    failures_.push_back(FileFailure(
        "cosignatures", "AUDIT_TOO_FEW_WITNESSES",
        std::to_string(result_.witnesses.size()) +
            " distinct witnesses with a certificate valid under the coalition root cosigned "
            "this log; at least " +
            std::to_string(options_.min_witnesses) + " are required"));
  }

  void LoadWitnesses() {
    auto names = ListFiles(dir_ / "certs", kMaxAuditCertFiles);
    if (!names.ok()) {
      failures_.push_back(FileFailure("certs", names.status()));
      return;
    }
    const std::filesystem::path root_dir = options_.ca_dir ? *options_.ca_dir : dir_ / "certs";
    auto store = TrustStore::LoadFromCaDir(root_dir, nullptr);
    if (store.ok()) {
      store_ = std::move(store).value();
    } else {
      store_error_ = store.status().WithContext(root_dir.string());
    }
    for (const std::string& name : *names) {
      if (name == kRootCertFile || name.size() < 6 || !name.ends_with(".cert")) continue;
      auto cert = ReadCertificateFile((dir_ / "certs" / name).string());
      if (!cert.ok()) {
        failures_.push_back(FileFailure("certs/" + name, cert.status()));
        return;
      }
      if (cert->role() != CertRole::kNode) continue;  // Only nodes witness the log.
      auto wkey = MakeNoteVerifierKey(cert->node_id(), NoteKeyType::kCosignatureV1,
                                      cert->fields().signing_key);
      if (!wkey.ok()) continue;
      const std::string id = cert->node_id();
      // A node may hold several certificates over time (renewal): keep each distinct key.
      auto& certs = witnesses_[id];
      const bool seen =
          std::any_of(certs.begin(), certs.end(), [&](const Witness& w) { return w.key == *wkey; });
      if (!seen) {
        witness_keys_.push_back(*wkey);
        certs.push_back(Witness{std::move(cert).value(), *wkey});
      }
    }
  }

  Result<CheckpointFile> OpenFile(const std::filesystem::path& path, std::string rel) {
    auto note = ReadSmallFile(path, kMaxSignedNoteSize, "CHECKPOINT");
    if (!note.ok()) return note.status();
    auto opened = OpenCheckpoint(*note, log_key_.name, log_key_, witness_keys_);
    if (!opened.ok()) return opened.status();
    return CheckpointFile{std::move(rel), opened->checkpoint, opened->text};
  }

  bool LoadCheckpoints() {
    auto names = ListFiles(dir_ / "checkpoints", kMaxAuditCheckpointFiles);
    if (!names.ok()) {
      failures_.push_back(FileFailure("checkpoints", names.status()));
      return false;
    }
    for (const std::string& name : *names) {
      const std::string rel = "checkpoints/" + name;
      std::uint64_t size = 0;
      if (!IsCanonicalDecimal(name, size)) {
        failures_.push_back(FileFailure(rel, "CHECKPOINT_BAD_NAME",
                                        "checkpoint file names must be the tree size in decimal"));
        return false;
      }
      auto cp = OpenFile(dir_ / "checkpoints" / name, rel);
      if (!cp.ok()) {
        failures_.push_back(FileFailure(rel, cp.status()));
        return false;
      }
      if (cp->checkpoint.tree_size != size) {
        failures_.push_back(FileFailure(
            rel, "CHECKPOINT_NAME_MISMATCH",
            "the file holds a checkpoint of size " + std::to_string(cp->checkpoint.tree_size)));
        return false;
      }
      checkpoints_.emplace(size, std::move(cp).value());
    }
    std::error_code ec;
    if (tree_.size() == 0 && checkpoints_.empty() &&
        !std::filesystem::exists(dir_ / "checkpoint", ec)) {
      return true;  // An empty log with no checkpoint yet.
    }
    auto latest = OpenFile(dir_ / "checkpoint", "checkpoint");
    if (!latest.ok()) {
      if (latest.status().reason() == "CHECKPOINT_NOT_FOUND") {
        failures_.push_back(FileFailure("checkpoint", "AUDIT_NO_CHECKPOINT",
                                        "the log has no signed checkpoint: nothing in it is "
                                        "tamper-evident"));
      } else {
        failures_.push_back(FileFailure("checkpoint", latest.status()));
      }
      return false;
    }
    const std::uint64_t size = latest->checkpoint.tree_size;
    auto same = checkpoints_.find(size);
    if (same == checkpoints_.end()) {
      if (!checkpoints_.empty()) {
        failures_.push_back(FileFailure("checkpoint", "CHECKPOINT_LATEST_MISMATCH",
                                        "checkpoints/" + std::to_string(size) + " is missing"));
        return false;
      }
      checkpoints_.emplace(size, *latest);
    } else if (same->second.text != latest->text) {
      failures_.push_back(FileFailure("checkpoint", "CHECKPOINT_LATEST_MISMATCH",
                                      "differs from checkpoints/" + std::to_string(size) +
                                          ": the log signed two different trees of one size"));
      return false;
    }
    if (checkpoints_.rbegin()->first != size) {
      failures_.push_back(
          FileFailure("checkpoint", "CHECKPOINT_LATEST_STALE",
                      "checkpoint has size " + std::to_string(size) + " but checkpoints/" +
                          std::to_string(checkpoints_.rbegin()->first) + " is newer"));
      return false;
    }
    result_.latest = latest->checkpoint;
    result_.checkpoints = checkpoints_.size();
    return true;
  }

  // Root recomputed from the records at `size`, or nullopt when the log is shorter.
  std::optional<Hash> Recomputed(std::uint64_t size) const { return tree_.At(size); }

  // Largest independently attested size below `size` whose root matched (0 when none).
  std::uint64_t AnchorBelow(std::uint64_t size) const {
    auto it = anchors_.lower_bound(size);
    if (it == anchors_.begin()) return 0;
    return *std::prev(it);
  }

  void CheckCosignatures() {
    auto names = ListFiles(dir_ / "cosignatures", kMaxAuditCheckpointFiles);
    if (!names.ok()) {
      failures_.push_back(FileFailure("cosignatures", names.status()));
      return;
    }
    std::set<std::string> witnesses;
    for (const std::string& name : *names) {
      const std::string rel = "cosignatures/" + name;
      const std::size_t dot = name.find('.');
      std::uint64_t size = 0;
      if (dot == std::string::npos || !IsCanonicalDecimal(name.substr(0, dot), size)) {
        failures_.push_back(FileFailure(rel, "COSIGNATURE_BAD_NAME",
                                        "cosignature files are named <size>.<witness-node-id>"));
        continue;
      }
      const std::string node = name.substr(dot + 1);
      auto cp = checkpoints_.find(size);
      if (cp == checkpoints_.end()) {
        failures_.push_back(FileFailure(rel, "COSIGNATURE_ORPHAN",
                                        "no checkpoints/" + std::to_string(size) +
                                            " for this cosignature: the checkpoint a witness "
                                            "signed was removed"));
        continue;
      }
      auto w = witnesses_.find(node);
      if (w == witnesses_.end()) {
        failures_.push_back(
            FileFailure(rel, "COSIGNATURE_UNKNOWN_WITNESS",
                        "no node certificate certs/*.cert for witness '" + node + "'"));
        continue;
      }
      auto line = ReadSmallFile(dir_ / "cosignatures" / name, kMaxSmallFile, "COSIGNATURE");
      if (!line.ok()) {
        failures_.push_back(FileFailure(rel, line.status()));
        continue;
      }
      // The certificate whose key id the cosignature names (NOTE_UNVERIFIED: another key).
      const Witness* signer = nullptr;
      Result<std::uint64_t> ts = Status(Code::kUnauthenticated, "NOTE_UNVERIFIED",
                                        "no certificate of '" + node + "' holds the signing key");
      for (const Witness& candidate : w->second) {
        auto attempt = VerifyCosignature(cp->second.checkpoint, *line, candidate.key);
        if (!attempt.ok() && attempt.status().reason() == "NOTE_UNVERIFIED") continue;
        signer = &candidate;
        ts = std::move(attempt);
        break;
      }
      if (!ts.ok()) {
        if (ts.status().reason() == "NOTE_BAD_SIGNATURE") {
          // The witness signed some other checkpoint of this size: the signed tree was replaced.
          pending_bad_cosigs_.push_back({size, rel, ts.status()});
        } else {
          failures_.push_back(FileFailure(rel, ts.status()));
        }
        continue;
      }
      if (!store_) {
        failures_.push_back(FileFailure(
            rel, store_error_.reason().empty()
                     ? Status(Code::kNotFound, "TRUST_ROOT_MISSING", "no coalition root")
                     : store_error_));
        continue;
      }
      Status trusted = store_->VerifyCertificate(signer->cert, static_cast<std::int64_t>(*ts));
      if (!trusted.ok()) {
        failures_.push_back(FileFailure(rel, "COSIGNATURE_WITNESS_UNTRUSTED",
                                        "witness certificate for '" + node +
                                            "' is not valid under the coalition root at the "
                                            "cosignature time: " +
                                            trusted.ToString()));
        continue;
      }
      ++result_.cosignatures;
      witnesses.insert(node);
      result_.witnessed_size = std::max(result_.witnessed_size, size);
      // A witness only cosigns what it checked against its own view: an independent anchor.
      if (auto root = Recomputed(size); root && *root == cp->second.checkpoint.root_hash) {
        anchors_.insert(size);
      }
    }
    result_.witnesses.assign(witnesses.begin(), witnesses.end());
  }

  void CheckTrusted() {
    std::vector<CheckpointFile> trusted;
    for (const auto& path : options_.trusted_checkpoints) {
      auto cp = OpenFile(path, path.string());
      if (!cp.ok()) {
        failures_.push_back(FileFailure(
            path.string(), cp.status().reason(),
            "trusted checkpoint does not verify under log.pub: " + cp.status().message()));
        continue;
      }
      trusted.push_back(std::move(cp).value());
    }
    // Matching ones first become anchors, so that mismatches are located as tightly as possible.
    for (const CheckpointFile& cp : trusted) {
      auto root = Recomputed(cp.checkpoint.tree_size);
      if (root && *root == cp.checkpoint.root_hash) anchors_.insert(cp.checkpoint.tree_size);
    }
    for (const CheckpointFile& cp : trusted) {
      const std::uint64_t size = cp.checkpoint.tree_size;
      auto root = Recomputed(size);
      if (!root) {
        failures_.push_back(RangeFailure(
            tree_.size() + 1, size, cp.file, "TRUSTED_CHECKPOINT_BEYOND_LOG",
            "a trusted checkpoint covers " + std::to_string(size) + " records but the log has " +
                "only " + std::to_string(tree_.size()) + ": records were removed"));
        continue;
      }
      if (*root != cp.checkpoint.root_hash) {
        const std::uint64_t first = AnchorBelow(size) + 1;
        failures_.push_back(RangeFailure(
            first, size, cp.file, "TRUSTED_CHECKPOINT_MISMATCH",
            "the trusted checkpoint of size " + std::to_string(size) +
                " does not match the "
                "records: the history was rewritten (and re-signed) at or after line " +
                std::to_string(first) + " and at or before line " + std::to_string(size)));
        continue;
      }
      ++result_.trusted_checkpoints;
    }
    for (const PendingCosig& bad : pending_bad_cosigs_) {
      const std::uint64_t first = AnchorBelow(bad.size) + 1;
      failures_.push_back(RangeFailure(
          first, bad.size, bad.file, "COSIGNATURE_MISMATCH",
          "the witness's cosignature does not verify over checkpoints/" + std::to_string(bad.size) +
              " as it is now: the checkpoint was replaced after it " +
              "was cosigned (history rewritten between lines " + std::to_string(first) + " and " +
              std::to_string(bad.size) + "?) (" + bad.status.ToString() + ")"));
    }
  }

  void CheckRoots() {
    std::uint64_t last_good = 0;
    for (const auto& [size, cp] : checkpoints_) {
      auto root = Recomputed(size);
      if (!root) {
        const std::uint64_t last = checkpoints_.rbegin()->first;
        failures_.push_back(RangeFailure(tree_.size() + 1, last, cp.file, "CHECKPOINT_BEYOND_LOG",
                                         "the log ends after line " + std::to_string(tree_.size()) +
                                             " but " + cp.file + " covers " + std::to_string(size) +
                                             " records: lines " + std::to_string(tree_.size() + 1) +
                                             "-" + std::to_string(last) +
                                             " are missing (truncated)"));
        return;
      }
      if (*root != cp.checkpoint.root_hash) {
        const std::uint64_t first = std::max(last_good, AnchorBelow(size)) + 1;
        failures_.push_back(
            RangeFailure(first, size, cp.file, "CHECKPOINT_ROOT_MISMATCH",
                         cp.file + " root does not match the records: a record in lines " +
                             std::to_string(first) + "-" + std::to_string(size) + " was altered"));
        return;
      }
      // Each matched root was recomputed from the same records, so successive checkpoints are
      // of one history: a consistency proof between them could not fail (prefix_roots.h).
      last_good = size;
    }
  }

  struct PendingCosig {
    std::uint64_t size;
    std::string file;
    Status status;
  };

  const AuditVerifyOptions& options_;
  std::filesystem::path dir_;
  PrefixRoots& tree_;  // Roots of the log's prefixes.
  const double log_time_;
  const std::vector<PendingDecision>& decisions_;
  AuditVerifyResult& result_;
  NoteVerifierKey log_key_;
  std::optional<TrustStore> store_;
  Status store_error_;
  std::map<std::string, std::vector<Witness>> witnesses_;
  std::vector<NoteVerifierKey> witness_keys_;
  std::map<std::uint64_t, CheckpointFile> checkpoints_;
  std::set<std::uint64_t> anchors_;
  std::vector<PendingCosig> pending_bad_cosigs_;
  std::vector<AuditFailure> failures_;
};

// The failure to report: smallest line first (ties: exact before ranges), then file failures in
// the order found.
// A root mismatch only says "somewhere in lines a-b"; an exact failure inside that range names
// the record itself, so it wins over the range even when the range starts earlier.
std::optional<AuditFailure> First(const std::vector<AuditFailure>& failures) {
  const auto narrower = [](const AuditFailure& a, const AuditFailure& b) {
    return a.last_line - a.line < b.last_line - b.line;
  };
  const AuditFailure* best = nullptr;
  for (const AuditFailure& f : failures) {
    if (f.line == 0) continue;
    if (best == nullptr) {
      best = &f;
      continue;
    }
    const bool f_inside_best = f.line >= best->line && f.last_line <= best->last_line;
    const bool best_inside_f = best->line >= f.line && best->last_line <= f.last_line;
    if (f_inside_best && narrower(f, *best)) {
      best = &f;
    } else if (best_inside_f) {
      continue;
    } else if (f.line < best->line) {
      best = &f;
    }
  }
  if (best != nullptr) return *best;
  if (!failures.empty()) return failures.front();
  return std::nullopt;
}

}  // namespace

std::string AuditFailure::ToString() const {
  std::string where;
  if (line != 0 && last_line > line) {
    where = "lines " + std::to_string(line) + "-" + std::to_string(last_line);
  } else if (line != 0) {
    where = "line " + std::to_string(line);
  }
  if (!file.empty()) where += where.empty() ? file : " (" + file + ")";
  return where + ": " + reason + ": " + message;
}

Result<NoteVerifierKey> LoadAuditLogKey(const std::filesystem::path& dir) {
  auto text = ReadSmallFile(dir / "log.pub", kMaxSmallFile, "LOG_KEY");
  if (!text.ok()) return text.status();
  std::string_view line = *text;
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  auto key = ParseNoteVerifierKey(line);
  if (!key.ok()) {
    return InvalidArgument("LOG_KEY_INVALID", "log.pub: " + key.status().ToString());
  }
  if (key->type != NoteKeyType::kEd25519 || !key->name.starts_with(kAuditOriginPrefix)) {
    return InvalidArgument("LOG_KEY_INVALID",
                           "log.pub must be an Ed25519 note key named tearline/audit/<broker-id>");
  }
  return key;
}

Result<Checkpoint> LoadLatestAuditCheckpoint(const std::filesystem::path& dir,
                                             const NoteVerifierKey& log_key) {
  auto note = ReadSmallFile(dir / "checkpoint", kMaxSignedNoteSize, "CHECKPOINT");
  if (!note.ok()) return note.status();
  auto opened = OpenCheckpoint(*note, log_key.name, log_key);
  if (!opened.ok()) return opened.status();
  return opened->checkpoint;
}

std::string AuditVerdict(const AuditVerifyResult& result) {
  if (!result.ok()) return "FAIL";
  if (result.unwitnessed()) return "PASS (unwitnessed)";
  return "PASS";
}

AuditVerifyResult VerifyAuditDirectory(const AuditVerifyOptions& options) {
  AuditVerifyResult result;
  result.root_pinned = options.ca_dir.has_value();
  std::vector<AuditFailure> failures;
  const auto load_failure = [&](const AuditLoadError& error) {
    AuditFailure f = LineFailure(error.line, error.status.reason(), error.status.message());
    if (f.line == 0) f.file = "log.jsonl";
    failures.push_back(std::move(f));
  };
  auto text = ReadAuditLogText(options.dir);
  if (!text.ok()) {
    load_failure(AuditLoadError{0, text.status()});
    result.failure = First(failures);
    return result;
  }
  // One pass, one record at a time: parse, check, hash the leaf. Only the leaf hashes are kept
  // (32 bytes per record); after a failed check the rest is still parsed and hashed, so that a
  // malformed later line is reported as before and the roots cover every record.
  RecordChecker records_checker(options.dir, result);
  std::optional<AuditFailure> check_failure;
  std::vector<Hash> leaves;
  AuditLogReader reader(*text);
  AuditRecord record;
  double log_time = 0;
  while (reader.Next(record)) {
    leaves.push_back(LeafHash(std::span<const std::uint8_t>(
        reinterpret_cast<const std::uint8_t*>(record.bytes.data()), record.bytes.size())));
    if (!check_failure) check_failure = records_checker.CheckNext(record, leaves.size() - 1);
    log_time = record.time;
  }
  result.records = leaves.size();
  if (reader.error()) load_failure(*reader.error());
  if (check_failure) failures.push_back(std::move(*check_failure));
  if (!reader.error()) {
    if (leaves.empty()) {
      log_time = static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(
                                         std::chrono::system_clock::now().time_since_epoch())
                                         .count());
    }
    PrefixRoots roots(leaves);
    SignedFileChecker signed_checker(options, roots, log_time, records_checker.decisions(), result);
    for (AuditFailure& f : signed_checker.Run()) failures.push_back(std::move(f));
  }
  result.failure = First(failures);
  return result;
}

}  // namespace tearline
