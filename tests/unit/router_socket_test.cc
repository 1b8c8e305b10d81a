#include "tearline/broker/router_socket.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>

#include "tearline/base/clock.h"
#include "tearline/crypto/keys.h"
#include "tearline/crypto/secure_memory.h"
#include "tearline/net/socket.h"

namespace tearline::broker {
namespace {

using std::chrono::milliseconds;

class RouterSocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitCrypto().ok());
    for (auto* k : {&server_, &client_, &stranger_}) {
      auto keys = GenerateIdentityKeys();
      ASSERT_TRUE(keys.ok());
      *k = std::make_unique<IdentityKeys>(std::move(keys).value());
    }
    RouterOptions options;
    options.endpoint = "tcp://127.0.0.1:0";
    options.max_message_bytes = 1 << 20;
    auto socket = RouterSocket::Open(
        options, server_->transport.secret_key,
        [this](const std::array<std::uint8_t, 32>& key, const std::string&) -> Result<std::string> {
          if (key == client_->transport.public_key) return std::string("usa-1");
          ++refused_;
          return Unauthenticated("AUTH_UNKNOWN_KEY", "unknown");
        });
    ASSERT_TRUE(socket.ok()) << socket.status().ToString();
    socket_ = std::move(socket).value();
    socket_->Serve(
        loop_, stop_, 16,
        [this](ConnectionEvent e, std::uint32_t) {
          handshakes_ += e == ConnectionEvent::kHandshakeSucceeded ? 1 : 0;
        },
        [this](const Inbound& m) {
          node_ids_.push_back(m.node_id);
          routing_ids_.push_back(m.routing_id);
          payloads_.emplace_back(m.payload.begin(), m.payload.end());
        },
        [this] { ++batches_; });
  }

  void TearDown() override {
    if (socket_) socket_->Unserve(loop_);
  }

  net::Socket Connect(const IdentityKeys& keys) {
    net::CurveClientOptions o;
    o.endpoint = socket_->endpoint();
    o.server_key = server_->transport.public_key;
    o.public_key = keys.transport.public_key;
    o.secret_key = keys.transport.secret_key.span();
    o.immediate = false;  // Queue the first message until the handshake completes.
    auto s = net::ConnectCurveDealer(ctx_, o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : net::Socket();
  }

  // Serves the socket until `done` or `timeout` passes (real time: a network round trip).
  void ServeUntil(const std::function<bool()>& done, milliseconds timeout = milliseconds(10000)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      ASSERT_TRUE(loop_.RunOnce(milliseconds(20)).ok());
    }
  }

  net::Context ctx_;
  net::EventLoop loop_{SystemClock::Get()};
  std::unique_ptr<IdentityKeys> server_, client_, stranger_;
  std::unique_ptr<RouterSocket> socket_;
  std::atomic<int> refused_{0};
  std::atomic<bool> stop_{false};
  int handshakes_ = 0;
  int batches_ = 0;
  std::vector<std::string> node_ids_, routing_ids_;
  std::vector<std::string> payloads_;
};

TEST_F(RouterSocketTest, BindsAnEphemeralPort) {
  const std::string& ep = socket_->endpoint();
  EXPECT_EQ(ep.rfind("tcp://127.0.0.1:", 0), 0u) << ep;
  EXPECT_NE(ep.substr(ep.size() - 2), ":0");
}

TEST_F(RouterSocketTest, AuthenticatedMessagesCarryTheNodeIdAndCanBeAnswered) {
  net::Socket client = Connect(*client_);
  ASSERT_TRUE(client.valid());
  ASSERT_EQ(client.Send(std::string_view("hello")), net::SendResult::kSent);
  ServeUntil([&] { return !payloads_.empty() && handshakes_ > 0; });
  ASSERT_EQ(payloads_.size(), 1u);
  EXPECT_EQ(node_ids_[0], "usa-1");
  EXPECT_EQ(payloads_[0], "hello");
  EXPECT_EQ(handshakes_, 1);
  EXPECT_GE(batches_, 1);
  EXPECT_EQ(socket_->Send(routing_ids_[0], {'o', 'k'}), RouterSocket::SendResult::kSent);
  ASSERT_TRUE(client.WaitReadable(milliseconds(5000)));
  auto reply = client.TryReceive();
  ASSERT_TRUE(reply.has_value());
  ASSERT_EQ(reply->size(), 1u);
  EXPECT_EQ((*reply)[0].str(), "ok");
  EXPECT_EQ(socket_->Send("no-such-peer", {1}), RouterSocket::SendResult::kGone);
}

TEST_F(RouterSocketTest, UnknownKeysGetNoService) {
  net::Socket stranger = Connect(*stranger_);
  ASSERT_TRUE(stranger.valid());
  (void)stranger.Send(std::string_view("let me in"));
  ServeUntil([&] { return refused_.load() > 0; });
  EXPECT_GT(refused_.load(), 0);
  ServeUntil([] { return false; }, milliseconds(300));  // Would a wrongly admitted one arrive?
  EXPECT_TRUE(payloads_.empty());
  EXPECT_EQ(handshakes_, 0);
}

}  // namespace
}  // namespace tearline::broker
