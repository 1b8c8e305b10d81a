#include "tearline/net/socket.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tearline/crypto/keys.h"
#include "tearline/net/zap_handler.h"

namespace tearline::net {
namespace {

using std::chrono::milliseconds;

std::span<const std::uint8_t> Span(const SecretBytes& b) { return {b.data(), b.size()}; }

// Receives one message within a bounded time.
std::optional<std::vector<Part>> Receive(Socket& s) {
  for (int i = 0; i < 50; ++i) {
    if (s.WaitReadable(milliseconds(100))) return s.TryReceive();
  }
  return std::nullopt;
}

class SocketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_keys_ = GenerateTransportKeyPair().value();
    client_keys_ = GenerateTransportKeyPair().value();
    auto zap = ZapHandler::Start(
        ctx_,
        [this](const std::array<std::uint8_t, 32>& key, const std::string&) -> Result<std::string> {
          if (key == client_keys_.public_key) return std::string("gbr-1");
          return Status(Code::kUnauthenticated, "AUTH_UNKNOWN_NODE", "unknown key");
        });
    ASSERT_TRUE(zap.ok());
    zap_ = std::move(zap).value();
    auto router = BindCurveRouter(
        ctx_, {.endpoint = "tcp://127.0.0.1:0", .secret_key = Span(server_keys_.secret_key)});
    ASSERT_TRUE(router.ok()) << router.status().ToString();
    router_ = std::move(router).value();
  }
  void TearDown() override {
    router_.Close();
    zap_->Stop();
  }

  Result<Socket> Client(const BoxKeyPair& keys) {
    return ConnectCurveDealer(ctx_, {.endpoint = router_.endpoint(),
                                     .server_key = server_keys_.public_key,
                                     .public_key = keys.public_key,
                                     .secret_key = Span(keys.secret_key),
                                     .immediate = false});
  }

  Context ctx_;
  BoxKeyPair server_keys_;
  BoxKeyPair client_keys_;
  std::unique_ptr<ZapHandler> zap_;
  Socket router_;
};

TEST_F(SocketTest, EphemeralPortIsReported) {
  EXPECT_TRUE(router_.endpoint().starts_with("tcp://127.0.0.1:"));
  EXPECT_FALSE(router_.endpoint().ends_with(":0"));
  EXPECT_FALSE(router_.endpoint().ends_with(":*"));
}

TEST_F(SocketTest, KnownClientIsAttributedAndAnsweredByRoutingId) {
  auto client = Client(client_keys_);
  ASSERT_TRUE(client.ok());
  ASSERT_EQ(client->Send(std::string_view("ping")), SendResult::kSent);
  auto msg = Receive(router_);
  ASSERT_TRUE(msg.has_value());
  ASSERT_EQ(msg->size(), 2u);
  EXPECT_EQ((*msg)[1].str(), "ping");
  EXPECT_EQ((*msg)[1].user_id(), "gbr-1");
  ASSERT_EQ(router_.SendTo((*msg)[0].str(), std::string_view("pong")), SendResult::kSent);
  auto reply = Receive(*client);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ((*reply)[0].str(), "pong");
}

TEST_F(SocketTest, UnknownClientGetsNoService) {
  auto stranger_keys = GenerateTransportKeyPair().value();
  auto stranger = Client(stranger_keys);
  ASSERT_TRUE(stranger.ok());
  ASSERT_EQ(stranger->Send(std::string_view("let me in")), SendResult::kSent);
  EXPECT_FALSE(router_.WaitReadable(milliseconds(500)));
}

TEST_F(SocketTest, SendToAnUnknownPeerIsUnroutable) {
  EXPECT_EQ(router_.SendTo("nobody", std::string_view("x")), SendResult::kUnroutable);
}

TEST_F(SocketTest, BadKeysAreRefusedWithAReason) {
  auto bad = ConnectCurveDealer(ctx_, {.endpoint = router_.endpoint(),
                                       .server_key = std::span<const std::uint8_t>(),
                                       .public_key = client_keys_.public_key,
                                       .secret_key = Span(client_keys_.secret_key)});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().reason(), "NET_KEY_INVALID");
  auto unbindable = BindCurveRouter(
      ctx_, {.endpoint = "tcp://256.0.0.1:1", .secret_key = Span(server_keys_.secret_key)});
  ASSERT_FALSE(unbindable.ok());
  EXPECT_EQ(unbindable.status().reason(), "NET_BIND");
}

TEST(LocalSocketTest, ControlSocketIsOwnerOnly) {
  Context ctx;
  const auto path = std::filesystem::temp_directory_path() /
                    ("tearline-socket-test-" + std::to_string(::getpid()) + ".sock");
  auto server = BindLocalRouter(ctx, path, 1024);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto client = ConnectLocalDealer(ctx, path, 1024, milliseconds(2000));
  ASSERT_TRUE(client.ok());
  ASSERT_EQ(client->SendWaiting("status"), SendResult::kSent);
  auto msg = Receive(*server);
  ASSERT_TRUE(msg.has_value());
  EXPECT_EQ((*msg)[1].str(), "status");
  EXPECT_FALSE((*msg)[1].user_id().has_value());
  server->Close();
  client->Close();
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace tearline::net
