#include "tearline/identity/local_identity.h"

#include <gtest/gtest.h>

#include "tearline/base/file_util.h"
#include "tearline/crypto/key_file.h"
#include "test_support.h"

namespace tearline {
namespace {

using ::tearline::testing::SourcePath;
using ::tearline::testing::TempDir;

constexpr std::int64_t kDay = 86400;

// A coalition root, a broker and a node written to a temporary directory as the daemons
// expect them: ca/root.cert, NAME.cert and NAME.secret (0600).
class LocalIdentityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    now_ = 1'800'000'000;
    root_ = GenerateSigningKeyPair().value();
    std::filesystem::create_directories(dir_.path() / "ca");
    CertificateFields f;
    f.serial = 1;
    f.role = CertRole::kRoot;
    f.node_id = "root";
    f.not_before = now_ - kDay;
    f.not_after = now_ + 365 * kDay;
    f.signing_key = root_.public_key;
    Write(dir_.path() / "ca" / "root.cert", IssueCertificate(root_, f).value());
    Issue("broker", CertRole::kBroker, 2);
    Issue("usa-1", CertRole::kNode, 3);
  }

  void Write(const std::filesystem::path& path, const Certificate& cert) {
    ASSERT_TRUE(WriteFileAtomic(path, cert.encoded(), 0644).ok());
  }

  void Issue(const std::string& id, CertRole role, std::uint64_t serial) {
    auto keys = GenerateIdentityKeys().value();
    CertificateFields f;
    f.serial = serial;
    f.role = role;
    f.node_id = id;
    f.nation = "USA";
    f.clearance = "SECRET";
    f.not_before = now_ - 10;
    f.not_after = now_ + 30 * kDay;
    f.signing_key = keys.signing.public_key;
    f.encryption_key = keys.encryption.public_key;
    f.transport_key = keys.transport.public_key;
    Write(dir_ / (id + ".cert"), IssueCertificate(root_, f).value());
    ASSERT_TRUE(WriteIdentitySecret(dir_ / (id + ".secret"), keys, true).ok());
  }

  LocalIdentityFiles Files(const std::string& cert, const std::string& secret) const {
    return {SourcePath("deploy/policy/coalition.toml"), dir_.path() / "ca", dir_ / (cert + ".cert"),
            dir_ / (secret + ".secret")};
  }

  TempDir dir_;
  std::int64_t now_ = 0;
  SigningKeyPair root_;
};

TEST_F(LocalIdentityTest, LoadsAMatchingIdentity) {
  auto id = LoadLocalIdentity(Files("usa-1", "usa-1"), CertRole::kNode, "usa-1", now_);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(id->certificate.node_id(), "usa-1");
  EXPECT_EQ(id->keys.transport.public_key, id->certificate.fields().transport_key);
  ASSERT_NE(id->trust, nullptr);
  ASSERT_NE(id->policy, nullptr);
  auto broker = LoadLocalIdentity(Files("broker", "broker"), CertRole::kBroker, std::nullopt, now_);
  ASSERT_TRUE(broker.ok()) << broker.status().ToString();
}

TEST_F(LocalIdentityTest, RefusesTheWrongRoleWithTheRolesReason) {
  auto as_node = LoadLocalIdentity(Files("broker", "broker"), CertRole::kNode, std::nullopt, now_);
  ASSERT_FALSE(as_node.ok());
  EXPECT_EQ(as_node.status().reason(), "NODE_CERT_ROLE");
  auto as_broker =
      LoadLocalIdentity(Files("usa-1", "usa-1"), CertRole::kBroker, std::nullopt, now_);
  ASSERT_FALSE(as_broker.ok());
  EXPECT_EQ(as_broker.status().reason(), "BROKER_CERT_ROLE");
}

TEST_F(LocalIdentityTest, RefusesAnotherIdentitysSecret) {
  auto id = LoadLocalIdentity(Files("usa-1", "broker"), CertRole::kNode, "usa-1", now_);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().reason(), "NODE_KEY_MISMATCH");
  EXPECT_NE(id.status().message().find("broker.secret"), std::string::npos);
}

TEST_F(LocalIdentityTest, RefusesACertificateForAnotherId) {
  auto id = LoadLocalIdentity(Files("usa-1", "usa-1"), CertRole::kNode, "usa-2", now_);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().reason(), "NODE_CERT_MISMATCH");
}

TEST_F(LocalIdentityTest, RefusesAnExpiredCertificate) {
  auto id = LoadLocalIdentity(Files("usa-1", "usa-1"), CertRole::kNode, "usa-1", now_ + 31 * kDay);
  ASSERT_FALSE(id.ok());
  EXPECT_NE(id.status().message().find("usa-1.cert"), std::string::npos);
}

TEST_F(LocalIdentityTest, MissingFilesAreNamed) {
  auto id = LoadLocalIdentity(Files("usa-1", "nobody"), CertRole::kNode, "usa-1", now_);
  ASSERT_FALSE(id.ok());
  EXPECT_NE(id.status().message().find("nobody.secret"), std::string::npos);
}

}  // namespace
}  // namespace tearline
