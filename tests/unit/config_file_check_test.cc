#include "tearline/identity/config_file_check.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "coalition.h"
#include "tearline/base/clock.h"

namespace tearline {
namespace {

using testing::Coalition;
using testing::WriteText;

class ConfigFileCheckTest : public ::testing::Test {
 protected:
  // A [node] section naming each file on its own line: policy 2, ca_dir 3, certificate 4,
  // secret 5, data_dir 6.
  ConfigReader Reader() {
    const auto path = c_.root() / "check.toml";
    WriteText(path,
              "[node]\npolicy = \"p\"\nca_dir = \"ca\"\ncertificate = \"c\"\nsecret = \"s\"\n"
              "data_dir = \"d\"\n");
    auto r = ConfigReader::Open(path, "node");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return std::move(r).value();
  }
  LocalIdentityFiles Files(const std::string& cert_id, const std::string& secret_id) {
    return {testing::SourcePath("deploy/policy/coalition.toml"), c_.ca_dir(), c_.Cert(cert_id),
            c_.Secret(secret_id)};
  }
  Coalition c_;
};

TEST_F(ConfigFileCheckTest, AValidIdentityLoads) {
  c_.IssueNode("usa-1", "USA", "SECRET");
  auto id = CheckLocalIdentity(Reader(), Files("usa-1", "usa-1"), CertRole::kNode, "usa-1",
                               SystemClock::Get().UnixNow());
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(id->certificate.fields().node_id, "usa-1");
}

// Each failure is reported at the line of the key naming the file at fault, with the loader's
// own reason kept in the text.
TEST_F(ConfigFileCheckTest, FailuresPointAtTheKeyNamingTheFile) {
  c_.IssueNode("usa-1", "USA", "SECRET");
  c_.IssueNode("gbr-1", "GBR", "SECRET");
  const auto now = SystemClock::Get().UnixNow();
  auto reader = Reader();

  auto wrong_keys =
      CheckLocalIdentity(reader, Files("usa-1", "gbr-1"), CertRole::kNode, "usa-1", now);
  ASSERT_FALSE(wrong_keys.ok());
  EXPECT_EQ(wrong_keys.status().reason(), "CONFIG_INVALID");
  EXPECT_NE(wrong_keys.status().message().find("check.toml:5: secret: NODE_KEY_MISMATCH"),
            std::string::npos)
      << wrong_keys.status().ToString();

  auto wrong_id =
      CheckLocalIdentity(reader, Files("usa-1", "usa-1"), CertRole::kNode, "usa-2", now);
  ASSERT_FALSE(wrong_id.ok());
  EXPECT_NE(wrong_id.status().message().find("check.toml:4: certificate: NODE_CERT_MISMATCH"),
            std::string::npos)
      << wrong_id.status().ToString();

  auto files = Files("usa-1", "usa-1");
  files.ca_dir = c_.root() / "no-such-ca";
  auto no_ca = CheckLocalIdentity(reader, files, CertRole::kNode, "usa-1", now);
  ASSERT_FALSE(no_ca.ok());
  EXPECT_NE(no_ca.status().message().find("check.toml:3: ca_dir:"), std::string::npos)
      << no_ca.status().ToString();

  files = Files("usa-1", "usa-1");
  files.policy = c_.root() / "no-such-policy.toml";
  auto no_policy = CheckLocalIdentity(reader, files, CertRole::kNode, "usa-1", now);
  ASSERT_FALSE(no_policy.ok());
  EXPECT_NE(no_policy.status().message().find("check.toml:2: policy:"), std::string::npos)
      << no_policy.status().ToString();

  ASSERT_EQ(::chmod(c_.Secret("usa-1").c_str(), 0640), 0);
  auto readable =
      CheckLocalIdentity(reader, Files("usa-1", "usa-1"), CertRole::kNode, "usa-1", now);
  ASSERT_FALSE(readable.ok());
  EXPECT_NE(readable.status().message().find("check.toml:5: secret: KEY_FILE_PERMISSIONS"),
            std::string::npos)
      << readable.status().ToString();
}

TEST_F(ConfigFileCheckTest, StateDirMustExistOrBeCreatable) {
  auto reader = Reader();
  EXPECT_TRUE(CheckStateDir(reader, "data_dir", c_.root()).ok());
  // Not there yet: the daemon will create it (and its parents) under a writable directory.
  EXPECT_TRUE(CheckStateDir(reader, "data_dir", c_.root() / "a" / "b").ok());
  EXPECT_FALSE(std::filesystem::exists(c_.root() / "a")) << "checking must create nothing";

  WriteText(c_.root() / "plain-file", "x");
  for (const auto& bad : {c_.root() / "plain-file", c_.root() / "plain-file" / "under"}) {
    Status s = CheckStateDir(reader, "data_dir", bad);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_EQ(s.reason(), "CONFIG_INVALID");
    EXPECT_NE(s.message().find("check.toml:6: data_dir: CONFIG_STATE_DIR"), std::string::npos)
        << s.ToString();
  }
}

TEST_F(ConfigFileCheckTest, IdentityErrorKeyFollowsTheLoadersContext) {
  EXPECT_EQ(IdentityErrorKey(InvalidArgument("POLICY_PARSE", "policy: x")), "policy");
  EXPECT_EQ(IdentityErrorKey(NotFound("CA_ROOT", "ca_dir /x: missing")), "ca_dir");
  EXPECT_EQ(IdentityErrorKey(InvalidArgument("KEY_FILE_FORMAT", "secret /s: bad")), "secret");
  EXPECT_EQ(IdentityErrorKey(InvalidArgument("BROKER_KEY_MISMATCH", "secret file /s ...")),
            "secret");
  EXPECT_EQ(IdentityErrorKey(InvalidArgument("CERT_EXPIRED", "own certificate /c: expired")),
            "certificate");
}

}  // namespace
}  // namespace tearline
