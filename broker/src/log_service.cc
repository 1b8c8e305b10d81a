#include "tearline/broker/log_service.h"

#include <spdlog/spdlog.h>

#include <string>
#include <utility>
#include <variant>

#include "tearline/audit/audit_log.h"
#include "tearline/audit/audit_record_types.h"
#include "tearline/base/file_util.h"
#include "tearline/broker/auditor.h"
#include "tearline/identity/certificate.h"
#include "tearline/tlog/checkpoint.h"

namespace tearline::broker {
namespace {

void AppendHashes(const std::vector<Hash>& hashes, std::vector<std::uint8_t>& out) {
  for (const Hash& h : hashes) out.insert(out.end(), h.begin(), h.end());
}

}  // namespace

LogService::LogService(AuditLog& log, const Directory& directory, const Clock& clock,
                       LogServiceOptions options, FrameSender* sender,
                       OriginatorLookup originator_of)
    : log_(log),
      directory_(directory),
      clock_(clock),
      options_(options),
      sender_(sender),
      originator_of_(std::move(originator_of)) {}

// Auditors receive the audit directory alone, so it carries what verification needs besides the
// records: the exact policy bytes (hash-checked against policy_loaded) and the certificates of the
// root and of every witness node.
Status LogService::PublishAuditContext(const std::filesystem::path& policy_path,
                                       const TrustStore& trust) {
  const auto dir = log_.dir();
  auto policy_bytes = ReadFileCapped(policy_path.string(), 1 << 20, "POLICY");
  if (!policy_bytes.ok()) return policy_bytes.status();
  TEARLINE_RETURN_IF_ERROR(WriteFileAtomic(dir / "policy.toml", *policy_bytes, 0600));
  if (Status st = CreatePrivateDirs(dir / "certs"); !st.ok()) {
    return IoError("AUDIT_IO", st.message());
  }
  TEARLINE_RETURN_IF_ERROR(
      WriteFileAtomic(dir / "certs" / std::string(kRootCertFile), trust.root().encoded(), 0600));
  for (const auto& [id, cert] : directory_.nodes()) {
    // A rotated node's earlier certificate stays, as <id>.<serial>.cert: the cosignatures its
    // earlier key made must still verify.
    const auto path = dir / "certs" / (id + ".cert");
    if (auto held = ReadCertificateFile(path.string());
        held.ok() && held->encoded() != cert.encoded()) {
      const auto kept =
          dir / "certs" / (id + "." + std::to_string(held->fields().serial) + ".cert");
      TEARLINE_RETURN_IF_ERROR(WriteFileAtomic(kept, held->encoded(), 0600));
    }
    TEARLINE_RETURN_IF_ERROR(WriteFileAtomic(path, cert.encoded(), 0600));
  }
  return Status::Ok();
}

Status LogService::Checkpoint() {
  auto size = log_.Checkpoint();
  last_checkpoint_ = clock_.Now();
  if (!size.ok()) return size.status();
  AnswerParked();
  return Status::Ok();
}

void LogService::MaybeCheckpoint(bool force) {
  // A burst of answers larger than the node's send queue must not lose the tail.
  AnswerParked();
  const std::uint64_t pending = log_.size() - log_.checkpoint_size();
  const bool interval_passed =
      !last_checkpoint_ || clock_.Now() - *last_checkpoint_ >= options_.checkpoint_interval;
  if (!force && pending < options_.checkpoint_every && !(pending > 0 && interval_passed)) return;
  if (Status st = Checkpoint(); !st.ok()) {
    // Records nobody can witness are as bad as records not written: the broker stops.
    spdlog::critical("event=checkpoint_failed reason={} detail=\"{}\"; stopping", st.reason(),
                     st.message());
    if (failure_.ok()) failure_ = st;
  }
}

std::vector<std::uint8_t> LogService::CheckpointReply(std::uint64_t request_id,
                                                      std::uint64_t old_size) {
  MaybeCheckpoint(false);
  const std::string note = log_.LatestCheckpoint();
  const std::uint64_t size = log_.checkpoint_size();
  if (note.empty()) {
    return EncodeError(
        request_id, InvalidArgument("CHECKPOINT_UNAVAILABLE", "no checkpoint has been signed yet"));
  }
  // A node that names a size larger than ours cosigned a log we no longer hold (restored from
  // an older copy): answer with the signed smaller checkpoint, which is the node's evidence.
  std::vector<std::uint8_t> proof;
  if (old_size > 0 && old_size < size) {
    auto p = log_.ConsistencyProof(old_size, size);
    if (!p.ok()) return EncodeError(request_id, p.status());
    AppendHashes(*p, proof);
  }
  return EncodeCheckpointReply(request_id, note, old_size, proof);
}

Status LogService::StoreCosignature(const std::string& node_id, const schema::Cosignature& cosig) {
  const Certificate* cert = directory_.FindNode(node_id);
  const auto path = log_.dir() / "checkpoints" / std::to_string(cosig.size());
  auto note = ReadFileCapped(path.string(), 64 << 10, "CHECKPOINT");
  if (cert == nullptr || cosig.line() == nullptr) {
    return InvalidArgument("COSIGNATURE_MALFORMED", "cosignature is malformed");
  }
  if (!note.ok()) {
    return NotFound("COSIGNATURE_UNKNOWN_CHECKPOINT",
                    "no checkpoint of size " + std::to_string(cosig.size()) + " was signed");
  }
  std::string text(note->begin(), note->end());
  auto body = ParseCheckpointBody(text.substr(0, text.find("\n\n") + 1));
  auto key = MakeNoteVerifierKey(node_id, NoteKeyType::kCosignatureV1, cert->fields().signing_key);
  if (!body.ok() || !key.ok()) return Internal("COSIGNATURE_CHECK", "cannot check the cosignature");
  if (auto ok = VerifyCosignature(*body, cosig.line()->str(), *key); !ok.ok()) return ok.status();
  last_cosigned_[node_id] = clock_.Now();
  const std::string line = cosig.line()->str() + "\n";
  auto st =
      WriteFileAtomic(log_.dir() / "cosignatures" / (std::to_string(cosig.size()) + "." + node_id),
                      {reinterpret_cast<const std::uint8_t*>(line.data()), line.size()}, 0600);
  if (!st.ok()) spdlog::error("event=cosignature_store_failed reason={}", st.reason());
  return Status::Ok();
}

// The originator may prove every record of its report (it learned all of it from its
// SubmitReply); a recipient only what was released to it, so a denied record stays forbidden to
// the recipient it names; any node the records about its own connection and input. A line that
// does not decode names nobody.
bool LogService::MayProve(const std::string& node_id, const std::string& line) const {
  auto typed = DecodeLoggedRecord(line);
  if (!typed.ok()) return false;
  const AuditRecordKeys keys = KeysOf(*typed);
  if (keys.node == node_id || keys.originator == node_id) return true;
  if (keys.report_id && originator_of_ && originator_of_(*keys.report_id) == node_id) return true;
  return keys.recipient == node_id && !std::holds_alternative<DeniedRecord>(*typed);
}

std::vector<std::uint8_t> LogService::ProofReply(std::uint64_t request_id, std::uint64_t seq,
                                                 const std::string& record) const {
  const std::string note = log_.LatestCheckpoint();
  const std::uint64_t size = log_.checkpoint_size();
  if (note.empty() || seq >= size) {
    return EncodeError(request_id,
                       Status(Code::kUnavailable, "CHECKPOINT_UNAVAILABLE",
                              "no checkpoint covers record " + std::to_string(seq) + " yet"));
  }
  auto proof = log_.InclusionProof(seq, size);
  if (!proof.ok()) return EncodeError(request_id, proof.status());
  std::vector<std::uint8_t> bytes;
  AppendHashes(*proof, bytes);
  return EncodeProofReply(request_id, note, seq, record, bytes);
}

std::vector<std::uint8_t> LogService::Proof(const std::string& node_id, std::uint64_t request_id,
                                            std::uint64_t seq) {
  auto record = log_.Record(seq);
  if (!record.ok()) return EncodeError(request_id, record.status());
  // Checked before anything else happens, and answered in the same words whatever the record
  // says: a refusal must not tell a node which refused records concern it.
  if (!MayProve(node_id, *record)) {
    return EncodeError(request_id, PermissionDenied("PROOF_FORBIDDEN",
                                                    "audit record " + std::to_string(seq) +
                                                        " is not one " + node_id + " may prove"));
  }
  if (seq >= log_.checkpoint_size()) MaybeCheckpoint(false);
  if (seq < log_.checkpoint_size()) return ProofReply(request_id, seq, *record);
  std::size_t& mine = parked_per_node_[node_id];
  if (mine >= kMaxParkedPerNode || parked_.size() >= kMaxParked) {
    return EncodeError(request_id,
                       Status(Code::kResourceExhausted, "PROOF_BUSY",
                              "too many proof requests wait for the next checkpoint; ask again "
                              "after it is signed"));
  }
  ++mine;
  parked_.push_back({node_id, request_id, seq, std::nullopt});
  return {};
}

void LogService::AnswerParked() {
  if (parked_.empty()) return;
  std::vector<Parked> waiting;
  for (Parked& p : parked_) {
    if (p.seq >= log_.checkpoint_size()) {
      waiting.push_back(std::move(p));
      continue;
    }
    auto record = log_.Record(p.seq);
    const auto frame = record.ok() ? ProofReply(p.request_id, p.seq, *record)
                                   : EncodeError(p.request_id, record.status());
    if (sender_ == nullptr || sender_->SendTo(p.node_id, frame)) continue;
    // The send queue toward a node is bounded (the delivery window plus a margin), so one
    // checkpoint answering many parked requests may overrun it: keep the answer and offer it
    // again later. A node that left asks again after its next Hello.
    const Clock::TimePoint now = clock_.Now();
    if (!p.unsent_since) p.unsent_since = now;
    if (now - *p.unsent_since < kUnsentAnswerLifetime) waiting.push_back(std::move(p));
  }
  parked_ = std::move(waiting);
  parked_per_node_.clear();
  for (const Parked& p : parked_) ++parked_per_node_[p.node_id];
}

}  // namespace tearline::broker
