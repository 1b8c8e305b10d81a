// Outbox: durable before the first Submit, the same bytes on every resubmission, resubmission
// after 8 heartbeats without an answer with the interval doubling after each transient refusal,
// expiry, final answers recorded before the outbox copy goes, and the state read back at
// start-up. Time is a FakeClock: no sleeps.
#include "tearline/node/outbox.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "node_unit_fixture.h"
#include "tearline/base/clock.h"
#include "tearline/node/group_commit.h"
#include "test_support.h"

namespace tearline::node {
namespace {

using namespace std::chrono_literals;
using tearline::testing::TempDir;
using unit::RecordingBroker;

constexpr auto kHeartbeat = 1000ms;
const std::string kId1 = "00112233445566778899aabbccddeeff";
const std::string kId2 = "ffeeddccbbaa99887766554433221100";

struct Final {
  std::string id;
  std::optional<SendResult> result;
  Status error;
};

class RecordingListener final : public OutboxListener {
 public:
  void OnOutboxFinal(const std::string& id, std::optional<SendResult> result,
                     const Status& error) override {
    finals.push_back({id, std::move(result), error});
  }
  void OnOutboxDeferred(const std::string& id, const std::string& why) override {
    deferred.emplace_back(id, why);
  }
  std::vector<Final> finals;
  std::vector<std::pair<std::string, std::string>> deferred;
};

class OutboxTest : public ::testing::Test {
 protected:
  OutboxTest()
      : store_(OutboxStore::Open(dir_.path()).value()),
        sent_(SentStore::Open(dir_.path()).value()),
        outbox_(clock_, store_, sent_, broker_, listener_) {}

  OutboxEntryMeta Meta(std::int64_t lifetime_s = 3600) const {
    return {"SECRET//REL TO USA, GBR", clock_.UnixNow() + lifetime_s, clock_.UnixNow()};
  }
  static std::vector<std::uint8_t> Bytes(std::uint8_t fill) {
    return std::vector<std::uint8_t>(100, fill);
  }
  // The report bytes carried by recorded frame `i` (a Submit).
  std::vector<std::uint8_t> Submitted(std::size_t i) const {
    const auto* f = broker_.Frame(i);
    EXPECT_NE(f, nullptr);
    EXPECT_EQ(f->body_type(), schema::Body::Submit);
    const auto* r = f->body_as_Submit()->report();
    return {r->begin(), r->end()};
  }
  std::uint64_t RequestId(std::size_t i) const { return broker_.Frame(i)->request_id(); }

