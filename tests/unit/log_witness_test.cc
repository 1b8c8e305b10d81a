// LogWitness: the node cosigns only checkpoints signed by the broker's log key and consistent
// with the one it cosigned before, persists its state before the cosignature leaves, raises the
// alarm on a fork, a shrink or a bad signature, and asks every 4 heartbeats on a FakeClock.
#include "tearline/node/log_witness.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "node_unit_fixture.h"
#include "tearline/base/clock.h"
#include "tearline/tlog/checkpoint.h"
#include "tearline/tlog/merkle.h"
#include "test_support.h"

namespace tearline::node {
namespace {

using namespace std::chrono_literals;
using tearline::testing::TempDir;
using unit::RecordingBroker;

constexpr auto kHeartbeat = 500ms;
const std::string kOrigin = "tearline/audit/broker-1";

MerkleTree Tree(const std::string& prefix, int n) {
  MerkleTree t;
  for (int i = 0; i < n; ++i) {
    const std::string leaf = prefix + std::to_string(i);
    t.Append(LeafHash({reinterpret_cast<const std::uint8_t*>(leaf.data()), leaf.size()}));
  }
  return t;
}

class LogWitnessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitCrypto().ok());
    broker_key_ = GenerateSigningKeyPair().value();
    node_key_ = GenerateSigningKeyPair().value();
    tree_ = Tree("record-", 8);
    witness_ = std::make_unique<LogWitness>(clock_, Config(), node_key_, broker_);
  }

  LogWitnessConfig Config() const {
    return {"usa-1", "broker-1", broker_key_.public_key, dir_ / "witness" / "checkpoint"};
  }

  std::string Note(const MerkleTree& tree, std::uint64_t size,
                   const SigningKeyPair* key = nullptr) const {
    Checkpoint cp;
    cp.origin = kOrigin;
    cp.tree_size = size;
    cp.root_hash = tree.RootAt(size).value();
    auto note = SignCheckpoint(cp, kOrigin, key ? *key : broker_key_);
    EXPECT_TRUE(note.ok()) << note.status().ToString();
    return *note;
  }

  CheckpointAnswer Answer(std::uint64_t old_size, std::uint64_t size,
                          const MerkleTree* tree = nullptr) const {
    const MerkleTree& t = tree ? *tree : tree_;
    CheckpointAnswer a;
    a.note = Note(t, size);
    a.old_size = old_size;
    auto proof = t.ConsistencyProof(old_size, size);
    EXPECT_TRUE(proof.ok());
    for (const auto& h : *proof) a.proof.insert(a.proof.end(), h.begin(), h.end());
    return a;
  }

  // The cosignature line of the last frame, verified with the node's key.
  void ExpectCosigned(std::uint64_t size) {
    const auto* f = broker_.Last();
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(f->body_type(), schema::Body::Cosignature);
    EXPECT_EQ(f->body_as_Cosignature()->size(), size);
    Checkpoint cp;
    cp.origin = kOrigin;
    cp.tree_size = size;
    cp.root_hash = tree_.RootAt(size).value();
    auto key = MakeNoteVerifierKey("usa-1", NoteKeyType::kCosignatureV1, node_key_.public_key);
    ASSERT_TRUE(key.ok());
    auto ts = VerifyCosignature(cp, f->body_as_Cosignature()->line()->str(), *key);
    ASSERT_TRUE(ts.ok()) << ts.status().ToString();
    EXPECT_EQ(*ts, static_cast<std::uint64_t>(clock_.UnixNow()));
  }

  TempDir dir_;
  FakeClock clock_;
  RecordingBroker broker_;
  SigningKeyPair broker_key_;
  SigningKeyPair node_key_;
  MerkleTree tree_;
  std::unique_ptr<LogWitness> witness_;
};

