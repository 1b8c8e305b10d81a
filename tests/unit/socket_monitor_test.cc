#include "tearline/net/socket_monitor.h"

#include <gtest/gtest.h>

#include "tearline/crypto/keys.h"
#include "tearline/net/zap_handler.h"

namespace tearline::net {
namespace {

using std::chrono::milliseconds;

std::span<const std::uint8_t> Span(const SecretBytes& b) { return {b.data(), b.size()}; }

// Collects events until `want` is seen or a bounded time passed.
bool SawEvent(SocketMonitor& m, TransportEvent want) {
  for (int i = 0; i < 50; ++i) {
    if (!m.events().WaitReadable(milliseconds(100))) continue;
    while (auto ev = m.TryNext()) {
      if (ev->type == want) return true;
    }
  }
  return false;
}

TEST(SocketMonitorTest, ReportsHandshakeSuccessAndRefusal) {
  Context ctx;
  auto server_keys = GenerateTransportKeyPair().value();
  auto good = GenerateTransportKeyPair().value();
  auto bad = GenerateTransportKeyPair().value();
  auto zap = ZapHandler::Start(
      ctx, [&](const std::array<std::uint8_t, 32>& key, const std::string&) -> Result<std::string> {
        if (key == good.public_key) return std::string("jpn-1");
        return Status(Code::kUnauthenticated, "AUTH_UNKNOWN_NODE", "unknown key");
      });
  ASSERT_TRUE(zap.ok());
  auto router = BindCurveRouter(
      ctx, {.endpoint = "tcp://127.0.0.1:0", .secret_key = Span(server_keys.secret_key)});
  ASSERT_TRUE(router.ok());

  for (const BoxKeyPair* keys : {&good, &bad}) {
    auto client = ConnectCurveDealer(ctx, {.endpoint = router->endpoint(),
                                           .server_key = server_keys.public_key,
                                           .public_key = keys->public_key,
                                           .secret_key = Span(keys->secret_key),
                                           .defer_connect = true});
    ASSERT_TRUE(client.ok());
    auto monitor = SocketMonitor::Attach(ctx, *client, "monitor-test");
    ASSERT_TRUE(monitor.ok()) << monitor.status().ToString();
    ASSERT_TRUE(client->Connect(router->endpoint()).ok());
    if (keys == &good) {
      EXPECT_TRUE(SawEvent(*monitor, TransportEvent::kHandshakeSucceeded));
    } else {
      EXPECT_TRUE(SawEvent(*monitor, TransportEvent::kAuthFailed));
    }
    monitor->Stop();
  }
  router->Close();
  (*zap)->Stop();
}

}  // namespace
}  // namespace tearline::net
