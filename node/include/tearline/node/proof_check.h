// Checking an audit inclusion proof received from the broker (ProofReply), entirely on the node:
// nothing the broker says is taken on trust.
//
//   1. the checkpoint note carries a valid Ed25519 signature by the broker's log key: key name
//      and origin "tearline/audit/<broker id>", key = the broker certificate's signing key
//      (the same key the witness code checks every checkpoint with);
//   2. the reply is for the record asked for (ProofReply.seq == requested seq) and that record
//      is in the checkpoint's tree (seq < tree size);
//   3. leaf hash = SHA-256(0x00 || exact record bytes) (RFC 6962), and the RFC 9162 inclusion
//      proof leads from it, at index seq, to the checkpoint's root;
//   4. the record itself is a JSON object whose "seq" is the requested one and, when a report id
//      is given, whose "report_id" is that id.
//
// Thread-safety: pure functions.
#ifndef TEARLINE_NODE_PROOF_CHECK_H_
#define TEARLINE_NODE_PROOF_CHECK_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tearline/base/status.h"
#include "tearline/crypto/keys.h"
#include "tearline/tlog/merkle.h"

namespace tearline::node {

// What the broker sent (copied out of the ProofReply frame).
struct RecordProof {
  std::string note;  // Signed checkpoint note.
  std::uint64_t seq = 0;
  std::string record;               // One audit log line, without its newline.
  std::vector<std::uint8_t> proof;  // Concatenated 32-byte hashes.
};

struct VerifiedRecord {
  std::uint64_t seq = 0;
  std::uint64_t checkpoint_size = 0;
  Hash checkpoint_root{};
  nlohmann::json record;    // The parsed record.
  std::string description;  // e.g. "delivered to gbr-1" (see DescribeAuditRecord).
};

// "tearline/audit/<broker id>".
std::string AuditLogOrigin(std::string_view broker_id);

// Runs the checks above. `report_id_hex` empty: the record may name any report (or none).
// Reasons: PROOF_BAD_CHECKPOINT (signature, origin or format; the cause is in the message),
// PROOF_WRONG_RECORD (another seq than asked for, or a record naming another report),
// PROOF_RECORD_MALFORMED (not a JSON object with a matching "seq"), PROOF_MALFORMED (proof
// length not a multiple of 32 or too long), PROOF_NOT_INCLUDED (the inclusion proof fails; the
// Merkle reason is in the message).
Result<VerifiedRecord> VerifyRecordProof(const RecordProof& proof, std::uint64_t expected_seq,
                                         std::string_view report_id_hex, std::string_view broker_id,
                                         const PublicKey& broker_signing_key);

// A short phrase for an audit record: "accepted from usa-1", "delivered to gbr-1",
// "queued for gbr-1", "denied to kor-1 (NOT_RELEASABLE)", "acknowledged by gbr-1",
// "expired for gbr-1 (REPORT_EXPIRED)", "failed for gbr-1 (ENVELOPE_DECRYPT_FAILED)", or the
// record type otherwise.
std::string DescribeAuditRecord(const nlohmann::json& record);

}  // namespace tearline::node

#endif  // TEARLINE_NODE_PROOF_CHECK_H_
