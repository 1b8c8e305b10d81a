// Derived material stays releasable to those who contributed it, end to end over tcp/CURVE on
// 127.0.0.1 with the real broker and node daemons: GBR sends to USA; USA writes portions derived
// from it. A label that excludes GBR is refused by USA's own node with the fix; the same with an
// override reason is accepted and the override is audited; a label that keeps GBR reaches GBR;
// a hostile client that skips the node's check is refused by the broker.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "coalition.h"
#include "tearline/base/encoding.h"
#include "test_support.h"
#include "traffic.h"
#include "wire_client.h"

namespace tearline {
namespace {

using testing::CountAuditRecords;
using testing::WaitFor;

class ProvenanceTest : public testing::BrokerWireTest {
 protected:
  void SetUp() override {
    for (auto [id, nation] :
         {std::pair{"usa-1", "USA"}, std::pair{"gbr-1", "GBR"}, std::pair{"aus-1", "AUS"}}) {
      c_.IssueNode(id, nation, "SECRET");
    }
    StartBroker();
    ASSERT_FALSE(HasFatalFailure());
    for (const char* id : {"usa-1", "gbr-1"}) c_.StartNode(id);
    std::ofstream(c_.root() / "src.txt") << "Convoy sighted at grid 31U.";
    std::ofstream(c_.root() / "derived.txt") << "Assessment built on the convoy sighting.";
    auto r =
        c_.NodeCli("gbr-1", "send",
                   {"--json", "--to", "USA", "--portion", "(S//REL TO USA, GBR)", File("src.txt")});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    source_id_ = nlohmann::json::parse(r.out)["report_id"].get<std::string>();
    ASSERT_TRUE(WaitFor([&] { return Inbox("usa-1").size() == 1; }));
  }

  std::string File(const std::string& name) const { return (c_.root() / name).string(); }
  nlohmann::json Inbox(const std::string& id) {
    auto r = c_.NodeCli(id, "inbox", {"--json"});
    return r.exit_code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json::array();
  }
  testing::ProcessResult SendDerived(const std::string& label,
                                     std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {
        "--to",           "GBR", "--portion", label, File("derived.txt"), "--derived-from",
        source_id_ + ":1"};
    args.insert(args.end(), extra.begin(), extra.end());
    return c_.NodeCli("usa-1", "send", args);
  }

  std::string source_id_;
};

TEST_F(ProvenanceTest, LabelExcludingTheContributorIsRefusedUnlessOverriddenAndAudited) {
  auto r = SendDerived("(S//NF)");
  EXPECT_NE(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("PROVENANCE_EXCLUDES_CONTRIBUTOR"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("add GBR to REL TO, or give --override-provenance"), std::string::npos)
      << r.err;
  EXPECT_EQ(CountAuditRecords(c_.AuditLogText(), "accepted", "\"usa-1\""), 0u);

  // A source this node never received or sent is refused too.
  r = c_.NodeCli("usa-1", "send",
                 {"--to", "GBR", "--portion", "(S//REL TO USA, GBR)", File("derived.txt"),
                  "--derived-from", "00000000000000000000000000000000:1"});
  EXPECT_NE(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("PROVENANCE_SOURCE_UNKNOWN"), std::string::npos) << r.err;

  // With an override reason the report is accepted (GBR is denied by the label) and audited.
  r = SendDerived("(S//NF)", {"--override-provenance", "US-only targeting annex"});
  // The sender's summary names GBR as denied by the label (the tearline it accepted).
  EXPECT_NE((r.out + r.err).find("GBR"), std::string::npos) << r.out << r.err;
  ASSERT_TRUE(WaitFor([&] {
    return CountAuditRecords(c_.AuditLogText(), "accepted", "US-only targeting annex") == 1;
  }));
  const std::string audit = c_.AuditLogText();
  EXPECT_NE(audit.find("\"provenance_override\":\"US-only targeting annex\""), std::string::npos);
  EXPECT_NE(audit.find(source_id_ + "/0"), std::string::npos);
  EXPECT_EQ(audit.find("Assessment built"), std::string::npos) << "content is never audited";
  auto v = c_.VerifyAudit();
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
}

TEST_F(ProvenanceTest, DerivedPortionThatKeepsTheContributorReachesIt) {
  auto r = SendDerived("(S//REL TO USA, GBR)");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  ASSERT_TRUE(WaitFor([&] { return Inbox("gbr-1").size() == 1; }));
  const std::string audit = c_.AuditLogText();
  EXPECT_NE(audit.find("\"contributors\":[\"GBR\"]"), std::string::npos) << audit;
  EXPECT_EQ(audit.find("provenance_override"), std::string::npos);
}

TEST_F(ProvenanceTest, HostileClientSkippingTheNodeCheckIsRefusedByTheBroker) {
  const IdentityKeys aus = Keys("aus-1");
  SealInput in;
  in.originator = "aus-1";
  in.originator_nation = "AUS";
  in.created_unix = std::time(nullptr);
  in.expires_unix = in.created_unix + 3600;
  in.intended_nations = {"USA"};
  SealPortion p;
  p.marking = "(S//REL TO USA, AUS)";
  p.plaintext = {'d', 'e', 'r'};
  auto id = FromHex(source_id_);
  ASSERT_TRUE(id.ok());
  ProvenanceSource src;
  std::copy(id->begin(), id->end(), src.report_id.begin());
  src.nation = "GBR";
  in.provenance.resize(1);
  in.provenance[0].sources.push_back(src);
  in.portions.push_back(std::move(p));
  in.recipients = {Recipient("usa-1")};
  auto sealed = Seal(in, aus.signing.secret_key, testing::CoalitionPolicy());
  ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
  auto client = Connect("aus-1", aus);
  ASSERT_TRUE(client);
  SubmitReplyInfo reply = Submit(*client, sealed->bytes);
  EXPECT_FALSE(reply.accepted);
  EXPECT_EQ(reply.error_reason, "PROVENANCE_EXCLUDES_CONTRIBUTOR") << reply.error_message;
  EXPECT_NE(reply.error_message.find("GBR"), std::string::npos) << reply.error_message;
  ASSERT_TRUE(WaitFor([&] {
    return CountAuditRecords(c_.AuditLogText(), "rejected_input",
                             "PROVENANCE_EXCLUDES_CONTRIBUTOR") == 1;
  }));
  EXPECT_EQ(Inbox("usa-1").size(), 1u);
}

}  // namespace
}  // namespace tearline
