#include "tearline/broker/sessions.h"

#include <gtest/gtest.h>

#include <chrono>

#include "tearline/base/clock.h"
#include "tearline/wire/wire.h"

namespace tearline::broker {
namespace {

using std::chrono::milliseconds;

TEST(SessionsTest, OnlineWhileFramesArriveWithinThreeHeartbeats) {
  FakeClock clock;
  Sessions sessions(clock, "broker", milliseconds(1000));
  EXPECT_FALSE(sessions.IsOnline("usa-1"));
  EXPECT_EQ(sessions.RoutingId("usa-1"), nullptr);
  auto seen = sessions.Touch("usa-1", "rid-a");
  EXPECT_FALSE(seen.was_online);
  EXPECT_TRUE(seen.reconnected);
  EXPECT_TRUE(sessions.IsOnline("usa-1"));
  ASSERT_NE(sessions.RoutingId("usa-1"), nullptr);
  EXPECT_EQ(*sessions.RoutingId("usa-1"), "rid-a");

  clock.Advance(milliseconds(2999));
  seen = sessions.Touch("usa-1", "rid-a");
  EXPECT_TRUE(seen.was_online);
  EXPECT_FALSE(seen.reconnected);
  clock.Advance(milliseconds(3000));
  EXPECT_FALSE(sessions.IsOnline("usa-1"));
  EXPECT_TRUE(sessions.OnlineNodes().empty());
  // The node comes back over a new connection.
  seen = sessions.Touch("usa-1", "rid-b");
  EXPECT_FALSE(seen.was_online);
  EXPECT_TRUE(seen.reconnected);
  EXPECT_EQ(sessions.OnlineNodes(), std::vector<std::string>{"usa-1"});
  sessions.Forget("usa-1");
  EXPECT_FALSE(sessions.IsOnline("usa-1"));
}

TEST(SessionsTest, HelloMustNameTheAuthenticatedNode) {
  FakeClock clock(1'900'000'000);
  Sessions sessions(clock, "broker-x", milliseconds(500));
  auto bad = sessions.Hello("usa-1", 7, "gbr-1");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().reason(), "AUTH_NODE_MISMATCH");
  auto welcome = sessions.Hello("usa-1", 7, "usa-1");
  ASSERT_TRUE(welcome.ok());
  std::vector<std::uint8_t> storage;
  auto frame = DecodeFrame(AlignedForDecode(*welcome, storage));
  ASSERT_TRUE(frame.ok());
  EXPECT_EQ((*frame)->request_id(), 7u);
  const auto* w = (*frame)->body_as_Welcome();
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->broker_id()->str(), "broker-x");
  EXPECT_EQ(w->server_time_unix(), 1'900'000'000);
  EXPECT_EQ(w->heartbeat_interval_ms(), 500u);
}

}  // namespace
}  // namespace tearline::broker
