// NodeIdentity: a node's keys and certificates are loaded and cross-checked at start-up, and
// each mismatch is refused with a reason naming it. The coalition is made by tearline-certs
// (the shared test Coalition).
#include "tearline/node/node_identity.h"

#include <gtest/gtest.h>

#include <ctime>
#include <filesystem>
#include <string>

#include "coalition.h"
#include "tearline/node/node_config.h"

namespace tearline::node {
namespace {

using tearline::testing::Coalition;

class NodeIdentityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    coalition_ = new Coalition();
    for (auto [id, nation] : {std::pair{"usa-1", "USA"}, {"gbr-1", "GBR"}}) {
      coalition_->IssueNode(id, nation, "SECRET");
    }
  }
  static void TearDownTestSuite() {
    delete coalition_;
    coalition_ = nullptr;
  }

  static NodeConfig Config(const std::string& id, const std::string& cert,
                           const std::string& secret, const std::string& broker = "broker") {
    const auto path = coalition_->NodeConfig(id, {.broker_endpoint = "tcp://127.0.0.1:1",
                                                  .cert_id = cert,
                                                  .secret_id = secret,
                                                  .broker_cert_id = broker});
    auto c = LoadNodeConfig(path);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return *c;
  }
  static std::int64_t Now() { return static_cast<std::int64_t>(std::time(nullptr)); }

  static Coalition* coalition_;
};

Coalition* NodeIdentityTest::coalition_ = nullptr;

TEST_F(NodeIdentityTest, LoadsAMatchingIdentity) {
  auto id = NodeIdentity::Load(Config("usa-1", "usa-1", "usa-1"), Now());
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(id->node_id, "usa-1");
  EXPECT_EQ(id->nation(), "USA");
  EXPECT_EQ(id->broker_cert->node_id(), "broker");
  EXPECT_EQ(id->clearance, *id->policy->FindLevel("SECRET"));
}

TEST_F(NodeIdentityTest, RefusesMismatches) {
  EXPECT_EQ(NodeIdentity::Load(Config("usa-1", "gbr-1", "gbr-1"), Now()).status().reason(),
            "NODE_CERT_MISMATCH");
  EXPECT_EQ(NodeIdentity::Load(Config("usa-1", "usa-1", "gbr-1"), Now()).status().reason(),
            "NODE_KEY_MISMATCH");
  EXPECT_EQ(NodeIdentity::Load(Config("broker", "broker", "broker"), Now()).status().reason(),
            "NODE_CERT_ROLE");
  EXPECT_EQ(NodeIdentity::Load(Config("usa-1", "usa-1", "usa-1", "gbr-1"), Now()).status().reason(),
            "BROKER_CERT_ROLE");
}

TEST_F(NodeIdentityTest, RefusesCertificatesOutsideTheirValidity) {
  auto id = NodeIdentity::Load(Config("usa-1", "usa-1", "usa-1"), Now() + 20LL * 365 * 86400);
  EXPECT_FALSE(id.ok());
}

TEST_F(NodeIdentityTest, NamesAMissingFile) {
  auto id = NodeIdentity::Load(Config("usa-1", "usa-1", "nobody"), Now());
  ASSERT_FALSE(id.ok());
  EXPECT_NE(id.status().ToString().find("secret"), std::string::npos);
}

// previous_secret (a key rotation): loaded with the current key file's checks, never the
// current keys again.
TEST_F(NodeIdentityTest, LoadsThePreviousSecretWithTheSameChecks) {
  NodeConfig c = Config("usa-1", "usa-1", "usa-1");
  c.previous_secret = coalition_->Secret("gbr-1");  // Any other key file stands in for the old.
  auto id = NodeIdentity::Load(c, Now());
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ASSERT_TRUE(id->previous_keys.has_value());
  EXPECT_NE(id->previous_keys->encryption.public_key, id->keys.encryption.public_key);
  EXPECT_FALSE(NodeIdentity::Load(Config("usa-1", "usa-1", "usa-1"), Now())->previous_keys);

  c.previous_secret = coalition_->Secret("usa-1");
  EXPECT_EQ(NodeIdentity::Load(c, Now()).status().reason(), "NODE_PREVIOUS_KEY_CURRENT");

  const auto open = coalition_->root() / "open.secret";
  std::filesystem::copy_file(coalition_->Secret("gbr-1"), open,
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::permissions(open, std::filesystem::perms(0644));
  c.previous_secret = open;
  auto refused = NodeIdentity::Load(c, Now());
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().ToString().find("previous_secret"), std::string::npos);

  c.previous_secret = coalition_->root() / "missing.secret";
  EXPECT_FALSE(NodeIdentity::Load(c, Now()).ok());
}

}  // namespace
}  // namespace tearline::node
