#include "tearline/broker/unit_options.h"

#include <gtest/gtest.h>

#include "tearline/wire/wire.h"

namespace tearline::broker {
namespace {

using std::chrono::milliseconds;

TEST(UnitOptionsTest, EachUnitGetsTheKeysThatConcernIt) {
  BrokerConfig c;
  c.rate_per_node = 7;
  c.max_queue_per_node = 11;
  c.max_store_bytes = 1 << 20;
  c.data_dir = "/srv/broker";
  c.delivery_window = 5;
  c.redeliver_after_ms = 300;
  c.max_release_requests_per_node = 3;
  c.submit_backlog_per_node = 9;
  c.checkpoint_every = 4;
  c.endpoint = "tcp://127.0.0.1:0";
  const SubmitOptions s = SubmitOptionsFor(c);
  EXPECT_EQ(s.rate_per_node, 7u);
  EXPECT_EQ(s.max_queue_per_node, 11u);
  EXPECT_EQ(s.data_dir, "/srv/broker");
  EXPECT_EQ(ReportStoreOptionsFor(c).max_bytes, std::uint64_t{1} << 20);
  EXPECT_EQ(DeliveryOptionsFor(c).window_copies, 5u);
  EXPECT_EQ(DeliveryOptionsFor(c).redeliver_after, milliseconds(300));
  EXPECT_EQ(ReleaseDeskOptionsFor(c).max_per_node, 3u);
  EXPECT_EQ(SubmitBacklogOptionsFor(c).max_per_node, 9u);
  EXPECT_EQ(LogServiceOptionsFor(c).checkpoint_every, 4u);
  const RouterOptions r = RouterOptionsFor(c);
  EXPECT_EQ(r.endpoint, "tcp://127.0.0.1:0");
  // Room for replies beyond the delivery window; frames a little over the cap still arrive.
  EXPECT_EQ(r.send_hwm, 5 + 64);
  EXPECT_GT(r.max_message_bytes, static_cast<std::int64_t>(kMaxFrameBytes));
}

TEST(UnitOptionsTest, DerivedTimesFollowTheHeartbeatWithinBounds) {
  BrokerConfig c;
  c.heartbeat_ms = 100;
  EXPECT_EQ(ClaimWindowFor(c), milliseconds(1000));
  EXPECT_EQ(SubmitBacklogOptionsFor(c).turn_budget, milliseconds(10));
  c.heartbeat_ms = 2000;
  EXPECT_EQ(ClaimWindowFor(c), milliseconds(6000));
  EXPECT_EQ(SubmitBacklogOptionsFor(c).turn_budget, milliseconds(50));
  c.heartbeat_ms = 20;
  EXPECT_EQ(SubmitBacklogOptionsFor(c).turn_budget, milliseconds(5));
}

}  // namespace
}  // namespace tearline::broker
