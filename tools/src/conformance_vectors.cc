#include "tearline/tools/conformance_vectors.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <utility>

#include "tearline/base/encoding.h"
#include "tearline/base/file_util.h"
#include "tearline/crypto/keys.h"
#include "tearline/crypto/secure_memory.h"
#include "tearline/identity/certificate.h"
#include "tearline/identity/trust_store.h"
#include "tearline/tlog/checkpoint.h"
#include "tearline/tlog/merkle.h"
#include "tearline/wire/release_frames.h"
#include "tearline/wire/wire.h"
#include "vectors_common.h"

namespace tearline::tools::vectors {
namespace {

// A secret key file as docs/PROTOCOL.md *Secret key files* defines it.
Bytes SecretFile(std::uint8_t kind, std::span<const std::uint8_t> payload) {
  Bytes out = {'T', 'L', 'S', 'K', 1, kind, 0, 0};
  const auto n = static_cast<std::uint32_t>(payload.size());
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(n >> (8 * i)));
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

Json CertFields(const CertificateFields& f) {
  Json j = {{"serial", f.serial},       {"role", std::string(RoleName(f.role))},
            {"node_id", f.node_id},     {"not_before", f.not_before},
            {"not_after", f.not_after}, {"signing_key_hex", Hex(f.signing_key)}};
  if (f.role != CertRole::kRoot) {
    j["nation"] = f.nation;
    j["clearance"] = f.clearance;
    j["encryption_key_hex"] = Hex(f.encryption_key);
    j["transport_key_hex"] = Hex(f.transport_key);
  }
  return j;
}

// --- coalition/: certificates and secret key files -------------------------------------------

Status IdentityVectors(const Coalition& c, const Emit& emit) {
  auto one = [&](const Identity& id) {
    Json j;
    j["kind"] = "identity";
    j["description"] = "the " + std::string(RoleName(id.role)) + " identity '" + id.name +
                       "': seeds, certificate (verifies under root.json at verify_at) and secret "
                       "key file";
    j["name"] = id.name;
    j["seeds"]["signing_hex"] = Hex(Seed(id.name, "signing"));
    const std::span<const std::uint8_t> signing = id.signing.secret_key.span();
    Bytes payload(signing.begin(), signing.end());
    if (id.role != CertRole::kRoot) {
      j["seeds"]["encryption_hex"] = Hex(Seed(id.name, "encryption"));
      j["seeds"]["transport_hex"] = Hex(Seed(id.name, "transport"));
      const auto enc = id.encryption->secret_key.span();
      const auto tr = id.transport->secret_key.span();
      payload.insert(payload.end(), enc.begin(), enc.end());
      payload.insert(payload.end(), tr.begin(), tr.end());
    }
    j["secret_file_hex"] = Hex(SecretFile(id.role == CertRole::kRoot ? 1 : 2, payload));
    sodium_memzero(payload.data(), payload.size());
    j["certificate_hex"] = Hex(id.cert->encoded());
    j["certificate_body_hex"] = Hex(id.cert->body());
    j["fingerprint_hex"] = id.cert->FingerprintHex();
    j["fields"] = CertFields(id.cert->fields());
    j["verify_at"] = kNow;
    j["expect"] = "OK";
    emit("coalition/" + id.name + ".json", std::move(j));
  };
  one(c.root);
  for (const Identity& m : c.members) one(m);
  return Status::Ok();
}

// --- certificates/: verification steps and their reasons -------------------------------------

Status CertificateVectors(const Coalition& c, const Emit& emit) {
  TEARLINE_ASSIGN_OR_RETURN(TrustStore trust, TrustStore::Create(*c.root.cert, nullptr));
  auto one = [&](const std::string& name, const std::string& description, const Bytes& bytes,
                 std::int64_t at) {
    auto verdict = trust.VerifyCertificateBytes(bytes, at);
    Json j = {{"kind", "certificate_verification"},
              {"description", description + " (root: coalition/root.json)"},
              {"certificate_hex", Hex(bytes)},
              {"verify_at", at},
              {"expect", verdict.ok() ? std::string("OK") : verdict.status().reason()}};
    emit("certificates/" + name + ".json", std::move(j));
  };
  const Certificate& usa = *c.Member("usa-1").cert;
  one("valid", "usa-1's certificate inside its validity window", usa.encoded(), kNow);
  one("not_yet_valid", "one second before not_before", usa.encoded(), kNotBefore - 1);
  one("expired", "at not_after (exclusive)", usa.encoded(), kNotAfter);
  Bytes flipped = usa.encoded();
  const auto sig =
      std::search(flipped.begin(), flipped.end(), usa.signature().begin(), usa.signature().end());
  if (sig == flipped.end()) return Internal("VECTORS_GENERATE", "no signature in the certificate");
  *sig ^= 0x01;  // One bit of the signature's first byte.
  one("bad_signature", "one bit of the signature flipped", flipped, kNow);
  TEARLINE_ASSIGN_OR_RETURN(Identity other, MakeIdentity("other-root", CertRole::kRoot, "", "", 1));
  CertificateFields f = usa.fields();
  TEARLINE_ASSIGN_OR_RETURN(Certificate stranger, IssueCertificate(other.signing, f));
  one("wrong_root", "the same fields issued by another root", stranger.encoded(), kNow);
  Bytes truncated(usa.encoded().begin(), usa.encoded().begin() + 40);
  one("malformed", "the first 40 bytes of a certificate", truncated, kNow);
  return Status::Ok();
}

// --- wire/: every frame type with its decoded fields -----------------------------------------

Status WireVectors(const Coalition& c, const Emit& emit) {
  auto frame = [&](const std::string& name, const std::string& type, std::uint64_t request_id,
                   const std::string& description, Json fields, const Bytes& bytes) {
    Json j = {{"kind", "wire_frame"},     {"description", description},
              {"body_type", type},        {"version", kWireVersion},
              {"request_id", request_id}, {"fields", std::move(fields)},
              {"frame_hex", Hex(bytes)}};
    emit("wire/" + name + ".json", std::move(j));
  };
  const Identity& usa = c.Member("usa-1");
  const Bytes report_id = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
                           0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
  const Bytes opaque = {0x54, 0x4c, 0x52, 0x50, 0xde, 0xad, 0xbe, 0xef};

  frame("hello", "Hello", 1, "the first frame of a connection",
        {{"protocol_version", 1}, {"node_id", "usa-1"}}, EncodeHello(1, "usa-1"));
  frame("welcome", "Welcome", 1, "the broker's answer to Hello",
        {{"protocol_version", 1},
         {"broker_id", kBrokerId},
         {"server_time_unix", kNow},
         {"heartbeat_interval_ms", 1000},
         {"submit_rate_per_node", 100}},
        EncodeWelcome(1, kBrokerId, kNow, 1000, 100));
  frame("directory_request", "DirectoryRequest", 2, "a node asks for the directory", Json::object(),
        EncodeDirectoryRequest(2));
  std::vector<Bytes> certs;
  Json blobs = Json::array();
  for (const Identity& m : c.members) {
    if (m.role != CertRole::kNode) continue;
    certs.push_back(m.cert->encoded());
    blobs.push_back(Hex(m.cert->encoded()));
  }
  frame("directory", "Directory", 2, "the node certificates (exact file bytes), no revocation list",
        {{"certificates_hex", blobs}, {"revocation_list_hex", ""}}, EncodeDirectory(2, certs, {}));
  frame("submit", "Submit", 3, "a Submit; the report bytes are opaque to the frame",
        {{"report_hex", Hex(opaque)}}, EncodeSubmit(3, opaque));
  frame("forward_submit", "ForwardSubmit", 4, "a ForwardSubmit; the forward bytes are opaque here",
        {{"forward_hex", Hex(opaque)}}, EncodeForwardSubmit(4, opaque));

  SubmitReplyInfo reply;
  reply.report_id = report_id;
  reply.accepted = true;
  RecipientOutcomeInfo gbr;
  gbr.nation = "GBR";
  gbr.node_id = "gbr-1";
  gbr.state = schema::DeliveryState::Delivered;
  gbr.portions = {0};
  gbr.denials.push_back({1, "(S//NF)", "NOFORN", "NOFORN portions are never released"});
  gbr.record_seq = 7;
  RecipientOutcomeInfo kor;
  kor.nation = "KOR";
  kor.state = schema::DeliveryState::Denied;
  kor.reason = "NO_NODE";
  kor.explanation = "no node of KOR holds a valid coalition certificate, so nothing was sent";
  kor.record_seq = 6;
  reply.outcomes = {gbr, kor};
  frame("submit_reply", "SubmitReply", 3,
        "an accepted report: one node delivered, one nation denied",
        {{"report_id_hex", Hex(report_id)},
         {"accepted", true},
         {"duplicate", false},
         {"outcomes",
          Json::array({{{"nation", "GBR"},
                        {"node_id", "gbr-1"},
                        {"state", "Delivered"},
                        {"portions", Json::array({0})},
                        {"denials", Json::array({{{"index", 1},
                                                  {"label", "(S//NF)"},
                                                  {"reason", "NOFORN"},
                                                  {"explanation", gbr.denials[0].explanation}}})},
                        {"reason", ""},
                        {"explanation", ""},
                        {"record_seq", 7}},
                       {{"nation", "KOR"},
                        {"node_id", ""},
                        {"state", "Denied"},
                        {"portions", Json::array()},
                        {"denials", Json::array()},
                        {"reason", "NO_NODE"},
                        {"explanation", kor.explanation},
                        {"record_seq", 6}}})}},
        EncodeSubmitReply(3, reply));
  SubmitReplyInfo busy;
  busy.report_id = report_id;
  busy.error_reason = "BROKER_BUSY";
  busy.error_message = "the broker's submit backlog is full";
  busy.retry_after_ms = 250;
  frame("submit_reply_busy", "SubmitReply", 5, "a refusal for now with a retry_after_ms hint",
        {{"report_id_hex", Hex(report_id)},
         {"accepted", false},
         {"duplicate", false},
         {"outcomes", Json::array()},
         {"error",
          {{"reason", "BROKER_BUSY"}, {"message", busy.error_message}, {"retry_after_ms", 250}}}},
        EncodeSubmitReply(5, busy));

  const std::uint64_t deliver_id = std::uint64_t{1} << 63;
  frame("deliver", "Deliver", deliver_id,
        "a copy for its recipient; the broker numbers Deliver frames from 2^63",
        {{"report_hex", Hex(opaque)}}, EncodeDeliver(deliver_id, opaque));
  TEARLINE_ASSIGN_OR_RETURN(
      Signature ack_sig, SignWithDomain(usa.signing, kAckDomain, AckMessage(report_id, "usa-1")));
  frame("ack", "Ack", deliver_id,
        "usa-1 acknowledges a copy: the Deliver's request_id, Ed25519 over tearline/v1/ack",
        {{"report_id_hex", Hex(report_id)}, {"signature_hex", Hex(ack_sig)}},
        EncodeAck(deliver_id, report_id, ack_sig));
  frame("ping", "Ping", 6, "a heartbeat", {{"nonce", 42}}, EncodePing(6, 42));
  frame("pong", "Pong", 6, "the answer to Ping, same nonce", {{"nonce", 42}}, EncodePong(6, 42));
  const Status refusal(Code::kUnavailable, "HELLO_REQUIRED",
                       "the first frame of a connection must be Hello");
  frame("error", "Error", 6, "a refusal echoing the refused frame's request_id",
        {{"reason", "HELLO_REQUIRED"}, {"message", refusal.message()}}, EncodeError(6, refusal));
  const Status refused_copy(Code::kUnauthenticated, "ENVELOPE_BAD_SIGNATURE",
                            "the originator's signature does not verify");
  frame("delivery_refusal", "Error", deliver_id,
        "a node refusing a Deliver: the Deliver's request_id and the copy's report id",
        {{"reason", "ENVELOPE_BAD_SIGNATURE"},
         {"message", refused_copy.message()},
         {"report_id_hex", Hex(report_id)}},
        EncodeDeliveryRefusal(deliver_id, refused_copy, report_id));
  frame("directory_changed", "DirectoryChanged", 0, "an unsolicited notice (request_id 0)",
        {{"revocation_sequence", 3}}, EncodeDirectoryChanged(3));
  frame("checkpoint_request", "CheckpointRequest", 7, "a witness asks for the latest checkpoint",
        {{"old_size", 2}}, EncodeCheckpointRequest(7, 2));
  frame("proof_request", "ProofRequest", 8, "prove audit record 3", {{"seq", 3}},
        EncodeProofRequest(8, 3));
  frame("track_request", "TrackRequest", 9, "the originator asks what became of its report",
        {{"report_id_hex", Hex(report_id)}}, EncodeTrackRequest(9, report_id));
  TrackReplyInfo track;
  track.report_id = report_id;
  track.recipients.push_back({"gbr-1", "GBR", "acknowledged", "", kNow, 9});
  track.recipients.push_back({"jpn-1", "JPN", "denied", "NOT_RELEASABLE", kNow - 5, 8});
  frame("track_reply", "TrackReply", 9, "one recipient acknowledged, one denied",
        {{"report_id_hex", Hex(report_id)},
         {"recipients", Json::array({{{"node_id", "gbr-1"},
                                      {"nation", "GBR"},
                                      {"state", "acknowledged"},
                                      {"reason", ""},
                                      {"updated_unix", kNow},
                                      {"record_seq", 9}},
                                     {{"node_id", "jpn-1"},
                                      {"nation", "JPN"},
                                      {"state", "denied"},
                                      {"reason", "NOT_RELEASABLE"},
                                      {"updated_unix", kNow - 5},
                                      {"record_seq", 8}}})}},
        EncodeTrackReply(9, track));

  // Frames that carry a log's checkpoint: a small tree over fixed records.
  MerkleTree tree;
  std::vector<std::string> records;
  for (int i = 0; i < 4; ++i) {
    records.push_back(R"({"seq":)" + std::to_string(i) + R"(,"type":"vector"})");
    tree.Append(LeafHash(
        {reinterpret_cast<const std::uint8_t*>(records.back().data()), records.back().size()}));
  }
  const std::string origin = "tearline/audit/" + std::string(kBrokerId);
  const Identity& broker = c.Member(kBrokerId);
  TEARLINE_ASSIGN_OR_RETURN(std::string note, SignCheckpoint({origin, tree.size(), tree.Root(), {}},
                                                             origin, broker.signing));
  TEARLINE_ASSIGN_OR_RETURN(std::vector<Hash> consistency, tree.ConsistencyProof(2, 4));
  Bytes proof;
  for (const Hash& h : consistency) proof.insert(proof.end(), h.begin(), h.end());
  frame("checkpoint_reply", "CheckpointReply", 7, "the latest checkpoint and the proof from size 2",
        {{"note", note}, {"old_size", 2}, {"proof_hex", Hex(proof)}},
        EncodeCheckpointReply(7, note, 2, proof));
  TEARLINE_ASSIGN_OR_RETURN(std::vector<Hash> inclusion, tree.InclusionProof(3, 4));
  Bytes iproof;
  for (const Hash& h : inclusion) iproof.insert(iproof.end(), h.begin(), h.end());
  frame("proof_reply", "ProofReply", 8, "record 3, its inclusion proof and the checkpoint",
        {{"note", note}, {"seq", 3}, {"record", records[3]}, {"proof_hex", Hex(iproof)}},
        EncodeProofReply(8, note, 3, records[3], iproof));
  TEARLINE_ASSIGN_OR_RETURN(std::string line,
                            Cosign({origin, tree.size(), tree.Root(), {}}, "usa-1", usa.signing,
                                   static_cast<std::uint64_t>(kNow)));
  while (!line.empty() && line.back() == '\n') line.pop_back();
  frame("cosignature", "Cosignature", 10, "usa-1 cosigns the checkpoint of size 4",
        {{"size", 4}, {"line", line}}, EncodeCosignature(10, 4, line));

  // The release workflow: jpn-1 asks usa-1 (the originator) to release portion 1 to KOR.
  const Bytes request_id = {0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10,
                            0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10};
  const ReleaseAsk ask{request_id, report_id, 1, "KOR", "joint patrol"};
  const Json ask_fields = {{"request_id_hex", Hex(request_id)},
                           {"report_id_hex", Hex(report_id)},
                           {"portion", 1},
                           {"to_nation", "KOR"},
                           {"why", "joint patrol"}};
  frame("release_request", "ReleaseRequest", 11,
        "jpn-1 asks the originator to release portion 1 of a report to KOR", ask_fields,
        EncodeReleaseRequest(11, ask));
  Json notice_fields = ask_fields;
  notice_fields["requester"] = "jpn-1";
  notice_fields["requester_nation"] = "JPN";
  notice_fields["requested_unix"] = kNow;
  frame("release_notice", "ReleaseNotice", 0,
        "the broker hands the request to the originator's node (unsolicited, request_id 0)",
        notice_fields, EncodeReleaseNotice({ask, "jpn-1", "JPN", kNow}));
  ReleaseDecisionInfo denial;
  denial.request_id = request_id;
  denial.report_id = report_id;
  denial.portion = 1;
  denial.to_nation = "KOR";
  denial.approved = false;
  denial.explanation = "source protection";
  denial.decided_unix = kNow + 60;
  const Bytes body = EncodeReleaseDecisionBody(denial);
  TEARLINE_ASSIGN_OR_RETURN(Signature decision_sig,
                            SignWithDomain(usa.signing, kReleaseDecisionDomain, body));
  frame("release_decision", "ReleaseDecision", 12,
        "usa-1 denies the request: the TLRD body is the exact signed bytes, Ed25519 over "
        "tearline/v1/release-decision; a denial carries no report",
        {{"decision_hex", Hex(body)}, {"signature_hex", Hex(decision_sig)}, {"report_hex", ""}},
        EncodeReleaseDecision(12, body, decision_sig, {}));
  ReleaseStatusInfo status;
  status.request_id = request_id;
  status.report_id = report_id;
  status.portion = 1;
  status.to_nation = "KOR";
  status.state = "denied";
  status.reason = "RELEASE_DENIED";
  status.explanation = "source protection";
  status.requester = "jpn-1";
  status.originator = "usa-1";
  status.requested_unix = kNow;
  status.decided_unix = kNow + 60;
  status.record_seq = 12;
  frame("release_status", "ReleaseStatus", 0,
        "the broker tells the requester the originator's answer, with its reason",
        {{"request_id_hex", Hex(request_id)},
         {"report_id_hex", Hex(report_id)},
         {"portion", 1},
         {"to_nation", "KOR"},
         {"state", "denied"},
         {"reason", "RELEASE_DENIED"},
         {"explanation", "source protection"},
         {"label", ""},
         {"release_report_id_hex", ""},
         {"sanitised", false},
         {"rule", ""},
         {"requester", "jpn-1"},
         {"originator", "usa-1"},
         {"requested_unix", kNow},
         {"decided_unix", kNow + 60},
         {"record_seq", 12}},
        EncodeReleaseStatus(0, status));
  return Status::Ok();
}

// --- checkpoints/: signed checkpoints and cosignatures -----------------------------------------

Status CheckpointVectors(const Coalition& c, const Emit& emit) {
  const std::string origin = "tearline/audit/" + std::string(kBrokerId);
  const Identity& broker = c.Member(kBrokerId);
  const Identity& usa = c.Member("usa-1");
  MerkleTree tree;
  for (int i = 0; i < 5; ++i) {
    const std::string r = "record " + std::to_string(i);
    tree.Append(LeafHash({reinterpret_cast<const std::uint8_t*>(r.data()), r.size()}));
  }
  const Checkpoint cp{origin, tree.size(), tree.Root(), {}};
  TEARLINE_ASSIGN_OR_RETURN(std::string note, SignCheckpoint(cp, origin, broker.signing));
  TEARLINE_ASSIGN_OR_RETURN(
      NoteVerifierKey log_key,
      MakeNoteVerifierKey(origin, NoteKeyType::kEd25519, broker.signing.public_key));
  const std::string log_pub = FormatNoteVerifierKey(log_key);
  auto one = [&](const std::string& name, const std::string& description, const std::string& n,
                 const std::string& expected_origin) {
    auto opened = OpenCheckpoint(n, expected_origin, log_key);
    Json j = {{"kind", "checkpoint"},
              {"description", description},
              {"note", n},
              {"log_key", log_pub},
              {"expected_origin", expected_origin},
              {"expect", opened.ok() ? std::string("OK") : opened.status().reason()}};
    if (opened.ok()) {
      j["tree_size"] = opened->checkpoint.tree_size;
      j["root_hash_hex"] = Hex(opened->checkpoint.root_hash);
    }
    emit("checkpoints/" + name + ".json", std::move(j));
  };
  one("signed", "a checkpoint signed by the broker's log key (log.pub)", note, origin);
  one("wrong_origin", "the same note checked for another log's origin", note,
      "tearline/audit/broker-2");
  std::string tampered = note;
  tampered[tampered.find('\n') + 1] = tampered[tampered.find('\n') + 1] == '5' ? '6' : '5';
  one("tampered_size", "the tree size changed after signing", tampered, origin);
  TEARLINE_ASSIGN_OR_RETURN(Identity other,
                            MakeIdentity("other-broker", CertRole::kBroker, "USA", "SECRET", 9));
  TEARLINE_ASSIGN_OR_RETURN(std::string foreign, SignCheckpoint(cp, origin, other.signing));
  one("other_key", "the same checkpoint signed by a key other than log.pub", foreign, origin);

  TEARLINE_ASSIGN_OR_RETURN(std::string line,
                            Cosign(cp, "usa-1", usa.signing, static_cast<std::uint64_t>(kNow)));
  TEARLINE_ASSIGN_OR_RETURN(
      NoteVerifierKey witness,
      MakeNoteVerifierKey("usa-1", NoteKeyType::kCosignatureV1, usa.signing.public_key));
  auto cosig = [&](const std::string& name, const std::string& description, const std::string& l,
                   const Checkpoint& over) {
    TEARLINE_ASSIGN_OR_RETURN(std::string body, FormatCheckpointBody(over));
    const std::string message = CosignatureMessage(body, static_cast<std::uint64_t>(kNow));
    auto ts = VerifyCosignature(over, l, witness);
    Json j = {{"kind", "cosignature"},
              {"description", description},
              {"checkpoint_text", body},
              {"line", l},
              {"witness_key", FormatNoteVerifierKey(witness)},
              {"signed_message_hex",
               Hex({reinterpret_cast<const std::uint8_t*>(message.data()), message.size()})},
              {"expect", ts.ok() ? std::string("OK") : ts.status().reason()}};
    if (ts.ok()) j["timestamp"] = *ts;
    emit("checkpoints/" + name + ".json", std::move(j));
    return Status::Ok();
  };
  TEARLINE_RETURN_IF_ERROR(cosig("cosignature", "usa-1's cosignature/v1 line", line, cp));
  Checkpoint other_cp = cp;
  other_cp.tree_size = 4;
  TEARLINE_ASSIGN_OR_RETURN(other_cp.root_hash, tree.RootAt(4));
  TEARLINE_RETURN_IF_ERROR(cosig("cosignature_other_checkpoint",
                                 "usa-1's line checked against another checkpoint", line,
                                 other_cp));
  return Status::Ok();
}

std::string Dump(const Json& j) { return j.dump(2) + "\n"; }

}  // namespace
}  // namespace tearline::tools::vectors

