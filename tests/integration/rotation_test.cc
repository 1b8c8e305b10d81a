// Key rotation with an overlap window, over real sockets with the real binaries: a recipient
// with copies queued for its old encryption key is rotated (a new certificate dropped into the
// running broker's directory, the node restarted on its new keys with previous_secret naming the
// old key file). The queued copies open, the sender is told to refresh and seals new reports to
// the new key, the old key still opens a session during the overlap, and once the old serial is
// revoked (`tearline-certs revoke --serial`) it is refused while the new one stays in force.
#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <string>

#include "tearline/identity/certificate.h"
#include "tearline/wire/wire.h"
#include "test_support.h"
#include "traffic.h"
#include "wire_client.h"

namespace tearline {
namespace {

namespace fs = std::filesystem;
using Ms = std::chrono::milliseconds;
using testing::CountAuditRecords;
using testing::WaitFor;

std::size_t Count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

class RotationTest : public testing::BrokerWireTest {
 protected:
  std::size_t Audited(const std::string& type, const std::string& needle = "") {
    return CountAuditRecords(c_.AuditLogText(), type, needle);
  }
  testing::SendOutcome Send(const std::string& name) {
    std::ofstream(c_.root() / name) << "Routine USA-GBR report " << name << ".";
    return testing::SendReport(c_, "usa-1", "GBR", "SECRET//REL TO USA, GBR",
                               (c_.root() / name).string());
  }
};

TEST_F(RotationTest, QueuedCopiesOpenAfterARotationAndTheOldSerialIsRetiredByRevocation) {
  c_.IssueNode("usa-1", "USA", "SECRET");
  c_.IssueNode("gbr-1", "GBR", "SECRET");
  StartBroker("rotation_overlap = 600\n");
  ASSERT_FALSE(HasFatalFailure());
  c_.StartNode("usa-1");
  ASSERT_FALSE(HasFatalFailure());

  // gbr-1 is offline: the copy waits in the broker, sealed to gbr-1's first encryption key.
  auto first = Send("first.txt");
  ASSERT_TRUE(first.stored()) << first.out << first.err;
  ASSERT_EQ(Audited("queued"), 1u);
  const IdentityKeys old_keys = Keys("gbr-1");
  const std::uint64_t old_serial = Cert("gbr-1").fields().serial;

  // The rotation: new certificate and keys, moved into the broker's directory whole.
  const std::size_t refreshes = Count(c_.NodeLog("usa-1"), "event=directory_updated");
  const fs::path staging = c_.root() / "staging";
  c_.Certs({"issue", "--ca", c_.ca_dir().string(), "--node", "gbr-1", "--nation", "GBR",
            "--clearance", "SECRET", "--out", staging.string()});
  fs::rename(staging / "gbr-1.secret", c_.certs_dir() / "gbr-1-next.secret");
  fs::rename(staging / "gbr-1.cert", c_.certs_dir() / "gbr-1-next.cert");
  const std::uint64_t new_serial = Cert("gbr-1-next").fields().serial;
  ASSERT_GT(new_serial, old_serial);

  // Picked up without a restart, audited, and announced: usa-1 refreshes its directory at once.
  ASSERT_TRUE(WaitFor([&] { return Audited("certificate_accepted") == 1; }, Ms(20000)))
      << c_.BrokerLog();
  EXPECT_EQ(Audited("certificate_accepted", "\"previous_serial\":" + std::to_string(old_serial)),
            1u);
  EXPECT_TRUE(WaitFor(
      [&] { return Count(c_.NodeLog("usa-1"), "event=directory_updated") > refreshes; }, Ms(20000)))
      << c_.NodeLog("usa-1");

  // During the overlap the old key still opens a session as gbr-1.
  {
    auto old_session = Connect("gbr-1", old_keys);
    ASSERT_FALSE(HasFatalFailure());
  }

  // gbr-1 restarted on its new keys, naming its previous key file: the queued copy opens.
  testing::Coalition::NodeConfigOptions rotated;
  rotated.cert_id = "gbr-1-next";
  rotated.secret_id = "gbr-1-next";
  c_.StartNode("gbr-1", rotated, "previous_secret = \"certs/gbr-1.secret\"\n");
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(WaitFor([&] { return Audited("acknowledged") == 1; }, Ms(20000)))
      << c_.NodeLog("gbr-1");
  EXPECT_EQ(Count(c_.NodeLog("gbr-1"), "event=copy_opened_with_previous_key"), 1u);
  EXPECT_EQ(Audited("failed"), 0u);

  // A new report is sealed to the new key (the node needs no previous key for it).
  auto second = Send("second.txt");
  ASSERT_TRUE(second.stored()) << second.out << second.err;
  ASSERT_TRUE(WaitFor([&] { return Audited("acknowledged") == 2; }, Ms(20000)))
      << c_.NodeLog("gbr-1");
  EXPECT_EQ(Count(c_.NodeLog("gbr-1"), "event=copy_opened_with_previous_key"), 1u);

  // The end of the overlap: the old serial alone is revoked; its key is refused, the new stays.
  c_.Certs(
      {"revoke", "--ca", c_.ca_dir().string(), "gbr-1", "--serial", std::to_string(old_serial)});
  EXPECT_TRUE(WaitFor(
      [&] {
        testing::WireClient client(ctx_, c_.endpoint(), *broker_cert_, old_keys);
        client.Send(EncodeHello(1, "gbr-1"));
        (void)client.Expect(schema::Body::Welcome, Ms(300));
        return Audited("connection_refused", "\"CERT_REVOKED\"") > 0;
      },
      Ms(20000)))
      << c_.BrokerLog();
  EXPECT_EQ(c_.NodeCli("gbr-1", "status", {}).exit_code, 0);  // Still connected, new keys.
  auto third = Send("third.txt");
  EXPECT_TRUE(third.stored()) << third.out << third.err;
  EXPECT_EQ(c_.VerifyAudit().exit_code, 0) << c_.VerifyAudit().out;
}

}  // namespace
}  // namespace tearline
