#include "tearline/audit/audit_verify.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <span>
#include <utility>

#include "tearline/audit/audit_record_types.h"
#include "tearline/identity/certificate.h"
#include "tearline/identity/trust_store.h"
#include "tearline/labels/label.h"
#include "tearline/labels/policy.h"
#include "tearline/labels/release.h"

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

struct AcceptedInfo {
  std::uint64_t line = 0;
  std::string originator;
  std::string originator_nation;
  std::map<std::uint64_t, std::string> labels;  // portion index -> label
};

class RecordChecker {
 public:
  RecordChecker(const std::filesystem::path& dir, AuditVerifyResult& result)
      : dir_(dir), result_(result) {}

  std::optional<AuditFailure> Check(const std::vector<AuditRecord>& records) {
    double last_time = 0;
    for (std::size_t i = 0; i < records.size(); ++i) {
      const AuditRecord& r = records[i];
      const std::uint64_t seq = r.seq;
      if (seq != i) {
        return LineFailure(r.line, "AUDIT_SEQ_MISMATCH",
                           "seq is " + std::to_string(seq) + " but the record is at index " +
                               std::to_string(i) +
                               ": a record was deleted, inserted or moved here");
      }
      if (r.time < last_time) {
        return LineFailure(r.line, "AUDIT_TIME_REGRESSION",
                           "time " + FormatAuditTime(r.time) + " is earlier than the previous " +
                               "record's " + FormatAuditTime(last_time));
      }
      last_time = r.time;
      if (auto f = CheckOne(r)) return f;
    }
    return std::nullopt;
  }

