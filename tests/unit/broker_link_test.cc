// BrokerLink: Hello until a Welcome, then Ping every heartbeat; the session is lost after 3
// quiet heartbeats, on a transport disconnect or when the broker shows it does not know it;
// transport state for status. A recording transport and a FakeClock: no sockets, no sleeps.
#include "tearline/node/broker_link.h"

#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "tearline/base/clock.h"
#include "tearline/wire/wire.h"

namespace tearline::node {
namespace {

using namespace std::chrono_literals;
using Change = BrokerLink::Change;

class BrokerLinkTest : public ::testing::Test {
 protected:
  BrokerLinkTest()
      : link_(clock_, "usa-1", "tcp://127.0.0.1:1", 1000ms,
              [this](std::span<const std::uint8_t> f) {
                if (!up_) return false;
                frames_.emplace_back(f.begin(), f.end());
                return true;
              }) {}

  std::vector<schema::Body> Types() const {
    std::vector<schema::Body> out;
    for (const auto& f : frames_) out.push_back(DecodeFrame(f).value()->body_type());
    return out;
  }
  std::size_t Count(schema::Body t) const {
    std::size_t n = 0;
    for (auto b : Types()) n += b == t ? 1 : 0;
    return n;
  }
  const schema::Frame* Last() const { return DecodeFrame(frames_.back()).value(); }

  void Welcome() {
    link_.OnFrame();
    ASSERT_EQ(link_.OnWelcome("broker-1", 1000), Change::kSessionUp);
  }

  FakeClock clock_;
  bool up_ = true;
  std::vector<std::vector<std::uint8_t>> frames_;
  BrokerLink link_;
};

TEST_F(BrokerLinkTest, GreetsAtOnceThenEveryHeartbeatUntilWelcomed) {
  EXPECT_EQ(link_.Tick(), Change::kNone);
  ASSERT_EQ(Types(), std::vector<schema::Body>{schema::Body::Hello});
  EXPECT_EQ(Last()->body_as_Hello()->node_id()->str(), "usa-1");
  clock_.Advance(999ms);
  (void)link_.Tick();
  EXPECT_EQ(Count(schema::Body::Hello), 1u);
  clock_.Advance(1ms);
  (void)link_.Tick();
  EXPECT_EQ(Count(schema::Body::Hello), 2u);
  EXPECT_FALSE(link_.welcomed());
}

TEST_F(BrokerLinkTest, WelcomeStartsASessionWithPings) {
  (void)link_.Tick();
  Welcome();
  EXPECT_TRUE(link_.welcomed());
  EXPECT_EQ(link_.broker_id(), "broker-1");
  // A repeated Welcome is not a new session.
  EXPECT_EQ(link_.OnWelcome("broker-1", 1000), Change::kNone);
  clock_.Advance(1000ms);
  link_.OnFrame();
  EXPECT_EQ(link_.Tick(), Change::kNone);
  EXPECT_EQ(Count(schema::Body::Ping), 1u);
  EXPECT_EQ(Count(schema::Body::Hello), 1u);
  EXPECT_EQ(link_.MillisSinceLastFrame(), 0);
}

TEST_F(BrokerLinkTest, AdoptsTheBrokersHeartbeatWithinBounds) {
  EXPECT_EQ(link_.OnWelcome("b", 250), Change::kSessionUp);
  EXPECT_EQ(link_.heartbeat(), 250ms);
  (void)link_.OnWelcome("b", 50);  // Out of bounds: kept.
  EXPECT_EQ(link_.heartbeat(), 250ms);
  (void)link_.OnWelcome("b", 70000);
  EXPECT_EQ(link_.heartbeat(), 250ms);
}

TEST_F(BrokerLinkTest, ThreeQuietHeartbeatsLoseTheSession) {
  Welcome();
  clock_.Advance(3000ms);
  EXPECT_EQ(link_.Tick(), Change::kNone);  // Exactly 3 intervals: not yet.
  clock_.Advance(1ms);
  const auto hellos = Count(schema::Body::Hello);
  EXPECT_EQ(link_.Tick(), Change::kSessionLost);
  EXPECT_FALSE(link_.welcomed());
  EXPECT_EQ(Count(schema::Body::Hello), hellos + 1);  // Greets again at once.
  // The next Welcome counts a reconnect.
  Welcome();
  EXPECT_EQ(link_.reconnects(), 1u);
}

TEST_F(BrokerLinkTest, ErrorsThatShowTheBrokerForgotUsLoseTheSession) {
  Welcome();
  EXPECT_EQ(link_.OnError(999, "RATE_LIMITED"), Change::kNone);
  EXPECT_EQ(link_.OnError(999, "NOT_WELCOMED"), Change::kSessionLost);
  Welcome();
  EXPECT_EQ(link_.OnError(999, "AUTH_REVOKED"), Change::kSessionLost);
  Welcome();
  // An error answering the last Ping.
  clock_.Advance(1000ms);
  link_.OnFrame();
  (void)link_.Tick();
  const std::uint64_t ping_id = Last()->request_id();
  EXPECT_EQ(link_.OnError(ping_id, "WHATEVER"), Change::kSessionLost);
  // Without a session there is nothing to lose.
  EXPECT_EQ(link_.OnError(ping_id, "NOT_WELCOMED"), Change::kNone);
}

TEST_F(BrokerLinkTest, TransportEvents) {
  EXPECT_EQ(link_.TransportState(), "connecting");
  (void)link_.OnTransportEvent(net::TransportEvent::kConnected);
  EXPECT_EQ(link_.TransportState(), "tcp connected, handshaking");
  (void)link_.OnTransportEvent(net::TransportEvent::kAuthFailed);
  EXPECT_NE(link_.TransportState().find("refused this node's key"), std::string::npos);
  // A successful handshake clears the failure and greets at once.
  EXPECT_EQ(link_.OnTransportEvent(net::TransportEvent::kHandshakeSucceeded), Change::kNone);
  EXPECT_EQ(link_.TransportState(), "connected");
  EXPECT_EQ(Count(schema::Body::Hello), 1u);
  Welcome();
  EXPECT_EQ(link_.OnTransportEvent(net::TransportEvent::kDisconnected), Change::kSessionLost);
  EXPECT_EQ(link_.TransportState(), "disconnected, reconnecting");
  (void)link_.OnTransportEvent(net::TransportEvent::kHandshakeFailed);
  EXPECT_NE(link_.TransportState().find("CURVE handshake failed"), std::string::npos);
}

TEST_F(BrokerLinkTest, RefusedSendsAreReported) {
  up_ = false;
  EXPECT_FALSE(link_.Send(EncodeHello(1, "usa-1")));
  EXPECT_EQ(link_.MillisSinceLastFrame(), -1);
  const auto a = link_.NewRequestId();
  EXPECT_NE(a, link_.NewRequestId());
}

}  // namespace
}  // namespace tearline::node
