// Drives the real tearline-certs binary end to end in a scratch directory.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdint>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "test_support.h"

namespace tearline {
namespace {

namespace fs = std::filesystem;
using ::tearline::testing::BinaryPath;
using ::tearline::testing::ProcessResult;
using ::tearline::testing::RunProcess;
using ::tearline::testing::SourcePath;
using ::tearline::testing::TempDir;

ProcessResult Certs(std::vector<std::string> args) {
  std::vector<std::string> argv = {BinaryPath("tearline-certs").string()};
  argv.insert(argv.end(), args.begin(), args.end());
  // Pin the policy so the test does not depend on the environment.
  argv.push_back("--policy");
  argv.push_back(SourcePath("deploy/policy/coalition.toml").string());
  ProcessResult r = RunProcess(argv, std::chrono::seconds(30));
  EXPECT_FALSE(r.timed_out);
  return r;
}

std::vector<char> ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void WriteAll(const fs::path& p, const std::vector<char>& data) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

mode_t ModeOf(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(0, ::stat(p.c_str(), &st));
  return st.st_mode & 07777;
}

// The value of "key: value" in `show` output.
std::string Field(const std::string& text, const std::string& key) {
  const std::string needle = "\n" + key + ": ";
  const std::string padded = "\n" + text;
  const auto pos = padded.find(needle);
  if (pos == std::string::npos) return "";
  const auto start = pos + needle.size();
  return padded.substr(start, padded.find('\n', start) - start);
}

class CertsCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_ = tmp_ / "ca";
    nodes_ = tmp_ / "nodes";
    ProcessResult r = Certs({"init-ca", "--out", ca_.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  ProcessResult Issue(const std::string& id, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"issue",  "--ca",     ca_.string(),   "--node",
                                     id,       "--nation", "USA",          "--clearance",
                                     "SECRET", "--out",    nodes_.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return Certs(args);
  }

  ProcessResult Verify(const fs::path& cert, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"verify", cert.string(), "--ca", ca_.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return Certs(args);
  }

  TempDir tmp_;
  fs::path ca_;
  fs::path nodes_;
};

TEST_F(CertsCliTest, InitCaWritesRootFilesWithSafeModes) {
  EXPECT_TRUE(fs::exists(ca_ / "root.cert"));
  ASSERT_TRUE(fs::exists(ca_ / "root.secret"));
  EXPECT_EQ(ModeOf(ca_ / "root.secret"), 0600u);
  EXPECT_EQ(ModeOf(ca_) & 0077u, 0u);
  ProcessResult show = Certs({"show", (ca_ / "root.cert").string()});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_EQ(Field(show.out, "role"), "root");
  EXPECT_EQ(Field(show.out, "signing_key"), Field(show.out, "issuer_key"));
  EXPECT_EQ(Verify(ca_ / "root.cert").exit_code, 0);
  // A second init into the same directory must not replace the root.
  ProcessResult again = Certs({"init-ca", "--out", ca_.string()});
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.err.find("CA_EXISTS"), std::string::npos) << again.err;
}

TEST_F(CertsCliTest, IssueShowVerify) {
  ProcessResult r = Issue("usa-1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const fs::path cert = nodes_ / "usa-1.cert";
  const fs::path secret = nodes_ / "usa-1.secret";
  ASSERT_TRUE(fs::exists(cert));
  ASSERT_TRUE(fs::exists(secret));
  EXPECT_EQ(ModeOf(secret), 0600u);
  ProcessResult show = Certs({"show", cert.string()});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_EQ(Field(show.out, "role"), "node");
  EXPECT_EQ(Field(show.out, "node_id"), "usa-1");
  EXPECT_EQ(Field(show.out, "nation"), "USA");
  EXPECT_EQ(Field(show.out, "clearance"), "SECRET");
  EXPECT_EQ(Field(show.out, "serial"), "2");
  // The three keys are distinct.
  EXPECT_NE(Field(show.out, "signing_key"), Field(show.out, "encryption_key"));
  EXPECT_NE(Field(show.out, "encryption_key"), Field(show.out, "transport_key"));
  // The CA keeps a record of what it issued.
  EXPECT_TRUE(fs::exists(ca_ / "issued" / "usa-1.2.cert"));

  ProcessResult v = Verify(cert);
  EXPECT_EQ(v.exit_code, 0) << v.err;
  EXPECT_NE(v.out.find("VALID node usa-1"), std::string::npos) << v.out;
}

TEST_F(CertsCliTest, BrokerRole) {
  ASSERT_EQ(Issue("broker", {"--broker"}).exit_code, 0);
  ProcessResult show = Certs({"show", (nodes_ / "broker.cert").string()});
  EXPECT_EQ(Field(show.out, "role"), "broker");
  ASSERT_EQ(Issue("broker-2", {"--role", "broker"}).exit_code, 0);
  show = Certs({"show", (nodes_ / "broker-2.cert").string()});
  EXPECT_EQ(Field(show.out, "role"), "broker");
  EXPECT_EQ(Issue("x", {"--role", "root"}).exit_code, 2);
  EXPECT_EQ(Issue("x", {"--role", "admin"}).exit_code, 2);
}

TEST_F(CertsCliTest, ExpiredCertificateIsRejected) {
  const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
  // A root created twenty days ago issued a one-day certificate ten days ago.
  ca_ = tmp_ / "older-ca";
  ASSERT_EQ(Certs({"init-ca", "--out", ca_.string(), "--now", std::to_string(now - 20 * 86400)})
                .exit_code,
            0);
  ASSERT_EQ(Issue("old", {"--days", "1", "--now", std::to_string(now - 10 * 86400)}).exit_code, 0);
  ProcessResult v = Verify(nodes_ / "old.cert");
  EXPECT_EQ(v.exit_code, 1);
  EXPECT_NE(v.out.find("CERT_EXPIRED"), std::string::npos) << v.out << v.err;
  v = Verify(nodes_ / "old.cert", {"--now", std::to_string(now - 10 * 86400 + 60)});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  // And a fresh certificate is expired once its window has passed.
  ASSERT_EQ(Issue("fresh", {"--days", "2"}).exit_code, 0);
  EXPECT_EQ(Verify(nodes_ / "fresh.cert").exit_code, 0);
  v = Verify(nodes_ / "fresh.cert", {"--now", std::to_string(now + 3 * 86400)});
  EXPECT_EQ(v.exit_code, 1);
  EXPECT_NE(v.out.find("CERT_EXPIRED"), std::string::npos) << v.out;
  v = Verify(nodes_ / "fresh.cert", {"--now", std::to_string(now - 86400)});
  EXPECT_EQ(v.exit_code, 1);
  EXPECT_NE(v.out.find("CERT_NOT_YET_VALID"), std::string::npos) << v.out;
}

TEST_F(CertsCliTest, RevokedCertificateIsRejectedAndReissueRotatesKeys) {
  ASSERT_EQ(Issue("usa-1").exit_code, 0);
  ASSERT_EQ(Issue("gbr-1").exit_code, 0);
  const std::string first_show = Certs({"show", (nodes_ / "usa-1.cert").string()}).out;
  const std::vector<char> first_secret = ReadAll(nodes_ / "usa-1.secret");
  const fs::path first_copy = tmp_ / "usa-1.first.cert";
  fs::copy_file(nodes_ / "usa-1.cert", first_copy);

  ProcessResult rv = Certs({"revoke", "--ca", ca_.string(), "usa-1"});
  ASSERT_EQ(rv.exit_code, 0) << rv.err;
  ASSERT_TRUE(fs::exists(ca_ / "revoked.list"));
  ProcessResult v = Verify(first_copy);
  EXPECT_EQ(v.exit_code, 1);
  EXPECT_NE(v.out.find("CERT_REVOKED"), std::string::npos) << v.out << v.err;
  EXPECT_EQ(Verify(nodes_ / "gbr-1.cert").exit_code, 0);  // Others unaffected.

  // Re-issuing rotates every key and yields a new, valid serial.
  ASSERT_EQ(Issue("usa-1").exit_code, 0);
  const std::string second_show = Certs({"show", (nodes_ / "usa-1.cert").string()}).out;
  EXPECT_NE(Field(first_show, "serial"), Field(second_show, "serial"));
  for (const char* key : {"signing_key", "encryption_key", "transport_key"}) {
    EXPECT_NE(Field(first_show, key), Field(second_show, key)) << key;
  }
  EXPECT_NE(first_secret, ReadAll(nodes_ / "usa-1.secret"));
  EXPECT_EQ(ModeOf(nodes_ / "usa-1.secret"), 0600u);
  EXPECT_EQ(Verify(nodes_ / "usa-1.cert").exit_code, 0);
  EXPECT_EQ(Verify(first_copy).exit_code, 1);

  // Revoking again covers the new serial as well, with a higher sequence.
  ASSERT_EQ(Certs({"revoke", "--ca", ca_.string(), "usa-1"}).exit_code, 0);
  EXPECT_EQ(Verify(nodes_ / "usa-1.cert").exit_code, 1);
  ProcessResult list = Certs({"show", (ca_ / "revoked.list").string()});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(Field(list.out, "sequence"), "2");
  EXPECT_EQ(Field(list.out, "entries"), "2");

  EXPECT_EQ(Certs({"revoke", "--ca", ca_.string(), "never-issued"}).exit_code, 2);
  EXPECT_EQ(Certs({"revoke", "--ca", ca_.string(), "root"}).exit_code, 2);
}

TEST_F(CertsCliTest, RevokeSerialRetiresTheOldCertificateOfARotationOnly) {
  ASSERT_EQ(Issue("usa-1").exit_code, 0);
  const std::string old_serial =
      Field(Certs({"show", (nodes_ / "usa-1.cert").string()}).out, "serial");
  const fs::path old_copy = tmp_ / "usa-1.old.cert";
  fs::copy_file(nodes_ / "usa-1.cert", old_copy);
  ASSERT_EQ(Issue("usa-1").exit_code, 0);  // The rotation: a new serial, new keys.
  const std::string new_serial =
      Field(Certs({"show", (nodes_ / "usa-1.cert").string()}).out, "serial");
  ASSERT_NE(old_serial, new_serial);

  ProcessResult rv = Certs({"revoke", "--ca", ca_.string(), "usa-1", "--serial", old_serial});
  ASSERT_EQ(rv.exit_code, 0) << rv.err;
  EXPECT_NE(rv.out.find("revoked usa-1 serial " + old_serial + "\n"), std::string::npos) << rv.out;
  ProcessResult v = Verify(old_copy);
  EXPECT_EQ(v.exit_code, 1);
  EXPECT_NE(v.out.find("CERT_REVOKED"), std::string::npos) << v.out << v.err;
  EXPECT_EQ(Verify(nodes_ / "usa-1.cert").exit_code, 0);  // The new one stays in force.
  ProcessResult list = Certs({"show", (ca_ / "revoked.list").string()});
  EXPECT_EQ(Field(list.out, "entries"), "1");

  // Again: nothing new, still exit 0; a serial never issued for the id is refused.
  rv = Certs({"revoke", "--ca", ca_.string(), "usa-1", "--serial", old_serial});
  EXPECT_EQ(rv.exit_code, 0) << rv.err;
  EXPECT_NE(rv.out.find("already revoked"), std::string::npos) << rv.out;
  rv = Certs({"revoke", "--ca", ca_.string(), "usa-1", "--serial", "999"});
  EXPECT_EQ(rv.exit_code, 2);
  EXPECT_NE(rv.err.find("CERTS_NOT_ISSUED"), std::string::npos) << rv.err;
  EXPECT_EQ(Verify(nodes_ / "usa-1.cert").exit_code, 0);
}

TEST_F(CertsCliTest, CertificateOfAnotherRootIsRejected) {
  ASSERT_EQ(Issue("usa-1").exit_code, 0);
  const fs::path other_ca = tmp_ / "other-ca";
  ASSERT_EQ(Certs({"init-ca", "--out", other_ca.string()}).exit_code, 0);
  ProcessResult v = Certs({"verify", (nodes_ / "usa-1.cert").string(), "--ca", other_ca.string()});
  EXPECT_EQ(v.exit_code, 1);
  EXPECT_NE(v.out.find("CERT_WRONG_ROOT"), std::string::npos) << v.out << v.err;
  // Nor is the other root's own certificate trusted by the first CA.
  v = Verify(other_ca / "root.cert");
  EXPECT_EQ(v.exit_code, 1);
  EXPECT_NE(v.out.find("CERT_WRONG_ROOT"), std::string::npos) << v.out;
}

TEST_F(CertsCliTest, FlippingAnyByteOfACertificateFileNeverVerifies) {
  ASSERT_EQ(Issue("usa-1").exit_code, 0);
  const std::vector<char> good = ReadAll(nodes_ / "usa-1.cert");
  ASSERT_FALSE(good.empty());
  const fs::path tampered = tmp_ / "tampered.cert";
  for (std::size_t i = 0; i < good.size(); ++i) {
    std::vector<char> bad = good;
    bad[i] = static_cast<char>(~static_cast<unsigned char>(bad[i]));
    WriteAll(tampered, bad);
    ProcessResult v = Verify(tampered);
    ASSERT_EQ(v.exit_code, 1) << "byte " << i << ": " << v.out << v.err;
  }
  // Truncated and extended files fail too.
  WriteAll(tampered, std::vector<char>(good.begin(), good.end() - 1));
  EXPECT_EQ(Verify(tampered).exit_code, 1);
  std::vector<char> longer = good;
  longer.push_back(0);
  WriteAll(tampered, longer);
  EXPECT_EQ(Verify(tampered).exit_code, 1);
}

TEST_F(CertsCliTest, SecretFileReadableByOthersIsRefused) {
  ASSERT_EQ(::chmod((ca_ / "root.secret").c_str(), 0644), 0);
  ProcessResult r = Issue("usa-1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("KEY_FILE_PERMISSIONS"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("chmod 600 " + (ca_ / "root.secret").string()), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(nodes_ / "usa-1.cert"));
  ASSERT_EQ(::chmod((ca_ / "root.secret").c_str(), 0600), 0);
  EXPECT_EQ(Issue("usa-1").exit_code, 0);
}

TEST_F(CertsCliTest, RefusesWhatThePolicyDoesNotDefine) {
  std::vector<std::string> base = {"issue", "--ca",  ca_.string(),   "--node",
                                   "n1",    "--out", nodes_.string()};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return Certs(args);
  };
  ProcessResult r = with({"--nation", "ZZZ", "--clearance", "SECRET"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("CERTS_UNKNOWN_NATION"), std::string::npos) << r.err;
  r = with({"--nation", "USA", "--clearance", "COSMIC"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("CERTS_UNKNOWN_LEVEL"), std::string::npos) << r.err;
  // Level abbreviations resolve to the canonical name.
  r = with({"--nation", "USA", "--clearance", "ts"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Field(Certs({"show", (nodes_ / "n1.cert").string()}).out, "clearance"), "TOP SECRET");
}

TEST_F(CertsCliTest, CustomPolicyFile) {
  const fs::path policy = tmp_ / "tiny.toml";
  {
    std::ofstream out(policy);
    out << "[policy]\nname = \"tiny\"\nversion = \"1\"\n\n"
           "[[classification]]\nname = \"UNCLASSIFIED\"\nabbrev = \"U\"\n\n"
           "[[classification]]\nname = \"SECRET\"\nabbrev = \"S\"\n\n"
           "[marking]\nlisted_first = [\"AAA\"]\n\n"
           "[nations]\nAAA = \"Aland\"\n";
  }
  auto run = [&](const std::string& nation) {
    // The last --policy wins over the default appended by Certs().
    std::vector<std::string> argv = {BinaryPath("tearline-certs").string(),
                                     "issue",
                                     "--ca",
                                     ca_.string(),
                                     "--node",
                                     "n1",
                                     "--nation",
                                     nation,
                                     "--clearance",
                                     "SECRET",
                                     "--out",
                                     nodes_.string(),
                                     "--policy",
                                     policy.string()};
    return RunProcess(argv, std::chrono::seconds(30));
  };
  ProcessResult r = run("USA");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.err.find("CERTS_UNKNOWN_NATION"), std::string::npos) << r.err;
  r = run("AAA");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // Verified against the shipped policy, nation AAA is unknown.
  ProcessResult v = Verify(nodes_ / "n1.cert");
  EXPECT_EQ(v.exit_code, 1);
  EXPECT_NE(v.out.find("CERT_UNKNOWN_NATION"), std::string::npos) << v.out;
  // A policy file that does not exist is a usage error.
  r = RunProcess({BinaryPath("tearline-certs").string(), "verify", (nodes_ / "n1.cert").string(),
                  "--ca", ca_.string(), "--policy", (tmp_ / "absent.toml").string()},
                 std::chrono::seconds(30));
  EXPECT_EQ(r.exit_code, 2);
}

TEST_F(CertsCliTest, RejectsBadNodeIdsAndUsage) {
  for (const char* id : {"../evil", "USA", "a_b", "", "root", "a/b"}) {
    ProcessResult r = Issue(id);
    EXPECT_EQ(r.exit_code, 2) << id;
  }
  EXPECT_EQ(Issue(std::string(65, 'a')).exit_code, 2);
  EXPECT_EQ(Issue(std::string(64, 'a')).exit_code, 0);
  EXPECT_FALSE(fs::exists(tmp_ / "evil.cert"));
  EXPECT_EQ(Certs({"frobnicate"}).exit_code, 2);
  EXPECT_EQ(Certs({"issue", "--ca", ca_.string()}).exit_code, 2);
  EXPECT_EQ(Certs({"verify", (tmp_ / "absent.cert").string(), "--ca", ca_.string()}).exit_code, 2);
  EXPECT_EQ(Certs({"show", (ca_ / "root.secret").string()}).exit_code, 2);
}

}  // namespace
}  // namespace tearline
