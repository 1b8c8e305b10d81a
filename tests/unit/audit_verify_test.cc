// Tests for the audit directory verifier: a broker-like audit directory is built synthetically
// (records, RFC 6962 tree, checkpoints signed with a real Ed25519 log key, cosignatures by
// certified witness nodes), then tampered with in each way an attacker or a faulty broker could,
// and every tamper must be detected with the right record named.
#include "tearline/audit/audit_verify.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "tearline/crypto/keys.h"
#include "tearline/identity/certificate.h"
#include "tearline/tlog/checkpoint.h"
#include "tearline/tlog/merkle.h"
#include "test_support.h"

namespace tearline {
namespace {

namespace fs = std::filesystem;
using testing::SourcePath;
using testing::TempDir;

constexpr std::int64_t kBaseTime = 1764400000;
constexpr const char* kOrigin = "tearline/audit/broker-1";
const std::string kR1 = "0123456789abcdef0123456789abcdef";
const std::string kR2 = "fedcba9876543210fedcba9876543210";

void WriteText(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

std::string ReadText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t nl = text.find('\n', start);
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

std::string JoinLines(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  return text;
}

SigningKeyPair Key() {
  auto k = GenerateSigningKeyPair();
  EXPECT_TRUE(k.ok());
  return std::move(k).value();
}

// A broker-like audit directory under a TempDir.
class AuditDirBuilder {
 public:
  AuditDirBuilder() : dir_(tmp_.path() / "audit"), broker_(Key()), root_(Key()) {
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
    auto vkey = MakeNoteVerifierKey(kOrigin, NoteKeyType::kEd25519, broker_.public_key);
    EXPECT_TRUE(vkey.ok());
    WriteText(dir_ / "log.pub", FormatNoteVerifierKey(*vkey) + "\n");
    policy_text_ = ReadText(SourcePath("deploy/policy/coalition.toml"));
    WriteText(dir_ / "policy.toml", policy_text_);
  }

  const fs::path& dir() const { return dir_; }
  const fs::path& tmp() const { return tmp_.path(); }
  const SigningKeyPair& broker_key() const { return broker_; }

  // `file` names the certificate file (a renewed certificate sits next to the old one).
  void AddWitness(const std::string& id, const std::string& nation, std::uint64_t serial,
                  const std::string& file = "") {
    CertificateFields f;
    f.serial = serial;
    f.role = CertRole::kNode;
    f.node_id = id;
    f.nation = nation;
    f.clearance = "SECRET";
    f.not_before = kBaseTime - 86400;
    f.not_after = kBaseTime + 365 * 86400;
    witnesses_.insert_or_assign(id, Key());
    f.signing_key = witnesses_.at(id).public_key;
    f.encryption_key = Key().public_key;
    f.transport_key = Key().public_key;
    auto cert = IssueCertificate(root_, f);
    EXPECT_TRUE(cert.ok()) << cert.status().ToString();
    WriteBytes(dir_ / "certs" / ((file.empty() ? id : file) + ".cert"), cert->encoded());
  }

  void Add(const std::string& type, nlohmann::json fields) {
    nlohmann::json r = nlohmann::json::object();
    r["seq"] = lines_.size();
    r["time"] = static_cast<double>(kBaseTime) + static_cast<double>(lines_.size()) * 1.5;
    r["type"] = type;
    for (auto& [k, v] : fields.items()) r[k] = v;
    lines_.push_back(r.dump());
  }

  // The standard story: two reports, a denial, a live and a queued delivery.
  void StandardStory() {
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

  static nlohmann::json Delivery(const std::string& id, const std::string& originator,
                                 const std::string& onation, const std::string& recipient,
                                 const std::string& nation, nlohmann::json portions) {
    return {{"report_id", id},        {"originator", originator}, {"originator_nation", onation},
            {"recipient", recipient}, {"nation", nation},         {"clearance", "SECRET"},
            {"portions", portions}};
  }

  static std::string Hex(char c) { return std::string(64, c); }

  // Writes log.jsonl, a checkpoint for each size in `sizes` (default: every size), the latest
  // checkpoint, and cosignatures {size -> witness}.
  void Finish(std::vector<std::uint64_t> sizes = {},
              std::multimap<std::uint64_t, std::string> cosign = {}) {
    WriteText(dir_ / "log.jsonl", JoinLines(lines_));
    if (sizes.empty()) {
      for (std::uint64_t n = 1; n <= lines_.size(); ++n) sizes.push_back(n);
    }
    SignCheckpoints(sizes);
    for (const auto& [size, witness] : cosign) CosignFile(size, witness);
  }

  // Signs checkpoints over the log as it is on disk now (what a dishonest broker does after
  // rewriting history).
  void SignCheckpoints(const std::vector<std::uint64_t>& sizes) {
    const auto lines = SplitLines(ReadText(dir_ / "log.jsonl"));
    MerkleTree tree;
    for (const auto& l : lines) {
      tree.Append(LeafHash(std::span<const std::uint8_t>(
          reinterpret_cast<const std::uint8_t*>(l.data()), l.size())));
    }
    fs::remove_all(dir_ / "checkpoints");
    fs::create_directories(dir_ / "checkpoints");
    for (std::uint64_t n : sizes) {
      auto note = SignedCheckpoint(tree, n);
      WriteText(dir_ / "checkpoints" / std::to_string(n), note);
      WriteText(dir_ / "checkpoint", note);
    }
  }

  std::string SignedCheckpoint(const MerkleTree& tree, std::uint64_t n) {
    Checkpoint cp{kOrigin, n, *tree.RootAt(n), {}};
    auto note = SignCheckpoint(cp, kOrigin, broker_);
    EXPECT_TRUE(note.ok()) << note.status().ToString();
    return *note;
  }

  Checkpoint CheckpointOnDisk(std::uint64_t size) {
    auto body = ParseSignedNote(ReadText(dir_ / "checkpoints" / std::to_string(size)));
    EXPECT_TRUE(body.ok());
    auto cp = ParseCheckpointBody(body->text);
    EXPECT_TRUE(cp.ok());
    return *cp;
  }

  std::string CosignLine(std::uint64_t size, const std::string& witness) {
    auto line = Cosign(CheckpointOnDisk(size), witness, witnesses_.at(witness),
                       static_cast<std::uint64_t>(kBaseTime + 100));
    EXPECT_TRUE(line.ok()) << line.status().ToString();
    return *line;
  }

  void CosignFile(std::uint64_t size, const std::string& witness) {
    WriteText(dir_ / "cosignatures" / (std::to_string(size) + "." + witness),
              CosignLine(size, witness));
  }

  // What a witness keeps: the checkpoint it cosigned, with its cosignature appended.
  fs::path SaveTrusted(std::uint64_t size, const std::string& witness) {
    const fs::path path = tmp_.path() / ("trusted-" + std::to_string(size));
    WriteText(path,
              ReadText(dir_ / "checkpoints" / std::to_string(size)) + CosignLine(size, witness));
    return path;
  }

  std::vector<std::string> Lines() const { return SplitLines(ReadText(dir_ / "log.jsonl")); }
  void SetLines(const std::vector<std::string>& lines) {
    WriteText(dir_ / "log.jsonl", JoinLines(lines));
  }
  std::size_t size() const { return lines_.size(); }

 private:
  static void WriteBytes(const fs::path& path, const std::vector<std::uint8_t>& bytes) {
    WriteText(path, std::string(bytes.begin(), bytes.end()));
  }

  TempDir tmp_;
  fs::path dir_;
  SigningKeyPair broker_;
  SigningKeyPair root_;
  std::map<std::string, SigningKeyPair> witnesses_;
  std::string policy_text_;
  std::vector<std::string> lines_;
};

AuditVerifyResult Verify(const AuditDirBuilder& b, std::vector<fs::path> trusted = {}) {
  AuditVerifyOptions options;
  options.dir = b.dir();
  options.trusted_checkpoints = std::move(trusted);
  return VerifyAuditDirectory(options);
}

void ExpectFailure(const AuditVerifyResult& r, const std::string& reason, std::uint64_t line,
                   std::uint64_t last_line = 0) {
  ASSERT_FALSE(r.ok()) << "tampering was not detected";
  EXPECT_EQ(r.failure->reason, reason) << r.failure->ToString();
  EXPECT_EQ(r.failure->line, line) << r.failure->ToString();
  EXPECT_EQ(r.failure->last_line, last_line == 0 ? line : last_line) << r.failure->ToString();
}

TEST(AuditVerifyTest, IntactDirectoryVerifies) {
  AuditDirBuilder b;
  b.StandardStory();
  b.Finish({}, {{5, "usa-node"}, {9, "gbr-node"}, {15, "usa-node"}});
  auto r = Verify(b);
  ASSERT_TRUE(r.ok()) << r.failure->ToString();
  EXPECT_EQ(r.records, 15u);
  EXPECT_EQ(r.checkpoints, 15u);
  EXPECT_EQ(r.cosignatures, 3u);
  EXPECT_EQ(r.deliveries_checked, 3u);
  EXPECT_EQ(r.witnesses, (std::vector<std::string>{"gbr-node", "usa-node"}));
  ASSERT_TRUE(r.latest.has_value());
  EXPECT_EQ(r.latest->tree_size, 15u);
  EXPECT_EQ(r.origin, kOrigin);
  EXPECT_EQ(r.policy_name, "tearline-coalition");
}

// A temporary caught mid-copy (or left by a crash) is not part of the layout; a visible file
// that is not a checkpoint still is an error.
TEST(AuditVerifyTest, HiddenTemporariesAreIgnoredButStrangeNamesAreNot) {
  AuditDirBuilder b;
  b.StandardStory();
  b.Finish({}, {{5, "usa-node"}});
  WriteText(b.dir() / "checkpoints" / ".16.tmp987", "half a checkpoint");
  WriteText(b.dir() / "cosignatures" / ".16.usa-node.tmp1", "half a cosignature");
  auto r = Verify(b);
  ASSERT_TRUE(r.ok()) << r.failure->ToString();
  WriteText(b.dir() / "checkpoints" / "16.bak", "junk");
  auto bad = Verify(b);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.failure->reason, "CHECKPOINT_BAD_NAME");
}

TEST(AuditVerifyTest, ExpiryMustFollowAStoredCopy) {
  const nlohmann::json expired_fra = {
      {"report_id", kR2},           {"originator", "gbr-node"},
      {"recipient", "fra-node"},    {"nation", "FRA"},
      {"reason", "REPORT_EXPIRED"}, {"explanation", "the report expired before delivery"}};
  {
    AuditDirBuilder b;
    b.StandardStory();
    b.Add("expired", expired_fra);  // fra-node had a queued copy of R2 (line 9).
    b.Finish({}, {});
    auto r = Verify(b);
    ASSERT_TRUE(r.ok()) << r.failure->ToString();
  }
  AuditDirBuilder b;
  b.StandardStory();
  nlohmann::json never_stored = expired_fra;
  never_stored["recipient"] = "jpn-node";
  b.Add("expired", never_stored);
  b.Finish({}, {});
  auto r = Verify(b);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.failure->reason, "EXPIRY_WITHOUT_COPY") << r.failure->ToString();
  EXPECT_EQ(r.failure->line, 16u) << r.failure->ToString();
}

TEST(AuditVerifyTest, SparseCheckpointsAndTrustedCheckpointVerify) {
  AuditDirBuilder b;
  b.StandardStory();
  b.Finish({4, 9, 15});
  auto trusted = b.SaveTrusted(9, "gbr-node");
  auto r = Verify(b, {trusted});
  ASSERT_TRUE(r.ok()) << r.failure->ToString();
  EXPECT_EQ(r.checkpoints, 3u);
  EXPECT_EQ(r.trusted_checkpoints, 1u);
}

TEST(AuditVerifyTest, RecordsAfterTheLatestCheckpointAreAllowed) {
  AuditDirBuilder b;
  b.StandardStory();
  b.Finish({10});
  auto r = Verify(b);
  ASSERT_TRUE(r.ok()) << r.failure->ToString();
  EXPECT_EQ(r.latest->tree_size, 10u);
}

TEST(AuditVerifyTest, FlippedByteInRecordIsNamed) {
  AuditDirBuilder b;
  b.StandardStory();
  b.Finish();
  auto lines = b.Lines();
  const auto pos = lines[10].find("fra-node");
  ASSERT_NE(pos, std::string::npos);
  lines[10][pos + 7] = 'f';  // "fra-nodf": still valid JSON, only the tree notices.
  b.SetLines(lines);
  ExpectFailure(Verify(b), "CHECKPOINT_ROOT_MISMATCH", 11);
}

TEST(AuditVerifyTest, FlippedByteWithSparseCheckpointsNamesTheRange) {
  AuditDirBuilder b;
  b.StandardStory();
  b.Finish({4, 9, 15});
  auto lines = b.Lines();
  lines[5][lines[5].find("NOFORN material")] = 'n';
  b.SetLines(lines);
  ExpectFailure(Verify(b), "CHECKPOINT_ROOT_MISMATCH", 5, 9);
}

TEST(AuditVerifyTest, FlippedByteBreakingJsonIsNamed) {
  AuditDirBuilder b;
  b.StandardStory();
  b.Finish();
  auto lines = b.Lines();
  lines[6][0] = '[';
  b.SetLines(lines);
  ExpectFailure(Verify(b), "AUDIT_BAD_JSON", 7);
}

TEST(AuditVerifyTest, DeletedLineIsNamed) {
  AuditDirBuilder b;
  b.StandardStory();
  b.Finish();
  auto lines = b.Lines();
  lines.erase(lines.begin() + 5);  // The denial at line 6 disappears.
  b.SetLines(lines);
  ExpectFailure(Verify(b), "AUDIT_SEQ_MISMATCH", 6);
}

TEST(AuditVerifyTest, SwappedLinesAreNamed) {
  AuditDirBuilder b;
  b.StandardStory();
  b.Finish();
  auto lines = b.Lines();
  std::swap(lines[8], lines[9]);
  b.SetLines(lines);
  ExpectFailure(Verify(b), "AUDIT_SEQ_MISMATCH", 9);
}

TEST(AuditVerifyTest, TruncatedTailIsNamed) {
  AuditDirBuilder b;
  b.StandardStory();
  b.Finish();
  auto lines = b.Lines();
  lines.resize(12);
  b.SetLines(lines);
  ExpectFailure(Verify(b), "CHECKPOINT_BEYOND_LOG", 13, 15);
}

TEST(AuditVerifyTest, TornLastLineIsNamed) {
  AuditDirBuilder b;
  b.StandardStory();
  b.Finish();
  std::string text = ReadText(b.dir() / "log.jsonl");
  text.resize(text.size() - 10);
  WriteText(b.dir() / "log.jsonl", text);
  ExpectFailure(Verify(b), "AUDIT_TORN_TAIL", 15);
}

// A broker that rewrites history and re-signs every checkpoint with its own key: its signatures
// all verify, so only evidence from outside (a witness's cosignature, a checkpoint an auditor
// kept) exposes it.
class RewrittenHistoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    b_.StandardStory();
    b_.Finish({}, {{5, "usa-node"}, {9, "gbr-node"}});
    trusted_ = b_.SaveTrusted(9, "gbr-node");
    // Erase the NOFORN denial at line 6 and renumber, so every record still looks perfect.
    auto lines = b_.Lines();
    lines[5] =
        nlohmann::json{
            {"seq", 5}, {"time", kBaseTime + 7.5}, {"type", "node_connected"}, {"node", "usa-node"}}
            .dump();
    b_.SetLines(lines);
    std::vector<std::uint64_t> sizes;
    for (std::uint64_t n = 1; n <= b_.size(); ++n) sizes.push_back(n);
    b_.SignCheckpoints(sizes);
  }
  AuditDirBuilder b_;
  fs::path trusted_;
};

