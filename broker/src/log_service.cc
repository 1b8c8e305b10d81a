#include "tearline/broker/log_service.h"

#include <spdlog/spdlog.h>

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
                       LogServiceOptions options)
    : log_(log),
      directory_(directory),
      clock_(clock),
      options_(options),
      last_checkpoint_(clock.Now()) {}

// Auditors receive the audit directory alone, so it carries what verification needs besides the
// records: the exact policy bytes (hash-checked against policy_loaded) and the certificates of the
// root and of every witness node.
Status LogService::PublishAuditContext(const std::filesystem::path& policy_path,
                                       const TrustStore& trust) {
  const auto dir = log_.dir();
  auto policy_bytes = ReadFileCapped(policy_path.string(), 1 << 20, "POLICY");
  if (!policy_bytes.ok()) return policy_bytes.status();
  TEARLINE_RETURN_IF_ERROR(WriteFileAtomic(dir / "policy.toml", *policy_bytes, 0644));
  std::error_code ec;
  std::filesystem::create_directories(dir / "certs", ec);
  if (ec) return IoError("AUDIT_IO", (dir / "certs").string() + ": " + ec.message());
  TEARLINE_RETURN_IF_ERROR(
      WriteFileAtomic(dir / "certs" / std::string(kRootCertFile), trust.root().encoded(), 0644));
  for (const auto& [id, cert] : directory_.nodes()) {
    TEARLINE_RETURN_IF_ERROR(WriteFileAtomic(dir / "certs" / (id + ".cert"), cert.encoded(), 0644));
  }
  return Status::Ok();
}

Status LogService::Checkpoint() {
  auto size = log_.Checkpoint();
  last_checkpoint_ = clock_.Now();
  return size.ok() ? Status::Ok() : size.status();
}

void LogService::MaybeCheckpoint(bool force) {
  const std::uint64_t pending = log_.size() - log_.checkpoint_size();
  const bool interval_passed = clock_.Now() - last_checkpoint_ >= options_.checkpoint_interval;
  if (!force && pending < options_.checkpoint_every && !(pending > 0 && interval_passed)) return;
  if (Status st = Checkpoint(); !st.ok()) {
    spdlog::error("event=checkpoint_failed reason={}", st.reason());
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
  const std::string line = cosig.line()->str() + "\n";
  auto st =
      WriteFileAtomic(log_.dir() / "cosignatures" / (std::to_string(cosig.size()) + "." + node_id),
                      {reinterpret_cast<const std::uint8_t*>(line.data()), line.size()}, 0644);
  if (!st.ok()) spdlog::error("event=cosignature_store_failed reason={}", st.reason());
  return Status::Ok();
}

std::vector<std::uint8_t> LogService::Proof(const std::string& node_id, std::uint64_t request_id,
                                            std::uint64_t seq) {
  auto record = log_.Record(seq);
  if (!record.ok()) return EncodeError(request_id, record.status());
  // Only records that concern the asking node are served (checked before any checkpoint is
  // forced, so a stranger cannot make the broker sign on demand).
  // A line that does not decode names nobody.
  bool named = false;
  if (auto typed = DecodeLoggedRecord(*record); typed.ok()) {
    const AuditRecordKeys keys = KeysOf(*typed);
    named = keys.originator == node_id || keys.recipient == node_id || keys.node == node_id;
  }
  if (!named) {
    return EncodeError(request_id,
                       PermissionDenied("PROOF_FORBIDDEN", "audit record " + std::to_string(seq) +
                                                               " does not name " + node_id));
  }
  if (seq >= log_.checkpoint_size()) MaybeCheckpoint(true);
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
  return EncodeProofReply(request_id, note, seq, *record, bytes);
}

}  // namespace tearline::broker
