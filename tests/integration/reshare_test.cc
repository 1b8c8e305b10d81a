// Re-share within the label, end to end over tcp/CURVE on 127.0.0.1: real tearline-broker and
// tearline-node daemons, analysts driving them through the real CLI, and a hostile forwarder
// speaking the wire protocol itself. A forward reaches the target nation with the chain
// (originator, forwarder) when the originator's label releases it there; ORCON and anything the
// label does not release are refused with how to ask the originator; a forwarder that lies about
// what it holds is refused by the broker's own records. Every decision is audited and
// `tearline-audit verify` re-checks the forwards.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "coalition.h"
#include "tearline/base/encoding.h"
#include "tearline/envelope/forward.h"
#include "test_support.h"
#include "traffic.h"
#include "wire_client.h"

namespace tearline {
namespace {

using testing::CountAuditRecords;
using testing::ReadFile;
using testing::WaitFor;

class ReshareTest : public testing::BrokerWireTest {
 protected:
  void SetUp() override {
    for (auto [id, nation] : {std::pair{"usa-1", "USA"}, std::pair{"gbr-1", "GBR"},
                              std::pair{"aus-1", "AUS"}, std::pair{"kor-1", "KOR"}}) {
      c_.IssueNode(id, nation, "SECRET");
    }
    StartBroker();
    ASSERT_FALSE(HasFatalFailure());
    for (const char* id : {"usa-1", "gbr-1", "aus-1"}) c_.StartNode(id);
    for (auto [name, text] : {std::pair{"p1.txt", "Convoy sighted at grid 31U."},
                              std::pair{"p2.txt", "Source handling notes."},
                              std::pair{"p3.txt", "Bilateral assessment."}}) {
      std::ofstream(c_.root() / name) << text;
    }
    // USA sends GBR three portions: one its label releases to AUS too, one ORCON, one not for AUS.
    auto r = c_.NodeCli("usa-1", "send",
                        {"--json", "--to", "GBR", "--portion", "(S//REL TO USA, AUS, GBR)",
                         File("p1.txt"), "--portion", "(S//OC/REL TO USA, AUS, GBR)",
                         File("p2.txt"), "--portion", "(S//REL TO USA, GBR)", File("p3.txt")});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    report_id_ = nlohmann::json::parse(r.out)["report_id"].get<std::string>();
    ASSERT_TRUE(WaitFor([&] { return Inbox("gbr-1").size() == 1; }));
  }

  std::string File(const std::string& name) const { return (c_.root() / name).string(); }
  nlohmann::json Inbox(const std::string& id) {
    auto r = c_.NodeCli(id, "inbox", {"--json"});
    return r.exit_code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json::array();
  }
  testing::ProcessResult Forward(const std::string& portion) {
    return c_.NodeCli("gbr-1", "forward", {report_id_, "--to", "AUS", "--portion", portion});
  }

  std::string report_id_;
};

TEST_F(ReshareTest, ForwardWithinTheLabelArrivesWithTheChainAndOthersAreRefused) {
  auto r = Forward("1");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("AUS aus-1 DELIVERED portions 1"), std::string::npos) << r.out;
  ASSERT_TRUE(WaitFor([&] { return Inbox("aus-1").size() == 1; }));
  const nlohmann::json entry = Inbox("aus-1")[0];
  EXPECT_EQ(entry["forwarder"], "gbr-1");
  EXPECT_EQ(entry["originator"], "usa-1");
  EXPECT_EQ(entry["forwarded_report_id"], report_id_);
  auto read = c_.NodeCli("aus-1", "read", {entry["report_id"].get<std::string>()});
  EXPECT_EQ(read.exit_code, 0) << read.err;
  EXPECT_NE(read.out.find("Convoy sighted"), std::string::npos) << read.out;
  EXPECT_NE(read.out.find("forwarded by gbr-1 (GBR)"), std::string::npos) << read.out;
  EXPECT_EQ(read.out.find("Source handling"), std::string::npos);

