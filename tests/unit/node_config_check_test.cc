#include "tearline/node/node_config_check.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "coalition.h"
#include "tearline/base/clock.h"

namespace tearline::node {
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

using testing::Coalition;

class NodeConfigCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    c_.IssueNode("usa-1", "USA", "SECRET");
    c_.IssueNode("gbr-1", "GBR", "SECRET");
  }
  Result<NodeConfigSummary> Check(const std::filesystem::path& path) {
    return CheckNodeConfig(path, SystemClock::Get().UnixNow());
  }
  Coalition c_;
};

// Coalition::NodeConfig lines: broker_certificate 4, certificate 5, secret 6, data_dir 8.
TEST_F(NodeConfigCheckTest, AValidConfigurationIsSummarised) {
  auto ok = Check(c_.NodeConfig("usa-1", Options()));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->id, "usa-1");
  EXPECT_EQ(ok->nation, "USA");
  EXPECT_EQ(ok->broker_id, "broker");
  EXPECT_FALSE(std::filesystem::exists(c_.node_data("usa-1"))) << "checking must create nothing";
}

TEST_F(NodeConfigCheckTest, ABrokerCertificateThatIsNotTheBrokersIsRefusedAtItsLine) {
  auto r = Check(c_.NodeConfig("usa-1", Options("", "", "gbr-1")));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "CONFIG_INVALID");
  EXPECT_NE(r.status().message().find("usa-1.toml:4: broker_certificate: BROKER_CERT_ROLE"),
            std::string::npos)
      << r.status().ToString();
}

TEST_F(NodeConfigCheckTest, AnotherNodesCertificateOrSecretIsRefusedAtItsLine) {
  auto cert = Check(c_.NodeConfig("usa-1", Options("gbr-1")));
  ASSERT_FALSE(cert.ok());
  EXPECT_NE(cert.status().message().find("usa-1.toml:5: certificate:"), std::string::npos)
      << cert.status().ToString();
  auto secret = Check(c_.NodeConfig("usa-1", Options("", "gbr-1")));
  ASSERT_FALSE(secret.ok());
  EXPECT_NE(secret.status().message().find("usa-1.toml:6: secret: NODE_KEY_MISMATCH"),
            std::string::npos)
      << secret.status().ToString();
}

}  // namespace
}  // namespace tearline::node
