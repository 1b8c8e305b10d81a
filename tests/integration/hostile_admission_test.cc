// Admission at the real tearline-broker, over tcp/CURVE on 127.0.0.1, against a node that seals
// its own reports (tests/support/hostile_sealer.h): what a report claims is checked against the
// originator's certificate (nation, clearance), labels must be in canonical form, and each
// sender's share of the store and of a recipient's queue is bounded, so honest senders keep
// room. A recipient's inbox has a quota too, and refuses beyond it with a reason the broker
// audits. Each refusal names its reason, is audited, and `tearline-audit verify` still passes.
#include <gtest/gtest.h>

#include <ctime>

#include "hostile_sealer.h"
#include "tearline/envelope/envelope.h"
#include "tearline/identity/certificate.h"
#include "tearline/wire/wire.h"
#include "test_support.h"
#include "traffic.h"
#include "wire_client.h"

namespace tearline {
namespace {

using testing::CountAuditRecords;
using testing::HostileReport;
using testing::HostileSeal;
using testing::WaitFor;
using testing::WireClient;
using Ms = std::chrono::milliseconds;

std::int64_t Now() { return static_cast<std::int64_t>(std::time(nullptr)); }

class HostileAdmissionTest : public testing::BrokerWireTest {
 protected:
  void SetUp() override {
    c_.IssueNode("usa-1", "USA", "SECRET");
    c_.IssueNode("jpn-1", "JPN", "SECRET");
    // Cleared for everything, so only the broker's admission stands between it and a portion
    // its originator was never cleared to hold.
    c_.IssueNode("gbr-1", "GBR", "TOP SECRET");
  }

  // A report from `originator` (claiming `nation`) for `to` (of `to_nation`), one portion per
  // label, signed with the originator's real key.
  std::vector<std::uint8_t> Report(const std::string& originator, const std::string& nation,
                                   const std::vector<std::string>& labels,
                                   std::size_t content_bytes = 16, const std::string& to = "gbr-1",
                                   const std::string& to_nation = "GBR") {
    HostileReport r;
    r.originator = originator;
    r.originator_nation = nation;
    r.created_unix = Now();
    r.expires_unix = Now() + 3600;
    r.labels = labels;
    r.intended_nations = {to_nation};
    r.recipients = {testing::RecipientOf(Cert(to))};
    r.content_bytes = content_bytes;
    return HostileSeal(r, Keys(originator).signing.secret_key);
  }

  std::size_t Rejected(const std::string& reason) {
    return CountAuditRecords(c_.AuditLogText(), "rejected_input", "\"" + reason + "\"");
  }

  void ExpectAuditVerifies() {
    auto v = c_.VerifyAudit();
    EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  }