  // The label does not release portion 3 to AUS: refused, and the analyst is told how to ask.
  r = Forward("3");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("FORWARD_NOT_RELEASABLE"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("request-release " + report_id_ + " --portion 3 --to AUS"),
            std::string::npos)
      << r.err;
  // ORCON never moves without the originator, even where the label releases it.
  r = Forward("2");
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("FORWARD_ORCON"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("request-release"), std::string::npos) << r.err;

  EXPECT_EQ(Inbox("aus-1").size(), 1u);
  const std::string audit = c_.AuditLogText();
  EXPECT_EQ(CountAuditRecords(audit, "forwarded", "\"gbr-1\""), 1u);
  EXPECT_EQ(CountAuditRecords(audit, "forward_refused", "FORWARD_NOT_RELEASABLE"), 1u);
  EXPECT_EQ(CountAuditRecords(audit, "forward_refused", "FORWARD_ORCON"), 1u);
  EXPECT_EQ(audit.find("Convoy"), std::string::npos) << "content must never be audited";
  auto v = c_.VerifyAudit();
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
}

TEST_F(ReshareTest, HostileForwarderThatDoesNotHoldThePortionIsRefused) {
  // kor-1 is a certified node but never received the report. It got hold of GBR's copy and keys
  // (the worst case) and forwards portion 1 to AUS under its own name and signature.
  const auto copy = ReadFile(c_.node_data("gbr-1") / "inbox" / (report_id_ + ".report"));
  ASSERT_FALSE(copy.empty());
  const IdentityKeys gbr = Keys("gbr-1");
  const IdentityKeys kor = Keys("kor-1");
  ForwardInput in;
  in.forwarder = "kor-1";
  in.forwarder_nation = "KOR";
  in.target_nation = "AUS";
  in.created_unix = std::time(nullptr);
  in.portions = {0};
  in.targets.push_back({"aus-1", Cert("aus-1").fields().encryption_key});
  RecipientIdentity unwrap{"gbr-1", "GBR", 3, gbr.encryption.public_key, gbr.encryption.secret_key};
  const std::vector<std::uint8_t> bytes(copy.begin(), copy.end());
  auto fwd = SealForward(bytes, in, unwrap, kor.signing.secret_key);
  ASSERT_TRUE(fwd.ok()) << fwd.status().ToString();
  auto client = Connect("kor-1", kor);
  ASSERT_TRUE(client);
  client->Send(EncodeForwardSubmit(5, fwd->bytes));
  EXPECT_EQ(client->ExpectRefusalReason(), "FORWARD_NOT_HELD");
  // Claiming to be gbr-1 in the grant does not help: the grant must name the authenticated node.
  in.forwarder = "gbr-1";
  in.forwarder_nation = "GBR";
  fwd = SealForward(bytes, in, unwrap, kor.signing.secret_key);
  ASSERT_TRUE(fwd.ok());
  client->Send(EncodeForwardSubmit(6, fwd->bytes));
  EXPECT_EQ(client->ExpectRefusalReason(), "FORWARD_FORWARDER_MISMATCH");

  const std::string audit = c_.AuditLogText();
  EXPECT_EQ(CountAuditRecords(audit, "forward_refused", "FORWARD_NOT_HELD"), 1u);
  EXPECT_EQ(CountAuditRecords(audit, "forwarded", ""), 0u);
  EXPECT_EQ(Inbox("aus-1").size(), 0u);
  auto v = c_.VerifyAudit();
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
}

// National markings round-trip between real daemons: GBR writes in its words, the wire and the
// audit log carry the canonical label, DEU reads it in its own words.
TEST(NationalMarkingsLiveTest, EachNationWritesAndReadsInItsOwnWords) {
  testing::Coalition c;
  c.IssueNode("gbr-1", "GBR", "SECRET");
  c.IssueNode("deu-1", "DEU", "SECRET");
  c.StartBroker();
  c.StartNode("gbr-1");
  c.StartNode("deu-1");
  std::ofstream(c.root() / "p.txt") << "Joint assessment.";
  auto r = c.NodeCli(
      "gbr-1", "send",
      {"--to", "DEU", "--portion", "UK SECRET//REL TO GBR, DEU", (c.root() / "p.txt").string()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  nlohmann::json inbox;
  ASSERT_TRUE(WaitFor([&] {
    auto i = c.NodeCli("deu-1", "inbox", {"--json"});
    if (i.exit_code != 0) return false;
    inbox = nlohmann::json::parse(i.out);
    return inbox.size() == 1;
  }));
  // Stored and carried canonically...
  EXPECT_EQ(inbox[0]["banner"], "SECRET//REL TO DEU, GBR");
  EXPECT_NE(c.AuditLogText().find("(S//REL TO DEU, GBR)"), std::string::npos);
  EXPECT_EQ(c.AuditLogText().find("UK SECRET"), std::string::npos);
  // ...and shown to DEU's analysts in DEU's words.
  auto text = c.NodeCli("deu-1", "inbox", {});
  EXPECT_NE(text.out.find("GEHEIM//REL TO DEU, GBR"), std::string::npos) << text.out;
  auto read = c.NodeCli("deu-1", "read", {inbox[0]["report_id"].get<std::string>()});
  EXPECT_NE(read.out.find("(GEHEIM//REL TO DEU, GBR) portion 1"), std::string::npos) << read.out;
  EXPECT_NE(read.out.find("Joint assessment."), std::string::npos) << read.out;
}

// `inbox --as` and `read --as` show a received report in another member's words; the stored
// and JSON `label`/`banner` stay canonical.
TEST(NationalMarkingsLiveTest, InboxAndReadShowAnotherMembersWordsOnRequest) {
  testing::Coalition c;
  c.IssueNode("gbr-1", "GBR", "SECRET");
  c.IssueNode("deu-1", "DEU", "SECRET");
  c.StartBroker();
  c.StartNode("gbr-1");
  c.StartNode("deu-1");
  std::ofstream(c.root() / "p.txt") << "Joint assessment.";
  auto r = c.NodeCli(
      "gbr-1", "send",
      {"--to", "DEU", "--portion", "UK SECRET//REL TO GBR, DEU", (c.root() / "p.txt").string()});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  ASSERT_TRUE(WaitFor([&] {
    auto i = c.NodeCli("deu-1", "inbox", {"--json"});
    return i.exit_code == 0 && nlohmann::json::parse(i.out).size() == 1;
  }));
  auto text = c.NodeCli("deu-1", "inbox", {"--as", "FRA"});
  EXPECT_NE(text.out.find("SECRET DEFENSE//REL TO DEU, GBR"), std::string::npos) << text.out;
  auto json = c.NodeCli("deu-1", "inbox", {"--json", "--as", "gbr"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  auto entry = nlohmann::json::parse(json.out)[0];
  EXPECT_EQ(entry["banner"], "SECRET//REL TO DEU, GBR");
  EXPECT_EQ(entry["banner_as"], "UK SECRET//REL TO DEU, GBR");
  EXPECT_EQ(entry["portions"][0]["label_as"], "(UK SECRET//REL TO DEU, GBR)");
  const std::string id = entry["report_id"].get<std::string>();
  auto read = c.NodeCli("deu-1", "read", {id, "--as", "NATO"});
  EXPECT_NE(read.out.find("(NATO SECRET//REL TO DEU, GBR) portion 1"), std::string::npos)
      << read.out;
  auto unknown = c.NodeCli("deu-1", "read", {id, "--as", "XYZ"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("LABEL_UNKNOWN_CODE"), std::string::npos) << unknown.err;
}

}  // namespace
}  // namespace tearline