TEST_F(RewrittenHistoryTest, CaughtByAnEarlierCosignature) {
  ExpectFailure(Verify(b_), "COSIGNATURE_MISMATCH", 6, 9);
}

TEST_F(RewrittenHistoryTest, CaughtByATrustedCheckpointWhenCosignaturesAreDeleted) {
  fs::remove(b_.dir() / "cosignatures" / "9.gbr-node");
  ASSERT_TRUE(Verify(b_).ok()) << "without outside evidence a re-signed log looks valid";
  ExpectFailure(Verify(b_, {trusted_}), "TRUSTED_CHECKPOINT_MISMATCH", 6, 9);
}

TEST_F(RewrittenHistoryTest, TruncationCaughtByTrustedCheckpoint) {
  fs::remove_all(b_.dir() / "cosignatures");
  auto lines = b_.Lines();
  lines.resize(7);
  b_.SetLines(lines);
  b_.SignCheckpoints({3, 7});
  ExpectFailure(Verify(b_, {trusted_}), "TRUSTED_CHECKPOINT_BEYOND_LOG", 8, 9);
}

TEST(AuditVerifyTest, DeliveryThePolicyDeniesIsNamedEvenWhenSigned) {
  AuditDirBuilder b;
  b.StandardStory();
  b.Add("delivered", AuditDirBuilder::Delivery(kR1, "usa-node", "USA", "gbr-node", "GBR",
                                               {{{"index", 1}, {"label", "(S//NF)"}}}));  // line 16
  b.Finish();
  ExpectFailure(Verify(b), "DELIVERY_NOT_ALLOWED", 16);
}

