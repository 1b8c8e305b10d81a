// PendingSends: a send waits for a fresh directory while welcomed, is sealed into the outbox at
// once without a session when a directory was verified earlier, is refused with neither, and
// its analyst is answered with the final result, "pending" (transient refusal, deadline, stop)
// or an error. Deadlines run on a FakeClock.
#include "tearline/node/pending_sends.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "node_unit_fixture.h"
#include "tearline/base/clock.h"
#include "test_support.h"

namespace tearline::node {
namespace {

using namespace std::chrono_literals;
using tearline::testing::TempDir;

unit::TestCoalition TwoNations(std::int64_t now) {
  unit::TestCoalition c(now);
  c.Issue("usa-1", "USA", "SECRET");
  c.Issue("gbr-1", "GBR", "SECRET");
  return c;
}

class PendingSendsTest : public ::testing::Test {
 protected:
  PendingSendsTest()
      : coalition_(TwoNations(clock_.UnixNow())),
        me_(coalition_.Identity("usa-1")),
        store_(OutboxStore::Open(dir_.path()).value()),
        sent_(SentStore::Open(dir_.path()).value()),
        directory_(clock_, *me_.trust, *me_.revocation_floor, *me_.own_cert, *me_.broker_cert,
                   broker_),
        sealer_(clock_, me_),
        outbox_(clock_, store_, sent_, broker_, sends_),
        sends_(clock_, "tcp://broker:1", sealer_, directory_, outbox_, broker_, replier_) {}

  static ControlRequest Send(std::uint32_t timeout_ms = 5000) {
    ControlRequest r;
    r.op = ControlOp::kSend;
    r.to = {"GBR"};
    r.timeout_ms = timeout_ms;
    r.portions.push_back({"(S//REL TO USA, GBR)", {'h', 'i'}});
    return r;
  }
  void KnowEveryone() {
    DirectoryUpdate u;
    u.certificates = coalition_.NodeCertificates();
    directory_.OnDirectory(u);
  }
  Result<SendResult> Answer(std::size_t i) const {
    return DecodeSendResponse(replier_.replies.at(i).second);
  }

  TempDir dir_;
  FakeClock clock_;
  unit::TestCoalition coalition_;
  NodeIdentity me_;
  OutboxStore store_;
  SentStore sent_;
  unit::RecordingBroker broker_;
  unit::RecordingReplier replier_;
  DirectoryCache directory_;
  Sealer sealer_;
  Outbox outbox_;
  PendingSends sends_;
};

TEST_F(PendingSendsTest, WelcomedSendIsSealedForAFreshDirectoryAndAnswered) {
  sends_.Start("c1", Send(), true);
  EXPECT_EQ(broker_.Types(), std::vector<schema::Body>{schema::Body::DirectoryRequest});
  EXPECT_EQ(sends_.size(), 1u);
  EXPECT_TRUE(replier_.replies.empty());
  KnowEveryone();
  sends_.OnDirectoryUpdated();
  ASSERT_EQ(broker_.Count(schema::Body::Submit), 1u);
  EXPECT_EQ(outbox_.size(), 1u);

  SubmitReplyInfo info;
  info.accepted = true;
  outbox_.OnSubmitReply(broker_.Last()->request_id(), info);
  ASSERT_EQ(replier_.replies.size(), 1u);
  EXPECT_EQ(replier_.replies[0].first, "c1");
  auto r = Answer(0);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->pending);
  EXPECT_EQ(r->banner, "SECRET//REL TO USA, GBR");
  EXPECT_EQ(sends_.size(), 0u);
}

TEST_F(PendingSendsTest, NoSessionAndNoDirectoryIsRefused) {
  broker_.is_welcomed = false;
  sends_.Start("c1", Send(), false);
  ASSERT_EQ(replier_.replies.size(), 1u);
  EXPECT_EQ(Answer(0).status().reason(), "BROKER_UNAVAILABLE");
  EXPECT_NE(Answer(0).status().message().find("never connected"), std::string::npos);
  EXPECT_TRUE(broker_.sent.empty());
}

TEST_F(PendingSendsTest, NoSessionSealsForTheEarlierDirectoryAndWaits) {
  KnowEveryone();
  broker_.is_welcomed = false;
  sends_.Start("c1", Send(5000), true);
  EXPECT_TRUE(replier_.replies.empty());
  EXPECT_EQ(outbox_.size(), 1u);
  EXPECT_TRUE(broker_.sent.empty());
  clock_.Advance(5000ms);
  sends_.Tick();
  ASSERT_EQ(replier_.replies.size(), 1u);
  auto r = Answer(0);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->pending);
  EXPECT_NE(r->detail.find("not reachable"), std::string::npos);
  EXPECT_EQ(outbox_.size(), 1u);  // Still resubmitted later.
}

