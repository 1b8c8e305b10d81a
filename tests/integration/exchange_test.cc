// End to end: real tearline-broker and tearline-node daemons on 127.0.0.1 (ephemeral port),
// analysts driving them through the real tearline-node CLI.
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "coalition.h"
#include "test_support.h"

namespace tearline {
namespace {

using testing::Coalition;
using testing::ReadFile;
using testing::WaitFor;

class ExchangeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto [id, nation] :
         {std::pair{"usa-1", "USA"}, std::pair{"gbr-1", "GBR"}, std::pair{"aus-1", "AUS"},
          std::pair{"jpn-1", "JPN"}, std::pair{"kor-1", "KOR"}}) {
      c_.IssueNode(id, nation, "SECRET");
    }
    c_.StartBroker();
    write("fvey.txt", "Convoy sighted at grid 31U.");
    write("jpn.txt", "Maritime patrol schedule.");
    write("nf.txt", "Source identity.");
  }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(c_.root() / name) << text;
  }
  std::string file(const std::string& name) { return (c_.root() / name).string(); }
  nlohmann::json Inbox(const std::string& id) {
    auto r = c_.NodeCli(id, "inbox", {"--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json::array();
  }
  std::string ReadFirst(const std::string& id) {
    auto inbox = Inbox(id);
    if (inbox.empty()) return "";
    auto r = c_.NodeCli(id, "read", {inbox[0]["report_id"].get<std::string>()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }
  testing::ProcessResult SendTearline() {
    return c_.NodeCli("usa-1", "send",
                      {"--to", "GBR,AUS,JPN,KOR", "--portion", "(S//REL TO USA, FVEY)",
                       file("fvey.txt"), "--portion", "(S//REL TO USA, JPN)", file("jpn.txt"),
                       "--portion", "(S//NF)", file("nf.txt")});
  }

  Coalition c_;
};

TEST_F(ExchangeTest, EachNationGetsItsTearlineAndTheSenderSeesWhy) {
  for (const char* id : {"usa-1", "gbr-1", "aus-1", "jpn-1", "kor-1"}) c_.StartNode(id);
  auto r = SendTearline();
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;  // KOR got nothing.
  EXPECT_NE(r.out.find("GBR gbr-1 DELIVERED portions 1 "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("AUS aus-1 DELIVERED portions 1 "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("JPN jpn-1 DELIVERED portions 2 "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("KOR kor-1 DENIED: portion 1 NOT_RELEASABLE"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("portion 3 NOFORN"), std::string::npos) << r.out;

  ASSERT_TRUE(WaitFor([&] { return Inbox("gbr-1").size() == 1 && Inbox("jpn-1").size() == 1; }));
  std::string gbr = ReadFirst("gbr-1");
  EXPECT_NE(gbr.find("Convoy sighted"), std::string::npos) << gbr;
  EXPECT_EQ(gbr.find("Maritime patrol"), std::string::npos);
  EXPECT_EQ(gbr.find("Source identity"), std::string::npos);
  std::string jpn = ReadFirst("jpn-1");
  EXPECT_NE(jpn.find("Maritime patrol"), std::string::npos) << jpn;
  EXPECT_EQ(jpn.find("Convoy sighted"), std::string::npos);
  EXPECT_EQ(Inbox("kor-1").size(), 0u);
  // The banner a recipient sees is the roll-up of what it received.
  EXPECT_EQ(Inbox("gbr-1")[0]["banner"], "SECRET//REL TO USA, FVEY");
  const std::string audit = c_.AuditLogText();
  EXPECT_EQ(audit.find("Convoy"), std::string::npos) << "content must never be audited";
}

TEST_F(ExchangeTest, JapanSharesDirectlyWithKorea) {
  c_.StartNode("jpn-1");
  c_.StartNode("kor-1");
  write("gsomia.txt", "Launch detected at 0412.");
  auto r = c_.NodeCli("jpn-1", "send",
                      {"--to", "KOR", "--portion", "SECRET//REL TO JPN, KOR", file("gsomia.txt")});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("KOR kor-1 DELIVERED portions 1"), std::string::npos) << r.out;
  ASSERT_TRUE(WaitFor([&] { return Inbox("kor-1").size() == 1; }));
  EXPECT_NE(ReadFirst("kor-1").find("Launch detected"), std::string::npos);
}

TEST_F(ExchangeTest, ForgottenLabelIsRefusedBeforeLeavingTheNode) {
  c_.StartNode("usa-1");
  write("unmarked.txt", "Unmarked.");
  for (const std::string& marking : {std::string(""), std::string("SECRT//REL TO GBR")}) {
    auto r =
        c_.NodeCli("usa-1", "send", {"--to", "GBR", "--portion", marking, file("unmarked.txt")});
    EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
    EXPECT_NE(r.err.find("portion 1"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("--portion"), std::string::npos) << "the fix is named: " << r.err;
  }
  EXPECT_EQ(c_.AuditLogText().find("\"accepted\""), std::string::npos);
}

TEST_F(ExchangeTest, OfflineRecipientIsQueuedThenDeliveredOnReconnect) {
  c_.StartNode("usa-1");
  c_.StartNode("gbr-1");
  c_.StopNode("gbr-1");
  // The broker counts a node online while it heard from it within 3 heartbeats (750 ms here).
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  auto r = c_.NodeCli("usa-1", "send",
                      {"--to", "GBR", "--portion", "(S//REL TO USA, GBR)", file("fvey.txt")});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("GBR gbr-1 QUEUED portions 1"), std::string::npos) << r.out;
  c_.StartNode("gbr-1");
  ASSERT_TRUE(WaitFor([&] { return Inbox("gbr-1").size() == 1; }, std::chrono::seconds(15)));
  EXPECT_TRUE(
      WaitFor([&] { return c_.AuditLogText().find("\"acknowledged\"") != std::string::npos; }));
}

TEST_F(ExchangeTest, NodesReconnectAfterBrokerRestart) {
  c_.StartNode("usa-1");
  c_.StartNode("gbr-1");
  c_.StopBroker(SIGTERM);
  c_.StartBroker();  // Same endpoint (port) as before.
  // The recipient must be back first: a send while gbr-1 is still reconnecting is QUEUED, the
  // loop below would send a second report, and gbr-1 would then hold two.
  ASSERT_TRUE(WaitFor(
      [&] { return c_.NodeCli("gbr-1", "status", {}, std::chrono::seconds(5)).exit_code == 0; },
      std::chrono::seconds(30)));
  // Daemons notice the restart and say Hello again; a send then goes through.
  ASSERT_TRUE(WaitFor(
      [&] {
        auto r = c_.NodeCli("usa-1", "send",
                            {"--to", "GBR", "--portion", "(S//REL TO USA, GBR)", file("fvey.txt"),
                             "--timeout", "3"});
        return r.exit_code == 0 && r.out.find("DELIVERED") != std::string::npos;
      },
      std::chrono::seconds(30)));
  ASSERT_TRUE(WaitFor([&] { return Inbox("gbr-1").size() == 1; }));
}

// Report id printed by a pending send ("PENDING report ID is kept in the outbox ...").
std::string PendingId(const std::string& out) {
  const std::string tag = "PENDING report ";
  const auto at = out.find(tag);
  return at == std::string::npos ? "" : out.substr(at + tag.size(), 32);
}

std::size_t Count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

std::size_t FilesIn(const std::filesystem::path& dir) {
  std::error_code ec;
  std::size_t n = 0;
  for (auto it = std::filesystem::directory_iterator(dir, ec);
       !ec && it != std::filesystem::directory_iterator(); ++it) {
    ++n;
  }
  return n;
}

TEST_F(ExchangeTest, SendWhileBrokerDownIsDeliveredExactlyOnceWhenItReturns) {
  c_.StartNode("usa-1");
  c_.StartNode("gbr-1");
  c_.StopBroker(SIGTERM);
  ASSERT_TRUE(WaitFor(
      [&] { return c_.NodeCli("usa-1", "status", {}, std::chrono::seconds(5)).exit_code == 1; }));
  auto r = c_.NodeCli(
      "usa-1", "send",
      {"--to", "GBR", "--portion", "(S//REL TO USA, GBR)", file("fvey.txt"), "--timeout", "2"});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  const std::string id = PendingId(r.out);
  ASSERT_EQ(id.size(), 32u) << r.out;
  EXPECT_NE(r.out.find("same id"), std::string::npos) << r.out;
  const auto outbox = c_.node_data("usa-1") / "outbox";
  EXPECT_TRUE(std::filesystem::exists(outbox / (id + ".report")));

  c_.StartBroker();  // Same endpoint: both daemons reconnect; usa-1 resubmits.
  ASSERT_TRUE(WaitFor([&] { return FilesIn(outbox) == 0; }, std::chrono::seconds(30)))
      << ReadFile(c_.root() / "usa-1.log");
  ASSERT_TRUE(WaitFor([&] { return Inbox("gbr-1").size() == 1; }, std::chrono::seconds(15)));
  EXPECT_EQ(Inbox("gbr-1")[0]["report_id"], id);
  EXPECT_TRUE(std::filesystem::exists(c_.node_data("usa-1") / "sent" / (id + ".json")));
  EXPECT_EQ(Count(c_.AuditLogText(), "\"type\":\"accepted\""), 1u) << c_.AuditLogText();
}

TEST_F(ExchangeTest, SenderKilledAfterOutboxWriteDeliversExactlyOnceAfterRestart) {
  c_.StartNode("usa-1");
  c_.StartNode("gbr-1");
  c_.StopBroker(SIGTERM);
  ASSERT_TRUE(WaitFor(
      [&] { return c_.NodeCli("usa-1", "status", {}, std::chrono::seconds(5)).exit_code == 1; }));
  auto r = c_.NodeCli(
      "usa-1", "send",
      {"--to", "GBR", "--portion", "(S//REL TO USA, GBR)", file("fvey.txt"), "--timeout", "1"});
  ASSERT_EQ(r.exit_code, 3) << r.out << r.err;
  const std::string id = PendingId(r.out);
  ASSERT_EQ(id.size(), 32u) << r.out;
  c_.node("usa-1")->Stop(SIGKILL);
  const auto outbox = c_.node_data("usa-1") / "outbox";
  ASSERT_TRUE(std::filesystem::exists(outbox / (id + ".report")));

  c_.StartBroker();
  c_.StartNode("usa-1");  // Reads its outbox at start and resubmits after the Welcome.
  ASSERT_TRUE(WaitFor([&] { return FilesIn(outbox) == 0; }, std::chrono::seconds(30)))
      << ReadFile(c_.root() / "usa-1.log");
  ASSERT_TRUE(WaitFor([&] { return Inbox("gbr-1").size() == 1; }, std::chrono::seconds(15)));
  EXPECT_EQ(Inbox("gbr-1")[0]["report_id"], id);
  EXPECT_EQ(Count(c_.AuditLogText(), "\"type\":\"accepted\""), 1u) << c_.AuditLogText();
}

TEST_F(ExchangeTest, ResubmissionAfterALostReplyIsAnsweredAsDuplicateAndNotRoutedAgain) {
  c_.StartNode("usa-1");
  c_.StartNode("gbr-1");
  c_.StopBroker(SIGTERM);
  ASSERT_TRUE(WaitFor(
      [&] { return c_.NodeCli("usa-1", "status", {}, std::chrono::seconds(5)).exit_code == 1; }));
  auto r = c_.NodeCli(
      "usa-1", "send",
      {"--to", "GBR", "--portion", "(S//REL TO USA, GBR)", file("fvey.txt"), "--timeout", "1"});
  ASSERT_EQ(r.exit_code, 3) << r.out << r.err;
  const std::string id = PendingId(r.out);
  ASSERT_EQ(id.size(), 32u) << r.out;
  const auto outbox = c_.node_data("usa-1") / "outbox";
  const auto copy = c_.root() / "outbox-copy.report";
  std::filesystem::copy_file(outbox / (id + ".report"), copy);

  c_.StartBroker();
  ASSERT_TRUE(WaitFor([&] { return FilesIn(outbox) == 0; }, std::chrono::seconds(30)));
  ASSERT_TRUE(WaitFor([&] { return Inbox("gbr-1").size() == 1; }, std::chrono::seconds(15)));
  // The state a crash leaves between the broker's acceptance and the node processing its reply:
  // the report still in the outbox. The restarted node resubmits the same bytes.
  c_.node("usa-1")->Stop(SIGKILL);
  std::filesystem::copy_file(copy, outbox / (id + ".report"));
  c_.StartNode("usa-1");
  ASSERT_TRUE(WaitFor([&] { return FilesIn(outbox) == 0; }, std::chrono::seconds(30)))
      << ReadFile(c_.root() / "usa-1.log");
  auto sent = nlohmann::json::parse(ReadFile(c_.node_data("usa-1") / "sent" / (id + ".json")));
  EXPECT_EQ(sent["accepted"], true) << sent.dump();
  EXPECT_EQ(sent["duplicate"], true) << sent.dump();
  EXPECT_EQ(sent["outcomes"][0]["node_id"], "gbr-1") << sent.dump();
  const std::string audit = c_.AuditLogText();
  EXPECT_EQ(Count(audit, "\"type\":\"accepted\""), 1u) << audit;
  // Not routed again: still one copy at the recipient, and one delivery record for it.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(Inbox("gbr-1").size(), 1u);
  EXPECT_EQ(Count(c_.AuditLogText(), "\"type\":\"acknowledged\""), 1u) << c_.AuditLogText();
}

TEST_F(ExchangeTest, TrackShowsRecipientStatesAndProveVerifiesTheLog) {
  c_.StartNode("usa-1");
  c_.StartNode("gbr-1");
  c_.StartNode("jpn-1");
  c_.StopNode("jpn-1");  // Offline: its copy stays queued.
  // The broker counts a node online while it heard from it within 3 heartbeats (750 ms here).
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  auto r = c_.NodeCli("usa-1", "send",
                      {"--to", "GBR,JPN,KOR", "--portion", "(S//REL TO USA, GBR, JPN)",
                       file("fvey.txt"), "--json"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;  // KOR denied.
  auto sent = nlohmann::json::parse(r.out);
  const std::string id = sent["report_id"];
  for (const auto& o : sent["outcomes"]) {
    EXPECT_GT(o["record_seq"].get<std::uint64_t>(), 0u) << o.dump();
  }
  ASSERT_TRUE(WaitFor([&] { return Inbox("gbr-1").size() == 1; }));

  std::string track;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto t = c_.NodeCli("usa-1", "track", {id});
        track = t.out + t.err;
        return t.exit_code == 0 && t.out.find("gbr-1 GBR acknowledged") != std::string::npos;
      },
      std::chrono::seconds(15)))
      << track;
  EXPECT_NE(track.find("jpn-1 JPN queued"), std::string::npos) << track;
  EXPECT_NE(track.find("kor-1 KOR denied NOT_RELEASABLE"), std::string::npos) << track;

  auto p = c_.NodeCli("usa-1", "prove", {id.substr(0, 8)});
  EXPECT_EQ(p.exit_code, 0) << p.out << p.err;
  EXPECT_NE(p.out.find("(delivered to gbr-1) is in the broker's log: inclusion verified against "
                       "checkpoint"),
            std::string::npos)
      << p.out;
  EXPECT_NE(p.out.find("(queued for jpn-1) is in the broker's log"), std::string::npos) << p.out;
  EXPECT_NE(p.out.find("signed by broker"), std::string::npos) << p.out;

  // Another node may not track usa-1's report.
  auto other = c_.NodeCli("gbr-1", "track", {id});
  EXPECT_EQ(other.exit_code, 1) << other.out << other.err;
  EXPECT_NE(other.err.find("TRACK_FORBIDDEN"), std::string::npos) << other.err;
}

TEST_F(ExchangeTest, DaemonStopsCleanlyOnSigterm) {
  c_.StartNode("usa-1");
  EXPECT_EQ(c_.node("usa-1")->Stop(SIGTERM, std::chrono::seconds(3)), 0);
  EXPECT_EQ(c_.broker()->Stop(SIGINT, std::chrono::seconds(3)), 0);
  EXPECT_NE(c_.AuditLogText().find("broker_stop"), std::string::npos);
}

}  // namespace
}  // namespace tearline
