// NodeSockets: the broker DEALER and the owner-only control socket are set up together, a bad
// broker endpoint or an unusable data directory is refused with the reason the operator sees,
// and Close removes the control socket file.
#include "tearline/node/node_sockets.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <vector>

#include "node_unit_fixture.h"
#include "tearline/base/clock.h"
#include "test_support.h"

namespace tearline::node {
namespace {

using namespace std::chrono_literals;

class NodeSocketsTest : public ::testing::Test {
 protected:
  NodeSocketsTest() : coalition_(clock_.UnixNow()) {
    coalition_.Issue("usa-1", "USA", "SECRET");
    config_.id = "usa-1";
    config_.data_dir = dir_.path();
    config_.broker_endpoint = "tcp://127.0.0.1:1";  // Nothing listens: connecting is deferred.
  }

  FakeClock clock_;
  tearline::testing::TempDir dir_;
  unit::TestCoalition coalition_;
  NodeConfig config_;
};

TEST_F(NodeSocketsTest, OpensBothSocketsAndCloseRemovesTheControlFile) {
  NodeSockets s;
  Status opened = s.Open(config_, coalition_.Identity("usa-1"), 1000ms);
  ASSERT_TRUE(opened.ok()) << opened.ToString();
  EXPECT_TRUE(std::filesystem::exists(dir_.path() / "control.sock"));
  s.Close(config_.data_dir);
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "control.sock"));
  const std::vector<std::uint8_t> frame{1, 2, 3};
  EXPECT_FALSE(s.SendToBroker(frame));
}

TEST_F(NodeSocketsTest, ABadBrokerEndpointIsRefused) {
  config_.broker_endpoint = "no-such-transport://x";
  NodeSockets s;
  Status opened = s.Open(config_, coalition_.Identity("usa-1"), 1000ms);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.reason(), "BROKER_CONNECT_FAILED");
  EXPECT_NE(opened.message().find("no-such-transport://x"), std::string::npos);
  s.Close(config_.data_dir);
}

TEST_F(NodeSocketsTest, AnUnusableDataDirectoryIsRefused) {
  config_.data_dir = dir_.path() / "missing" / "deeper";
  NodeSockets s;
  Status opened = s.Open(config_, coalition_.Identity("usa-1"), 1000ms);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.reason(), "CONTROL_BIND_FAILED");
  s.Close(config_.data_dir);
}

}  // namespace
}  // namespace tearline::node