  TempDir dir_;
  FakeClock clock_;
  RecordingBroker broker_;
  RecordingListener listener_;
  OutboxStore store_;
  SentStore sent_;
  Outbox outbox_;
};

TEST_F(OutboxTest, StoredBeforeSubmitAndAnsweredOnce) {
  ASSERT_TRUE(outbox_.Add(kId1, Bytes(7), Meta()).ok());
  EXPECT_TRUE(store_.Contains(kId1));  // Durable before anything is sent.
  EXPECT_TRUE(broker_.sent.empty());
  ASSERT_TRUE(outbox_.SubmitNow(kId1));
  ASSERT_EQ(broker_.sent.size(), 1u);
  EXPECT_EQ(Submitted(0), Bytes(7));

  SubmitReplyInfo info;
  info.accepted = true;
  RecipientOutcomeInfo o;
  o.node_id = "gbr-1";
  o.nation = "GBR";
  o.state = schema::DeliveryState::Delivered;
  o.record_seq = 5;
  info.outcomes.push_back(o);
  outbox_.OnSubmitReply(RequestId(0), info);
  ASSERT_EQ(listener_.finals.size(), 1u);
  ASSERT_TRUE(listener_.finals[0].result.has_value());
  EXPECT_EQ(listener_.finals[0].result->report_id_hex, kId1);
  EXPECT_EQ(listener_.finals[0].result->banner, "SECRET//REL TO USA, GBR");
  EXPECT_EQ(listener_.finals[0].result->outcomes.size(), 1u);
  // The record is kept, the outbox copy is gone.
  EXPECT_FALSE(store_.Contains(kId1));
  EXPECT_FALSE(outbox_.Contains(kId1));
  auto rec = sent_.Get(kId1);
  ASSERT_TRUE(rec.ok()) << rec.status().ToString();
  EXPECT_TRUE(rec->accepted);
  EXPECT_EQ(rec->outcomes.at(0).record_seq, 5u);

  // A late answer to an earlier submit of the same bytes changes nothing.
  outbox_.OnSubmitReply(RequestId(0), info);
  EXPECT_EQ(listener_.finals.size(), 1u);
}

TEST_F(OutboxTest, ResubmitsTheSameBytesAfterEightHeartbeats) {
  ASSERT_TRUE(outbox_.Add(kId1, Bytes(1), Meta()).ok());
  ASSERT_TRUE(outbox_.SubmitNow(kId1));
  clock_.Advance(kHeartbeat * kResubmitEveryHeartbeats - 1ms);
  outbox_.Tick(kHeartbeat);
  EXPECT_EQ(broker_.sent.size(), 1u);
  clock_.Advance(1ms);
  outbox_.Tick(kHeartbeat);
  ASSERT_EQ(broker_.sent.size(), 2u);
  EXPECT_EQ(Submitted(1), Submitted(0));
  EXPECT_NE(RequestId(1), RequestId(0));
  // The answer to either request settles the report.
  SubmitReplyInfo info;
  info.accepted = true;
  info.duplicate = true;
  outbox_.OnSubmitReply(RequestId(1), info);
  ASSERT_EQ(listener_.finals.size(), 1u);
  EXPECT_TRUE(listener_.finals[0].result->duplicate);
}

TEST_F(OutboxTest, TransientRefusalDoublesTheInterval) {
  ASSERT_TRUE(outbox_.Add(kId1, Bytes(1), Meta(30 * 24 * 3600)).ok());
  ASSERT_TRUE(outbox_.SubmitNow(kId1));
  outbox_.OnError(RequestId(0), "RATE_LIMITED", "slow down");
  ASSERT_EQ(listener_.deferred.size(), 1u);
  EXPECT_NE(listener_.deferred[0].second.find("RATE_LIMITED"), std::string::npos);
  EXPECT_TRUE(listener_.finals.empty());
  EXPECT_TRUE(store_.Contains(kId1));

  // One refusal: 16 heartbeats, not 8.
  clock_.Advance(kHeartbeat * kResubmitEveryHeartbeats);
  outbox_.Tick(kHeartbeat);
  EXPECT_EQ(broker_.sent.size(), 1u);
  clock_.Advance(kHeartbeat * kResubmitEveryHeartbeats);
  outbox_.Tick(kHeartbeat);
  ASSERT_EQ(broker_.sent.size(), 2u);

  // Second refusal: 32 heartbeats.
  outbox_.OnError(RequestId(1), "STORAGE_FULL", "full");
  clock_.Advance(kHeartbeat * 32 - 1ms);
  outbox_.Tick(kHeartbeat);
  EXPECT_EQ(broker_.sent.size(), 2u);
  clock_.Advance(1ms);
  outbox_.Tick(kHeartbeat);
  EXPECT_EQ(broker_.sent.size(), 3u);
}

TEST_F(OutboxTest, BackOffIsCappedAtSixtyFourTimes) {
  ASSERT_TRUE(outbox_.Add(kId1, Bytes(1), Meta(30 * 24 * 3600)).ok());
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(outbox_.SubmitNow(kId1));
    outbox_.OnError(broker_.Last()->request_id(), "STORE_BUSY", "busy");
  }
  const std::size_t before = broker_.sent.size();
  clock_.Advance(kHeartbeat * kResubmitEveryHeartbeats * 64);
  outbox_.Tick(kHeartbeat);
  EXPECT_EQ(broker_.sent.size(), before + 1);
}

TEST_F(OutboxTest, DefinitiveRejectionIsFinal) {
  ASSERT_TRUE(outbox_.Add(kId1, Bytes(1), Meta()).ok());
  ASSERT_TRUE(outbox_.SubmitNow(kId1));
  outbox_.OnError(RequestId(0), "REPORT_INVALID", "bad signature");
  ASSERT_EQ(listener_.finals.size(), 1u);
  EXPECT_FALSE(listener_.finals[0].result.has_value());
  EXPECT_EQ(listener_.finals[0].error.reason(), "REPORT_INVALID");
  EXPECT_FALSE(store_.Contains(kId1));
  auto rec = sent_.Get(kId1);
  ASSERT_TRUE(rec.ok());
  EXPECT_FALSE(rec->accepted);
  EXPECT_EQ(rec->error_reason, "REPORT_INVALID");
}

TEST_F(OutboxTest, ExpiredReportIsDroppedAndItsSenderTold) {
  ASSERT_TRUE(outbox_.Add(kId1, Bytes(1), Meta(/*lifetime_s=*/10)).ok());
  ASSERT_TRUE(outbox_.SubmitNow(kId1));
  clock_.Advance(10s);
  outbox_.Tick(kHeartbeat);
  ASSERT_EQ(listener_.finals.size(), 1u);
  EXPECT_EQ(listener_.finals[0].error.reason(), "REPORT_EXPIRED");
  EXPECT_FALSE(store_.Contains(kId1));
  EXPECT_FALSE(outbox_.Contains(kId1));
  EXPECT_EQ(broker_.sent.size(), 1u);  // Not resubmitted.
}

TEST_F(OutboxTest, WaitsForASessionAndResubmitsEverythingOnWelcome) {
  broker_.is_welcomed = false;
  ASSERT_TRUE(outbox_.Add(kId1, Bytes(1), Meta()).ok());
  ASSERT_TRUE(outbox_.Add(kId2, Bytes(2), Meta()).ok());
  EXPECT_FALSE(outbox_.SubmitNow(kId1));
  clock_.Advance(kHeartbeat * 100);
  outbox_.Tick(kHeartbeat);
  EXPECT_TRUE(broker_.sent.empty());
  broker_.is_welcomed = true;
  outbox_.OnSessionUp(kHeartbeat);
  EXPECT_EQ(broker_.Count(schema::Body::Submit), 2u);
  // A new session forgets the old request ids: replies still match by report id.
  outbox_.OnSessionUp(kHeartbeat);
  EXPECT_EQ(broker_.Count(schema::Body::Submit), 4u);
}

TEST_F(OutboxTest, RefusedSendStaysDueAndStopsTheRound) {
  ASSERT_TRUE(outbox_.Add(kId1, Bytes(1), Meta()).ok());
  ASSERT_TRUE(outbox_.Add(kId2, Bytes(2), Meta()).ok());
  broker_.connected = false;
  outbox_.OnSessionUp(kHeartbeat);
  EXPECT_TRUE(broker_.sent.empty());
  broker_.connected = true;
  outbox_.Tick(kHeartbeat);  // Still due: no need to wait 8 heartbeats.
  EXPECT_EQ(broker_.Count(schema::Body::Submit), 2u);
}

TEST_F(OutboxTest, AtMostSixteenPerTick) {
  for (int i = 0; i < 20; ++i) {
    char id[33];
    std::snprintf(id, sizeof(id), "%032x", i + 1);
    ASSERT_TRUE(outbox_.Add(id, Bytes(static_cast<std::uint8_t>(i)), Meta()).ok());
  }
  outbox_.Tick(kHeartbeat);
  EXPECT_EQ(broker_.sent.size(), kMaxResubmitsPerTick);
  outbox_.Tick(kHeartbeat);
  EXPECT_EQ(broker_.sent.size(), 20u);
}

TEST_F(OutboxTest, LoadReadsStoredReportsAndDropsExpiredOnes) {
  ASSERT_TRUE(store_.Put(kId1, Bytes(1)).ok());
  ASSERT_TRUE(store_.Put(kId2, Bytes(2)).ok());
  RecordingListener listener;
  Outbox reloaded(clock_, store_, sent_, broker_, listener);
  reloaded.Load(
      [&](const std::string& id, std::span<const std::uint8_t>) -> Result<OutboxEntryMeta> {
        if (id == kId2) return Meta(-1);  // Expired while the daemon was down.
        return Meta();
      });
  EXPECT_TRUE(reloaded.Contains(kId1));
  EXPECT_FALSE(reloaded.Contains(kId2));
  EXPECT_FALSE(store_.Contains(kId2));
  reloaded.OnSessionUp(kHeartbeat);
  ASSERT_EQ(broker_.sent.size(), 1u);
  EXPECT_EQ(Submitted(0), Bytes(1));
}

TEST_F(OutboxTest, LoadSkipsEntriesThatDoNotInspect) {
  ASSERT_TRUE(store_.Put(kId1, Bytes(1)).ok());
  Outbox reloaded(clock_, store_, sent_, broker_, listener_);
  reloaded.Load([](const std::string&, std::span<const std::uint8_t>) -> Result<OutboxEntryMeta> {
    return InvalidArgument("OUTBOX_ID_MISMATCH", "test");
  });
  EXPECT_EQ(reloaded.size(), 0u);
  EXPECT_TRUE(store_.Contains(kId1));  // Kept for an operator to look at.
}

std::string IdOf(int i) {
  char tail[3];
  std::snprintf(tail, sizeof tail, "%02x", i);
  return std::string(30, 'a') + tail;
}

TEST_F(OutboxTest, ABurstLeavesAtTheBrokersRateAndRateLimitedIsNotDoubled) {
  outbox_.SetBrokerRate(4);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(outbox_.Add(IdOf(i), Bytes(static_cast<std::uint8_t>(i)), Meta()).ok());
  }
  outbox_.Tick(kHeartbeat);
  EXPECT_EQ(broker_.Count(schema::Body::Submit), 4u) << "one second's worth at once";
  clock_.Advance(250ms);
  outbox_.Tick(kHeartbeat);
  EXPECT_EQ(broker_.Count(schema::Body::Submit), 5u);
  clock_.Advance(1000ms);
  outbox_.Tick(kHeartbeat);
  EXPECT_EQ(broker_.Count(schema::Body::Submit), 9u);
  // A RATE_LIMITED answer: due again after one token (250 ms), not after 8 heartbeats doubled.
  outbox_.OnError(RequestId(0), "RATE_LIMITED", "slow down");
  clock_.Advance(200ms);
  outbox_.Tick(kHeartbeat);
  EXPECT_EQ(broker_.Count(schema::Body::Submit), 9u) << "the refusal emptied the bucket";
  clock_.Advance(600ms);
  outbox_.Tick(kHeartbeat);
  EXPECT_EQ(broker_.Count(schema::Body::Submit), 11u) << "the refused one and the last one";
  EXPECT_EQ(outbox_.size(), 10u);
}

