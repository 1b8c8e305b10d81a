// VerifyRecordProof: a node checks the broker's inclusion proof for one audit record itself
// (checkpoint signature by the broker's log key, leaf hash of the exact record bytes, RFC 9162
// inclusion, record seq and report id), and any tampering makes it fail.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tearline/crypto/secure_memory.h"
#include "tearline/node/proof_check.h"
#include "tearline/tlog/checkpoint.h"
#include "tearline/tlog/merkle.h"

namespace tearline::node {
namespace {

const std::string kReport = "00112233445566778899aabbccddeeff";

class NodeProofTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitCrypto().ok());
    auto k = GenerateSigningKeyPair();
    ASSERT_TRUE(k.ok());
    key_ = std::move(k).value();
    lines_ = {
        R"({"seq":0,"time":1.0,"type":"broker_start","broker":"broker-1","nodes":3,"torn_tail_bytes":0})",
        R"({"seq":1,"time":2.0,"type":"accepted","report_id":")" + kReport +
            R"(","originator":"usa-1"})",
        R"({"seq":2,"time":2.0,"type":"delivered","report_id":")" + kReport +
            R"(","recipient":"gbr-1","nation":"GBR"})",
        R"({"seq":3,"time":2.0,"type":"denied","report_id":")" + kReport +
            R"(","recipient":"kor-1","nation":"KOR","reason":"NOT_RELEASABLE"})",
        R"({"seq":4,"time":3.0,"type":"accepted","report_id":"ffffffffffffffffffffffffffffffff","originator":"usa-1"})",
    };
    for (const auto& l : lines_) {
      tree_.Append(LeafHash({reinterpret_cast<const std::uint8_t*>(l.data()), l.size()}));
    }
  }

  // The broker's answer for record `seq` at the current tree size.
  RecordProof Proof(std::uint64_t seq, const std::string& origin = "tearline/audit/broker-1") {
    Checkpoint cp;
    cp.origin = origin;
    cp.tree_size = tree_.size();
    cp.root_hash = tree_.Root();
    auto note = SignCheckpoint(cp, origin, key_);
    EXPECT_TRUE(note.ok()) << note.status().ToString();
    auto path = tree_.InclusionProof(seq, tree_.size());
    EXPECT_TRUE(path.ok());
    RecordProof p;
    p.note = *note;
    p.seq = seq;
    p.record = lines_[seq];
    for (const auto& h : *path) p.proof.insert(p.proof.end(), h.begin(), h.end());
    return p;
  }

  Result<VerifiedRecord> Verify(const RecordProof& p, std::uint64_t seq,
                                const std::string& report = kReport) {
    return VerifyRecordProof(p, seq, report, "broker-1", key_.public_key);
  }

  SigningKeyPair key_;
  std::vector<std::string> lines_;
  MerkleTree tree_;
};

TEST_F(NodeProofTest, GenuineProofVerifies) {
  for (std::uint64_t seq : {1u, 2u, 3u}) {
    auto v = Verify(Proof(seq), seq);
    ASSERT_TRUE(v.ok()) << seq << ": " << v.status().ToString();
    EXPECT_EQ(v->seq, seq);
    EXPECT_EQ(v->checkpoint_size, 5u);
    EXPECT_EQ(v->checkpoint_root, tree_.Root());
  }
  EXPECT_EQ(Verify(Proof(1), 1)->description, "accepted from usa-1");
  EXPECT_EQ(Verify(Proof(2), 2)->description, "delivered to gbr-1");
  EXPECT_EQ(Verify(Proof(3), 3)->description, "denied to kor-1 (NOT_RELEASABLE)");
  // Without a report id any record of the log is accepted.
  EXPECT_TRUE(VerifyRecordProof(Proof(0), 0, "", "broker-1", key_.public_key).ok());
}

TEST_F(NodeProofTest, FlippedRecordByteIsRejected) {
  auto p = Proof(2);
  // Same length, same JSON shape: only the leaf hash can tell.
  p.record[p.record.find("gbr-1") + 4] = '2';
  auto v = Verify(p, 2);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().reason(), "PROOF_NOT_INCLUDED") << v.status().ToString();
}

