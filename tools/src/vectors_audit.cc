// audit_directories/: broker audit directories (every file, base64) that `tearline-audit verify`
// must pass, or fail with a named reason: the good directory and one defect per vector.
#include <map>
#include <string>
#include <utility>

#include "tearline/audit/audit_records.h"
#include "tearline/base/encoding.h"
#include "tearline/crypto/keys.h"
#include "tearline/tlog/checkpoint.h"
#include "tearline/tlog/merkle.h"
#include "tearline/wire/release_frames.h"
#include "vectors_common.h"

namespace tearline::tools::vectors {
namespace {

constexpr char kOrigin[] = "tearline/audit/broker-1";
constexpr char kR1[] = "0123456789abcdef0123456789abcdef";
constexpr char kR2[] = "fedcba9876543210fedcba9876543210";
constexpr char kF1[] = "f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0";
constexpr char kQ1[] = "0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a";
constexpr std::int64_t kStart = kNow - 3600;
constexpr std::uint64_t kCosignedAt = kNow;

std::string Filler(char c) { return std::string(64, c); }

// Appends one record line: seq and time follow from its position, then the record's fields.
void AddRecord(std::vector<std::string>& lines, const std::string& type, const Json& fields) {
  Json r = Json::object();
  r["seq"] = lines.size();
  r["time"] = static_cast<double>(kStart) + static_cast<double>(lines.size()) * 1.5;
  r["type"] = type;
  for (const auto& [k, v] : fields.items()) r[k] = v;
  lines.push_back(r.dump());
}

// The records of a small, honest history: two reports, a denial, live and queued deliveries.
std::vector<std::string> StoryLines(const std::string& policy_sha256) {
  std::vector<std::string> lines;
  auto add = [&](const std::string& type, const Json& fields) { AddRecord(lines, type, fields); };
  auto delivery = [](const char* id, const char* recipient, const char* nation,
                     const char* clearance, Json portions) {
    return Json{{"report_id", id},
                {"originator", "usa-1"},
                {"originator_nation", "USA"},
                {"recipient", recipient},
                {"nation", nation},
                {"clearance", clearance},
                {"portions", std::move(portions)}};
  };
  add("broker_start", {{"broker", kBrokerId}, {"nodes", 3}, {"torn_tail_bytes", 0}});
  add("policy_loaded",
      {{"policy", "tearline-vectors"}, {"policy_version", "1"}, {"policy_sha256", policy_sha256}});
  add("node_connected", {{"node", "usa-1"}});
  add("node_connected", {{"node", "gbr-1"}});
  add("accepted", {{"report_id", kR1},
                   {"originator", "usa-1"},
                   {"originator_nation", "USA"},
                   {"intended_nations", {"GBR"}},
                   {"created", kStart},
                   {"expires", kStart + 86400},
                   {"report_bytes", 900},
                   {"portions",
                    {{{"index", 0},
                      {"label", "(S//REL TO USA, GBR)"},
                      {"ciphertext_sha256", Filler('a')},
                      {"ciphertext_bytes", 300}},
                     {{"index", 1},
                      {"label", "(S//NF)"},
                      {"ciphertext_sha256", Filler('b')},
                      {"ciphertext_bytes", 200}}}},
                   {"policy_sha256", policy_sha256}});
  add("denied", {{"report_id", kR1},
                 {"originator", "usa-1"},
                 {"recipient", "gbr-1"},
                 {"nation", "GBR"},
                 {"portion", 1},
                 {"label", "(S//NF)"},
                 {"reason", "NOFORN"},
                 {"explanation", "NOFORN material is not released to other nations"}});
  add("delivered",
      delivery(kR1, "gbr-1", "GBR", "SECRET", {{{"index", 0}, {"label", "(S//REL TO USA, GBR)"}}}));
  add("accepted", {{"report_id", kR2},
                   {"originator", "usa-1"},
                   {"originator_nation", "USA"},
                   {"intended_nations", {"GBR", "JPN"}},
                   {"created", kStart},
                   {"expires", kStart + 9000},
                   {"report_bytes", 500},
                   {"portions",
                    {{{"index", 0},
                      {"label", "(C//REL TO USA, GBR, JPN)"},
                      {"ciphertext_sha256", Filler('c')},
                      {"ciphertext_bytes", 100}}}},
                   {"policy_sha256", policy_sha256}});
  add("queued", delivery(kR2, "jpn-1", "JPN", "CONFIDENTIAL",
                         {{{"index", 0}, {"label", "(C//REL TO USA, GBR, JPN)"}}}));
  add("delivered", delivery(kR2, "gbr-1", "GBR", "SECRET",
                            {{{"index", 0}, {"label", "(C//REL TO USA, GBR, JPN)"}}}));
  add("node_connected", {{"node", "jpn-1"}});
  add("delivered", {{"report_id", kR2}, {"recipient", "jpn-1"}, {"from_queue", true}});
  return lines;
}

// The story continued with the release workflow: gbr-1 forwards report 2's portion to JPN within
// its label (the copy is delivered as the forward id) and asks usa-1 to release report 1's first
// portion to JPN. `forwarded_report` and `forwarded_index` name what gbr-1 claims to forward.
std::vector<std::string> ReleaseStoryLines(const std::string& policy_sha256,
                                           const std::string& forwarded_report, int forwarded_index,
                                           const std::string& forwarded_label) {
  std::vector<std::string> lines = StoryLines(policy_sha256);
  auto add = [&](const std::string& type, const Json& fields) { AddRecord(lines, type, fields); };
  add("forwarded", {{"forward_id", kF1},
                    {"report_id", forwarded_report},
                    {"originator", "usa-1"},
                    {"originator_nation", "USA"},
                    {"forwarder", "gbr-1"},
                    {"forwarder_nation", "GBR"},
                    {"target_nation", "JPN"},
                    {"portions",
                     {{{"index", forwarded_index},
                       {"label", forwarded_label},
                       {"ciphertext_sha256", Filler('c')},
                       {"ciphertext_bytes", 100}}}},
                    {"policy_sha256", policy_sha256}});
  add("delivered", {{"report_id", kF1},
                    {"originator", "usa-1"},
                    {"originator_nation", "USA"},
                    {"recipient", "jpn-1"},
                    {"nation", "JPN"},
                    {"clearance", "CONFIDENTIAL"},
                    {"portions", {{{"index", forwarded_index}, {"label", forwarded_label}}}}});
  add("release_requested", {{"request_id", kQ1},
                            {"report_id", kR1},
                            {"portion", 0},
                            {"originator", "usa-1"},
                            {"requester", "gbr-1"},
                            {"requester_nation", "GBR"},
                            {"to_nation", "JPN"},
                            {"why", "joint maritime patrol"}});
  add("node_connected", {{"node", "usa-1"}});
  return lines;
}

// The fields of a release_decided record: usa-1 approves request kQ1 (report 1's portion 0 to
// JPN with the label below), its decision body signed by `signer`; the record states
// `record_label`.
Json ReleaseDecidedFields(const Identity& signer, const std::string& record_label) {
  ReleaseDecisionInfo d;
  d.request_id = *FromHex(kQ1);
  d.report_id = *FromHex(kR1);
  d.portion = 0;
  d.to_nation = "JPN";
  d.approved = true;
  d.label = "(S//REL TO USA, GBR, JPN)";
  d.release_report_id = *FromHex(kF1);
  d.decided_unix = kStart + 60;
  const std::vector<std::uint8_t> body = EncodeReleaseDecisionBody(d);
  auto signature = SignWithDomain(signer.signing, kReleaseDecisionDomain, body);
  return {{"request_id", kQ1},
          {"report_id", kR1},
          {"portion", 0},
          {"originator", "usa-1"},
          {"requester", "gbr-1"},
          {"to_nation", "JPN"},
          {"decision", "approved"},
          {"label", record_label},
          {"release_report_id", kF1},
          {"requested", kStart},
          {"signature", signature.ok() ? ToHex(*signature) : std::string()},
          {"decision_body", Base64Encode(body)}};
}

// The story with record 6 (a denial) edited: one word of its explanation changed.
std::vector<std::string> WithRecord6Edited(std::vector<std::string> lines) {
  const std::string from = "NOFORN material";
  lines[5].replace(lines[5].find(from), from.size(), "noforn material");
  return lines;
}

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

std::string Text(const Bytes& b) { return std::string(b.begin(), b.end()); }

using Files = std::map<std::string, std::string>;

Hash LeafOf(const std::string& line) {
  return LeafHash({reinterpret_cast<const std::uint8_t*>(line.data()), line.size()});
}

// Signed checkpoints over `lines` at `sizes` (and `checkpoint` = the last), signed by `key`.
Status SignCheckpoints(Files& files, const std::vector<std::string>& lines,
                       const std::vector<std::uint64_t>& sizes, const SigningKeyPair& key) {
  MerkleTree tree;
  for (const std::string& l : lines) tree.Append(LeafOf(l));
  for (auto it = files.begin(); it != files.end();) {
    it = it->first.starts_with("checkpoints/") ? files.erase(it) : std::next(it);
  }
  for (std::uint64_t n : sizes) {
    TEARLINE_ASSIGN_OR_RETURN(Hash root, tree.RootAt(n));
    TEARLINE_ASSIGN_OR_RETURN(std::string note,
                              SignCheckpoint({kOrigin, n, root, {}}, kOrigin, key));
    files["checkpoints/" + std::to_string(n)] = note;
    files["checkpoint"] = note;
  }
  return Status::Ok();
}

Status CosignFile(Files& files, const std::vector<std::string>& lines, std::uint64_t size,
                  const Identity& witness) {
  MerkleTree tree;
  for (std::uint64_t i = 0; i < size; ++i) tree.Append(LeafOf(lines[i]));
  TEARLINE_ASSIGN_OR_RETURN(std::string line, Cosign({kOrigin, size, tree.Root(), {}}, witness.name,
                                                     witness.signing, kCosignedAt));
  files["cosignatures/" + std::to_string(size) + "." + witness.name] = line;
  return Status::Ok();
}

struct Dir {
  Files files;
  std::vector<std::string> lines;
};

constexpr std::uint64_t kWitnessed = 12;

// A directory over `lines`: checkpoints at 4, 8 and the whole log, which usa-1 and gbr-1 cosign.
Result<Dir> DirectoryOf(const Coalition& c, std::vector<std::string> lines) {
  Dir d;
  const std::string policy(PolicyText());
  d.lines = std::move(lines);
  const std::uint64_t size = d.lines.size();
  const Identity& broker = c.Member(kBrokerId);
  TEARLINE_ASSIGN_OR_RETURN(
      NoteVerifierKey log_key,
      MakeNoteVerifierKey(kOrigin, NoteKeyType::kEd25519, broker.signing.public_key));
  d.files["log.jsonl"] = Join(d.lines);
  d.files["log.pub"] = FormatNoteVerifierKey(log_key) + "\n";
  d.files["policy.toml"] = policy;
  d.files["broker.cert"] = Text(broker.cert->encoded());
  d.files["certs/root.cert"] = Text(c.root.cert->encoded());
  for (const char* node : {"usa-1", "gbr-1", "jpn-1"}) {
    d.files["certs/" + std::string(node) + ".cert"] = Text(c.Member(node).cert->encoded());
  }
  TEARLINE_RETURN_IF_ERROR(SignCheckpoints(d.files, d.lines, {4, 8, size}, broker.signing));
  TEARLINE_RETURN_IF_ERROR(CosignFile(d.files, d.lines, size, c.Member("usa-1")));
  TEARLINE_RETURN_IF_ERROR(CosignFile(d.files, d.lines, size, c.Member("gbr-1")));
  return d;
}

// The good directory: 12 records, checkpoints at 4, 8 and 12, usa-1 and gbr-1 cosign size 12.
Result<Dir> GoodDirectory(const Coalition& c) {
  return DirectoryOf(c, StoryLines(Sha256Hex(std::string(PolicyText()))));
}

}  // namespace

Status AuditDirectoryVectors(const Coalition& c, const Emit& emit) {
  TEARLINE_ASSIGN_OR_RETURN(const Dir good, GoodDirectory(c));
  const Identity& broker = c.Member(kBrokerId);
  auto one = [&](const std::string& name, const std::string& description, const Files& files,
                 std::uint64_t min_witnesses, const std::string& expect) {
    Json encoded = Json::object();
    for (const auto& [path, content] : files) {
      encoded[path] =
          Base64Of({reinterpret_cast<const std::uint8_t*>(content.data()), content.size()});
    }
    Json j = {{"kind", "audit_directory"},
              {"description", description},
              {"files", encoded},
              {"ca_root_cert_b64", Base64Of(c.root.cert->encoded())},
              {"min_witnesses", min_witnesses},
              {"expect", expect}};
    emit("audit_directories/" + name + ".json", std::move(j));
  };
  one("good",
      "12 records, checkpoints at 4, 8 and 12, cosigned at 12 by usa-1 and gbr-1; verified with "
      "the coalition root pinned and 2 witnesses required",
      good.files, 2, "OK");
  one("too_few_witnesses", "the good directory verified with 3 witnesses required", good.files, 3,
      "AUDIT_TOO_FEW_WITNESSES");
  {
    Files f = good.files;
    f.erase("broker.cert");
    one("missing_broker_cert",
        "the good directory without broker.cert: nothing ties log.pub to the root", f, 2,
        "AUDIT_BROKER_CERT_MISSING");
  }
  {
    const std::vector<std::string> lines = WithRecord6Edited(good.lines);
    Files f = good.files;
    f["log.jsonl"] = Join(lines);
    one("tampered_record",
        "record 6 (a denial) edited after the checkpoints were signed; the checkpoint at 8 no "
        "longer matches",
        f, 2, "CHECKPOINT_ROOT_MISMATCH");
  }
  {
    std::vector<std::string> lines = good.lines;
    lines.erase(lines.begin() + 5);
    Files f = good.files;
    f["log.jsonl"] = Join(lines);
    one("removed_record", "record 6 deleted from log.jsonl", f, 2, "AUDIT_SEQ_MISMATCH");
  }
  {
    std::vector<std::string> lines = good.lines;
    std::swap(lines[5], lines[6]);
    Files f = good.files;
    f["log.jsonl"] = Join(lines);
    one("reordered_records", "records 6 and 7 exchanged", f, 2, "AUDIT_SEQ_MISMATCH");
  }
  {
    Files f = good.files;
    f["log.jsonl"] = Join(good.lines) + good.lines.back().substr(0, 20);
    one("torn_tail", "log.jsonl ends in a partial record without its newline", f, 2,
        "AUDIT_TORN_TAIL");
  }
  {
    TEARLINE_ASSIGN_OR_RETURN(Identity other,
                              MakeIdentity("other-broker", CertRole::kBroker, "USA", "SECRET", 9));
    Files f = good.files;
    TEARLINE_ASSIGN_OR_RETURN(Hash root, [&]() -> Result<Hash> {
      MerkleTree tree;
      for (std::uint64_t i = 0; i < 8; ++i) tree.Append(LeafOf(good.lines[i]));
      return tree.Root();
    }());
    TEARLINE_ASSIGN_OR_RETURN(std::string note,
                              SignCheckpoint({kOrigin, 8, root, {}}, kOrigin, other.signing));
    f["checkpoints/8"] = note;
    one("foreign_checkpoint",
        "checkpoints/8 signed by another key (no signature line names log.pub's key)", f, 2,
        "NOTE_UNVERIFIED");
  }
  {
    // The signature line names log.pub's key (name and key hash) but its signature is wrong.
    Files f = good.files;
    std::string& note = f["checkpoints/8"];
    const std::size_t end = note.find_last_not_of("=\n");
    const std::size_t at = end - 8;  // Inside the signature, past the 4-byte key hash.
    note[at] = note[at] == 'A' ? 'B' : 'A';
    one("forged_checkpoint",
        "checkpoints/8 whose signature under log.pub's key is altered (key hash intact)", f, 2,
        "NOTE_BAD_SIGNATURE");
  }
  {
    // A broker rewrites a record and re-signs every checkpoint with its own key: only the
    // witnesses' cosignatures over the old checkpoint expose it.
    const std::vector<std::string> lines = WithRecord6Edited(good.lines);
    Files f = good.files;
    f["log.jsonl"] = Join(lines);
    TEARLINE_RETURN_IF_ERROR(SignCheckpoints(f, lines, {4, 8, kWitnessed}, broker.signing));
    one("rewritten_and_resigned",
        "record 6 edited and every checkpoint re-signed by the broker; the witnesses' "
        "cosignatures are over the original checkpoint at 12",
        f, 2, "COSIGNATURE_MISMATCH");
  }
  {
    // A line with two readings: a reader that keeps the last of two equal keys sees a denial, one
    // that keeps the first an acceptance. Every checkpoint is re-signed over it, so only the
    // record line grammar (one object, unique keys) refuses it, at its line.
    std::vector<std::string> lines = good.lines;
    lines[5] = "{\"type\":\"accepted\"," + lines[5].substr(1);
    Files f = good.files;
    f["log.jsonl"] = Join(lines);
    TEARLINE_RETURN_IF_ERROR(SignCheckpoints(f, lines, {4, 8, kWitnessed}, broker.signing));
    one("duplicate_key",
        "record 6 carries the key \"type\" twice (accepted, then denied) and every checkpoint "
        "is re-signed over it: a record line must be one JSON object with unique keys",
        f, 2, "AUDIT_BAD_JSON");
  }
  {
    const std::string digest = Sha256Hex(std::string(PolicyText()));
    TEARLINE_ASSIGN_OR_RETURN(
        const Dir release,
        DirectoryOf(c, ReleaseStoryLines(digest, kR2, 0, "(C//REL TO USA, GBR, JPN)")));
    one("release_workflow",
        "the good history continued: gbr-1 forwards report 2's portion to JPN within its label "
        "(delivered under the forward id) and asks usa-1 to release report 1's portion 0 to JPN",
        release.files, 2, "OK");
    // gbr-1 claims to forward report 1's NOFORN portion, which was denied to it.
    TEARLINE_ASSIGN_OR_RETURN(const Dir lying,
                              DirectoryOf(c, ReleaseStoryLines(digest, kR1, 1, "(S//NF)")));
    one("forward_without_copy",
        "a forwarded record for a portion no earlier delivered/queued record released to the "
        "forwarder (report 1's NOFORN portion, denied to gbr-1); every checkpoint and "
        "cosignature is over it",
        lying.files, 2, "FORWARD_WITHOUT_COPY");
  }
  {
    // usa-1 decides gbr-1's request: the record carries the body usa-1 signed.
    const std::string digest = Sha256Hex(std::string(PolicyText()));
    const std::string signed_label = "(S//REL TO USA, GBR, JPN)";
    const auto decided = [&](const Identity& signer, const std::string& record_label) {
      std::vector<std::string> lines =
          ReleaseStoryLines(digest, kR2, 0, "(C//REL TO USA, GBR, JPN)");
      AddRecord(lines, "release_decided", ReleaseDecidedFields(signer, record_label));
      return DirectoryOf(c, std::move(lines));
    };
    TEARLINE_ASSIGN_OR_RETURN(const Dir honest, decided(c.Member("usa-1"), signed_label));
    one("release_decided",
        "the release workflow continued: usa-1 approves releasing report 1's portion 0 to JPN; "
        "the record carries the decision body usa-1 signed (decision_body, signature)",
        honest.files, 2, "OK");
    TEARLINE_ASSIGN_OR_RETURN(const Dir forged, decided(c.Member("gbr-1"), signed_label));
    one("release_decision_forged",
        "the same decision record, but the body is signed by gbr-1, not by the originator usa-1; "
        "every checkpoint and cosignature is over it",
        forged.files, 2, "AUDIT_RELEASE_SIGNATURE");
    TEARLINE_ASSIGN_OR_RETURN(const Dir widened,
                              decided(c.Member("usa-1"), "(TS//REL TO USA, GBR, JPN)"));
    one("release_decision_altered",
        "usa-1 signed the label (S//REL TO USA, GBR, JPN) but the record states "
        "(TS//REL TO USA, GBR, JPN); every checkpoint and cosignature is over it",
        widened.files, 2, "AUDIT_RELEASE_MISMATCH");
  }
  {
    Files f = good.files;
    f["policy.toml"] += "\n# edited\n";
    one("policy_digest_mismatch", "policy.toml differs from the policy the log recorded", f, 2,
        "POLICY_DIGEST_MISMATCH");
  }
  return Status::Ok();
}

}  // namespace tearline::tools::vectors
