#include "tearline/node/daemon_sockets.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "node_unit_fixture.h"
#include "tearline/base/clock.h"

namespace tearline::node {
namespace {

TEST(DaemonSocketsTest, OpensTheBrokerDealerAndTheControlSocket) {
  FakeClock fake_clock;
  unit::TestCoalition c(fake_clock.UnixNow());
  c.Issue("usa-1", "USA", "SECRET");
  NodeIdentity me = c.Identity("usa-1");
  tearline::testing::TempDir dir;
  NodeConfig config;
  config.id = "usa-1";
  config.broker_endpoint = "tcp://127.0.0.1:1";  // Nothing listens: the connect is deferred.
  config.data_dir = dir.path();
  net::Context ctx;
  net::Socket broker, control;
  net::SocketMonitor monitor;
  ASSERT_TRUE(
      OpenDaemonSockets(ctx, {broker, monitor, control}, config, me, std::chrono::milliseconds(250))
          .ok());
  EXPECT_TRUE(broker.valid());
  EXPECT_TRUE(control.valid());
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "control.sock"));
  monitor.Stop();
}

TEST(DaemonSocketsTest, ABadEndpointIsNamed) {
  FakeClock fake_clock;
  unit::TestCoalition c(fake_clock.UnixNow());
  c.Issue("usa-1", "USA", "SECRET");
  NodeIdentity me = c.Identity("usa-1");
  tearline::testing::TempDir dir;
  NodeConfig config;
  config.broker_endpoint = "not-an-endpoint";
  config.data_dir = dir.path();
  net::Context ctx;
  net::Socket broker, control;
  net::SocketMonitor monitor;
  Status st = OpenDaemonSockets(ctx, {broker, monitor, control}, config, me,
                                std::chrono::milliseconds(250));
  EXPECT_EQ(st.reason(), "BROKER_CONNECT_FAILED");
  EXPECT_NE(st.message().find("not-an-endpoint"), std::string::npos);
  monitor.Stop();
}

}  // namespace
}  // namespace tearline::node