TEST(AuditVerifyTest, DeliveryAboveClearanceIsNamed) {
  AuditDirBuilder b;
  b.StandardStory();
  auto d = AuditDirBuilder::Delivery(kR1, "usa-node", "USA", "gbr-node", "GBR",
                                     {{{"index", 0}, {"label", "(S//REL TO USA, GBR)"}}});
  d["clearance"] = "CONFIDENTIAL";
  b.Add("delivered", d);
  b.Finish();
  ExpectFailure(Verify(b), "DELIVERY_NOT_ALLOWED", 16);
}

TEST(AuditVerifyTest, DeliveryWithoutAcceptIsNamed) {
  AuditDirBuilder b;
  b.StandardStory();
  b.Add("delivered",
        AuditDirBuilder::Delivery(std::string(32, '7'), "usa-node", "USA", "gbr-node", "GBR",
                                  {{{"index", 0}, {"label", "(S//REL TO USA, GBR)"}}}));
  b.Finish();
  ExpectFailure(Verify(b), "DELIVERY_WITHOUT_ACCEPT", 16);
}

TEST(AuditVerifyTest, DeliveryWithRelabelledPortionIsNamed) {
  AuditDirBuilder b;
  b.StandardStory();
  b.Add("delivered",
        AuditDirBuilder::Delivery(kR1, "usa-node", "USA", "gbr-node", "GBR",
                                  {{{"index", 1}, {"label", "(S//REL TO USA, GBR)"}}}));
  b.Finish();
  ExpectFailure(Verify(b), "DELIVERY_LABEL_MISMATCH", 16);
}

