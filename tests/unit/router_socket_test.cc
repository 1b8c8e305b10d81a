#include "tearline/broker/router_socket.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <zmq.hpp>

#include "tearline/crypto/keys.h"
#include "tearline/crypto/secure_memory.h"

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
  }

  std::unique_ptr<zmq::socket_t> Connect(const IdentityKeys& keys) {
    auto s = std::make_unique<zmq::socket_t>(ctx_, zmq::socket_type::dealer);
    s->set(zmq::sockopt::linger, 0);
    s->set(zmq::sockopt::curve_serverkey,
           zmq::const_buffer(server_->transport.public_key.data(), 32));
    s->set(zmq::sockopt::curve_publickey, zmq::const_buffer(keys.transport.public_key.data(), 32));
    s->set(zmq::sockopt::curve_secretkey, zmq::const_buffer(keys.transport.secret_key.data(), 32));
    s->connect(socket_->endpoint());
    return s;
  }

  // Serves the socket until `done` or `timeout` passes.
  void ServeUntil(const std::function<bool()>& done, milliseconds timeout = milliseconds(10000)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      auto ready = socket_->Poll(milliseconds(20));
      ASSERT_FALSE(ready.terminated);
      if (ready.events) {
        socket_->DrainEvents([this](ConnectionEvent e, std::uint32_t) {
          handshakes_ += e == ConnectionEvent::kHandshakeSucceeded ? 1 : 0;
        });
      }
      if (ready.messages) {
        socket_->DrainMessages(16, stop_, [this](const Inbound& m) {
          node_ids_.push_back(m.node_id);
          routing_ids_.push_back(m.routing_id);
          payloads_.emplace_back(m.payload.begin(), m.payload.end());
        });
      }
    }
  }

  zmq::context_t ctx_;
  std::unique_ptr<IdentityKeys> server_, client_, stranger_;
  std::unique_ptr<RouterSocket> socket_;
  std::atomic<int> refused_{0};
  std::atomic<bool> stop_{false};
  int handshakes_ = 0;
  std::vector<std::string> node_ids_, routing_ids_;
  std::vector<std::string> payloads_;
};

TEST_F(RouterSocketTest, BindsAnEphemeralPort) {
  const std::string& ep = socket_->endpoint();
  EXPECT_EQ(ep.rfind("tcp://127.0.0.1:", 0), 0u) << ep;
  EXPECT_NE(ep.substr(ep.size() - 2), ":0");
}

TEST_F(RouterSocketTest, AuthenticatedMessagesCarryTheNodeIdAndCanBeAnswered) {
  auto client = Connect(*client_);
  client->send(zmq::str_buffer("hello"), zmq::send_flags::none);
  ServeUntil([&] { return !payloads_.empty() && handshakes_ > 0; });
  ASSERT_EQ(payloads_.size(), 1u);
  EXPECT_EQ(node_ids_[0], "usa-1");
  EXPECT_EQ(payloads_[0], "hello");
  EXPECT_EQ(handshakes_, 1);
  EXPECT_EQ(socket_->Send(routing_ids_[0], {'o', 'k'}), RouterSocket::SendResult::kSent);
  zmq::pollitem_t items[] = {{client->handle(), 0, ZMQ_POLLIN, 0}};
  zmq::poll(items, 1, milliseconds(5000));
  zmq::message_t reply;
  ASSERT_TRUE(client->recv(reply, zmq::recv_flags::dontwait));
  EXPECT_EQ(reply.to_string(), "ok");
  EXPECT_EQ(socket_->Send("no-such-peer", {1}), RouterSocket::SendResult::kGone);
}

TEST_F(RouterSocketTest, UnknownKeysGetNoService) {
  auto stranger = Connect(*stranger_);
  stranger->send(zmq::str_buffer("let me in"), zmq::send_flags::none);
  ServeUntil([&] { return refused_.load() > 0; });
  EXPECT_GT(refused_.load(), 0);
  ServeUntil([] { return false; },
             milliseconds(300));  // Give a wrongly admitted message time to arrive.
  EXPECT_TRUE(payloads_.empty());
}

}  // namespace
}  // namespace tearline::broker
