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
  ASSERT_TRUE(sessions.Hello("usa-1", 1, "usa-1").ok());  // Online once welcomed.
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
  ASSERT_TRUE(sessions.Hello("usa-1", 2, "usa-1").ok());
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

// The conversation: Hello first on every connection; a refused Hello leaves the connection
// unwelcomed until a correct one.
TEST(SessionsTest, NothingButHelloIsServedBeforeAWelcome) {
  FakeClock clock;
  Sessions sessions(clock, "broker", milliseconds(1000));
  EXPECT_EQ(sessions.Admit("usa-1", false).reason(), "HELLO_REQUIRED");  // Never seen.
  (void)sessions.Touch("usa-1", "conn-a");
  EXPECT_TRUE(sessions.Admit("usa-1", true).ok());
  const Status before = sessions.Admit("usa-1", false);
  EXPECT_EQ(before.reason(), "HELLO_REQUIRED");
  EXPECT_EQ(before.code(), Code::kUnavailable);
  EXPECT_FALSE(sessions.IsOnline("usa-1"));  // Not routed to before its Welcome.

  ASSERT_FALSE(sessions.Hello("usa-1", 1, "gbr-1").ok());
  EXPECT_EQ(sessions.Admit("usa-1", false).reason(), "NOT_WELCOMED");
  EXPECT_TRUE(sessions.Admit("usa-1", true).ok());  // It may still say Hello properly.
  EXPECT_FALSE(sessions.IsOnline("usa-1"));

  ASSERT_TRUE(sessions.Hello("usa-1", 2, "usa-1").ok());
  EXPECT_TRUE(sessions.Admit("usa-1", false).ok());
  EXPECT_TRUE(sessions.IsOnline("usa-1"));
  (void)sessions.Touch("usa-1", "conn-a");  // More frames on the same connection.
  EXPECT_TRUE(sessions.Admit("usa-1", false).ok());

  // A new connection starts over, whatever the old one had reached.
  (void)sessions.Touch("usa-1", "conn-b");
  EXPECT_EQ(sessions.Admit("usa-1", false).reason(), "HELLO_REQUIRED");
  EXPECT_FALSE(sessions.IsOnline("usa-1"));
  ASSERT_TRUE(sessions.Hello("usa-1", 3, "usa-1").ok());
  EXPECT_TRUE(sessions.IsOnline("usa-1"));

  // A second connection of the same node (an operator's probe) does not unwelcome the first.
  (void)sessions.Touch("usa-1", "conn-probe");
  EXPECT_EQ(sessions.Admit("usa-1", false).reason(), "HELLO_REQUIRED");
  (void)sessions.Touch("usa-1", "conn-b");
  EXPECT_TRUE(sessions.Admit("usa-1", false).ok());

  // A later refused Hello withdraws the welcome.
  ASSERT_FALSE(sessions.Hello("usa-1", 4, "jpn-1").ok());
  EXPECT_EQ(sessions.Admit("usa-1", false).reason(), "NOT_WELCOMED");
  // Forgotten (the transport lost it): nothing is served until a Hello.
  ASSERT_TRUE(sessions.Hello("usa-1", 5, "usa-1").ok());
  sessions.Forget("usa-1");
  EXPECT_EQ(sessions.Admit("usa-1", false).reason(), "HELLO_REQUIRED");
}

}  // namespace
}  // namespace tearline::broker