TEST(AuditVerifyTest, FromQueueWithoutQueuedIsNamed) {
  AuditDirBuilder b;
  b.StandardStory();
  b.Add("delivered", {{"report_id", kR1}, {"recipient", "fra-node"}, {"from_queue", true}});
  b.Finish();
  ExpectFailure(Verify(b), "DELIVERY_NOT_QUEUED", 16);
}

TEST(AuditVerifyTest, TimeGoingBackwardsIsNamed) {
  AuditDirBuilder b;
  b.StandardStory();
  b.Add("broker_stop", {{"broker", "broker-1"}});
  b.Finish();
  auto lines = b.Lines();
  auto j = nlohmann::json::parse(lines[15]);
  j["time"] = kBaseTime;
  lines[15] = j.dump();
  b.SetLines(lines);
  b.SignCheckpoints({16});
  ExpectFailure(Verify(b), "AUDIT_TIME_REGRESSION", 16);
}

// Every record of a known type must decode to its typed form; unknown types are skipped.
TEST(AuditVerifyTest, RecordOfAKnownTypeMustDecode) {
  {
    AuditDirBuilder b;
    b.StandardStory();
    b.Add("added_in_a_later_version", {{"anything", 1}});
    b.Finish();
    auto r = Verify(b);
    ASSERT_TRUE(r.ok()) << r.failure->ToString();
  }
  AuditDirBuilder b;
  b.StandardStory();
  b.Add("denied", {{"report_id", kR1},
                   {"originator", "usa-node"},
                   {"recipient", "gbr-node"},
                   {"nation", "GBR"},
                   {"explanation", "no reason given"}});  // line 16
  b.Finish();
  auto r = Verify(b);
  ExpectFailure(r, "AUDIT_RECORD_MALFORMED", 16);
  EXPECT_NE(r.failure->message.find("denied record field \"reason\" is missing"), std::string::npos)
      << r.failure->ToString();
}