TEST_F(LogWitnessTest, AsksEveryFourHeartbeatsWhileWelcomed) {
  witness_->Tick(kHeartbeat);
  ASSERT_EQ(broker_.Count(schema::Body::CheckpointRequest), 1u);
  EXPECT_EQ(broker_.Last()->body_as_CheckpointRequest()->old_size(), 0u);
  clock_.Advance(kHeartbeat * kCheckpointEveryHeartbeats - 1ms);
  witness_->Tick(kHeartbeat);
  EXPECT_EQ(broker_.Count(schema::Body::CheckpointRequest), 1u);
  clock_.Advance(1ms);
  witness_->Tick(kHeartbeat);
  EXPECT_EQ(broker_.Count(schema::Body::CheckpointRequest), 2u);

  broker_.is_welcomed = false;
  clock_.Advance(kHeartbeat * 100);
  witness_->Tick(kHeartbeat);
  EXPECT_EQ(broker_.Count(schema::Body::CheckpointRequest), 2u);
}

TEST_F(LogWitnessTest, CosignsConsistentGrowthAndPersistsIt) {
  witness_->OnCheckpointReply(Answer(0, 3));
  ExpectCosigned(3);
  EXPECT_EQ(witness_->witnessed_size(), 3u);
  EXPECT_TRUE(std::filesystem::exists(dir_ / "witness" / "checkpoint"));

  clock_.Advance(5s);
  witness_->OnCheckpointReply(Answer(3, 8));
  ExpectCosigned(8);
  EXPECT_EQ(witness_->witnessed_size(), 8u);
  EXPECT_EQ(witness_->witnessed_root(), tree_.Root());
  EXPECT_TRUE(witness_->alarm().empty());

  // The next request names the witnessed size; a restart remembers it.
  clock_.Advance(kHeartbeat * kCheckpointEveryHeartbeats);
  witness_->Tick(kHeartbeat);
  EXPECT_EQ(broker_.Last()->body_as_CheckpointRequest()->old_size(), 8u);
  LogWitness restarted(clock_, Config(), node_key_, broker_);
  restarted.Load();
  EXPECT_EQ(restarted.witnessed_size(), 8u);
  EXPECT_EQ(restarted.witnessed_root(), tree_.Root());
}

TEST_F(LogWitnessTest, SameCheckpointAgainIsNotCosignedTwice) {
  witness_->OnCheckpointReply(Answer(0, 3));
  const auto sent = broker_.sent.size();
  witness_->OnCheckpointReply(Answer(3, 3));
  EXPECT_EQ(broker_.sent.size(), sent);
  EXPECT_TRUE(witness_->alarm().empty());
}

TEST_F(LogWitnessTest, ForkRaisesTheAlarm) {
  witness_->OnCheckpointReply(Answer(0, 3));
  const MerkleTree forked = Tree("rewritten-", 8);
  const auto sent = broker_.sent.size();
  witness_->OnCheckpointReply(Answer(3, 8, &forked));
  EXPECT_FALSE(witness_->alarm().empty());
  EXPECT_EQ(broker_.sent.size(), sent);  // Nothing cosigned.
  EXPECT_EQ(witness_->witnessed_size(), 3u);
}

TEST_F(LogWitnessTest, TwoRootsForOneSizeRaiseTheAlarm) {
  witness_->OnCheckpointReply(Answer(0, 3));
  const MerkleTree forked = Tree("rewritten-", 8);
  witness_->OnCheckpointReply(Answer(3, 3, &forked));
  EXPECT_NE(witness_->alarm().find("two different roots"), std::string::npos);
}

TEST_F(LogWitnessTest, ShrinkingLogRaisesTheAlarm) {
  witness_->OnCheckpointReply(Answer(0, 5));
  CheckpointAnswer smaller;
  smaller.note = Note(tree_, 3);
  smaller.old_size = 5;
  witness_->OnCheckpointReply(smaller);
  EXPECT_NE(witness_->alarm().find("after this node cosigned size 5"), std::string::npos);
  EXPECT_EQ(witness_->witnessed_size(), 5u);
}

