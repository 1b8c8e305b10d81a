#include "audit_dir_builder.h"

#include <gtest/gtest.h>

#include <span>

#include "tearline/audit/audit_records.h"
#include "tearline/base/encoding.h"
#include "tearline/identity/certificate.h"

namespace tearline::testing {

namespace fs = std::filesystem;

namespace {

constexpr std::int64_t kBaseTime = kAuditBaseTime;
constexpr const char* kOrigin = kAuditOrigin;
const std::string& kR1 = kAuditReport1;
const std::string& kR2 = kAuditReport2;

void WriteBytes(const fs::path& path, const std::vector<std::uint8_t>& bytes) {
  WriteText(path, std::string(bytes.begin(), bytes.end()));
}

}  // namespace

SigningKeyPair NewSigningKey() {
  auto k = GenerateSigningKeyPair();
  EXPECT_TRUE(k.ok());
  return std::move(k).value();
}

Hash Leaf(const std::string& line) {
  return LeafHash(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(line.data()),
                                                line.size()));
}

AuditDirBuilder::AuditDirBuilder()
    : dir_(tmp_.path() / "audit"), broker_(NewSigningKey()), root_(NewSigningKey()) {
  fs::create_directories(dir_ / "certs");
  CertificateFields f;
  f.serial = 1;
  f.role = CertRole::kRoot;
  f.node_id = "root";
  f.not_before = kBaseTime - 86400;
  f.not_after = kBaseTime + 365 * 86400;
  f.signing_key = root_.public_key;
  auto root = IssueCertificate(root_, f);
  EXPECT_TRUE(root.ok()) << root.status().ToString();
  WriteBytes(dir_ / "certs" / "root.cert", root->encoded());
  AddWitness("usa-node", "USA", 2);
  AddWitness("gbr-node", "GBR", 3);
  // The broker's own certificate, which ties log.pub to the root (verify --ca requires it).
  CertificateFields bf;
  bf.serial = 100;
  bf.role = CertRole::kBroker;
  bf.node_id = "broker-1";
  bf.nation = "USA";
  bf.clearance = "SECRET";
  bf.not_before = kBaseTime - 86400;
  bf.not_after = kBaseTime + 365 * 86400;
  bf.signing_key = broker_.public_key;
  bf.encryption_key = NewSigningKey().public_key;
  bf.transport_key = NewSigningKey().public_key;
  auto broker_cert = IssueCertificate(root_, bf);
  EXPECT_TRUE(broker_cert.ok()) << broker_cert.status().ToString();
  WriteBytes(dir_ / "broker.cert", broker_cert->encoded());
  auto vkey = MakeNoteVerifierKey(kOrigin, NoteKeyType::kEd25519, broker_.public_key);
  EXPECT_TRUE(vkey.ok());
  WriteText(dir_ / "log.pub", FormatNoteVerifierKey(*vkey) + "\n");
  policy_text_ = ReadFile(SourcePath("deploy/policy/coalition.toml"));
  WriteText(dir_ / "policy.toml", policy_text_);
}

void AuditDirBuilder::AddWitness(const std::string& id, const std::string& nation,
                                 std::uint64_t serial, const std::string& file) {
  CertificateFields f;
  f.serial = serial;
  f.role = CertRole::kNode;
  f.node_id = id;
  f.nation = nation;
  f.clearance = "SECRET";
  f.not_before = kBaseTime - 86400;
  f.not_after = kBaseTime + 365 * 86400;
  witnesses_.insert_or_assign(id, NewSigningKey());
  f.signing_key = witnesses_.at(id).public_key;
  f.encryption_key = NewSigningKey().public_key;
  f.transport_key = NewSigningKey().public_key;
  auto cert = IssueCertificate(root_, f);
  EXPECT_TRUE(cert.ok()) << cert.status().ToString();
  WriteBytes(dir_ / "certs" / ((file.empty() ? id : file) + ".cert"), cert->encoded());
}