TEST(AuditVerifyTest, ChangedPolicyFileIsNamedAtPolicyLoaded) {
  AuditDirBuilder b;
  b.StandardStory();
  b.Finish();
  WriteText(b.dir() / "policy.toml", ReadText(b.dir() / "policy.toml") + "\n# edited\n");
  ExpectFailure(Verify(b), "POLICY_DIGEST_MISMATCH", 2);
}

TEST(AuditVerifyTest, ForgedCheckpointSignatureIsNamed) {
  AuditDirBuilder b;
  b.StandardStory();
  b.Finish();
  // A checkpoint signed by someone else's key under the log's name.
  SigningKeyPair other = Key();
  MerkleTree tree;
  for (const auto& l : b.Lines()) {
    tree.Append(LeafHash(
        std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(l.data()), l.size())));
  }
  auto note = SignCheckpoint(Checkpoint{kOrigin, 7, *tree.RootAt(7), {}}, kOrigin, other);
  ASSERT_TRUE(note.ok());
  WriteText(b.dir() / "checkpoints" / "7", *note);
  auto r = Verify(b);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.failure->file, "checkpoints/7");
  EXPECT_EQ(r.failure->line, 0u);
}

TEST(AuditVerifyTest, StaleLatestCheckpointIsReported) {
  AuditDirBuilder b;
  b.StandardStory();
  b.Finish({4, 9});
  WriteText(b.dir() / "checkpoint", ReadText(b.dir() / "checkpoints" / "4"));
  auto r = Verify(b);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.failure->reason, "CHECKPOINT_LATEST_STALE");
}