 private:
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
    auto decoded = DecodeAuditRecord(r);
    if (!decoded.ok()) {
      // A type this version does not know is skipped: a newer broker may write more types.
      if (decoded.status().reason() == "AUDIT_RECORD_UNKNOWN_TYPE") return std::nullopt;
      return LineFailure(r.line, decoded.status().reason(), decoded.status().message());
    }
    if (const auto* p = std::get_if<PolicyLoadedRecord>(&*decoded)) return CheckPolicyLoaded(r, *p);
    if (const auto* a = std::get_if<AcceptedRecord>(&*decoded)) return CheckAccepted(r, *a);
    if (const auto* f = std::get_if<ForwardedRecord>(&*decoded)) return CheckForwarded(r, *f);
    if (const auto* d = std::get_if<DeliveredRecord>(&*decoded)) return CheckDelivery(r, *d);
    if (const auto* q = std::get_if<QueuedRecord>(&*decoded)) return CheckDelivery(r, *q);
    if (const auto* d = std::get_if<DeliveredFromQueueRecord>(&*decoded)) {
      return CheckFromQueue(r, *d);
    }
    if (const auto* e = std::get_if<ExpiredRecord>(&*decoded)) return CheckExpired(r, *e);
    if (const auto* f = std::get_if<FailedRecord>(&*decoded)) return CheckFailed(r, *f);
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
    if (!released_.contains({e.report_id, e.recipient})) {
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
    if (!released_.contains({f.report_id, f.recipient})) {
      return LineFailure(r.line, "FAILED_WITHOUT_COPY",
                         "report " + ShortHex(f.report_id) + " failed for " + f.recipient +
                             " but no earlier queued or delivered record released it to " +
                             "that recipient");
    }
    if (!failed_.insert({f.report_id, f.recipient}).second) {
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
    if (accepted_.contains(a.report_id)) {
      return LineFailure(r.line, "AUDIT_DUPLICATE_ACCEPT",
                         "report " + a.report_id + " was already accepted at line " +
                             std::to_string(accepted_[a.report_id].line));
    }
    AcceptedInfo info{r.line, a.originator, a.originator_nation, {}};
    for (const AcceptedPortion& p : a.portions) {
      // Canonical bytes only: delivery records are compared with these bytes, and the broker
      // refuses any other form (LABEL_NOT_CANONICAL) before it writes `accepted`.
      auto parsed = ParseCanonicalPortion(p.label, *policy_);
      if (!parsed.ok()) {
        return LineFailure(r.line, "AUDIT_BAD_LABEL",
                           "portion label '" + p.label + "' does not parse under the logged " +
                               "policy: " + parsed.status().ToString());
      }
      info.labels[p.index] = p.label;
    }
    accepted_[a.report_id] = std::move(info);
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
    if (accepted_.contains(f.forward_id)) {
      return LineFailure(r.line, "AUDIT_DUPLICATE_ACCEPT",
                         "id " + f.forward_id + " was already accepted");
    }
    AcceptedInfo info{r.line, f.originator, f.originator_nation, {}};
    for (const AcceptedPortion& p : f.portions) {
      const auto held = held_labels_.find({f.report_id, f.forwarder});
      if (held == held_labels_.end() || !held->second.contains(p.index) ||
          held->second.at(p.index) != p.label) {
        return LineFailure(r.line, "FORWARD_WITHOUT_COPY",
                           "forward " + ShortHex(f.forward_id) + " by " + f.forwarder +
                               " names portion " + std::to_string(p.index) + " of report " +
                               ShortHex(f.report_id) +
                               ", which no earlier record released to the forwarder");
      }
      auto parsed = ParseLabel(p.label, *policy_);
      if (!parsed.ok()) return LineFailure(r.line, "AUDIT_BAD_LABEL", parsed.status().ToString());
      if (parsed->orcon) {
        return LineFailure(r.line, "FORWARD_OF_ORCON",
                           "forward " + ShortHex(f.forward_id) + " moved ORCON portion " +
                               std::to_string(p.index) + " without its originator");
      }
      info.labels[p.index] = p.label;
    }
    accepted_[f.forward_id] = std::move(info);
    return std::nullopt;
  }

  std::optional<AuditFailure> CheckFromQueue(const AuditRecord& r,
                                             const DeliveredFromQueueRecord& d) {
    if (!queued_.contains({d.report_id, d.recipient})) {
      return LineFailure(r.line, "DELIVERY_NOT_QUEUED",
                         "report " + ShortHex(d.report_id) + " is delivered to " + d.recipient +
                             " from the queue, but no earlier queued record stored it for " +
                             "that recipient");
    }
    return std::nullopt;
  }

  std::optional<AuditFailure> CheckDelivery(const AuditRecord& r, const ReleasedCopy& c) {
    if (auto f = RequirePolicy(r)) return f;
    auto acc = accepted_.find(c.report_id);
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
      auto logged = acc->second.labels.find(p.index);
      if (logged == acc->second.labels.end() || logged->second != p.label) {
        return LineFailure(r.line, "DELIVERY_LABEL_MISMATCH",
                           "portion " + std::to_string(p.index) + " labelled '" + p.label +
                               "' does not match the accepted record at line " +
                               std::to_string(acc->second.line));
      }
      auto parsed = ParseLabel(p.label, *policy_);
      if (!parsed.ok()) {
        return LineFailure(r.line, "AUDIT_BAD_LABEL", parsed.status().ToString());
      }
      auto decision = DecideRelease(*parsed, who, *policy_);
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
    if (r.type == QueuedRecord::kType) queued_.insert({c.report_id, c.recipient});
    for (const ReleasedPortion& p : c.portions) {
      held_labels_[{c.report_id, c.recipient}][p.index] = p.label;
    }
    released_.insert({c.report_id, c.recipient});
    return std::nullopt;
  }

  std::filesystem::path dir_;
  AuditVerifyResult& result_;
  std::optional<Policy> policy_;
  std::optional<AuditFailure> policy_error_;
  std::string policy_digest_;
  bool policy_loaded_ = false;
  std::map<std::string, AcceptedInfo> accepted_;
  std::set<std::pair<std::string, std::string>> queued_;
  std::set<std::pair<std::string, std::string>> released_;  // (report, recipient) queued/delivered
  std::set<std::pair<std::string, std::string>> failed_;    // (report, recipient) given up
  // (report, recipient) -> portion index -> label released to it: what a forwarder may forward.
  std::map<std::pair<std::string, std::string>, std::map<std::uint32_t, std::string>> held_labels_;
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
  SignedFileChecker(const AuditVerifyOptions& options, const MerkleTree& tree, double log_time,
                    AuditVerifyResult& result)
      : options_(options), dir_(options.dir), tree_(tree), log_time_(log_time), result_(result) {}

  // Returns every failure found (the caller picks the first by line).
  std::vector<AuditFailure> Run() {
    auto key = LoadAuditLogKey(dir_);
    if (!key.ok()) return {FileFailure("log.pub", key.status())};
    log_key_ = *key;
    result_.origin = log_key_.name;
    LoadWitnesses();
    if (!failures_.empty()) return failures_;
    if (!LoadCheckpoints()) return failures_;
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
  std::optional<Hash> Recomputed(std::uint64_t size) const {
    auto root = tree_.RootAt(size);
    if (!root.ok()) return std::nullopt;
    return *root;
  }

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
    bool have_last = false;
    Hash last_root{};
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
      if (have_last && last_good > 0 && last_good < size) {
        auto proof = tree_.ConsistencyProof(last_good, size);
        Status consistent = proof.ok() ? VerifyConsistency(last_good, size, last_root,
                                                           cp.checkpoint.root_hash, *proof)
                                       : proof.status();
        if (!consistent.ok()) {
          failures_.push_back(RangeFailure(last_good + 1, size, cp.file, consistent.reason(),
                                           "not consistent with checkpoints/" +
                                               std::to_string(last_good) + ": " +
                                               consistent.message()));
          return;
        }
      }
      have_last = true;
      last_good = size;
      last_root = cp.checkpoint.root_hash;
    }
  }

  struct PendingCosig {
    std::uint64_t size;
    std::string file;
    Status status;
  };

  const AuditVerifyOptions& options_;
  std::filesystem::path dir_;
  const MerkleTree& tree_;
  const double log_time_;
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
  std::optional<AuditLoadError> load_error;
  std::vector<AuditRecord> records = LoadAuditLog(options.dir, load_error);
  result.records = records.size();
  std::vector<AuditFailure> failures;
  if (load_error) {
    AuditFailure f =
        LineFailure(load_error->line, load_error->status.reason(), load_error->status.message());
    if (f.line == 0) f.file = "log.jsonl";
    failures.push_back(std::move(f));
  }
  RecordChecker records_checker(options.dir, result);
  if (auto f = records_checker.Check(records)) failures.push_back(*f);
  if (!load_error) {
    const MerkleTree tree = BuildAuditTree(records);
    const double log_time =
        records.empty()
            ? static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count())
            : records.back().time;
    SignedFileChecker signed_checker(options, tree, log_time, result);
    for (AuditFailure& f : signed_checker.Run()) failures.push_back(std::move(f));
  }
  result.failure = First(failures);
  return result;
}

}  // namespace tearline
