// Revocation and expiry take effect while the broker runs, and never roll back: a revoked or
// expired node that keeps talking is refused (frames and new sessions) and audited, sparingly;
// other nodes see it gone from their directories at once (the DirectoryChanged notice), not at
// their periodic refresh; an older revoked.list restored later, even across restarts of the
// broker and the nodes, un-revokes nobody; and what was accepted before stays verifiable.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>

#include "hostile_identity.h"
#include "test_support.h"
#include "traffic.h"
#include "wire_client.h"

namespace tearline {
namespace {

using Ms = std::chrono::milliseconds;
using testing::CountAuditRecords;
using testing::DirectoryNodes;
using testing::WaitFor;

std::int64_t Now() { return static_cast<std::int64_t>(std::time(nullptr)); }

class RevocationLiveTest : public testing::BrokerWireTest {
 protected:
  std::size_t Audited(const std::string& type, const std::string& reason) {
    return CountAuditRecords(c_.AuditLogText(), type, "\"" + reason + "\"");
  }
  // Waits until `id`'s directory holds `count` nodes; returns how long that took.
  Ms WaitForDirectory(const std::string& id, int count, Ms limit) {
    const auto start = std::chrono::steady_clock::now();
    EXPECT_TRUE(WaitFor([&] { return DirectoryNodes(c_, id) == count; }, limit))
        << id << " directory has " << DirectoryNodes(c_, id) << " nodes, not " << count;
    return std::chrono::duration_cast<Ms>(std::chrono::steady_clock::now() - start);
  }
};

TEST_F(RevocationLiveTest, RevokedWhileConnectedIsRefusedAtOnceAndNeverRollsBack) {
  for (auto [id, nation] :
       {std::pair{"usa-1", "USA"}, std::pair{"gbr-1", "GBR"}, std::pair{"jpn-1", "JPN"}}) {
    c_.IssueNode(id, nation, "SECRET");
  }
  // An older list (sequence 1, revoking jpn-1), kept to be restored later.
  c_.Certs({"revoke", "--ca", c_.ca_dir().string(), "jpn-1"});
  const auto list = c_.ca_dir() / "revoked.list";
  std::filesystem::copy_file(list, c_.root() / "older.list");

  StartBroker();
  ASSERT_FALSE(HasFatalFailure());
  c_.StartNode("usa-1");
  c_.StartNode("gbr-1");
  WaitForDirectory("gbr-1", 2, Ms(5000));
  // A report usa-1 sends before its revocation.
  std::ofstream(c_.root() / "r.txt") << "Routine USA-GBR report.";
  auto before = testing::SendReport(c_, "usa-1", "GBR", "SECRET//REL TO USA, GBR",
                                    (c_.root() / "r.txt").string());
  ASSERT_TRUE(before.stored()) << before.out << before.err;
  c_.StopNode("usa-1");

  // usa-1's keys, connected and welcomed, then revoked while connected.
  auto usa = Keys("usa-1");
  auto hostile = Connect("usa-1", usa);
  ASSERT_FALSE(HasFatalFailure());
  c_.Certs({"revoke", "--ca", c_.ca_dir().string(), "usa-1"});
  const auto revoked_at = std::chrono::steady_clock::now();

  // Its next frames are refused with the certificate reason, within the broker's check period.
  // (The bounds leave room for sanitizer builds; the figures printed below are what it took.)
  testing::Refusal refusal = testing::PingUntilRefused(*hostile, Ms(5000));
  EXPECT_EQ(refusal.reason, "CERT_REVOKED");
  EXPECT_LT(refusal.after, Ms(3000));
  // gbr-1 sees usa-1 gone well before its 60 s refresh.
  WaitForDirectory("gbr-1", 1, Ms(6000));
  const auto seen_by_gbr =
      std::chrono::duration_cast<Ms>(std::chrono::steady_clock::now() - revoked_at);
  EXPECT_LT(seen_by_gbr, Ms(5000));
  std::printf("revocation: first frame refused after %lld ms, gbr-1 directory after %lld ms\n",
              static_cast<long long>(refusal.after.count()),
              static_cast<long long>(seen_by_gbr.count()));

  // A flood from the revoked node is answered and audited sparingly (one per second).
  const std::size_t audited_before = Audited("rejected_input", "CERT_REVOKED");
  EXPECT_GE(audited_before, 1u) << c_.AuditLogText();
  const auto flood_start = std::chrono::steady_clock::now();
  const std::size_t answered = testing::FloodPings(*hostile, 500);
  const auto flood_s = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::steady_clock::now() - flood_start)
                           .count();
  const std::size_t audited_flood = Audited("rejected_input", "CERT_REVOKED") - audited_before;
  std::printf("revoked flood: 500 frames in %lld s -> %zu answered, %zu audit records\n",
              static_cast<long long>(flood_s), answered, audited_flood);
  EXPECT_LE(answered, static_cast<std::size_t>(flood_s + 2));
  EXPECT_LE(audited_flood, static_cast<std::size_t>(flood_s + 2));