TEST(AuditVerifyTest, MissingCheckpointIsAFailure) {
  AuditDirBuilder b;
  b.StandardStory();
  b.Finish();
  fs::remove_all(b.dir() / "checkpoints");
  fs::remove(b.dir() / "checkpoint");
  auto r = Verify(b);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.failure->reason, "AUDIT_NO_CHECKPOINT");
}

TEST(AuditVerifyTest, CosignatureByUncertifiedWitnessIsRejected) {
  AuditDirBuilder b;
  b.StandardStory();
  b.Finish({}, {{5, "usa-node"}});
  // The auditor pins a different coalition root: the witness certificate does not chain to it.
  AuditDirBuilder other;
  AuditVerifyOptions options;
  options.dir = b.dir();
  options.ca_dir = other.dir() / "certs";
  auto r = VerifyAuditDirectory(options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.failure->reason, "COSIGNATURE_WITNESS_UNTRUSTED") << r.failure->ToString();
  EXPECT_EQ(r.failure->file, "cosignatures/5.usa-node");
}

TEST(AuditVerifyTest, CosignaturesByARenewedWitnessCertificateVerify) {
  AuditDirBuilder b;
  b.StandardStory();
  b.Finish({}, {{5, "usa-node"}});
  b.AddWitness("usa-node", "USA", 9, "usa-node-renewed");  // New key from now on.
  b.CosignFile(9, "usa-node");
  auto r = Verify(b);
  ASSERT_TRUE(r.ok()) << r.failure->ToString();
  EXPECT_EQ(r.cosignatures, 2u);
}