TEST_F(PendingSendsTest, NoDirectoryReplyInTime) {
  sends_.Start("c1", Send(2000), true);
  clock_.Advance(1999ms);
  sends_.Tick();
  EXPECT_TRUE(replier_.replies.empty());
  clock_.Advance(1ms);
  sends_.Tick();
  ASSERT_EQ(replier_.replies.size(), 1u);
  EXPECT_EQ(Answer(0).status().reason(), "BROKER_UNAVAILABLE");
  EXPECT_EQ(outbox_.size(), 0u);
}

TEST_F(PendingSendsTest, SessionLostSealsOrRefusesWaitingSends) {
  sends_.Start("c1", Send(), true);
  broker_.is_welcomed = false;
  sends_.OnSessionLost();
  ASSERT_EQ(replier_.replies.size(), 1u);
  EXPECT_EQ(Answer(0).status().reason(), "BROKER_UNAVAILABLE");

  KnowEveryone();
  broker_.is_welcomed = true;
  sends_.Start("c2", Send(), true);
  broker_.is_welcomed = false;
  sends_.OnSessionLost();
  EXPECT_EQ(replier_.replies.size(), 1u);
  EXPECT_EQ(outbox_.size(), 1u);  // Sealed for the directory verified earlier.
}

TEST_F(PendingSendsTest, TransientRefusalAnswersPendingAtOnce) {
  KnowEveryone();
  sends_.Start("c1", Send(), true);
  sends_.OnDirectoryUpdated();
  outbox_.OnError(broker_.Last()->request_id(), "RATE_LIMITED", "slow down");
  ASSERT_EQ(replier_.replies.size(), 1u);
  auto r = Answer(0);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->pending);
  EXPECT_NE(r->detail.find("RATE_LIMITED"), std::string::npos);
}

TEST_F(PendingSendsTest, InvalidRequestIsRefused) {
  ControlRequest r = Send();
  r.to = {"XXX"};
  sends_.Start("c1", std::move(r), true);
  ASSERT_EQ(replier_.replies.size(), 1u);
  EXPECT_EQ(Answer(0).status().reason(), "SEND_UNKNOWN_NATION");
  EXPECT_TRUE(broker_.sent.empty());
}

TEST_F(PendingSendsTest, AtMostSixtyFourInProgress) {
  for (std::size_t i = 0; i < kMaxPendingSends; ++i) sends_.Start("c", Send(), true);
  EXPECT_TRUE(replier_.replies.empty());
  sends_.Start("c", Send(), true);
  ASSERT_EQ(replier_.replies.size(), 1u);
  EXPECT_EQ(Answer(0).status().reason(), "NODE_BUSY");
}

TEST_F(PendingSendsTest, StopAnswersEveryone) {
  KnowEveryone();
  sends_.Start("sealed", Send(), true);
  sends_.OnDirectoryUpdated();
  sends_.Start("waiting", Send(), true);
  sends_.StopAll();
  ASSERT_EQ(replier_.replies.size(), 2u);
  EXPECT_TRUE(Answer(0)->pending);
  EXPECT_EQ(Answer(1).status().reason(), "NODE_STOPPING");
  EXPECT_EQ(sends_.size(), 0u);
}