// A broker restarted on an older copy of its log has no checkpoint as large as the one this
// node cosigned, and answers the request naming that size with an error: that is a rollback,
// not a transient failure. The alarm shows in status; nothing is cosigned.
TEST_F(LogWitnessTest, BrokerThatLostTheCosignedCheckpointRaisesTheAlarm) {
  witness_->OnCheckpointReply(Answer(0, 5));
  witness_->Tick(kHeartbeat);
  const auto* request = broker_.Last();
  ASSERT_EQ(request->body_type(), schema::Body::CheckpointRequest);
  ASSERT_EQ(request->body_as_CheckpointRequest()->old_size(), 5u);
  const std::uint64_t rid = request->request_id();
  witness_->OnError(rid + 100, "CHECKPOINT_UNAVAILABLE");  // Another request's answer.
  EXPECT_TRUE(witness_->alarm().empty());
  witness_->OnError(rid, "CHECKPOINT_UNAVAILABLE");
  EXPECT_NE(witness_->alarm().find("rolled back"), std::string::npos) << witness_->alarm();
  StatusResult status;
  witness_->FillStatus(status);
  EXPECT_EQ(status.witnessed_size, 5u);
  EXPECT_EQ(status.audit_alarm, witness_->alarm());
  EXPECT_EQ(broker_.Count(schema::Body::Cosignature), 1u);  // Only the first, size 5.
}

TEST_F(LogWitnessTest, ErrorBeforeAnythingWasCosignedIsNoAlarm) {
  witness_->Tick(kHeartbeat);
  witness_->OnError(broker_.Last()->request_id(), "CHECKPOINT_UNAVAILABLE");
  EXPECT_TRUE(witness_->alarm().empty());
}

TEST_F(LogWitnessTest, WrongSignerRaisesTheAlarm) {
  const SigningKeyPair other = GenerateSigningKeyPair().value();
  CheckpointAnswer a;
  a.note = Note(tree_, 3, &other);
  witness_->OnCheckpointReply(a);
  EXPECT_NE(witness_->alarm().find("signature"), std::string::npos);
  EXPECT_TRUE(broker_.sent.empty());
}

TEST_F(LogWitnessTest, MalformedProofRaisesTheAlarm) {
  witness_->OnCheckpointReply(Answer(0, 3));
  CheckpointAnswer a = Answer(3, 8);
  a.proof.pop_back();
  witness_->OnCheckpointReply(a);
  EXPECT_EQ(witness_->alarm(), "malformed consistency proof");
}

TEST_F(LogWitnessTest, StaleReplyIsIgnored) {
  witness_->OnCheckpointReply(Answer(0, 5));
  const auto sent = broker_.sent.size();
  witness_->OnCheckpointReply(Answer(0, 3));  // Answers a request made before size 5.
  EXPECT_TRUE(witness_->alarm().empty());
  EXPECT_EQ(broker_.sent.size(), sent);
  EXPECT_EQ(witness_->witnessed_size(), 5u);
}

TEST_F(LogWitnessTest, JudgesProofCheckpointsAgainstTheWitnessedOne) {
  ProofItem none;
  witness_->JudgeProofCheckpoint(5, tree_.RootAt(5).value(), none);
  EXPECT_TRUE(none.verified);

  witness_->OnCheckpointReply(Answer(0, 5));
  ProofItem same, newer, older, fork;
  witness_->JudgeProofCheckpoint(5, tree_.RootAt(5).value(), same);
  EXPECT_TRUE(same.verified);
  witness_->JudgeProofCheckpoint(8, tree_.Root(), newer);
  EXPECT_TRUE(newer.verified);
  witness_->JudgeProofCheckpoint(3, tree_.RootAt(3).value(), older);
  EXPECT_TRUE(older.verified);
  EXPECT_TRUE(witness_->alarm().empty());
  witness_->JudgeProofCheckpoint(5, Tree("x", 5).Root(), fork);
  EXPECT_FALSE(fork.verified);
  EXPECT_EQ(fork.reason, "PROOF_CHECKPOINT_FORK");
  EXPECT_FALSE(witness_->alarm().empty());
}

}  // namespace
}  // namespace tearline::node