  static const RecipientOutcomeInfo* Gbr(const SubmitReplyInfo& r) {
    for (const auto& o : r.outcomes) {
      if (o.node_id == "gbr-1") return &o;
    }
    return nullptr;
  }
};

TEST_F(HostileAdmissionTest, OriginatorClaimsAreCheckedAgainstItsCertificate) {
  StartBroker();
  ASSERT_FALSE(HasFatalFailure());
  auto u = Connect("usa-1", Keys("usa-1"));
  auto g = Connect("gbr-1", Keys("gbr-1"));

  // USA's node claims to be British: GBR's NOFORN would then be released to GBR as its own.
  SubmitReplyInfo foreign = Submit(*u, Report("usa-1", "GBR", {"(S//NF)"}));
  EXPECT_FALSE(foreign.accepted);
  EXPECT_EQ(foreign.error_reason, "ORIGINATOR_NATION_MISMATCH") << foreign.error_message;
  EXPECT_NE(foreign.error_message.find("certificate"), std::string::npos) << foreign.error_message;

  // A SECRET node originates a TOP SECRET portion that a TOP SECRET recipient would accept.
  SubmitReplyInfo above = Submit(*u, Report("usa-1", "USA", {"(TS//REL TO USA, GBR)"}), 78);
  EXPECT_FALSE(above.accepted);
  EXPECT_EQ(above.error_reason, "ABOVE_CLEARANCE") << above.error_message;
  EXPECT_NE(above.error_message.find("SECRET"), std::string::npos) << above.error_message;

  EXPECT_FALSE(g->Expect(schema::Body::Deliver, Ms(500)).has_value());
  EXPECT_EQ(Rejected("ORIGINATOR_NATION_MISMATCH"), 1u);
  EXPECT_EQ(Rejected("ABOVE_CLEARANCE"), 1u);
  EXPECT_EQ(CountAuditRecords(c_.AuditLogText(), "accepted"), 0u);

  // The same node's honest report still goes through.
  SubmitReplyInfo honest = Submit(*u, Report("usa-1", "USA", {"(S//REL TO USA, GBR)"}), 79);
  EXPECT_TRUE(honest.accepted) << honest.error_reason << ": " << honest.error_message;
  EXPECT_TRUE(g->Expect(schema::Body::Deliver).has_value());
  ExpectAuditVerifies();
}

TEST_F(HostileAdmissionTest, NonCanonicalLabelIsRefusedAndTheLogStillVerifies) {
  StartBroker();
  ASSERT_FALSE(HasFatalFailure());
  auto u = Connect("usa-1", Keys("usa-1"));
  auto g = Connect("gbr-1", Keys("gbr-1"));
  for (const std::string label : {"(s//rel to gbr,usa)", "(S//REL TO GBR, USA)",
                                  " (S//REL TO USA, GBR)", "SECRET//REL TO USA, GBR"}) {
    SubmitReplyInfo r = Submit(*u, Report("usa-1", "USA", {"(U)", label}));
    EXPECT_FALSE(r.accepted) << label;
    EXPECT_EQ(r.error_reason, "LABEL_NOT_CANONICAL") << label << ": " << r.error_message;
    // The message shows the form to use.
    EXPECT_NE(r.error_message.find("(S//REL TO USA, GBR)"), std::string::npos) << r.error_message;
  }
  EXPECT_FALSE(g->Expect(schema::Body::Deliver, Ms(500)).has_value());
  EXPECT_EQ(Rejected("LABEL_NOT_CANONICAL"), 4u);
  SubmitReplyInfo honest = Submit(*u, Report("usa-1", "USA", {"(U)", "(S//REL TO USA, GBR)"}), 78);
  EXPECT_TRUE(honest.accepted) << honest.error_reason << ": " << honest.error_message;
  EXPECT_TRUE(g->Expect(schema::Body::Deliver).has_value());
  ExpectAuditVerifies();
}

TEST_F(HostileAdmissionTest, OneSenderCannotTakeTheStoreOrARecipientsQueueFromOthers) {
  // GBR stays offline, so every copy for it stays pending.
  StartBroker("max_queue_per_sender_per_recipient = 2\nmax_store_bytes_per_node = 8192\n");
  ASSERT_FALSE(HasFatalFailure());
  auto u = Connect("usa-1", Keys("usa-1"));
  auto j = Connect("jpn-1", Keys("jpn-1"));
  const std::vector<std::string> label = {"(S//REL TO USA, GBR, JPN)"};

  // USA takes its share of GBR's queue; beyond it GBR is denied for USA's reports only.
  for (std::uint64_t i = 0; i < 2; ++i) {
    SubmitReplyInfo r = Submit(*u, Report("usa-1", "USA", label), 100 + i);
    ASSERT_TRUE(r.accepted) << r.error_reason;
    ASSERT_NE(Gbr(r), nullptr);
    EXPECT_EQ(Gbr(r)->state, schema::DeliveryState::Queued);
  }
  SubmitReplyInfo over = Submit(*u, Report("usa-1", "USA", label), 102);
  ASSERT_TRUE(over.accepted) << over.error_reason;
  ASSERT_NE(Gbr(over), nullptr);
  EXPECT_EQ(Gbr(over)->state, schema::DeliveryState::Denied);
  EXPECT_EQ(Gbr(over)->reason, "SENDER_QUEUE_QUOTA") << Gbr(over)->explanation;
  SubmitReplyInfo other = Submit(*j, Report("jpn-1", "JPN", {"(S//REL TO GBR, JPN)"}), 103);
  ASSERT_TRUE(other.accepted) << other.error_reason;
  ASSERT_NE(Gbr(other), nullptr);
  EXPECT_EQ(Gbr(other)->state, schema::DeliveryState::Queued) << Gbr(other)->reason;

  // USA's pending bytes are capped: a large report (for JPN, online) is refused as a whole...
  SubmitReplyInfo big =
      Submit(*u, Report("usa-1", "USA", {"(S//REL TO USA, JPN)"}, 9000, "jpn-1", "JPN"), 104);
  EXPECT_FALSE(big.accepted);
  EXPECT_EQ(big.error_reason, "SENDER_STORE_QUOTA") << big.error_message;
  EXPECT_EQ(Rejected("SENDER_STORE_QUOTA"), 1u);
  // ...while another node still stores one just as large.
  SubmitReplyInfo jbig = Submit(*j, Report("jpn-1", "JPN", {"(S//REL TO GBR, JPN)"}, 5000), 105);
  EXPECT_TRUE(jbig.accepted) << jbig.error_reason << ": " << jbig.error_message;
  ExpectAuditVerifies();
}

TEST_F(HostileAdmissionTest, FullInboxRefusesDeliveryAndTheNodeKeepsItsReports) {
  StartBroker();
  ASSERT_FALSE(HasFatalFailure());
  c_.StartNode("gbr-1", "max_inbox_reports = 2\n");
  ASSERT_FALSE(HasFatalFailure());
  auto u = Connect("usa-1", Keys("usa-1"));
  for (std::uint64_t i = 0; i < 3; ++i) {
    SubmitReplyInfo r = Submit(*u, Report("usa-1", "USA", {"(S//REL TO USA, GBR)"}), 100 + i);
    ASSERT_TRUE(r.accepted) << r.error_reason;
  }
  // The third copy is refused; INBOX_FULL is transient, so the broker keeps the copy pending
  // (re-offered with back-off, never marked failed) while the first two stay readable.
  EXPECT_TRUE(WaitFor(
      [&] { return c_.BrokerLog().find("reason=INBOX_FULL kind=transient") != std::string::npos; },
      Ms(5000)))
      << c_.BrokerLog();
  EXPECT_EQ(CountAuditRecords(c_.AuditLogText(), "failed"), 0u);
  EXPECT_EQ(CountAuditRecords(c_.AuditLogText(), "acknowledged"), 2u);
  EXPECT_EQ(testing::InboxCounts(c_, "gbr-1").size(), 2u);
  EXPECT_NE(c_.NodeLog("gbr-1").find("INBOX_FULL"), std::string::npos);
  EXPECT_EQ(c_.NodeCli("gbr-1", "status", {}).exit_code, 0);
  ExpectAuditVerifies();
}

}  // namespace
}  // namespace tearline
