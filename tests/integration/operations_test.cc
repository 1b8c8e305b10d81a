// What supervisors and operators rely on, through the real binaries: `--check-config` /
// `check-config` with file:line errors, the exit statuses of tearline/cli/daemon_exit.h, and
// SIGTERM as a clean stop that signs a final checkpoint over the whole audit log.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>

#include "coalition.h"
#include "tearline/cli/daemon_exit.h"
#include "tearline/tlog/checkpoint.h"
#include "test_support.h"

namespace tearline {
namespace {

// Node configuration options with an unreachable broker (nothing is started).
testing::Coalition::NodeConfigOptions Options(const std::string& cert_id = "",
                                              const std::string& secret_id = "",
                                              const std::string& broker_cert_id = "broker") {
  testing::Coalition::NodeConfigOptions o;
  o.broker_endpoint = "tcp://127.0.0.1:1";
  o.cert_id = cert_id;
  o.secret_id = secret_id;
  o.broker_cert_id = broker_cert_id;
  return o;
}

using testing::BinaryPath;
using testing::Coalition;
using testing::ProcessResult;
using testing::RunProcess;
using testing::SplitLines;
using testing::WriteText;

ProcessResult Broker(std::vector<std::string> args) {
  args.insert(args.begin(), BinaryPath("tearline-broker").string());
  return RunProcess(args, std::chrono::seconds(20));
}
ProcessResult Node(std::vector<std::string> args) {
  args.insert(args.begin(), BinaryPath("tearline-node").string());
  return RunProcess(args, std::chrono::seconds(20));
}

class OperationsTest : public ::testing::Test {
 protected:
  void SetUp() override { c_.IssueNode("usa-1", "USA", "SECRET"); }
  // The broker configuration Coalition::StartBroker writes, without starting it.
  std::filesystem::path BrokerConfig(const std::string& extra = "") {
    const auto path = c_.root() / "broker-check.toml";
    WriteText(path,
              "[broker]\nid = \"broker\"\ncertificate = \"certs/broker.cert\"\n"
              "secret = \"certs/broker.secret\"\nca_dir = \"ca\"\ndirectory = \"certs\"\n"
              "data_dir = \"data/broker\"\npolicy = \"" +
                  testing::SourcePath("deploy/policy/coalition.toml").string() + "\"\n" + extra);
    return path;
  }
  Coalition c_;
};

TEST_F(OperationsTest, BrokerCheckConfigValidatesWithoutStarting) {
  auto ok = Broker({"--check-config", BrokerConfig().string()});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("valid (broker broker"), std::string::npos) << ok.out;
  EXPECT_FALSE(std::filesystem::exists(c_.broker_data())) << "check-config started something";

  auto bad = Broker({"--check-config", BrokerConfig("heartbeat_ms = 5\n").string()});
  EXPECT_EQ(bad.exit_code, cli::kExitConfig) << bad.out << bad.err;
  EXPECT_NE(bad.err.find("broker-check.toml:9:"), std::string::npos) << bad.err;
  EXPECT_EQ(SplitLines(bad.err).size(), 1u) << bad.err;

  // A file it names: the secret readable by the group is refused at the `secret` line.
  ASSERT_EQ(::chmod(c_.Secret("broker").c_str(), 0640), 0);
  auto secret = Broker({"--check-config", BrokerConfig().string()});
  ASSERT_EQ(::chmod(c_.Secret("broker").c_str(), 0600), 0);
  EXPECT_EQ(secret.exit_code, cli::kExitConfig) << secret.err;
  EXPECT_NE(secret.err.find("broker-check.toml:4: secret: KEY_FILE_PERMISSIONS"), std::string::npos)
      << secret.err;

  auto usage = Broker({});
  EXPECT_EQ(usage.exit_code, cli::kExitInvalid) << usage.err;
}

TEST_F(OperationsTest, NodeCheckConfigValidatesWithoutStarting) {
  const auto config = c_.NodeConfig("usa-1", Options());
  auto ok = Node({"check-config", "--config", config.string()});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("valid (node usa-1 of USA, broker broker)"), std::string::npos) << ok.out;
  EXPECT_FALSE(std::filesystem::exists(c_.node_data("usa-1")));

  const auto other = c_.NodeConfig("usa-1", Options("", "", "usa-1"));
  auto bad = Node({"check-config", "--config", other.string()});
  EXPECT_EQ(bad.exit_code, cli::kExitConfig) << bad.err;
  EXPECT_NE(bad.err.find("usa-1.toml:4: broker_certificate: BROKER_CERT_ROLE"), std::string::npos)
      << bad.err;
  EXPECT_EQ(SplitLines(bad.err).size(), 1u) << bad.err;
}

// A supervisor must not restart a daemon in a loop on a configuration error: both daemons exit
// EX_CONFIG (78) with one line naming the file and line.
TEST_F(OperationsTest, DaemonsExitExConfigOnAnInvalidConfiguration) {
  auto broker = Broker({"--config", BrokerConfig("bogus = 1\n").string()});
  EXPECT_EQ(broker.exit_code, cli::kExitConfig) << broker.err;
  EXPECT_NE(broker.err.find("tearline-broker: error: CONFIG_INVALID"), std::string::npos)
      << broker.err;
  EXPECT_NE(broker.err.find("broker-check.toml:9"), std::string::npos) << broker.err;
  EXPECT_EQ(SplitLines(broker.err).size(), 1u) << broker.err;

  auto missing = Broker({"--config", (c_.root() / "absent.toml").string()});
  EXPECT_EQ(missing.exit_code, cli::kExitConfig) << missing.err;

  const auto config = c_.NodeConfig("usa-1", Options());
  std::ofstream(config, std::ios::app) << "heartbeat_ms = \"often\"\n";
  auto node = Node({"run", "--config", config.string()});
  EXPECT_EQ(node.exit_code, cli::kExitConfig) << node.err;
  EXPECT_NE(node.err.find("tearline-node: error: CONFIG_INVALID"), std::string::npos) << node.err;
  EXPECT_EQ(SplitLines(node.err).size(), 1u) << node.err;
}

// SIGTERM: exit 0, the last record is broker_stop, and the checkpoint on disk covers every
// record (a final checkpoint was signed after it); the log verifies.
TEST_F(OperationsTest, SigtermIsACleanStopWithAFinalCheckpoint) {
  // No periodic checkpoint during the test: the one that covers broker_stop is the final one.
  c_.StartBroker("checkpoint_every = 100000\ncheckpoint_interval_ms = 3600000\n");
  c_.StartNode("usa-1");
  c_.StopNode("usa-1");
  ASSERT_EQ(c_.broker()->Stop(SIGTERM, std::chrono::seconds(10)), 0) << c_.BrokerLog();
  const auto lines = SplitLines(c_.AuditLogText());
  ASSERT_GE(lines.size(), 2u);
  EXPECT_NE(lines.back().find("\"broker_stop\""), std::string::npos) << lines.back();
  const std::string note = testing::ReadFile(c_.broker_data() / "audit" / "checkpoint");
  auto cp = ParseCheckpointBody(note.substr(0, note.find("\n\n") + 1));
  ASSERT_TRUE(cp.ok()) << cp.status().ToString();
  EXPECT_EQ(cp->tree_size, lines.size()) << "the final checkpoint must cover broker_stop";
  auto verify = c_.VerifyAudit();
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_NE(c_.BrokerLog().find("event=broker_stopped"), std::string::npos);
}

}  // namespace
}  // namespace tearline
