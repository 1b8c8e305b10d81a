#include "tearline/node/proof_check.h"

#include <algorithm>

#include "tearline/tlog/checkpoint.h"

namespace tearline::node {
namespace {

std::string StringField(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::string AuditLogOrigin(std::string_view broker_id) {
  return "tearline/audit/" + std::string(broker_id);
}

Result<VerifiedRecord> VerifyRecordProof(const RecordProof& p, std::uint64_t expected_seq,
                                         std::string_view report_id_hex, std::string_view broker_id,
                                         const PublicKey& broker_signing_key) {
  const std::string origin = AuditLogOrigin(broker_id);
  auto key = MakeNoteVerifierKey(origin, NoteKeyType::kEd25519, broker_signing_key);
  if (!key.ok()) {
    return Unauthenticated("PROOF_BAD_CHECKPOINT",
                           "cannot build the broker's log key: " + key.status().ToString());
  }
  auto opened = OpenCheckpoint(p.note, origin, *key);
  if (!opened.ok()) {
    return Unauthenticated("PROOF_BAD_CHECKPOINT", "the checkpoint is not signed by broker " +
                                                       std::string(broker_id) + ": " +
                                                       opened.status().ToString());
  }
  const Checkpoint& cp = opened->checkpoint;
  if (p.seq != expected_seq) {
    return Unauthenticated("PROOF_WRONG_RECORD",
                           "asked for record " + std::to_string(expected_seq) +
                               " but the broker answered for record " + std::to_string(p.seq));
  }
  if (p.proof.size() % kMerkleHashSize != 0 ||
      p.proof.size() / kMerkleHashSize > kMaxMerkleProofHashes) {
    return Unauthenticated("PROOF_MALFORMED",
                           "inclusion proof of " + std::to_string(p.proof.size()) +
                               " bytes is not a list of at most 65 32-byte hashes");
  }
  std::vector<Hash> path;
  for (std::size_t i = 0; i < p.proof.size(); i += kMerkleHashSize) {
    Hash h{};
    std::copy_n(p.proof.begin() + static_cast<std::ptrdiff_t>(i), kMerkleHashSize, h.begin());
    path.push_back(h);
  }
  const Hash leaf =
      LeafHash({reinterpret_cast<const std::uint8_t*>(p.record.data()), p.record.size()});
  Status inc = VerifyInclusion(leaf, expected_seq, cp.tree_size, path, cp.root_hash);
  if (!inc.ok()) {
    return Unauthenticated("PROOF_NOT_INCLUDED",
                           "record " + std::to_string(expected_seq) +
                               " is not proven to be in the log of checkpoint " +
                               std::to_string(cp.tree_size) + ": " + inc.ToString());
  }
  auto j = nlohmann::json::parse(p.record, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return InvalidArgument("PROOF_RECORD_MALFORMED", "the record is not a JSON object");
  }
  auto seq = j.find("seq");
  if (seq == j.end() || !seq->is_number_unsigned() || seq->get<std::uint64_t>() != expected_seq) {
    return InvalidArgument("PROOF_RECORD_MALFORMED",
                           "the record's seq field is not " + std::to_string(expected_seq));
  }
  if (!report_id_hex.empty() && StringField(j, "report_id") != report_id_hex) {
    return Unauthenticated("PROOF_WRONG_RECORD", "record " + std::to_string(expected_seq) +
                                                     " does not name report " +
                                                     std::string(report_id_hex));
  }
  VerifiedRecord v;
  v.seq = expected_seq;
  v.checkpoint_size = cp.tree_size;
  v.checkpoint_root = cp.root_hash;
  v.description = DescribeAuditRecord(j);
  v.record = std::move(j);
  return v;
}

std::string DescribeAuditRecord(const nlohmann::json& r) {
  const std::string type = StringField(r, "type");
  const std::string recipient = StringField(r, "recipient");
  const std::string reason = StringField(r, "reason");
  const std::string who = recipient.empty() ? "-" : recipient;
  if (type == "accepted") return "accepted from " + StringField(r, "originator");
  if (type == "delivered") {
    auto fq = r.find("from_queue");
    const bool queued = fq != r.end() && fq->is_boolean() && fq->get<bool>();
    return "delivered to " + who + (queued ? " from the queue" : "");
  }
  if (type == "queued") return "queued for " + who;
  if (type == "denied") {
    std::string s = "denied to " + (recipient.empty() ? StringField(r, "nation") : recipient);
    return reason.empty() ? s : s + " (" + reason + ")";
  }
  if (type == "acknowledged") return "acknowledged by " + who;
  if (type == "expired") return "expired for " + who + (reason.empty() ? "" : " (" + reason + ")");
  if (type == "failed") return "failed for " + who + (reason.empty() ? "" : " (" + reason + ")");
  return type.empty() ? "untyped record" : type;
}

}  // namespace tearline::node
