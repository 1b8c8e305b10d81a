#include "tearline/broker/submit_backlog.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "tearline/base/clock.h"
#include "tearline/wire/wire.h"

namespace tearline::broker {
namespace {

using std::chrono::milliseconds;

std::vector<std::uint8_t> Frame(std::size_t bytes = 100) {
  return std::vector<std::uint8_t>(bytes, 7);
}

SubmitBacklogOptions Small() {
  SubmitBacklogOptions o;
  o.max_per_node = 3;
  o.max_total = 5;
  o.max_bytes = 1000;
  o.max_per_turn = 4;
  o.turn_budget = milliseconds(20);
  return o;
}

TEST(SubmitBacklogTest, ParksUpToThePerNodeBoundThenRefusesBusyWithAHint) {
  FakeClock clock;
  SubmitBacklog backlog(clock, Small());
  for (std::uint64_t i = 0; i < 3; ++i) EXPECT_FALSE(backlog.Offer("usa-1", i, Frame())) << i;
  auto refusal = backlog.Offer("usa-1", 3, Frame());
  ASSERT_TRUE(refusal.has_value());
  EXPECT_EQ(refusal->why.reason(), "BROKER_BUSY");
  EXPECT_NE(refusal->why.message().find("submit again in"), std::string::npos)
      << refusal->why.message();
  EXPECT_GE(refusal->retry_after_ms, 10u);
  // The answer the sender gets: a refused SubmitReply for its request, with the hint.
  auto frame = DecodeFrame(refusal->reply);
  ASSERT_TRUE(frame.ok());
  EXPECT_EQ((*frame)->request_id(), 3u);
  const SubmitReplyInfo reply = ToSubmitReplyInfo(*(*frame)->body_as_SubmitReply());
  EXPECT_FALSE(reply.accepted);
  EXPECT_EQ(reply.error_reason, "BROKER_BUSY");
  EXPECT_EQ(reply.retry_after_ms, refusal->retry_after_ms);
  // Another node still has its share.
  EXPECT_FALSE(backlog.Offer("gbr-1", 0, Frame()));
  EXPECT_EQ(backlog.size(), 4u);
  EXPECT_EQ(backlog.bytes(), 400u);
}

TEST(SubmitBacklogTest, TotalCountAndBytesAreBoundedButOneFrameAlwaysFits) {
  FakeClock clock;
  SubmitBacklog backlog(clock, Small());
  // Larger than max_bytes: taken while the backlog is empty, so it is never refused forever.
  EXPECT_FALSE(backlog.Offer("usa-1", 0, Frame(5000)));
  EXPECT_TRUE(backlog.Offer("gbr-1", 0, Frame(10)).has_value());
  backlog.ServeTurn([](const SubmitBacklog::Pending&) {});
  EXPECT_TRUE(backlog.empty());
  EXPECT_EQ(backlog.bytes(), 0u);
  // Five in all across nodes, whatever each node's share.
  for (const char* node : {"a", "b", "c", "d", "e"}) EXPECT_FALSE(backlog.Offer(node, 1, Frame()));
  EXPECT_TRUE(backlog.Offer("f", 1, Frame()).has_value());
}

TEST(SubmitBacklogTest, ServesNodesRoundRobinInArrivalOrderPerNode) {
  FakeClock clock;
  SubmitBacklogOptions o = Small();
  o.max_per_node = 10;
  o.max_total = 100;
  o.max_bytes = 1 << 20;
  o.max_per_turn = 100;
  SubmitBacklog backlog(clock, o);
  // A flooding node parks first; another node's one submission waits behind one of its.
  for (std::uint64_t i = 0; i < 5; ++i) ASSERT_FALSE(backlog.Offer("flood", i, Frame()));
  ASSERT_FALSE(backlog.Offer("calm", 42, Frame()));
  std::vector<std::string> order;
  backlog.ServeTurn([&](const SubmitBacklog::Pending& p) {
    order.push_back(p.node_id + ":" + std::to_string(p.request_id));
  });
  EXPECT_EQ(order, (std::vector<std::string>{"flood:0", "calm:42", "flood:1", "flood:2", "flood:3",
                                             "flood:4"}));
}

TEST(SubmitBacklogTest, ATurnStopsAtItsCountOrItsTimeBudget) {
  FakeClock clock;
  SubmitBacklogOptions o = Small();
  o.max_per_node = 100;
  o.max_total = 100;
  o.max_bytes = 1 << 20;
  SubmitBacklog backlog(clock, o);
  for (std::uint64_t i = 0; i < 20; ++i) ASSERT_FALSE(backlog.Offer("usa-1", i, Frame()));
  // Count: four per turn when each is quick.
  EXPECT_EQ(backlog.ServeTurn([](const SubmitBacklog::Pending&) {}), 4u);
  // Time: 8 ms each, so the third starts at 16 ms and no fourth starts after the 20 ms budget.
  EXPECT_EQ(
      backlog.ServeTurn([&](const SubmitBacklog::Pending&) { clock.Advance(milliseconds(8)); }),
      3u);
  // One slow submission still lets the turn serve at least one.
  EXPECT_EQ(
      backlog.ServeTurn([&](const SubmitBacklog::Pending&) { clock.Advance(milliseconds(500)); }),
      1u);
  EXPECT_EQ(backlog.size(), 12u);
}

TEST(SubmitBacklogTest, RetryAfterFollowsTheMeasuredProcessingTimeOfWhatWaits) {
  FakeClock clock;
  SubmitBacklogOptions o = Small();
  o.max_per_node = 1000;
  o.max_total = 1000;
  o.max_bytes = 1 << 20;
  o.max_per_turn = 1000;
  o.turn_budget = std::chrono::hours(1);
  SubmitBacklog backlog(clock, o);
  const std::uint32_t unmeasured = backlog.RetryAfterMs();
  // Submissions that take 4 ms each: the estimate converges on 4 ms per waiting submission.
  for (std::uint64_t i = 0; i < 100; ++i) ASSERT_FALSE(backlog.Offer("usa-1", i, Frame()));
  backlog.ServeTurn([&](const SubmitBacklog::Pending&) { clock.Advance(milliseconds(4)); });
  for (std::uint64_t i = 0; i < 50; ++i) ASSERT_FALSE(backlog.Offer("usa-1", i, Frame()));
  EXPECT_NEAR(backlog.RetryAfterMs(), 200.0, 10.0);
  EXPECT_GT(backlog.RetryAfterMs(), unmeasured);
  // Bounded above, however slow the disk.
  backlog.ServeTurn([&](const SubmitBacklog::Pending&) { clock.Advance(std::chrono::seconds(5)); });
  for (std::uint64_t i = 0; i < 50; ++i) ASSERT_FALSE(backlog.Offer("usa-1", i, Frame()));
  EXPECT_EQ(backlog.RetryAfterMs(), 10000u);
}

TEST(SubmitBacklogTest, RefusalsAreRecordedAtMostOncePerNodePerSecond) {
  FakeClock clock;
  SubmitBacklog backlog(clock, Small());
  for (std::uint64_t i = 0; i < 3; ++i) ASSERT_FALSE(backlog.Offer("usa-1", i, Frame()));
  auto first = backlog.Offer("usa-1", 10, Frame());
  ASSERT_TRUE(first.has_value());
  EXPECT_TRUE(first->record);
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(backlog.Offer("usa-1", 11, Frame())->record);
  clock.Advance(std::chrono::seconds(1));
  auto later = backlog.Offer("usa-1", 12, Frame());
  EXPECT_TRUE(later->record);
  EXPECT_EQ(later->suppressed, 5u);
}

TEST(SubmitBacklogTest, DropDiscardsOneNodesSubmissionsOnly) {
  FakeClock clock;
  SubmitBacklog backlog(clock, Small());
  ASSERT_FALSE(backlog.Offer("usa-1", 1, Frame()));
  ASSERT_FALSE(backlog.Offer("usa-1", 2, Frame()));
  ASSERT_FALSE(backlog.Offer("gbr-1", 3, Frame()));
  EXPECT_EQ(backlog.Drop("usa-1"), 2u);
  EXPECT_EQ(backlog.Drop("nobody"), 0u);
  EXPECT_EQ(backlog.size(), 1u);
  EXPECT_EQ(backlog.bytes(), 100u);
  std::vector<std::string> served;
  backlog.ServeTurn([&](const SubmitBacklog::Pending& p) { served.push_back(p.node_id); });
  EXPECT_EQ(served, std::vector<std::string>{"gbr-1"});
}

}  // namespace
}  // namespace tearline::broker
