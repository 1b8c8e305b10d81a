// Backing up a running broker and restoring it, with the real tearline-broker, tearline-admin
// and a real tearline-node witness: the backup is taken online and verifies; a restore that
// would roll back records the broker signed is refused until the operator accepts it, and then
// keeps the head file as evidence; the restored broker starts and serves (a report in the backup
// is known, one accepted after it is not); and the witness that cosigned beyond the backup
// raises the alarm. A backup that rolls nothing back restores without being asked.
#include <gtest/gtest.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "coalition.h"
#include "tearline/crypto/keys.h"
#include "tearline/envelope/envelope.h"
#include "tearline/wire/wire.h"
#include "test_support.h"
#include "wire_client.h"

namespace tearline {
namespace {

namespace fs = std::filesystem;
using testing::ProcessResult;
using testing::WaitFor;

std::int64_t Now() { return static_cast<std::int64_t>(std::time(nullptr)); }

class BackupTest : public testing::BrokerWireTest {
 protected:
  void SetUp() override {
    c_.IssueNode("usa-1", "USA", "SECRET");
    c_.IssueNode("gbr-1", "GBR", "SECRET");
  }
  ProcessResult Admin(std::vector<std::string> args) {
    args.insert(args.begin(), testing::BinaryPath("tearline-admin").string());
    return testing::RunProcess(args, std::chrono::seconds(60));
  }
  SealedReport Report(const IdentityKeys& usa) {
    SealInput in;
    in.originator = "usa-1";
    in.originator_nation = "USA";
    in.created_unix = Now();
    in.expires_unix = Now() + 3600;
    in.intended_nations = {"GBR"};
    in.portions = {{"(S//REL TO USA, GBR)", {'x'}, std::nullopt}};
    in.recipients = {Recipient("gbr-1")};
    auto sealed = Seal(in, usa.signing.secret_key, testing::CoalitionPolicy());
    EXPECT_TRUE(sealed.ok()) << sealed.status().ToString();
    return std::move(sealed).value();
  }
  // The largest checkpoint size gbr-1 cosigned, from the broker's audit directory.
  std::uint64_t CosignedByWitness() {
    std::uint64_t largest = 0;
    std::error_code ec;
    for (fs::directory_iterator it(c_.broker_data() / "audit" / "cosignatures", ec), end;
         !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (name.ends_with(".gbr-1")) largest = std::max<std::uint64_t>(largest, std::stoull(name));
    }
    return largest;
  }
  static std::uint64_t BackedUpRecords(const fs::path& backup) {
    const std::string manifest = testing::ReadFile(backup / "BACKUP.txt");
    const auto at = manifest.find("audit_records=");
    return at == std::string::npos ? 0 : std::stoull(manifest.substr(at + 14));
  }
  fs::path Head() const { return c_.root() / "data" / "broker.head"; }
  static constexpr const char* kConfig = "checkpoint_interval_ms = 200\n";
};

// A restore reads a directory an operator names: garbage there is refused with a reason, and
// nothing is written to the data directory.
TEST_F(BackupTest, RestoreRefusesGarbageAndWritesNothing) {
  const fs::path garbage = c_.root() / "garbage-backup";
  fs::create_directories(garbage / "audit");
  std::ofstream(garbage / "reports.db") << "not a database";
  std::ofstream(garbage / "BACKUP.txt") << "junk";
  std::ofstream(garbage / "audit" / "log.jsonl") << "\x01\x02{not json\n";
  const fs::path target = c_.root() / "restored";
  ProcessResult r = Admin({"restore", "--backup", garbage.string(), "--data-dir", target.string()});
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_NE(r.err.find("BACKUP_INVALID"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(target)) << "a refused restore must write nothing";

  ProcessResult missing = Admin(
      {"restore", "--backup", (c_.root() / "nothing").string(), "--data-dir", target.string()});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("is not a broker backup"), std::string::npos) << missing.err;
  EXPECT_FALSE(fs::exists(target));
}

TEST_F(BackupTest, OnlineBackupRestoresAndARollbackIsAcceptedExplicitlyAndWitnessed) {
  StartBroker(kConfig);
  ASSERT_FALSE(HasFatalFailure());
  c_.StartNode("gbr-1");
  auto usa = Keys("usa-1");
  auto u = Connect("usa-1", usa);
  const SealedReport before = Report(usa);
  ASSERT_TRUE(Submit(*u, before.bytes, 1).accepted);
  ASSERT_TRUE(WaitFor([&] { return CosignedByWitness() > 0; }, std::chrono::seconds(15)))
      << c_.NodeLog("gbr-1");

  // Online, while the broker runs and the witness cosigns.
  const fs::path backup = c_.root() / "backup";
  ProcessResult b =
      Admin({"backup", "--data-dir", c_.broker_data().string(), "--out", backup.string()});
  ASSERT_EQ(b.exit_code, 0) << b.out << b.err;
  EXPECT_NE(b.out.find("BACKED UP"), std::string::npos) << b.out;
  const std::uint64_t backed_up = BackedUpRecords(backup);
  ProcessResult usage = Admin({"backup", "--out", (c_.root() / "nowhere").string()});
  EXPECT_EQ(usage.exit_code, 2) << "neither --config nor --data-dir";
  ASSERT_GT(backed_up, 0u);
  ProcessResult again =
      Admin({"backup", "--data-dir", c_.broker_data().string(), "--out", backup.string()});
  EXPECT_EQ(again.exit_code, 2) << "a backup never overwrites another";
  EXPECT_NE(again.err.find("BACKUP_TARGET_EXISTS"), std::string::npos) << again.err;

  // After the backup: another report, and the witness cosigns a checkpoint beyond the backup.
  const SealedReport after = Report(usa);
  ASSERT_TRUE(Submit(*u, after.bytes, 2).accepted);
  ASSERT_TRUE(WaitFor([&] { return CosignedByWitness() > backed_up; }, std::chrono::seconds(15)))
      << c_.NodeLog("gbr-1");
  u.reset();
  c_.StopBroker();
  fs::rename(c_.broker_data(), c_.root() / "data" / "broker.damaged");

  // The broker signed records the backup lacks: refused unless accepted, nothing written.
  // Named through the broker's configuration: its data_dir and (default) head_file.
  ProcessResult refused = Admin(
      {"restore", "--backup", backup.string(), "--config", (c_.root() / "broker.toml").string()});
  EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
  EXPECT_NE(refused.err.find("RESTORE_ROLLBACK"), std::string::npos) << refused.err;
  EXPECT_FALSE(fs::exists(c_.broker_data() / "reports.db"));
  ProcessResult restored = Admin({"restore", "--backup", backup.string(), "--data-dir",
                                  c_.broker_data().string(), "--accept-rollback"});
  ASSERT_EQ(restored.exit_code, 0) << restored.out << restored.err;
  EXPECT_NE(restored.out.find("ROLLED BACK"), std::string::npos) << restored.out;
  EXPECT_FALSE(fs::exists(Head())) << "moved aside, so the broker starts";
  bool evidence = false;
  for (const auto& e : fs::directory_iterator(c_.root() / "data")) {
    evidence = evidence || e.path().filename().string().starts_with("broker.head.rolled-back-");
  }
  EXPECT_TRUE(evidence) << "the head file is kept, not removed";

  // The restored broker starts and serves: the report in the backup is known (a duplicate),
  // the one accepted after the backup is not (accepted again).
  StartBroker(kConfig);
  ASSERT_FALSE(HasFatalFailure());
  u = Connect("usa-1", usa);
  SubmitReplyInfo known = Submit(*u, before.bytes, 3);
  EXPECT_TRUE(known.accepted && known.duplicate) << known.error_reason;
  SubmitReplyInfo lost = Submit(*u, after.bytes, 4);
  EXPECT_TRUE(lost.accepted && !lost.duplicate) << lost.error_reason;

  // The witness's view: it cosigned beyond what the broker now holds.
  EXPECT_TRUE(WaitFor(
      [&] { return c_.NodeLog("gbr-1").find("event=audit_log_inconsistent") != std::string::npos; },
      std::chrono::seconds(20)))
      << c_.NodeLog("gbr-1");
  ProcessResult status = c_.NodeCli("gbr-1", "status", {});
  EXPECT_NE(status.out.find("AUDIT ALARM"), std::string::npos) << status.out << status.err;
  ProcessResult verify = c_.VerifyAudit();
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;

  // A backup of the stopped broker is as new as its head: it restores without being asked.
  u.reset();
  c_.StopBroker();
  const fs::path offline = c_.root() / "backup-offline";
  ProcessResult b2 =
      Admin({"backup", "--data-dir", c_.broker_data().string(), "--out", offline.string()});
  ASSERT_EQ(b2.exit_code, 0) << b2.out << b2.err;
  fs::rename(c_.broker_data(), c_.root() / "data" / "broker.before-second-restore");
  ProcessResult plain =
      Admin({"restore", "--backup", offline.string(), "--data-dir", c_.broker_data().string()});
  EXPECT_EQ(plain.exit_code, 0) << plain.out << plain.err;
  EXPECT_EQ(plain.out.find("ROLLED BACK"), std::string::npos) << plain.out;
  EXPECT_TRUE(fs::exists(Head()));
}

}  // namespace
}  // namespace tearline