TEST_F(PendingSendsTest, ACurrentDirectoryIsUsedWithoutFetchingOrVerifyingAgain) {
  directory_.FollowChangeNotices(true);
  KnowEveryone();
  const std::uint64_t verified = directory_.verifications();
  for (int i = 0; i < 3; ++i) sends_.Start("c", Send(), true);
  EXPECT_EQ(broker_.Count(schema::Body::DirectoryRequest), 0u);
  EXPECT_EQ(broker_.Count(schema::Body::Submit), 3u);
  EXPECT_EQ(directory_.verifications(), verified);
  // After a change notice (a revocation push) the next send waits for the new directory.
  directory_.OnChangeNotice();
  sends_.Start("c", Send(), true);
  EXPECT_EQ(broker_.Count(schema::Body::Submit), 3u);
  KnowEveryone();
  sends_.OnDirectoryUpdated();
  EXPECT_EQ(broker_.Count(schema::Body::Submit), 4u);
}

// Measurement, not a check (run with --gtest_also_run_disabled_tests): sender CPU per report
// with 2 and 64 nodes in the directory, fetching and verifying the directory for every send (as
// before the cache) and with the cached, verified-once directory. Recipients stay the same
// (one GBR node), so only the directory's cost varies.
double CpuMsPerSend(int nodes, bool cached, int reports) {
  FakeClock clock;
  unit::TestCoalition c(clock.UnixNow());
  c.Issue("usa-1", "USA", "SECRET");
  c.Issue("gbr-1", "GBR", "SECRET");
  for (int i = 2; i < nodes; ++i) c.Issue("aus-" + std::to_string(i), "AUS", "SECRET");
  NodeIdentity me = c.Identity("usa-1");
  TempDir dir;
  auto store = OutboxStore::Open(dir.path()).value();
  auto sent = SentStore::Open(dir.path()).value();
  unit::RecordingBroker broker;
  unit::RecordingReplier replier;
  DirectoryCache directory(clock, *me.trust, *me.revocation_floor, *me.own_cert, *me.broker_cert,
                           broker);
  directory.FollowChangeNotices(cached);
  Sealer sealer(clock, me);
  PendingSends* listener = nullptr;
  struct Forward final : OutboxListener {
    PendingSends** to;
    void OnOutboxFinal(const std::string& id, std::optional<SendResult> r,
                       const Status& e) override {
      (*to)->OnOutboxFinal(id, std::move(r), e);
    }
    void OnOutboxDeferred(const std::string& id, const std::string& why) override {
      (*to)->OnOutboxDeferred(id, why);
    }
  } forward;
  forward.to = &listener;
  Outbox outbox(clock, store, sent, broker, forward);
  PendingSends sends(clock, "tcp://broker:1", sealer, directory, outbox, broker, replier);
  listener = &sends;
  DirectoryUpdate u;
  u.certificates = c.NodeCertificates();
  directory.OnDirectory(u);
  const std::clock_t start = std::clock();
  for (int i = 0; i < reports; ++i) {
    ControlRequest r;
    r.op = ControlOp::kSend;
    r.to = {"GBR"};
    r.timeout_ms = 5000;
    r.portions.push_back({"(S//REL TO USA, GBR)", std::vector<std::uint8_t>(1024, 'x')});
    sends.Start("c", std::move(r), true);
    if (!cached) {
      clock.Advance(std::chrono::milliseconds(kDirectoryRefresh));  // Each fetch verified anew.
      directory.OnDirectory(u);
      sends.OnDirectoryUpdated();
    }
    SubmitReplyInfo accepted;
    accepted.accepted = true;
    outbox.OnSubmitReply(broker.Last()->request_id(), accepted);
  }
  return 1000.0 * static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC / reports;
}

TEST(PendingSendsMeasure, DISABLED_SenderCpuPerReportWith2And64Nodes) {
  constexpr int kSends = 200;
  for (bool cached : {false, true}) {
    const double two = CpuMsPerSend(2, cached, kSends);
    const double many = CpuMsPerSend(64, cached, kSends);
    std::printf("%-34s 2 nodes %.3f ms/report, 64 nodes %.3f ms/report, ratio %.2f\n",
                cached ? "cached directory (now):" : "fetch+verify per send (before):", two, many,
                many / two);
  }
}

}  // namespace
}  // namespace tearline::node
