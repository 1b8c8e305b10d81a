// Queries: report ids resolved from unique prefixes, track and prove sent to the broker and
// answered when the replies arrive (every proof verified here and judged against the witnessed
// checkpoint), on a broker error, or after 8 s on a FakeClock; refused without a session.
#include "tearline/node/queries.h"

#include <gtest/gtest.h>

#include <chrono>
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

const std::string kReport = "00112233445566778899aabbccddeeff";

class NullListener final : public OutboxListener {
 public:
  void OnOutboxFinal(const std::string&, std::optional<SendResult>, const Status&) override {}
  void OnOutboxDeferred(const std::string&, const std::string&) override {}
};

class QueriesTest : public ::testing::Test {
 protected:
  QueriesTest()
      : coalition_(clock_.UnixNow()),
        sent_(SentStore::Open(dir_.path()).value()),
        inbox_(InboxStore::Open(dir_.path()).value()),
        store_(OutboxStore::Open(dir_.path()).value()),
        outbox_(clock_, store_, sent_, broker_, listener_),
        witness_(clock_,
                 {"usa-1", "broker", coalition_.cert("broker").fields().signing_key,
                  dir_ / "witness" / "checkpoint"},
                 coalition_.keys("broker").signing, broker_),
        queries_(clock_, "tcp://broker:1", "broker", coalition_.cert("broker").fields().signing_key,
                 QuerySources{&sent_, &inbox_, &outbox_}, witness_, broker_, replier_) {
    lines_ = {
        R"({"seq":0,"time":1.0,"type":"broker_start","broker":"broker","nodes":3,"torn_tail_bytes":0})",
        R"({"seq":1,"time":2.0,"type":"accepted","report_id":")" + kReport +
            R"(","originator":"usa-1"})",
        R"({"seq":2,"time":2.0,"type":"delivered","report_id":")" + kReport +
            R"(","recipient":"gbr-1","nation":"GBR"})",
    };
    for (const auto& l : lines_) {
      tree_.Append(LeafHash({reinterpret_cast<const std::uint8_t*>(l.data()), l.size()}));
    }
  }

  void SentWithRecords(const std::string& id, std::vector<std::uint64_t> seqs) {
    SentRecord rec;
    rec.report_id_hex = id;
    rec.accepted = true;
    for (auto s : seqs) {
      RecipientOutcomeInfo o;
      o.node_id = "gbr-1";
      o.nation = "GBR";
      o.state = schema::DeliveryState::Delivered;
      o.record_seq = s;
      rec.outcomes.push_back(o);
    }
    ASSERT_TRUE(sent_.Put(rec).ok());
  }

  RecordProof Proof(std::uint64_t seq) const {
    Checkpoint cp;
    cp.origin = "tearline/audit/broker";
    cp.tree_size = tree_.size();
    cp.root_hash = tree_.Root();
    RecordProof p;
    p.note = SignCheckpoint(cp, cp.origin, coalition_.keys("broker").signing).value();
    p.seq = seq;
    p.record = lines_[seq];
    auto path = tree_.InclusionProof(seq, tree_.size());
    EXPECT_TRUE(path.ok());
    for (const auto& h : *path) p.proof.insert(p.proof.end(), h.begin(), h.end());
    return p;
  }

  static ControlRequest Req(ControlOp op, const std::string& id) {
    ControlRequest r;
    r.op = op;
    r.id = id;
    return r;
  }
  const std::string& Reply(std::size_t i) const { return replier_.replies.at(i).second; }

  TempDir dir_;
  FakeClock clock_;
  unit::TestCoalition coalition_;
  SentStore sent_;
  InboxStore inbox_;
  OutboxStore store_;
  unit::RecordingBroker broker_;
  unit::RecordingReplier replier_;
  NullListener listener_;
  Outbox outbox_;
  LogWitness witness_;
  Queries queries_;
  std::vector<std::string> lines_;
  MerkleTree tree_;
};

TEST_F(QueriesTest, TrackIsAskedAndAnswered) {
  queries_.StartTrack("c1", Req(ControlOp::kTrack, kReport));
  ASSERT_EQ(broker_.Types(), std::vector<schema::Body>{schema::Body::TrackRequest});
  TrackReplyInfo info;
  info.recipients.push_back({"gbr-1", "GBR", "DELIVERED", "", 5, 2});
  queries_.OnTrackReply(broker_.Last()->request_id(), info);
  ASSERT_EQ(replier_.replies.size(), 1u);
  auto r = DecodeTrackResponse(Reply(0));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->report_id_hex, kReport);
  ASSERT_EQ(r->recipients.size(), 1u);
  EXPECT_EQ(r->recipients[0].node_id, "gbr-1");
  EXPECT_EQ(queries_.size(), 0u);
}

