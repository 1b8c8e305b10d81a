// UnitOptions: each unit gets the settings of the one BrokerConfig, and the derived figures
// (high-water mark, backlog turn budget, claim window) follow their stated rules at the edges.
#include "tearline/broker/unit_options.h"

#include <gtest/gtest.h>

#include <chrono>

#include "tearline/wire/wire.h"

namespace tearline::broker {
namespace {

using std::chrono::milliseconds;

BrokerConfig Config() {
  BrokerConfig c;
  c.endpoint = "tcp://127.0.0.1:0";
  c.data_dir = "/var/lib/tearline-broker";
  c.rate_per_node = 7;
  c.max_queue_per_node = 11;
  c.max_queue_per_sender_per_recipient = 5;
  c.max_store_bytes_per_node = 1000;
  c.max_store_bytes = 5000;
  c.min_free_bytes = 300;
  c.delivery_window = 9;
  c.delivery_window_bytes = 4096;
  c.max_delivery_refusals = 2;
  c.redeliver_after_ms = 750;
  c.checkpoint_every = 17;
  c.checkpoint_interval_ms = 1500;
  c.submit_backlog_per_node = 33;
  c.submit_backlog_bytes = 9999;
  c.heartbeat_ms = 1000;
  return c;
}

TEST(UnitOptionsTest, EachUnitGetsTheConfiguredSettings) {
  const BrokerConfig c = Config();
  const SubmitOptions s = SubmitOptionsFrom(c);
  EXPECT_EQ(s.rate_per_node, 7u);
  EXPECT_EQ(s.max_queue_per_node, 11u);
  EXPECT_EQ(s.max_queue_per_sender_per_recipient, 5u);
  EXPECT_EQ(s.max_store_bytes_per_node, 1000u);
  EXPECT_EQ(s.max_store_bytes, 5000u);
  EXPECT_EQ(s.min_free_bytes, 300u);
  EXPECT_EQ(s.data_dir, c.data_dir);

  const DeliveryOptions d = DeliveryOptionsFrom(c);
  EXPECT_EQ(d.window_copies, 9u);
  EXPECT_EQ(d.window_bytes, 4096u);
  EXPECT_EQ(d.max_refusals, 2u);
  EXPECT_EQ(d.redeliver_after, milliseconds(750));

  const LogServiceOptions l = LogServiceOptionsFrom(c);
  EXPECT_EQ(l.checkpoint_every, 17u);
  EXPECT_EQ(l.checkpoint_interval, milliseconds(1500));

  const SubmitBacklogOptions b = SubmitBacklogOptionsFrom(c);
  EXPECT_EQ(b.max_per_node, 33u);
  EXPECT_EQ(b.max_bytes, 9999u);
  EXPECT_EQ(b.turn_budget, milliseconds(50));  // A tenth of a 1 s heartbeat would be 100.
}

TEST(UnitOptionsTest, BacklogTurnIsATenthOfTheHeartbeatWithinFiveToFiftyMilliseconds) {
  BrokerConfig c = Config();
  c.heartbeat_ms = 20;  // A tenth would be 2 ms: too short to serve anything.
  EXPECT_EQ(SubmitBacklogOptionsFrom(c).turn_budget, milliseconds(5));
  c.heartbeat_ms = 300;
  EXPECT_EQ(SubmitBacklogOptionsFrom(c).turn_budget, milliseconds(30));
  c.heartbeat_ms = 60000;  // Pings would wait too long behind a turn.
  EXPECT_EQ(SubmitBacklogOptionsFrom(c).turn_budget, milliseconds(50));
}

TEST(UnitOptionsTest, CommitGroupClosesWithinAQuarterHeartbeatAndHoldsAWindowOfBytes) {
  BrokerConfig c = Config();
  c.heartbeat_ms = 100;
  c.delivery_window_bytes = std::uint64_t{32} << 20;
  EXPECT_EQ(CommitGroupLimitsFrom(c).max_open, milliseconds(26));
  EXPECT_EQ(CommitGroupLimitsFrom(c).max_held_bytes, std::size_t{32} << 20);
  c.heartbeat_ms = 60000;        // Answers would wait too long behind a group.
  c.delivery_window_bytes = 10;  // One large copy must still fit a group.
  EXPECT_EQ(CommitGroupLimitsFrom(c).max_open, milliseconds(50));
  EXPECT_EQ(CommitGroupLimitsFrom(c).max_held_bytes, std::size_t{1} << 20);
}

TEST(UnitOptionsTest, SendHighWaterMarkCoversTheWindowAndOneReplyPerFrameOfABatch) {
  const BrokerConfig c = Config();
  const RouterOptions r = RouterOptionsFrom(c, 256);
  EXPECT_EQ(r.send_hwm, 9 + 256 + 64);
  EXPECT_EQ(r.endpoint, c.endpoint);
  EXPECT_EQ(r.heartbeat_ms, 1000u);
  // libzmq's cap sits above the largest frame the protocol allows, so an oversized frame reaches
  // the broker's own check (and its reason code) instead of silently dropping the peer.
  EXPECT_GT(r.max_message_bytes, static_cast<std::int64_t>(kMaxFrameBytes));
}

TEST(UnitOptionsTest, ClaimWindowIsThreeHeartbeatsAndAtLeastOneSecond) {
  BrokerConfig c = Config();
  c.heartbeat_ms = 100;
  EXPECT_EQ(ClaimWindowFrom(c), milliseconds(1000));
  c.heartbeat_ms = 2000;
  EXPECT_EQ(ClaimWindowFrom(c), milliseconds(6000));
}

TEST(UnitOptionsTest, ReleaseDeskAndStoreBoundsComeFromTheConfiguration) {
  BrokerConfig c;
  c.max_release_requests_per_node = 3;
  EXPECT_EQ(ReleaseDeskOptionsFrom(c).max_per_node, 3u);
  EXPECT_EQ(ReleaseDeskOptionsFrom(c).max_requests, 4096u);
  c.max_store_bytes = 1 << 20;
  EXPECT_EQ(ReportStoreOptionsFrom(c).max_bytes, std::uint64_t{1} << 20);
}

TEST(UnitOptionsTest, MetricsAreOffUnlessAFileIsNamed) {
  BrokerConfig c;
  EXPECT_TRUE(MetricsOptionsFrom(c).file.empty());
  EXPECT_EQ(MetricsOptionsFrom(c).interval, std::chrono::seconds(15));
  c.metrics_file = "/var/lib/prometheus/node-exporter/tearline_broker.prom";
  c.metrics_interval = 60;
  EXPECT_EQ(MetricsOptionsFrom(c).file, c.metrics_file);
  EXPECT_EQ(MetricsOptionsFrom(c).interval, std::chrono::seconds(60));
}

}  // namespace
}  // namespace tearline::broker