TEST_F(NodeProofTest, FlippedProofByteIsRejected) {
  auto p = Proof(2);
  ASSERT_FALSE(p.proof.empty());
  for (std::size_t i : {std::size_t{0}, p.proof.size() / 2, p.proof.size() - 1}) {
    auto q = p;
    q.proof[i] ^= 0x01;
    auto v = Verify(q, 2);
    ASSERT_FALSE(v.ok()) << i;
    EXPECT_EQ(v.status().reason(), "PROOF_NOT_INCLUDED") << v.status().ToString();
  }
  auto shortened = p;
  shortened.proof.pop_back();
  EXPECT_EQ(Verify(shortened, 2).status().reason(), "PROOF_MALFORMED");
  auto truncated = p;
  truncated.proof.resize(truncated.proof.size() - kMerkleHashSize);
  EXPECT_EQ(Verify(truncated, 2).status().reason(), "PROOF_NOT_INCLUDED");
}

TEST_F(NodeProofTest, CheckpointMustBeSignedByTheBrokersLogKey) {
  auto p = Proof(2);
  // A flipped byte in the signed note body (the root line).
  auto tampered = p;
  const auto root_at = tampered.note.find('\n', tampered.note.find('\n') + 1) + 1;
  tampered.note[root_at] = tampered.note[root_at] == 'A' ? 'B' : 'A';
  EXPECT_EQ(Verify(tampered, 2).status().reason(), "PROOF_BAD_CHECKPOINT");
  // Another key, or the right key under another origin.
  auto other = GenerateSigningKeyPair();
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(VerifyRecordProof(p, 2, kReport, "broker-1", other->public_key).status().reason(),
            "PROOF_BAD_CHECKPOINT");
  EXPECT_EQ(VerifyRecordProof(p, 2, kReport, "broker-2", key_.public_key).status().reason(),
            "PROOF_BAD_CHECKPOINT");
  EXPECT_EQ(Verify(Proof(2, "tearline/audit/broker-2"), 2).status().reason(),
            "PROOF_BAD_CHECKPOINT");
}

TEST_F(NodeProofTest, RecordMustBeTheOneAskedForAndNameTheReport) {
  // The broker answers with a genuine proof for another record.
  EXPECT_EQ(Verify(Proof(3), 2).status().reason(), "PROOF_WRONG_RECORD");
  // A genuine record at the asked seq that names another report.
  EXPECT_EQ(Verify(Proof(4), 4).status().reason(), "PROOF_WRONG_RECORD");
  // The seq field inside the record must match too (a log line carrying a wrong seq).
  lines_.push_back(R"({"seq":9,"time":4.0,"type":"accepted","report_id":")" + kReport + R"("})");
  tree_.Append(
      LeafHash({reinterpret_cast<const std::uint8_t*>(lines_[5].data()), lines_[5].size()}));
  EXPECT_EQ(Verify(Proof(5), 5).status().reason(), "PROOF_RECORD_MALFORMED");
  // A record beyond the checkpoint's tree.
  auto p = Proof(2);
  p.seq = 7;
  EXPECT_FALSE(Verify(p, 7).ok());
}

TEST_F(NodeProofTest, DescribesRecordTypes) {
  auto d = [](const char* text) { return DescribeAuditRecord(nlohmann::json::parse(text)); };
  EXPECT_EQ(d(R"({"type":"queued","recipient":"aus-1"})"), "queued for aus-1");
  EXPECT_EQ(d(R"({"type":"delivered","recipient":"aus-1","from_queue":true})"),
            "delivered to aus-1 from the queue");
  EXPECT_EQ(d(R"({"type":"acknowledged","recipient":"gbr-1"})"), "acknowledged by gbr-1");
  EXPECT_EQ(d(R"({"type":"denied","recipient":"","nation":"IND","reason":"NO_NODE"})"),
            "denied to IND (NO_NODE)");
  EXPECT_EQ(d(R"({"type":"expired","recipient":"gbr-1","reason":"REPORT_EXPIRED"})"),
            "expired for gbr-1 (REPORT_EXPIRED)");
  EXPECT_EQ(d(R"({"type":"node_connected"})"), "node_connected");
}

TEST_F(NodeProofTest, DescribesFailedCopies) {
  EXPECT_EQ(DescribeAuditRecord(nlohmann::json::parse(
                R"({"type":"failed","recipient":"gbr-1","reason":"ENVELOPE_DECRYPT_FAILED"})")),
            "failed for gbr-1 (ENVELOPE_DECRYPT_FAILED)");
}

}  // namespace
}  // namespace tearline::node