TEST_F(OutboxTest, BrokerBusyIsRetriedAfterTheHintNotBackedOff) {
  ASSERT_TRUE(outbox_.Add(kId1, Bytes(1), Meta()).ok());
  ASSERT_TRUE(outbox_.SubmitNow(kId1));
  for (int round = 0; round < 3; ++round) {
    SubmitReplyInfo busy;
    busy.accepted = false;
    busy.error_reason = "BROKER_BUSY";
    busy.error_message = "the broker's submit backlog is full";
    busy.retry_after_ms = 300;
    outbox_.OnSubmitReply(RequestId(static_cast<std::size_t>(round)), busy);
    EXPECT_TRUE(store_.Contains(kId1)) << "a busy broker took nothing: the report stays";
    clock_.Advance(299ms);
    outbox_.Tick(kHeartbeat);
    EXPECT_EQ(broker_.Count(schema::Body::Submit), static_cast<std::size_t>(round) + 1)
        << "not before the broker's hint";
    clock_.Advance(1ms);
    outbox_.Tick(kHeartbeat);
    EXPECT_EQ(broker_.Count(schema::Body::Submit), static_cast<std::size_t>(round) + 2)
        << "due again at the hint each time, never doubled to heartbeats";
  }
  EXPECT_TRUE(listener_.finals.empty());
}

