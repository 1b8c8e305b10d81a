#include "tearline/broker/broker_config_check.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "coalition.h"
#include "tearline/base/clock.h"

namespace tearline::broker {
namespace {

using testing::Coalition;
using testing::WriteText;

class BrokerConfigCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    c_.IssueNode("usa-1", "USA", "SECRET");
    c_.IssueNode("gbr-1", "GBR", "SECRET");
  }
  // certificate is on line 3, secret 4, directory 6, data_dir 7.
  std::filesystem::path Config(const std::string& certificate = "certs/broker.cert",
                               const std::string& data_dir = "data/broker",
                               const std::string& extra = "") {
    const auto path = c_.root() / "broker.toml";
    WriteText(path, "[broker]\nid = \"broker\"\ncertificate = \"" + certificate +
                        "\"\nsecret = \"certs/broker.secret\"\nca_dir = \"ca\"\n"
                        "directory = \"certs\"\ndata_dir = \"" +
                        data_dir + "\"\npolicy = \"" +
                        testing::SourcePath("deploy/policy/coalition.toml").string() + "\"\n" +
                        extra);
    return path;
  }
  Result<BrokerConfigSummary> Check(const std::filesystem::path& path) {
    return CheckBrokerConfig(path, SystemClock::Get().UnixNow());
  }
  Coalition c_;
};

TEST_F(BrokerConfigCheckTest, AValidConfigurationIsSummarised) {
  auto ok = Check(Config());
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->id, "broker");
  // The directory holds the broker's own certificate and two nodes'.
  EXPECT_GE(ok->directory_nodes, 2u);
  EXPECT_FALSE(std::filesystem::exists(c_.broker_data())) << "checking must create nothing";
}

TEST_F(BrokerConfigCheckTest, ErrorsNameTheFileAndLine) {
  auto node_cert = Check(Config("certs/usa-1.cert"));
  ASSERT_FALSE(node_cert.ok());
  EXPECT_EQ(node_cert.status().reason(), "CONFIG_INVALID");
  EXPECT_NE(node_cert.status().message().find("broker.toml:3: certificate:"), std::string::npos)
      << node_cert.status().ToString();

  WriteText(c_.root() / "occupied", "a file, not a directory");
  auto data_dir = Check(Config("certs/broker.cert", "occupied/broker"));
  ASSERT_FALSE(data_dir.ok());
  EXPECT_NE(data_dir.status().message().find("broker.toml:7: data_dir: CONFIG_STATE_DIR"),
            std::string::npos)
      << data_dir.status().ToString();

  auto unknown = Check(Config("certs/broker.cert", "data/broker", "max_cats = 3\n"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("broker.toml:9:"), std::string::npos)
      << unknown.status().ToString();

  auto missing = Check(c_.root() / "absent.toml");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().reason(), "CONFIG_NOT_FOUND");
}

TEST_F(BrokerConfigCheckTest, TheMetricsFileMustBeWritableWhereItIsNamed) {
  WriteText(c_.root() / "occupied", "a file, not a directory");
  auto blocked = Check(Config("certs/broker.cert", "data/broker",
                              "metrics_file = \"occupied/tearline_broker.prom\"\n"));
  ASSERT_FALSE(blocked.ok());
  EXPECT_NE(blocked.status().message().find("broker.toml:9: metrics_file:"), std::string::npos)
      << blocked.status().ToString();
  auto interval = Check(Config("certs/broker.cert", "data/broker", "metrics_interval = 0\n"));
  ASSERT_FALSE(interval.ok());
  EXPECT_NE(interval.status().message().find("broker.toml:9:"), std::string::npos)
      << interval.status().ToString();
  EXPECT_TRUE(Check(Config("certs/broker.cert", "data/broker",
                           "metrics_file = \"tearline_broker.prom\"\nmetrics_interval = 5\n"))
                  .ok());
}

TEST_F(BrokerConfigCheckTest, AMissingDirectoryIsReportedAtItsKey) {
  std::filesystem::rename(c_.certs_dir(), c_.root() / "moved");
  WriteText(c_.root() / "broker.toml",
            "[broker]\ncertificate = \"moved/broker.cert\"\nsecret = \"moved/broker.secret\"\n"
            "ca_dir = \"ca\"\ndirectory = \"certs\"\ndata_dir = \"data/broker\"\npolicy = \"" +
                testing::SourcePath("deploy/policy/coalition.toml").string() + "\"\n");
  auto r = Check(c_.root() / "broker.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("broker.toml:5: directory:"), std::string::npos)
      << r.status().ToString();
}

}  // namespace
}  // namespace tearline::broker