void AuditDirBuilder::Add(const std::string& type, nlohmann::json fields) {
  nlohmann::json r = nlohmann::json::object();
  r["seq"] = lines_.size();
  r["time"] = static_cast<double>(kBaseTime) + static_cast<double>(lines_.size()) * 1.5;
  r["type"] = type;
  for (auto& [k, v] : fields.items()) r[k] = v;
  lines_.push_back(r.dump());
}

void AuditDirBuilder::StandardStory() {
  Add("broker_start", {{"broker", "broker-1"}, {"nodes", 3}, {"torn_tail_bytes", 0}});
  Add("policy_loaded", {{"policy", "tearline-coalition"},
                        {"policy_version", "2026.11"},
                        {"policy_sha256", Sha256Hex(policy_text_)}});
  Add("node_connected", {{"node", "usa-node"}});
  Add("node_connected", {{"node", "gbr-node"}});
  Add("accepted", {{"report_id", kR1},
                   {"originator", "usa-node"},
                   {"originator_nation", "USA"},
                   {"intended_nations", {"GBR"}},
                   {"created", kBaseTime},
                   {"expires", kBaseTime + 86400},
                   {"report_bytes", 900},
                   {"portions",
                    {{{"index", 0},
                      {"label", "(S//REL TO USA, GBR)"},
                      {"ciphertext_sha256", Hex('a')},
                      {"ciphertext_bytes", 300}},
                     {{"index", 1},
                      {"label", "(S//NF)"},
                      {"ciphertext_sha256", Hex('b')},
                      {"ciphertext_bytes", 200}}}},
                   {"policy_sha256", Sha256Hex(policy_text_)}});  // line 5
  Add("denied", {{"report_id", kR1},
                 {"originator", "usa-node"},
                 {"recipient", "gbr-node"},
                 {"nation", "GBR"},
                 {"portion", 1},
                 {"label", "(S//NF)"},
                 {"reason", "NOFORN"},
                 {"explanation", "NOFORN material is not released to other nations"}});  // 6
  Add("delivered", Delivery(kR1, "usa-node", "USA", "gbr-node", "GBR",
                            {{{"index", 0}, {"label", "(S//REL TO USA, GBR)"}}}));  // line 7
  Add("accepted", {{"report_id", kR2},
                   {"originator", "gbr-node"},
                   {"originator_nation", "GBR"},
                   {"intended_nations", {"USA", "FRA"}},
                   {"created", kBaseTime},
                   {"expires", kBaseTime + 9000},
                   {"report_bytes", 500},
                   {"portions",
                    {{{"index", 0},
                      {"label", "(C//REL TO USA, FRA, GBR)"},
                      {"ciphertext_sha256", Hex('c')},
                      {"ciphertext_bytes", 100}}}},
                   {"policy_sha256", Sha256Hex(policy_text_)}});  // line 8
  Add("queued", Delivery(kR2, "gbr-node", "GBR", "fra-node", "FRA",
                         {{{"index", 0}, {"label", "(C//REL TO USA, FRA, GBR)"}}}));  // line 9
  Add("delivered", Delivery(kR2, "gbr-node", "GBR", "usa-node", "USA",
                            {{{"index", 0}, {"label", "(C//REL TO USA, FRA, GBR)"}}}));     // 10
  Add("node_connected", {{"node", "fra-node"}});                                            // 11
  Add("delivered", {{"report_id", kR2}, {"recipient", "fra-node"}, {"from_queue", true}});  // 12
  Add("acknowledged", {{"report_id", kR2}, {"recipient", "fra-node"}, {"signature", Hex('d')}});
  Add("rejected_input", {{"node", "usa-node"},
                         {"reason", "LABEL_SYNTAX"},
                         {"explanation", "bad marking"}});  // line 14
  Add("connection_refused", {{"peer_address", "127.0.0.1"},
                             {"client_key", Hex('e')},
                             {"reason", "AUTH_UNKNOWN_KEY"},
                             {"explanation", "unknown key"}});
}