  // A new session with the revoked key is refused at the handshake, audited with the reason.
  EXPECT_TRUE(testing::NewSessionRefused(ctx_, c_.endpoint(), *broker_cert_, usa, "usa-1"));
  EXPECT_TRUE(WaitFor([&] { return Audited("connection_refused", "CERT_REVOKED") >= 1; }))
      << c_.AuditLogText();

  // Restoring the older list un-revokes nobody: not while running ...
  std::filesystem::copy_file(c_.root() / "older.list", list,
                             std::filesystem::copy_options::overwrite_existing);
  EXPECT_TRUE(WaitFor([&] {
    return c_.BrokerLog().find("REVOCATION_ROLLBACK") != std::string::npos;
  })) << c_.BrokerLog();
  EXPECT_EQ(testing::PingUntilRefused(*hostile, Ms(2000)).reason, "CERT_REVOKED");
  // ... nor after the broker and gbr-1 restart on it.
  hostile.reset();
  c_.StopNode("gbr-1");
  c_.StopBroker();
  StartBroker();
  ASSERT_FALSE(HasFatalFailure());
  EXPECT_TRUE(testing::NewSessionRefused(ctx_, c_.endpoint(), *broker_cert_, usa, "usa-1"));
  c_.StartNode("gbr-1");
  auto gbr = Keys("gbr-1");
  Connect("gbr-1", gbr);  // The broker serves gbr-1.
  // Its fresh directory comes from the restarted broker: usa-1 (and jpn-1) stay out.
  WaitForDirectory("gbr-1", 1, Ms(6000));

  // What was accepted from usa-1 before its revocation stays verifiable.
  auto verify = c_.VerifyAudit();
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_GE(CountAuditRecords(c_.AuditLogText(), "accepted", before.report_id), 1u);
}

TEST_F(RevocationLiveTest, CertificateExpiringWhileConnectedIsRefusedFromThatMoment) {
  // A coalition whose root dates from two days ago, so that kor-1's certificate can be issued
  // "one day ago" for one day: it ends 4 s from now.
  const std::string two_days_ago = std::to_string(Now() - 2 * 86400);
  std::filesystem::remove_all(c_.ca_dir());
  std::filesystem::remove(c_.Cert("broker"));
  std::filesystem::remove(c_.Secret("broker"));
  c_.Certs({"init-ca", "--out", c_.ca_dir().string(), "--now", two_days_ago});
  c_.Certs({"issue", "--ca", c_.ca_dir().string(), "--node", "broker", "--nation", "USA",
            "--clearance", "TOP SECRET", "--role", "broker", "--now", two_days_ago, "--out",
            c_.certs_dir().string()});
  c_.IssueNode("gbr-1", "GBR", "SECRET");
  const std::int64_t ends = Now() + 4;
  c_.Certs({"issue", "--ca", c_.ca_dir().string(), "--node", "kor-1", "--nation", "KOR",
            "--clearance", "SECRET", "--days", "1", "--now", std::to_string(ends - 86400), "--out",
            c_.certs_dir().string()});
  StartBroker();
  ASSERT_FALSE(HasFatalFailure());
  c_.StartNode("gbr-1");
  WaitForDirectory("gbr-1", 2, Ms(5000));
  auto kor = Keys("kor-1");
  auto expiring = Connect("kor-1", kor);
  ASSERT_FALSE(HasFatalFailure());

  testing::Refusal refusal = testing::PingUntilRefused(*expiring, Ms(8000));
  EXPECT_EQ(refusal.reason, "CERT_EXPIRED");
  EXPECT_GE(Now(), ends);
  EXPECT_TRUE(WaitFor([&] { return Audited("rejected_input", "CERT_EXPIRED") >= 1; }));
  EXPECT_TRUE(testing::NewSessionRefused(ctx_, c_.endpoint(), *broker_cert_, kor, "kor-1"));
  WaitForDirectory("gbr-1", 1, Ms(6000));
  auto verify = c_.VerifyAudit();
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

}  // namespace
}  // namespace tearline
