// The broker's audit log as nodes witness it: signed checkpoints, consistency proofs, node
// cosignatures stored beside the log, and a broker that refuses to sign over an altered log.
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>

#include "coalition.h"
#include "hostile_audit.h"
#include "tearline/identity/certificate.h"
#include "tearline/tlog/checkpoint.h"
#include "test_support.h"

namespace tearline {
namespace {

using testing::Coalition;
using testing::WaitFor;

std::size_t CountFiles(const std::filesystem::path& dir) {
  std::error_code ec;
  std::size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    n += e.is_regular_file() ? 1u : 0u;
  return n;
}

class WitnessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    c_.IssueNode("usa-1", "USA", "SECRET");
    c_.IssueNode("gbr-1", "GBR", "SECRET");
    c_.StartBroker("checkpoint_interval_ms = 200\n");
    c_.StartNode("usa-1");
    c_.StartNode("gbr-1");
    std::ofstream(c_.root() / "r.txt") << "Report text.";
    auto r = c_.NodeCli(
        "usa-1", "send",
        {"--to", "GBR", "--portion", "(S//REL TO USA, GBR)", (c_.root() / "r.txt").string()});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }
  std::filesystem::path audit() const { return c_.broker_data() / "audit"; }
  Coalition c_;
};

TEST_F(WitnessTest, NodesCosignConsistentCheckpoints) {
  // Both nodes cosign some checkpoint; the files sit beside the log.
  ASSERT_TRUE(WaitFor(
      [&] {
        bool usa = false, gbr = false;
        std::error_code ec;
        for (const auto& e : std::filesystem::directory_iterator(audit() / "cosignatures", ec)) {
          const std::string name = e.path().filename().string();
          usa = usa || name.ends_with(".usa-1");
          gbr = gbr || name.ends_with(".gbr-1");
        }
        return usa && gbr;
      },
      std::chrono::seconds(20)))
      << c_.BrokerLog();

  // The latest checkpoint verifies under log.pub and matches the records.
  std::string pub = testing::ReadFile(audit() / "log.pub");
  while (!pub.empty() && pub.back() == '\n') pub.pop_back();
  auto key = ParseNoteVerifierKey(pub);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  auto opened =
      OpenCheckpoint(testing::ReadFile(audit() / "checkpoint"), "tearline/audit/broker", *key);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_GT(opened->checkpoint.tree_size, 0u);
  EXPECT_GE(CountFiles(audit() / "checkpoints"), 1u);

  // Each stored cosignature verifies with the witness's certified signing key.
  auto gbr = ReadCertificateFile((c_.certs_dir() / "gbr-1.cert").string());
  ASSERT_TRUE(gbr.ok());
  auto witness =
      MakeNoteVerifierKey("gbr-1", NoteKeyType::kCosignatureV1, gbr->fields().signing_key);
  ASSERT_TRUE(witness.ok());
  std::size_t checked = 0;
  for (const auto& e : std::filesystem::directory_iterator(audit() / "cosignatures")) {
    const std::string name = e.path().filename().string();
    if (!name.ends_with(".gbr-1")) continue;
    const std::string size = name.substr(0, name.find('.'));
    std::string note = testing::ReadFile(audit() / "checkpoints" / size);
    auto body = ParseCheckpointBody(note.substr(0, note.find("\n\n") + 1));
    ASSERT_TRUE(body.ok());
    std::string line = testing::ReadFile(e.path());
    auto ok = VerifyCosignature(*body, line, *witness);
    EXPECT_TRUE(ok.ok()) << ok.status().ToString();
    ++checked;
  }
  EXPECT_GT(checked, 0u);
  // The node keeps the checkpoint it cosigned.
  EXPECT_TRUE(std::filesystem::exists(c_.node_data("gbr-1") / "witness" / "checkpoint"));
}

TEST_F(WitnessTest, BrokerRefusesToContinueAnAlteredLog) {
  ASSERT_TRUE(WaitFor([&] { return std::filesystem::exists(audit() / "checkpoint"); }));
  c_.StopBroker(SIGTERM);
  // Rewrite history: change one byte of the first record.
  std::string log = testing::ReadFile(audit() / "log.jsonl");
  ASSERT_FALSE(log.empty());
  log[log.find("broker_start") + 1] = 'X';
  std::ofstream(audit() / "log.jsonl", std::ios::binary | std::ios::trunc) << log;
  auto r = testing::RunProcess({testing::BinaryPath("tearline-broker").string(), "--config",
                                (c_.root() / "broker.toml").string()},
                               std::chrono::seconds(20));
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("AUDIT_CHECKPOINT_MISMATCH"), std::string::npos) << r.err;
}