TEST_F(OutboxTest, WithAGroupCommitNothingLeavesOrIsAnsweredBeforeTheSync) {
  int syncs = 0;
  GroupCommit commit([&] {
    ++syncs;
    return Status::Ok();
  });
  store_.UseGroupCommit(&commit);
  sent_.UseGroupCommit(&commit);
  outbox_.UseGroupCommit(&commit);
  ASSERT_TRUE(outbox_.Add(kId1, Bytes(1), Meta()).ok());
  ASSERT_TRUE(outbox_.Add(kId2, Bytes(2), Meta()).ok());
  EXPECT_TRUE(outbox_.SubmitNow(kId1));
  outbox_.Tick(kHeartbeat);
  EXPECT_EQ(broker_.Count(schema::Body::Submit), 0u) << "submitted before durable";
  ASSERT_TRUE(commit.Flush().ok());
  EXPECT_EQ(syncs, 1) << "two reports, one sync";
  EXPECT_EQ(broker_.Count(schema::Body::Submit), 2u);

  SubmitReplyInfo accepted;
  accepted.accepted = true;
  outbox_.OnSubmitReply(RequestId(0), accepted);
  EXPECT_TRUE(listener_.finals.empty()) << "answered before the sent record is durable";
  EXPECT_TRUE(store_.Contains(kId1));
  ASSERT_TRUE(commit.Flush().ok());
  EXPECT_EQ(syncs, 2);
  ASSERT_EQ(listener_.finals.size(), 1u);
  EXPECT_TRUE(sent_.Contains(kId1));
  EXPECT_FALSE(store_.Contains(kId1));
}

}  // namespace
}  // namespace tearline::node