TEST(AuditVerifyTest, CosignatureByAnUnknownKeyIsRejected) {
  AuditDirBuilder b;
  b.StandardStory();
  b.Finish();
  b.AddWitness("usa-node", "USA", 9, "unused");  // Signs with a key whose certificate is gone.
  b.CosignFile(9, "usa-node");
  fs::remove(b.dir() / "certs" / "unused.cert");
  auto r = Verify(b);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.failure->reason, "NOTE_UNVERIFIED") << r.failure->ToString();
  EXPECT_EQ(r.failure->file, "cosignatures/9.usa-node");
}

TEST(AuditVerifyTest, MissingDirectoryIsReported) {
  AuditVerifyOptions options;
  options.dir = "/nonexistent/tearline-audit";
  auto r = VerifyAuditDirectory(options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.failure->reason, "AUDIT_DIR_NOT_FOUND");
}

TEST(AuditRecordsTest, ParseRejectsDeepAndHugeLines) {
  std::optional<AuditLoadError> error;
  ParseAuditLog(std::string(100, '[') + "\n", error);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->status.reason(), "AUDIT_BAD_JSON");
  error.reset();
  ParseAuditLog(
      "{\"seq\":0,\"time\":1,\"type\":\"x\"}\n" + std::string(kMaxAuditLineBytes + 1, ' ') + "\n",
      error);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->line, 2u);
  EXPECT_EQ(error->status.reason(), "AUDIT_LINE_TOO_LARGE");
}

TEST(AuditRecordsTest, RejectsAbsurdTimes) {
  std::optional<AuditLoadError> error;
  ParseAuditLog("{\"seq\":0,\"time\":1e300,\"type\":\"x\"}\n", error);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->status.reason(), "AUDIT_RECORD_MALFORMED");
}

TEST(AuditRecordsTest, ParsesTimes) {
  EXPECT_EQ(*ParseAuditTime("1764400000"), 1764400000.0);
  EXPECT_EQ(*ParseAuditTime("1764400000.5"), 1764400000.5);
  EXPECT_EQ(*ParseAuditTime("1970-01-02T00:00:01Z"), 86401.0);
  EXPECT_EQ(*ParseAuditTime("2026-11-29"), *ParseAuditTime("2026-11-29T00:00:00Z"));
  EXPECT_EQ(FormatAuditTime(86401.25), "1970-01-02T00:00:01.250Z");
  EXPECT_EQ(FormatAuditTime(1e300), "(time out of range)");
  EXPECT_FALSE(ParseAuditTime("yesterday").ok());
  EXPECT_FALSE(ParseAuditTime("2026-13-01").ok());
}

}  // namespace
}  // namespace tearline
