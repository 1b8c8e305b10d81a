#include "tearline/net/zap_handler.h"

#include <gtest/gtest.h>

#include <atomic>

#include "tearline/crypto/keys.h"

namespace tearline::net {
namespace {

using std::chrono::milliseconds;

std::span<const std::uint8_t> Span(const SecretBytes& b) { return {b.data(), b.size()}; }

TEST(ZapHandlerTest, AsksTheCallbackForEveryCurveClientAndOnlyServesAcceptedOnes) {
  Context ctx;
  auto server_keys = GenerateTransportKeyPair().value();
  auto good = GenerateTransportKeyPair().value();
  auto bad = GenerateTransportKeyPair().value();
  std::atomic<int> asked{0};
  auto zap =
      ZapHandler::Start(ctx,
                        [&](const std::array<std::uint8_t, 32>& key,
                            const std::string& address) -> Result<std::string> {
                          ++asked;
                          EXPECT_EQ(address, "127.0.0.1");
                          if (key == good.public_key) return std::string("kor-1");
                          return Status(Code::kUnauthenticated, "AUTH_UNKNOWN_NODE", "unknown key");
                        });
  ASSERT_TRUE(zap.ok());
  // Only one handler may serve a context.
  EXPECT_FALSE(ZapHandler::Start(ctx, nullptr).ok());
  auto router = BindCurveRouter(
      ctx, {.endpoint = "tcp://127.0.0.1:0", .secret_key = Span(server_keys.secret_key)});
  ASSERT_TRUE(router.ok());
  std::vector<Socket> clients;
  for (const BoxKeyPair* keys : {&bad, &good}) {
    auto c = ConnectCurveDealer(ctx, {.endpoint = router->endpoint(),
                                      .server_key = server_keys.public_key,
                                      .public_key = keys->public_key,
                                      .secret_key = Span(keys->secret_key),
                                      .immediate = false});
    ASSERT_TRUE(c.ok());
    ASSERT_EQ(c->Send(std::string_view(keys == &good ? "good" : "bad")), SendResult::kSent);
    clients.push_back(std::move(c).value());
  }
  std::vector<std::string> got;
  for (int i = 0; i < 20 && got.empty(); ++i) {
    if (!router->WaitReadable(milliseconds(100))) continue;
    while (auto m = router->TryReceive()) got.push_back((*m)[1].str() + "@" + *(*m)[1].user_id());
  }
  EXPECT_EQ(got, std::vector<std::string>{"good@kor-1"});
  EXPECT_GE(asked.load(), 2);
  clients.clear();
  router->Close();
  (*zap)->Stop();
}

}  // namespace
}  // namespace tearline::net
