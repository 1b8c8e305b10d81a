#include "tearline/audit/audit_signed_files.h"

#include <algorithm>
#include <map>
#include <set>
#include <span>
#include <string>
#include <utility>

#include "audit_verify_util.h"
#include "tearline/audit/release_decision_check.h"
#include "tearline/identity/certificate.h"
#include "tearline/identity/trust_store.h"

namespace tearline {

using audit_detail::FileFailure;
using audit_detail::IsCanonicalDecimal;
using audit_detail::kMaxSmallFile;
using audit_detail::LineFailure;
using audit_detail::RangeFailure;
using audit_detail::ShortHex;

namespace {

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
                    const std::vector<PendingReleaseDecision>& decisions, AuditVerifyResult& result)
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
    for (const PendingReleaseDecision& d : decisions_) {
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
  const std::vector<PendingReleaseDecision>& decisions_;
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

}  // namespace

std::vector<AuditFailure> CheckAuditSignedFiles(
    const AuditVerifyOptions& options, PrefixRoots& roots, double log_time,
    const std::vector<PendingReleaseDecision>& decisions, AuditVerifyResult& result) {
  return SignedFileChecker(options, roots, log_time, decisions, result).Run();
}

}  // namespace tearline