nlohmann::json AuditDirBuilder::Delivery(const std::string& id, const std::string& originator,
                                         const std::string& onation, const std::string& recipient,
                                         const std::string& nation, nlohmann::json portions) {
  return {{"report_id", id},        {"originator", originator}, {"originator_nation", onation},
          {"recipient", recipient}, {"nation", nation},         {"clearance", "SECRET"},
          {"portions", portions}};
}

void AuditDirBuilder::Finish(std::vector<std::uint64_t> sizes,
                             std::multimap<std::uint64_t, std::string> cosign) {
  WriteText(dir_ / "log.jsonl", JoinLines(lines_));
  if (sizes.empty()) {
    for (std::uint64_t n = 1; n <= lines_.size(); ++n) sizes.push_back(n);
  }
  SignCheckpoints(sizes);
  for (const auto& [size, witness] : cosign) CosignFile(size, witness);
}

void AuditDirBuilder::SignCheckpoints(const std::vector<std::uint64_t>& sizes) {
  const auto lines = SplitLines(ReadFile(dir_ / "log.jsonl"));
  MerkleTree tree;
  for (const auto& l : lines) {
    tree.Append(Leaf(l));
  }
  fs::remove_all(dir_ / "checkpoints");
  fs::create_directories(dir_ / "checkpoints");
  for (std::uint64_t n : sizes) {
    auto note = SignedCheckpoint(tree, n);
    WriteText(dir_ / "checkpoints" / std::to_string(n), note);
    WriteText(dir_ / "checkpoint", note);
  }
}

std::string AuditDirBuilder::SignedCheckpoint(const MerkleTree& tree, std::uint64_t n) {
  Checkpoint cp{kOrigin, n, *tree.RootAt(n), {}};
  auto note = SignCheckpoint(cp, kOrigin, broker_);
  EXPECT_TRUE(note.ok()) << note.status().ToString();
  return *note;
}

Checkpoint AuditDirBuilder::CheckpointOnDisk(std::uint64_t size) {
  auto body = ParseSignedNote(ReadFile(dir_ / "checkpoints" / std::to_string(size)));
  EXPECT_TRUE(body.ok());
  auto cp = ParseCheckpointBody(body->text);
  EXPECT_TRUE(cp.ok());
  return *cp;
}

std::string AuditDirBuilder::CosignLine(std::uint64_t size, const std::string& witness) {
  auto line = Cosign(CheckpointOnDisk(size), witness, witnesses_.at(witness),
                     static_cast<std::uint64_t>(kBaseTime + 100));
  EXPECT_TRUE(line.ok()) << line.status().ToString();
  return *line;
}

void AuditDirBuilder::CosignFile(std::uint64_t size, const std::string& witness) {
  WriteText(dir_ / "cosignatures" / (std::to_string(size) + "." + witness),
            CosignLine(size, witness));
}

fs::path AuditDirBuilder::SaveTrusted(std::uint64_t size, const std::string& witness) {
  const fs::path path = tmp_.path() / ("trusted-" + std::to_string(size));
  WriteText(path,
            ReadFile(dir_ / "checkpoints" / std::to_string(size)) + CosignLine(size, witness));
  return path;
}

void AuditDirBuilder::SignAll() {
  std::vector<std::uint64_t> sizes;
  for (std::uint64_t n = 1; n <= Lines().size(); ++n) sizes.push_back(n);
  SignCheckpoints(sizes);
}

std::vector<std::string> AuditDirBuilder::Lines() const {
  return SplitLines(ReadFile(dir_ / "log.jsonl"));
}

void AuditDirBuilder::SetLines(const std::vector<std::string>& lines) {
  WriteText(dir_ / "log.jsonl", JoinLines(lines));
}

}  // namespace tearline::testing
