// Tests for the audit directory verifier: a broker-like audit directory is built synthetically
// (records, RFC 6962 tree, checkpoints signed with a real Ed25519 log key, cosignatures by
// certified witness nodes), then tampered with in each way an attacker or a faulty broker could,
// and every tamper must be detected with the right record named.
#include "tearline/audit/audit_verify.h"

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "audit_dir_builder.h"
#include "hostile_audit.h"
#include "tearline/base/encoding.h"
#include "tearline/crypto/keys.h"
#include "tearline/identity/certificate.h"
#include "tearline/tlog/checkpoint.h"
#include "tearline/tlog/merkle.h"
#include "tearline/wire/release_frames.h"
#include "test_support.h"

namespace tearline {
namespace {

namespace fs = std::filesystem;
using testing::AuditDirBuilder;
using testing::ReadFile;
using testing::WriteText;

constexpr std::int64_t kBaseTime = testing::kAuditBaseTime;
constexpr const char* kOrigin = testing::kAuditOrigin;
const std::string& kR1 = testing::kAuditReport1;
const std::string& kR2 = testing::kAuditReport2;

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

// gbr-node asks usa-node to release R1's portion 0 to JPN (request 0x51...).
nlohmann::json ReleaseRequested() {
  return {{"request_id", ToHex(ReleaseId(16, 0x51))},
          {"report_id", kR1},
          {"portion", 0},
          {"originator", "usa-node"},
          {"requester", "gbr-node"},
          {"requester_nation", "GBR"},
          {"to_nation", "JPN"},
          {"why", "joint patrol"}};
}

// A release_decided record for usa-node's approval of R1 portion 0 to JPN, its body signed by
// `signer`'s key.
nlohmann::json ReleaseDecided(const SigningKeyPair& signer) {
  ReleaseDecisionInfo d;
  d.request_id = ReleaseId(16, 0x51);
  auto report = FromHex(kR1);
  d.report_id = *report;
  d.to_nation = "JPN";
  d.approved = true;
  d.label = "(S//REL TO USA, JPN)";
  d.release_report_id = ReleaseId(16, 0x52);
  d.decided_unix = kBaseTime;
  const std::vector<std::uint8_t> body = EncodeReleaseDecisionBody(d);
  auto sig = SignWithDomain(signer, kReleaseDecisionDomain, body);
  EXPECT_TRUE(sig.ok());
  return {{"request_id", ToHex(d.request_id)},
          {"report_id", kR1},
          {"portion", 0},
          {"originator", "usa-node"},
          {"requester", "gbr-node"},
          {"to_nation", "JPN"},
          {"decision", "approved"},
          {"label", d.label},
          {"release_report_id", ToHex(d.release_report_id)},
          {"requested", kBaseTime},
          {"signature", ToHex(*sig)},
          {"decision_body", Base64Encode(body)}};
}

TEST(AuditVerifyTest, ForgedOrAlteredReleaseDecisionsFailVerify) {
  const auto verify_with = [](const std::function<nlohmann::json(const AuditDirBuilder&)>& make) {
    AuditDirBuilder b;
    b.StandardStory();
    b.Add("release_requested", ReleaseRequested());
    b.Add("release_decided", make(b));
    b.Finish({}, {});
    return Verify(b);
  };
  const std::uint64_t line = 17;  // The story's 15 records, the request, then the decision.
  auto honest = verify_with(
      [](const AuditDirBuilder& b) { return ReleaseDecided(b.witness_key("usa-node")); });
  ASSERT_TRUE(honest.ok()) << honest.failure->ToString();
  // Signed by another node than the originator (or by the broker).
  ExpectFailure(verify_with([](const AuditDirBuilder& b) {
                  return ReleaseDecided(b.witness_key("gbr-node"));
                }),
                "AUDIT_RELEASE_SIGNATURE", line);
  ExpectFailure(
      verify_with([](const AuditDirBuilder& b) { return ReleaseDecided(b.broker_key()); }),
      "AUDIT_RELEASE_SIGNATURE", line);
  // A label other than the one the originator signed.
  ExpectFailure(verify_with([](const AuditDirBuilder& b) {
                  nlohmann::json r = ReleaseDecided(b.witness_key("usa-node"));
                  r["label"] = "(S//REL TO USA, GBR, JPN)";
                  return r;
                }),
                "AUDIT_RELEASE_MISMATCH", line);
  // Re-targeted to another nation than the one requested (and signed).
  ExpectFailure(verify_with([](const AuditDirBuilder& b) {
                  nlohmann::json r = ReleaseDecided(b.witness_key("usa-node"));
                  r["to_nation"] = "KOR";
                  return r;
                }),
                "AUDIT_RELEASE_WITHOUT_REQUEST", line);
  // A decision with no signed body: nothing shows the originator made it.
  ExpectFailure(verify_with([](const AuditDirBuilder& b) {
                  nlohmann::json r = ReleaseDecided(b.witness_key("usa-node"));
                  r.erase("decision_body");
                  return r;
                }),
                "AUDIT_RELEASE_UNSIGNED", line);
  // A decision for a request nobody made, or for another portion than the one requested.
  ExpectFailure(verify_with([](const AuditDirBuilder& b) {
                  nlohmann::json r = ReleaseDecided(b.witness_key("usa-node"));
                  r["request_id"] = std::string(32, 'e');
                  return r;
                }),
                "AUDIT_RELEASE_WITHOUT_REQUEST", line);
  ExpectFailure(verify_with([](const AuditDirBuilder& b) {
                  nlohmann::json r = ReleaseDecided(b.witness_key("usa-node"));
                  r["portion"] = 1;
                  return r;
                }),
                "AUDIT_RELEASE_WITHOUT_REQUEST", line);
}

TEST(AuditVerifyTest, ARequestIdIsUsedAgainOnlyAfterItsDecision) {
  const nlohmann::json request = ReleaseRequested();
  {
    // Decided, forgotten by the broker, asked again and decided again: an honest history.
    AuditDirBuilder b;
    b.StandardStory();
    b.Add("release_requested", request);
    b.Add("release_decided", ReleaseDecided(b.witness_key("usa-node")));
    b.Add("release_requested", request);
    b.Add("release_decided", ReleaseDecided(b.witness_key("usa-node")));
    b.Finish({}, {});
    auto r = Verify(b);
    ASSERT_TRUE(r.ok()) << r.failure->ToString();
  }
  AuditDirBuilder b;
  b.StandardStory();
  b.Add("release_requested", request);
  b.Add("release_requested", request);  // Still open: the broker refuses such a duplicate.
  b.Finish({}, {});
  ExpectFailure(Verify(b), "AUDIT_RELEASE_REQUEST_REPEATED", 17);
}

TEST(AuditVerifyTest, ARequestIsDecidedOnce) {
  AuditDirBuilder b;
  b.StandardStory();
  b.Add("release_requested", ReleaseRequested());
  b.Add("release_decided", ReleaseDecided(b.witness_key("usa-node")));
  b.Add("release_decided", ReleaseDecided(b.witness_key("usa-node")));  // Replayed.
  b.Finish({}, {});
  ExpectFailure(Verify(b), "AUDIT_RELEASE_DECIDED_TWICE", 18);
}

TEST(AuditVerifyTest, FailedRecordNeedsAnEarlierReleaseAndAppearsOnce) {
  const nlohmann::json failed_fra = {{"report_id", kR2},
                                     {"originator", "gbr-node"},
                                     {"recipient", "fra-node"},
                                     {"nation", "FRA"},
                                     {"refusals", 3},
                                     {"reason", "ENVELOPE_DECRYPT_FAILED"},
                                     {"explanation", "fra-node refused the copy 3 times"}};
  {
    AuditDirBuilder b;
    b.StandardStory();
    b.Add("failed", failed_fra);  // fra-node had a queued copy of R2.
    b.Finish({}, {});
    auto r = Verify(b);
    ASSERT_TRUE(r.ok()) << r.failure->ToString();
  }
  {
    AuditDirBuilder b;
    b.StandardStory();
    nlohmann::json never_stored = failed_fra;
    never_stored["recipient"] = "jpn-node";
    b.Add("failed", never_stored);
    b.Finish({}, {});
    auto r = Verify(b);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.failure->reason, "FAILED_WITHOUT_COPY") << r.failure->ToString();
  }
  AuditDirBuilder b;
  b.StandardStory();
  b.Add("failed", failed_fra);
  b.Add("failed", failed_fra);
  b.Finish({}, {});
  auto r = Verify(b);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.failure->reason, "AUDIT_DUPLICATE_FAILED") << r.failure->ToString();
  EXPECT_EQ(r.failure->line, 17u) << r.failure->ToString();
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

// A line with two readings is refused even when every signature over it verifies: the broker
// (or whoever re-signed the log) wrote it, and no reading of it can be chosen.
TEST(AuditVerifyTest, RepeatedKeyInASignedLogIsNamedAtItsLine) {
  AuditDirBuilder b;
  b.StandardStory();
  b.Finish();
  auto lines = b.Lines();
  const std::size_t brace = lines[6].rfind('}');
  lines[6].insert(brace, ",\"seq\":99");
  b.SetLines(lines);
  b.SignAll();
  const AuditVerifyResult r = Verify(b);
  ExpectFailure(r, "AUDIT_BAD_JSON", 7);
  EXPECT_NE(r.failure->ToString().find(
                "line 7: AUDIT_BAD_JSON: duplicate key \"seq\" in one object: every key must be "
                "unique"),
            std::string::npos)
      << r.failure->ToString();
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
  std::string text = ReadFile(b.dir() / "log.jsonl");
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

TEST(AuditVerifyTest, AcceptedNonCanonicalLabelIsNamed) {
  // A broker that admitted a label only a lenient parser reads; whether or not a delivery of it
  // follows, the log names the record that let it in.
  AuditDirBuilder b;
  b.StandardStory();
  b.Add("accepted", {{"report_id", std::string(32, '9')},
                     {"originator", "usa-node"},
                     {"originator_nation", "USA"},
                     {"intended_nations", {"GBR"}},
                     {"created", testing::kAuditBaseTime},
                     {"expires", testing::kAuditBaseTime + 86400},
                     {"report_bytes", 900},
                     {"portions",
                      {{{"index", 0},
                        {"label", "(s//rel to gbr,usa)"},
                        {"ciphertext_sha256", std::string(64, 'c')},
                        {"ciphertext_bytes", 300}}}},
                     {"policy_sha256", Sha256Hex(b.policy_text())}});  // line 16
  b.Finish();
  ExpectFailure(Verify(b), "AUDIT_BAD_LABEL", 16);
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
  WriteText(b.dir() / "policy.toml", ReadFile(b.dir() / "policy.toml") + "\n# edited\n");
  ExpectFailure(Verify(b), "POLICY_DIGEST_MISMATCH", 2);
}

TEST(AuditVerifyTest, ForgedCheckpointSignatureIsNamed) {
  AuditDirBuilder b;
  b.StandardStory();
  b.Finish();
  // A checkpoint signed by someone else's key under the log's name.
  SigningKeyPair other = testing::NewSigningKey();
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
  WriteText(b.dir() / "checkpoint", ReadFile(b.dir() / "checkpoints" / "4"));
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

// --- Trust anchors: the broker certificate and witnesses --------------------------------------

AuditVerifyResult VerifyPinned(const AuditDirBuilder& b, std::uint64_t min_witnesses = 0) {
  AuditVerifyOptions options;
  options.dir = b.dir();
  options.ca_dir = b.dir() / "certs";  // The root the auditor holds (the same one here).
  options.min_witnesses = min_witnesses;
  return VerifyAuditDirectory(options);
}

TEST(AuditVerifyTest, PinnedRootTiesTheLogKeyToTheBrokerCertificate) {
  AuditDirBuilder b;
  b.StandardStory();
  b.Finish({}, {{5, "usa-node"}});
  auto r = VerifyPinned(b);
  ASSERT_TRUE(r.ok()) << r.failure->ToString();
  EXPECT_EQ(r.broker, "broker-1");
  EXPECT_TRUE(r.root_pinned);
  EXPECT_EQ(AuditVerdict(r), "PASS");
}

// Every record and checkpoint is consistent, every signature verifies: only the key is not the
// broker's. Before the broker certificate was checked this passed.
TEST(AuditVerifyTest, LogReSignedWithAFreshKeyFailsUnderThePinnedRoot) {
  AuditDirBuilder b;
  b.StandardStory();
  b.Finish({}, {{5, "usa-node"}});
  testing::ResignWithFreshKey(b.dir(), kOrigin);
  auto r = VerifyPinned(b);
  ASSERT_FALSE(r.ok()) << "a log signed by a key the root never certified passed";
  EXPECT_EQ(r.failure->reason, "LOG_KEY_NOT_BROKER") << r.failure->ToString();
  EXPECT_EQ(r.failure->file, "log.pub");
  EXPECT_NE(r.failure->message.find("broker-1"), std::string::npos);
}

TEST(AuditVerifyTest, PinnedRootRequiresABrokerCertificateItIssued) {
  AuditDirBuilder b;
  b.StandardStory();
  b.Finish();
  fs::remove(b.dir() / "broker.cert");
  auto missing = VerifyPinned(b);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.failure->reason, "AUDIT_BROKER_CERT_MISSING");
  // A node's certificate is not a broker's.
  fs::copy_file(b.dir() / "certs" / "usa-node.cert", b.dir() / "broker.cert");
  auto node = VerifyPinned(b);
  ASSERT_FALSE(node.ok());
  EXPECT_EQ(node.failure->reason, "AUDIT_BROKER_CERT_UNTRUSTED");
  // A broker certificate from another coalition root.
  AuditDirBuilder other;
  fs::copy_file(other.dir() / "broker.cert", b.dir() / "broker.cert",
                fs::copy_options::overwrite_existing);
  auto foreign = VerifyPinned(b);
  ASSERT_FALSE(foreign.ok());
  EXPECT_EQ(foreign.failure->reason, "AUDIT_BROKER_CERT_UNTRUSTED");
  EXPECT_NE(foreign.failure->message.find("CERT_WRONG_ROOT"), std::string::npos)
      << foreign.failure->ToString();
}

TEST(AuditVerifyTest, WithoutWitnessOrTrustedCheckpointThePassIsUnwitnessed) {
  AuditDirBuilder b;
  b.StandardStory();
  b.Finish();
  auto r = VerifyPinned(b);
  ASSERT_TRUE(r.ok()) << r.failure->ToString();
  EXPECT_TRUE(r.unwitnessed());
  EXPECT_EQ(AuditVerdict(r), "PASS (unwitnessed)");
  auto trusted = Verify(b, {b.SaveTrusted(9, "gbr-node")});
  ASSERT_TRUE(trusted.ok()) << trusted.failure->ToString();
  EXPECT_EQ(AuditVerdict(trusted), "PASS");
}

TEST(AuditVerifyTest, MinWitnessesCountsDistinctCertifiedWitnesses) {
  AuditDirBuilder b;
  b.StandardStory();
  // usa-node cosigned twice: one witness.
  b.Finish({}, {{5, "usa-node"}, {9, "usa-node"}});
  auto one = VerifyPinned(b, 1);
  ASSERT_TRUE(one.ok()) << one.failure->ToString();
  EXPECT_EQ(one.witnesses.size(), 1u);
  EXPECT_EQ(one.witnessed_size, 9u);
  auto two = VerifyPinned(b, 2);
  ASSERT_FALSE(two.ok());
  EXPECT_EQ(two.failure->reason, "AUDIT_TOO_FEW_WITNESSES") << two.failure->ToString();
  b.CosignFile(12, "gbr-node");
  auto now_two = VerifyPinned(b, 2);
  ASSERT_TRUE(now_two.ok()) << now_two.failure->ToString();
  EXPECT_EQ(now_two.witnesses.size(), 2u);
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