// The size of the checkpoint in `note_file` (0 when it does not exist or does not parse).
std::uint64_t CheckpointSize(const std::filesystem::path& note_file) {
  std::error_code ec;
  if (!std::filesystem::exists(note_file, ec)) return 0;
  const std::string note = testing::ReadFile(note_file);
  auto cp = ParseCheckpointBody(note.substr(0, note.find("\n\n") + 1));
  return cp.ok() ? cp->tree_size : 0;
}

// An operator restores an older copy of the audit directory: every record written since would
// vanish, and the checks inside the directory cannot tell. The head kept outside it can.
TEST_F(WitnessTest, BrokerRefusesToStartOnARestoredOlderAuditDirectory) {
  ASSERT_TRUE(WaitFor([&] { return std::filesystem::exists(audit() / "checkpoint"); }));
  c_.StopBroker(SIGTERM);
  const auto snapshot = c_.root() / "audit-backup";
  testing::SnapshotDir(audit(), snapshot);
  const std::uint64_t old_size = CheckpointSize(audit() / "checkpoint");
  c_.StartBroker("checkpoint_interval_ms = 200\n");  // More records, a larger checkpoint.
  c_.StopBroker(SIGTERM);
  ASSERT_GT(CheckpointSize(c_.root() / "data" / "broker.head"), old_size);
  testing::RestoreDir(snapshot, audit());
  auto r = testing::RunProcess({testing::BinaryPath("tearline-broker").string(), "--config",
                                (c_.root() / "broker.toml").string()},
                               std::chrono::seconds(20));
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("AUDIT_ROLLBACK"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("event=audit_rollback"), std::string::npos) << r.out;
}

// The operator also moves the head aside: the broker starts on the older log. A witness that
// cosigned a larger checkpoint refuses to cosign, raises the alarm in its log and `status`.
TEST_F(WitnessTest, WitnessRaisesTheAlarmWhenTheBrokerLogGoesBack) {
  ASSERT_TRUE(WaitFor([&] { return std::filesystem::exists(audit() / "checkpoint"); }));
  c_.StopBroker(SIGTERM);
  const auto snapshot = c_.root() / "audit-backup";
  testing::SnapshotDir(audit(), snapshot);
  const std::uint64_t old_size = CheckpointSize(audit() / "checkpoint");
  c_.StartBroker("checkpoint_interval_ms = 200\n");
  for (int i = 0; i < 3; ++i) {
    auto sent = c_.NodeCli(
        "usa-1", "send",
        {"--to", "GBR", "--portion", "(S//REL TO USA, GBR)", (c_.root() / "r.txt").string()});
    ASSERT_EQ(sent.exit_code, 0) << sent.out << sent.err;
  }
  const auto witnessed = c_.node_data("gbr-1") / "witness" / "checkpoint";
  // Well beyond what the restored log can reach by restarting alone.
  ASSERT_TRUE(
      WaitFor([&] { return CheckpointSize(witnessed) > old_size + 8; }, std::chrono::seconds(20)))
      << CheckpointSize(witnessed) << " " << old_size;
  c_.StopBroker(SIGTERM);
  testing::RestoreDir(snapshot, audit());
  std::filesystem::remove(c_.root() / "data" / "broker.head");
  c_.StartBroker("checkpoint_interval_ms = 200\n");
  testing::ProcessResult status;
  ASSERT_TRUE(WaitFor(
      [&] {
        status = c_.NodeCli("gbr-1", "status", {"--json"});
        return status.out.find("\"audit_alarm\":\"\"") == std::string::npos &&
               status.out.find("audit_alarm") != std::string::npos;
      },
      std::chrono::seconds(20)))
      << status.out << status.err;
  EXPECT_NE(status.out.find("after this node cosigned size"), std::string::npos) << status.out;
  auto text = c_.NodeCli("gbr-1", "status", {});
  EXPECT_EQ(text.exit_code, 1) << text.out;
  EXPECT_NE(text.out.find("AUDIT ALARM: "), std::string::npos) << text.out;
  EXPECT_NE(c_.NodeLog("gbr-1").find("event=audit_log_inconsistent"), std::string::npos);
  // Nothing smaller was cosigned: the node kept the larger checkpoint as evidence.
  EXPECT_GT(CheckpointSize(witnessed), old_size + 8);
}

}  // namespace
}  // namespace tearline
