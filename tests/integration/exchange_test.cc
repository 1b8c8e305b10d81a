// End to end: real tearline-broker and tearline-node daemons on 127.0.0.1 (ephemeral port),
// analysts driving them through the real tearline-node CLI.
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <nlohmann/json.hpp>

#include "coalition.h"
#include "test_support.h"

namespace tearline {
namespace {

using testing::Coalition;
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

TEST_F(ExchangeTest, DaemonStopsCleanlyOnSigterm) {
  c_.StartNode("usa-1");
  EXPECT_EQ(c_.node("usa-1")->Stop(SIGTERM, std::chrono::seconds(3)), 0);
  EXPECT_EQ(c_.broker()->Stop(SIGINT, std::chrono::seconds(3)), 0);
  EXPECT_NE(c_.AuditLogText().find("broker_stop"), std::string::npos);
}

}  // namespace
}  // namespace tearline
