// CLI validation of tearline-node without a daemon: everything here must be decided locally,
// before anything could leave the node.
#include "tearline/node/node_command.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "node_cli.h"
#include "test_support.h"

namespace tearline::node {
namespace {

using tearline::testing::CliResult;
using tearline::testing::TempDir;

CliResult Cli(std::vector<std::string> args) {
  return tearline::testing::RunNodeCli(std::move(args));
}

class NodeCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = (tmp_ / "node.toml").string();
    std::ofstream(config_) << R"([node]
id = "usa-1"
broker_endpoint = "tcp://127.0.0.1:1"
broker_certificate = "certs/broker.cert"
certificate = "certs/usa-1.cert"
secret = "certs/usa-1.secret"
ca_dir = "ca"
data_dir = "data"
)";
    std::filesystem::create_directories(tmp_ / "data");
    report_ = (tmp_ / "report.txt").string();
    std::ofstream(report_) << "content\n";
  }

  TempDir tmp_;
  std::string config_;
  std::string report_;
};

TEST_F(NodeCommandTest, UsageErrorsExitTwo) {
  auto none = Cli({});
  EXPECT_EQ(none.code, kExitInvalid);
  auto no_config = Cli({"status"});
  EXPECT_EQ(no_config.code, kExitInvalid);
  EXPECT_NE(no_config.err.find("--config"), std::string::npos) << no_config.err;
  auto read_without_id = Cli({"read", "--config", config_});
  EXPECT_EQ(read_without_id.code, kExitInvalid);
  auto help = Cli({"--help"});
  EXPECT_EQ(help.code, kExitOk);
  EXPECT_NE(help.out.find("send"), std::string::npos);
}

TEST_F(NodeCommandTest, BadConfigurationNamesFileAndLine) {
  std::ofstream(config_) << "[node]\nid = \"usa-1\"\nbogus = 1\n";
  auto r = Cli({"status", "--config", config_});
  EXPECT_EQ(r.code, kExitInvalid);
  EXPECT_NE(r.err.find("CONFIG_INVALID"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("node.toml:3"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
}

TEST_F(NodeCommandTest, SendWithoutRecipientIsRefused) {
  auto r = Cli({"send", "--config", config_, "--portion", "(S//REL TO USA, GBR)", report_});
  EXPECT_EQ(r.code, kExitInvalid);
  EXPECT_NE(r.err.find("SEND_NO_RECIPIENT"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--to"), std::string::npos) << r.err;
}

TEST_F(NodeCommandTest, SendWithoutPortionIsRefused) {
  auto r = Cli({"send", "--config", config_, "--to", "GBR"});
  EXPECT_EQ(r.code, kExitInvalid);
  EXPECT_NE(r.err.find("SEND_NO_PORTION"), std::string::npos) << r.err;
}

TEST_F(NodeCommandTest, ForgottenLabelIsRefusedNamingPortionAndFix) {
  auto r = Cli({"send", "--config", config_, "--to", "GBR", "--portion", "", report_});
  EXPECT_EQ(r.code, kExitInvalid);
  EXPECT_NE(r.err.find("portion 1"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("has no valid marking"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("LABEL_EMPTY"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--portion \"(S//REL TO USA, GBR)\""), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nothing was sent"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
}

TEST_F(NodeCommandTest, InvalidMarkingOnLaterPortionNamesThatPortion) {
  auto r = Cli({"send", "--config", config_, "--to", "GBR,JPN", "--portion", "(S//REL TO USA, GBR)",
                report_, "--portion", "(S//REL TO ATLANTIS)", report_});
  EXPECT_EQ(r.code, kExitInvalid);
  EXPECT_NE(r.err.find("portion 2"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("LABEL_"), std::string::npos) << r.err;
  // The suggested marking releases to everyone asked for.
  EXPECT_NE(r.err.find("(S//REL TO GBR, JPN)"), std::string::npos) << r.err;
}

TEST_F(NodeCommandTest, UnknownNationIsRefused) {
  auto r = Cli({"send", "--config", config_, "--to", "GBR,XYZ", "--portion", "(U)", report_});
  EXPECT_EQ(r.code, kExitInvalid);
  EXPECT_NE(r.err.find("XYZ"), std::string::npos) << r.err;
}

TEST_F(NodeCommandTest, EmptyOrMissingFileIsRefused) {
  const auto empty = (tmp_ / "empty.txt").string();
  std::ofstream{empty};
  auto r = Cli({"send", "--config", config_, "--to", "GBR", "--portion", "(U)", empty});
  EXPECT_EQ(r.code, kExitInvalid);
  EXPECT_NE(r.err.find("SEND_PORTION_EMPTY"), std::string::npos) << r.err;
  auto m = Cli({"send", "--config", config_, "--to", "GBR", "--portion", "(U)",
                (tmp_ / "absent.txt").string()});
  EXPECT_EQ(m.code, kExitInvalid);
  EXPECT_NE(m.err.find("portion 1"), std::string::npos) << m.err;
}

TEST_F(NodeCommandTest, AsAnUnknownCodeIsRefusedBeforeAskingTheDaemon) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"inbox", "--config", config_, "--as", "XYZ"},
           {"read", "--config", config_, "abcd", "--as", "xyz"}}) {
    auto r = Cli(args);
    EXPECT_EQ(r.code, kExitInvalid) << args[0];
    EXPECT_NE(r.err.find("LABEL_UNKNOWN_CODE"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("XYZ"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("NODE_NOT_RUNNING"), std::string::npos) << r.err;
  }
  // A known code gets as far as the daemon, which is not running here.
  auto known = Cli({"inbox", "--config", config_, "--as", "deu"});
  EXPECT_NE(known.err.find("NODE_NOT_RUNNING"), std::string::npos) << known.err;
}

TEST_F(NodeCommandTest, DaemonNotRunningIsReportedWithTheSocket) {
  const std::string socket = (tmp_ / "data" / "control.sock").string();
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"status", "--config", config_},
           {"inbox", "--config", config_},
           {"read", "--config", config_, "abcd"},
           {"send", "--config", config_, "--to", "GBR", "--portion", "(U)", report_}}) {
    auto r = Cli(args);
    EXPECT_EQ(r.code, kExitInvalid) << args[0];
    EXPECT_NE(r.err.find("NODE_NOT_RUNNING"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(socket), std::string::npos) << r.err;
  }
}

TEST_F(NodeCommandTest, StaleControlSocketIsNotRunningAndFailsQuickly) {
  // A socket file left behind by a daemon that died: nothing accepts connections on it.
  const auto path = tmp_ / "data" / "control.sock";
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(path.string().size(), sizeof(addr.sun_path));
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ::close(fd);

  const auto start = std::chrono::steady_clock::now();
  auto r = Cli({"status", "--config", config_});
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.code, kExitInvalid);
  EXPECT_NE(r.err.find("NODE_NOT_RUNNING"), std::string::npos) << r.err;
  EXPECT_LT(took, std::chrono::seconds(5));
}

}  // namespace
}  // namespace tearline::node