namespace tearline::tools {

Result<std::vector<VectorFile>> GenerateVectors() {
  namespace v = vectors;
  TEARLINE_RETURN_IF_ERROR(InitCrypto());
  TEARLINE_ASSIGN_OR_RETURN(v::Coalition coalition, v::MakeCoalition());
  std::map<std::string, std::string> files;  // Sorted by path: a stable order.
  const v::Emit emit = [&files](std::string path, v::Json vector) {
    files[std::move(path)] = v::Dump(vector);
  };
  // One entry per group; a new group of vectors is a new line here.
  const std::vector<v::Group> groups = {
      &v::IdentityVectors,   &v::CertificateVectors, &v::WireVectors,
      &v::CheckpointVectors, &v::PolicyVectors,      &v::SealedReportVectors,
      &v::ForwardVectors,    &v::RevocationVectors,  &v::AuditDirectoryVectors};
  for (v::Group group : groups) TEARLINE_RETURN_IF_ERROR(group(coalition, emit));
  std::vector<VectorFile> out;
  for (auto& [path, text] : files) out.push_back({path, std::move(text)});
  return out;
}

Status WriteVectors(const std::filesystem::path& dir) {
  TEARLINE_ASSIGN_OR_RETURN(std::vector<VectorFile> files, GenerateVectors());
  for (const VectorFile& f : files) {
    const std::filesystem::path path = dir / f.path;
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) return IoError("VECTORS_WRITE", "cannot create " + path.parent_path().string());
    const Status st = WriteFileAtomic(
        path, {reinterpret_cast<const std::uint8_t*>(f.text.data()), f.text.size()}, 0644);
    if (!st.ok()) return IoError("VECTORS_WRITE", "cannot write " + path.string());
  }
  return Status::Ok();
}

}  // namespace tearline::tools