TEST_F(QueriesTest, TrackWithoutSessionOrAnswer) {
  broker_.is_welcomed = false;
  queries_.StartTrack("c1", Req(ControlOp::kTrack, kReport));
  EXPECT_EQ(DecodeTrackResponse(Reply(0)).status().reason(), "BROKER_UNAVAILABLE");
  broker_.is_welcomed = true;
  queries_.StartTrack("c2", Req(ControlOp::kTrack, kReport));
  clock_.Advance(kQueryDeadline - 1ms);
  queries_.Tick();
  EXPECT_EQ(replier_.replies.size(), 1u);
  clock_.Advance(1ms);
  queries_.Tick();
  EXPECT_EQ(DecodeTrackResponse(Reply(1)).status().reason(), "BROKER_NO_REPLY");
  queries_.StartTrack("c3", Req(ControlOp::kTrack, kReport));
  queries_.OnError(broker_.Last()->request_id(), "TRACK_UNKNOWN_REPORT", "never seen");
  auto r = DecodeTrackResponse(Reply(2));
  EXPECT_EQ(r.status().reason(), "TRACK_UNKNOWN_REPORT");
  EXPECT_EQ(r.status().code(), Code::kNotFound);
}

TEST_F(QueriesTest, ReportIdsAndPrefixes) {
  queries_.StartTrack("c", Req(ControlOp::kTrack, "xyz!"));
  EXPECT_EQ(DecodeTrackResponse(Reply(0)).status().reason(), "REPORT_BAD_ID");
  queries_.StartTrack("c", Req(ControlOp::kTrack, "abcd"));
  EXPECT_EQ(DecodeTrackResponse(Reply(1)).status().reason(), "REPORT_NOT_FOUND");
  SentWithRecords("abcd0000000000000000000000000001", {});
  SentWithRecords("abcd0000000000000000000000000002", {});
  queries_.StartTrack("c", Req(ControlOp::kTrack, "ABCD"));
  EXPECT_EQ(DecodeTrackResponse(Reply(2)).status().reason(), "REPORT_AMBIGUOUS_ID");
  queries_.StartTrack("c", Req(ControlOp::kTrack, "abcd0000000000000000000000000002"));
  EXPECT_EQ(replier_.replies.size(), 3u);  // Asked: no answer yet.
  EXPECT_EQ(broker_.Count(schema::Body::TrackRequest), 1u);
}

TEST_F(QueriesTest, ProveVerifiesEveryRecord) {
  SentWithRecords(kReport, {1, 2});
  queries_.StartProve("c1", Req(ControlOp::kProve, kReport.substr(0, 8)));
  ASSERT_EQ(broker_.Count(schema::Body::ProofRequest), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    const auto* f = broker_.Frame(i);
    queries_.OnProofReply(f->request_id(), Proof(f->body_as_ProofRequest()->seq()));
  }
  ASSERT_EQ(replier_.replies.size(), 1u);
  auto r = DecodeProveResponse(Reply(0));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->items.size(), 2u);
  for (const auto& item : r->items) {
    EXPECT_TRUE(item.verified) << item.reason << " " << item.message;
    EXPECT_EQ(item.checkpoint_size, 3u);
    EXPECT_EQ(item.signer, "broker");
  }
  EXPECT_EQ(r->items[1].description, "delivered to gbr-1");
}

TEST_F(QueriesTest, ProofForAnotherRecordFails) {
  SentWithRecords(kReport, {1});
  queries_.StartProve("c1", Req(ControlOp::kProve, kReport));
  queries_.OnProofReply(broker_.Last()->request_id(), Proof(2));
  auto r = DecodeProveResponse(Reply(0));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->items.at(0).verified);
  EXPECT_EQ(r->items.at(0).reason, "PROOF_WRONG_RECORD");
}

TEST_F(QueriesTest, ProveWithNothingToProveIsAnsweredAtOnce) {
  ASSERT_TRUE(outbox_
                  .Add(kReport, std::vector<std::uint8_t>(10, 1),
                       {"U", clock_.UnixNow() + 100, clock_.UnixNow()})
                  .ok());
  broker_.sent.clear();
  queries_.StartProve("c1", Req(ControlOp::kProve, kReport));
  EXPECT_TRUE(broker_.sent.empty());
  auto r = DecodeProveResponse(Reply(0));
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->note.find("still in the outbox"), std::string::npos);
}

TEST_F(QueriesTest, ProveTimesOutAndStopAnswers) {
  SentWithRecords(kReport, {1, 2});
  queries_.StartProve("c1", Req(ControlOp::kProve, kReport));
  clock_.Advance(kQueryDeadline);
  queries_.Tick();
  auto r = DecodeProveResponse(Reply(0));
  ASSERT_TRUE(r.ok());
  for (const auto& item : r->items) EXPECT_EQ(item.reason, "BROKER_NO_REPLY");

  queries_.StartTrack("c2", Req(ControlOp::kTrack, kReport));
  queries_.StopAll();
  EXPECT_EQ(DecodeTrackResponse(Reply(1)).status().reason(), "NODE_STOPPING");
  EXPECT_EQ(queries_.size(), 0u);
}

}  // namespace
}  // namespace tearline::node
