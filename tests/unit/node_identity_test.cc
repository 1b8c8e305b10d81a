// NodeIdentity: a node's keys and certificates are loaded and cross-checked at start-up, and
// each mismatch is refused with a reason naming it. The coalition is made by tearline-certs.
#include "tearline/node/node_identity.h"

#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <string>
#include <vector>

#include "tearline/node/node_config.h"
#include "test_support.h"

namespace tearline::node {
namespace {

using namespace std::chrono_literals;
using tearline::testing::BinaryPath;
using tearline::testing::RunProcess;
using tearline::testing::TempDir;

class NodeIdentityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    Certs({"init-ca", "--out", (*dir_ / "ca").string()});
    Certs({"issue", "--ca", (*dir_ / "ca").string(), "--node", "broker", "--nation", "USA",
           "--clearance", "TOP SECRET", "--role", "broker", "--out", (*dir_ / "certs").string()});
    for (auto [id, nation] : {std::pair{"usa-1", "USA"}, {"gbr-1", "GBR"}}) {
      Certs({"issue", "--ca", (*dir_ / "ca").string(), "--node", id, "--nation", nation,
             "--clearance", "SECRET", "--out", (*dir_ / "certs").string()});
    }
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static void Certs(std::vector<std::string> args) {
    args.insert(args.begin(), BinaryPath("tearline-certs").string());
    auto r = RunProcess(args, 30s);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  static NodeConfig Config(const std::string& id, const std::string& cert,
                           const std::string& secret, const std::string& broker = "broker") {
    const auto path = *dir_ / (id + "-" + cert + "-" + secret + "-" + broker + ".toml");
    std::ofstream(path) << "[node]\nid = \"" << id
                        << "\"\nbroker_endpoint = \"tcp://127.0.0.1:1\"\nbroker_certificate = "
                           "\"certs/"
                        << broker << ".cert\"\ncertificate = \"certs/" << cert
                        << ".cert\"\nsecret = \"certs/" << secret
                        << ".secret\"\nca_dir = \"ca\"\ndata_dir = \"data/" << id << "\"\n";
    auto c = LoadNodeConfig(path);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return *c;
  }
  static std::int64_t Now() { return static_cast<std::int64_t>(std::time(nullptr)); }

  static TempDir* dir_;
};

TempDir* NodeIdentityTest::dir_ = nullptr;

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

}  // namespace
}  // namespace tearline::node
