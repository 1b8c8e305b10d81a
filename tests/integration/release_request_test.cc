// Release requests end to end (issue 13): the real tearline-broker with real tearline-node
// daemons driven through the CLI (standing authorisation, officer approval, sanitised version,
// denial), and a protocol-level client with real keys for what a hostile or careless node may
// send (a relabel by a non-originator, one that drops the originator or a holder, a replayed
// approval, a request flood).
#include <gtest/gtest.h>

#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>

#include "coalition.h"
#include "tearline/base/encoding.h"
#include "tearline/crypto/keys.h"
#include "tearline/envelope/envelope.h"
#include "tearline/wire/release_frames.h"
#include "tearline/wire/wire.h"
#include "test_support.h"
#include "wire_client.h"

namespace tearline {
namespace {

using testing::Coalition;
using testing::WaitFor;
using testing::WireClient;

std::int64_t Now() { return static_cast<std::int64_t>(std::time(nullptr)); }

// ----- Daemons and CLI -------------------------------------------------------------------------

class ReleaseRequestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto [id, nation] :
         {std::pair{"usa-1", "USA"}, std::pair{"gbr-1", "GBR"}, std::pair{"aus-1", "AUS"},
          std::pair{"jpn-1", "JPN"}, std::pair{"kor-1", "KOR"}}) {
      c_.IssueNode(id, nation, "SECRET");
    }
    c_.StartBroker();
    for (const char* id : {"usa-1", "gbr-1", "aus-1", "jpn-1", "kor-1"}) c_.StartNode(id);
    Write("fvey.txt", "Convoy sighted at grid 31U.");
    Write("jpn.txt", "Maritime patrol schedule.");
    Write("sanitised.txt", "Maritime patrol expected this week.");
    auto r = c_.NodeCli("usa-1", "send",
                        {"--to", "GBR,JPN", "--portion", "(S//REL TO USA, FVEY)", File("fvey.txt"),
                         "--portion", "(S//REL TO USA, JPN)", File("jpn.txt")});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    ASSERT_TRUE(WaitFor([&] { return Inbox("jpn-1").size() == 1; }));
    report_ = Inbox("jpn-1")[0]["report_id"].get<std::string>();
  }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(c_.root() / name) << text;
  }
  std::string File(const std::string& name) { return (c_.root() / name).string(); }
  nlohmann::json Inbox(const std::string& id) {
    auto r = c_.NodeCli(id, "inbox", {"--json"});
    return r.exit_code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json::array();
  }
  std::string ReadAll(const std::string& id) {
    std::string text;
    for (const auto& e : Inbox(id)) {
      text += c_.NodeCli(id, "read", {e["report_id"].get<std::string>()}).out;
    }
    return text;
  }
  nlohmann::json Requests(const std::string& id) {
    auto r = c_.NodeCli(id, "requests", {"--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.exit_code == 0 ? nlohmann::json::parse(r.out)["requests"] : nlohmann::json::array();
  }
  // JPN asks for the Japan portion (portion 2) to go to `nation`; returns the request id.
  std::string Ask(const std::string& nation) {
    auto r =
        c_.NodeCli("jpn-1", "request-release",
                   {report_, "--portion", "2", "--to", nation, "--why", "joint patrol", "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    if (r.exit_code != 0) return "";
    auto j = nlohmann::json::parse(r.out)["requests"][0];
    EXPECT_EQ(j["state"], "pending");
    return j["request_id"].get<std::string>();
  }
  nlohmann::json Find(const nlohmann::json& list, const std::string& request) {
    for (const auto& r : list) {
      if (r["request_id"] == request) return r;
    }
    return {};
  }
  std::string State(const std::string& id, const std::string& request) {
    auto r = Find(Requests(id), request);
    return r.is_object() ? r["state"].get<std::string>() : "";
  }

  Coalition c_;
  std::string report_;
};

TEST_F(ReleaseRequestTest, StandingAuthorisationApprovesAtOnceAndTheNewNationReceives) {
  const std::string request = Ask("KOR");
  ASSERT_FALSE(request.empty());
  ASSERT_TRUE(WaitFor([&] { return State("jpn-1", request) == "approved"; }));
  auto mine = Find(Requests("jpn-1"), request);
  EXPECT_EQ(mine["rule"], "usa-jpn-secret-to-kor");
  EXPECT_EQ(mine["label"], "(S//REL TO USA, JPN, KOR)");
  EXPECT_GE(mine["turnaround_ms"].get<std::int64_t>(), 0);
  ASSERT_TRUE(WaitFor([&] { return Inbox("kor-1").size() == 1; }));
  const std::string kor = ReadAll("kor-1");
  EXPECT_NE(kor.find("Maritime patrol schedule."), std::string::npos) << kor;
  EXPECT_EQ(kor.find("Convoy"), std::string::npos) << kor;
  // The originator's side shows the same request, decided by the rule.
  EXPECT_EQ(Find(Requests("usa-1"), request)["state"], "approved");
  // The audit chain: request, the release report accepted and delivered, the automatic approval.
  const std::string audit = c_.AuditLogText();
  EXPECT_NE(audit.find("\"type\":\"release_requested\""), std::string::npos);
  EXPECT_NE(audit.find("\"type\":\"release_auto_approved\""), std::string::npos);
  EXPECT_NE(audit.find("\"rule\":\"usa-jpn-secret-to-kor\""), std::string::npos);
  auto verified = c_.VerifyAudit();
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
}

TEST_F(ReleaseRequestTest, OfficerApprovesDeniesAndReleasesASanitisedVersion) {
  // AUS and GBR are not covered by a standing authorisation: they wait for the officer.
  const std::string to_aus = Ask("AUS");
  const std::string to_gbr = Ask("GBR");
  ASSERT_TRUE(WaitFor(
      [&] { return State("usa-1", to_aus) == "pending" && State("usa-1", to_gbr) == "pending"; }));
  auto pending = Find(Requests("jpn-1"), to_aus);
  EXPECT_EQ(pending["state"], "pending");
  EXPECT_GE(pending["age_s"].get<std::int64_t>(), 0);

  auto approve = c_.NodeCli("usa-1", "approve", {to_aus.substr(0, 8)});
  ASSERT_EQ(approve.exit_code, 0) << approve.out << approve.err;
  EXPECT_NE(approve.out.find("approved"), std::string::npos) << approve.out;
  ASSERT_TRUE(WaitFor([&] { return Inbox("aus-1").size() == 1; }));
  EXPECT_NE(ReadAll("aus-1").find("Maritime patrol schedule."), std::string::npos);
  ASSERT_TRUE(WaitFor([&] { return State("jpn-1", to_aus) == "approved"; }));

  // A decided request cannot be decided again.
  auto again = c_.NodeCli("usa-1", "deny", {to_aus, "--why", "changed my mind"});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.err.find("RELEASE_ALREADY_DECIDED"), std::string::npos) << again.err;

  auto deny = c_.NodeCli("usa-1", "deny", {to_gbr, "--why", "source protection"});
  ASSERT_EQ(deny.exit_code, 0) << deny.out << deny.err;
  ASSERT_TRUE(WaitFor([&] { return State("jpn-1", to_gbr) == "denied"; }));
  auto denied = Find(Requests("jpn-1"), to_gbr);
  EXPECT_EQ(denied["reason"], "RELEASE_DENIED");
  EXPECT_EQ(denied["explanation"], "source protection");

  // GBR again, answered with a sanitised version under its own label.
  const std::string sanitised = Ask("GBR");
  ASSERT_TRUE(WaitFor([&] { return State("usa-1", sanitised) == "pending"; }));
  auto tear = c_.NodeCli(
      "usa-1", "approve",
      {sanitised, "--sanitised", File("sanitised.txt"), "--label", "(S//REL TO USA, GBR, JPN)"});
  ASSERT_EQ(tear.exit_code, 0) << tear.out << tear.err;
  ASSERT_TRUE(WaitFor([&] { return Inbox("gbr-1").size() == 2; }));
  const std::string gbr = ReadAll("gbr-1");
  EXPECT_NE(gbr.find("Maritime patrol expected this week."), std::string::npos) << gbr;
  EXPECT_EQ(gbr.find("Maritime patrol schedule."), std::string::npos) << gbr;
  const std::string audit = c_.AuditLogText();
  EXPECT_NE(audit.find("\"type\":\"release_decided\""), std::string::npos);
  EXPECT_NE(audit.find("\"decision\":\"denied\""), std::string::npos);
  EXPECT_NE(audit.find("\"type\":\"release_sanitised\""), std::string::npos);
  // Each decision record carries the body the originator signed, and an auditor checks it.
  EXPECT_NE(audit.find("\"decision_body\":\""), std::string::npos);
  auto verified = c_.VerifyAudit();
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  // The audit report counts them per nation pair, with the originator's reason for the denial.
  auto report = testing::RunProcess({testing::BinaryPath("tearline-audit").string(), "report",
                                     (c_.broker_data() / "audit").string(), "--text"},
                                    std::chrono::seconds(30));
  EXPECT_NE(report.out.find("USA -> GBR: 2 requested, 1 approved (0 by standing authorisation, "
                            "1 sanitised), 1 denied"),
            std::string::npos)
      << report.out << report.err;
  EXPECT_NE(report.out.find("source protection=1"), std::string::npos) << report.out;
}

// Pending requests and decisions live in the broker's report store: a broker restarted between
// the request and the officer's decision still takes the decision, delivers and tells the
// requester (before, it had forgotten the request: RELEASE_UNKNOWN_REQUEST).
TEST_F(ReleaseRequestTest, ARequestMadeBeforeABrokerRestartIsDecidedAfterIt) {
  const std::string request = Ask("AUS");
  ASSERT_FALSE(request.empty());
  ASSERT_TRUE(WaitFor([&] { return State("usa-1", request) == "pending"; }));
  c_.StopBroker();
  c_.StartBroker();
  const auto connected = [&](const std::string& id) {
    auto r = c_.NodeCli(id, "status", {"--json"});
    return r.exit_code == 0 && nlohmann::json::parse(r.out).value("connected", false);
  };
  ASSERT_TRUE(WaitFor([&] { return connected("usa-1") && connected("jpn-1"); }));
  auto approve = c_.NodeCli("usa-1", "approve", {request.substr(0, 8)});
  ASSERT_EQ(approve.exit_code, 0) << approve.out << approve.err << c_.BrokerLog();
  ASSERT_TRUE(WaitFor([&] { return Inbox("aus-1").size() == 1; }));
  EXPECT_NE(ReadAll("aus-1").find("Maritime patrol schedule."), std::string::npos);
  ASSERT_TRUE(WaitFor([&] { return State("jpn-1", request) == "approved"; }));
  // Restarted again: the decision still counts once, and AUS is remembered as a holder.
  c_.StopBroker();
  c_.StartBroker();
  ASSERT_TRUE(WaitFor([&] { return connected("jpn-1"); }));
  auto again = c_.NodeCli("jpn-1", "request-release",
                          {report_, "--portion", "2", "--to", "AUS", "--why", "again"});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.err.find("RELEASE_ALREADY_HELD"), std::string::npos) << again.out << again.err;
  EXPECT_NE(c_.BrokerLog().find("event=release_requests_restored"), std::string::npos);
}

// ----- Protocol level: what a hostile node may send --------------------------------------------

class ReleaseWireTest : public testing::BrokerWireTest {
 protected:
  void SetUp() override {
    for (auto [id, nation] : {std::pair{"usa-1", "USA"}, std::pair{"gbr-1", "GBR"},
                              std::pair{"jpn-1", "JPN"}, std::pair{"kor-1", "KOR"}}) {
      c_.IssueNode(id, nation, "SECRET");
    }
    StartBroker("max_release_requests_per_node = 3\n");
    usa_keys_ = Keys("usa-1");
    jpn_keys_ = Keys("jpn-1");
    usa_ = Connect("usa-1", usa_keys_);
    gbr_ = Connect("gbr-1", Keys("gbr-1"));
    jpn_ = Connect("jpn-1", jpn_keys_);
    kor_ = Connect("kor-1", Keys("kor-1"));
    // USA's report: one portion for GBR and JPN.
    auto sealed = SealFor({Recipient("gbr-1"), Recipient("jpn-1")}, "(S//REL TO USA, GBR, JPN)");
    report_id_ = sealed.report_id;
    ASSERT_TRUE(Submit(*usa_, sealed.bytes).accepted);
  }
  SealedReport SealFor(std::vector<SealRecipient> to, const std::string& label) {
    SealInput in;
    in.originator = "usa-1";
    in.originator_nation = "USA";
    in.created_unix = Now();
    in.expires_unix = Now() + 3600;
    in.portions = {{label, {'p', 'a', 't', 'r', 'o', 'l'}, std::nullopt}};
    for (const SealRecipient& r : to) in.intended_nations.push_back(r.nation);
    in.recipients = std::move(to);
    auto sealed = Seal(in, usa_keys_.signing.secret_key, testing::CoalitionPolicy());
    EXPECT_TRUE(sealed.ok()) << sealed.status().ToString();
    return std::move(sealed).value();
  }
  ReleaseAsk AskFor(const std::string& nation, std::uint8_t tag) {
    ReleaseAsk a;
    a.request_id.assign(kReleaseIdBytes, tag);
    a.report_id.assign(report_id_.begin(), report_id_.end());
    a.portion = 0;
    a.to_nation = nation;
    a.why = "joint patrol";
    return a;
  }
  // An approval of `ask` with `label`, signed with `keys`, carrying a release report for KOR.
  std::vector<std::uint8_t> Approval(const ReleaseAsk& ask, const std::string& label,
                                     const IdentityKeys& keys) {
    auto sealed = SealFor({Recipient("kor-1")}, label);
    ReleaseDecisionInfo d;
    d.request_id = ask.request_id;
    d.report_id = ask.report_id;
    d.portion = ask.portion;
    d.to_nation = ask.to_nation;
    d.approved = true;
    d.label = label;
    d.release_report_id.assign(sealed.report_id.begin(), sealed.report_id.end());
    d.decided_unix = Now();
    auto body = EncodeReleaseDecisionBody(d);
    auto signature = SignWithDomain(keys.signing, kReleaseDecisionDomain, body);
    EXPECT_TRUE(signature.ok());
    return EncodeReleaseDecision(9, body, *signature, sealed.bytes);
  }
  std::string StateOf(WireClient& client) {
    auto frame = client.Expect(schema::Body::ReleaseStatus);
    if (!frame) return "";
    std::vector<std::uint8_t> storage;
    auto f = DecodeFrame(AlignedForDecode(*frame, storage));
    if (!f.ok()) return "";
    auto s = ToReleaseStatusInfo(*(*f)->body_as_ReleaseStatus());
    return s.ok() ? s->state : "";
  }

  IdentityKeys usa_keys_, jpn_keys_;
  std::unique_ptr<WireClient> usa_, gbr_, jpn_, kor_;
  ReportId report_id_{};
};

TEST_F(ReleaseWireTest, OnlyTheOriginatorRelabelsNeverTakingAccessAwayAndOnce) {
  // KOR holds nothing: it cannot ask.
  kor_->Send(EncodeReleaseRequest(5, AskFor("KOR", 0x10)));
  EXPECT_EQ(kor_->ExpectErrorReason(), "RELEASE_NOT_HELD");

  const ReleaseAsk ask = AskFor("KOR", 0x11);
  jpn_->Send(EncodeReleaseRequest(5, ask));
  EXPECT_EQ(StateOf(*jpn_), "pending");
  ASSERT_TRUE(usa_->Expect(schema::Body::ReleaseNotice).has_value());

  // JPN approving its own request with its own key: not the originator.
  jpn_->Send(Approval(ask, "(S//REL TO USA, GBR, JPN, KOR)", jpn_keys_));
  EXPECT_EQ(jpn_->ExpectErrorReason(), "RELABEL_NOT_ORIGINATOR");
  // The originator's session with a signature by another key.
  usa_->Send(Approval(ask, "(S//REL TO USA, GBR, JPN, KOR)", jpn_keys_));
  EXPECT_EQ(usa_->ExpectErrorReason(), "RELABEL_BAD_SIGNATURE");
  // Labels that take the portion away from the originator or from GBR, which holds it.
  usa_->Send(Approval(ask, "(S//REL TO GBR, JPN, KOR)", usa_keys_));
  EXPECT_EQ(usa_->ExpectErrorReason(), "RELABEL_DROPS_ORIGINATOR");
  usa_->Send(Approval(ask, "(S//REL TO USA, JPN, KOR)", usa_keys_));
  EXPECT_EQ(usa_->ExpectErrorReason(), "RELABEL_DROPS_HOLDER");
  EXPECT_EQ(kor_->Expect(schema::Body::Deliver, std::chrono::milliseconds(300)), std::nullopt);

  const auto approval = Approval(ask, "(S//REL TO USA, GBR, JPN, KOR)", usa_keys_);
  usa_->Send(approval);
  EXPECT_EQ(StateOf(*usa_), "approved");
  EXPECT_TRUE(kor_->Expect(schema::Body::Deliver).has_value());
  EXPECT_EQ(StateOf(*jpn_), "approved");
  // The same signed approval again: refused, nothing delivered twice.
  usa_->Send(approval);
  EXPECT_EQ(usa_->ExpectErrorReason(), "RELEASE_REPLAYED");
  EXPECT_EQ(kor_->Expect(schema::Body::Deliver, std::chrono::milliseconds(300)), std::nullopt);

  const std::string audit = c_.AuditLogText();
  EXPECT_NE(audit.find("\"reason\":\"RELABEL_DROPS_HOLDER\""), std::string::npos);
  EXPECT_NE(audit.find("\"reason\":\"RELEASE_REPLAYED\""), std::string::npos);
  EXPECT_NE(audit.find("\"type\":\"release_decided\""), std::string::npos);
}

TEST_F(ReleaseWireTest, ARequestFloodIsBoundedPerNode) {
  std::uint8_t tag = 0x20;
  for (const char* nation : {"AUS", "CAN", "NZL"}) {
    jpn_->Send(EncodeReleaseRequest(5, AskFor(nation, tag++)));
    EXPECT_EQ(StateOf(*jpn_), "pending") << nation;
  }
  jpn_->Send(EncodeReleaseRequest(5, AskFor("FRA", tag++)));
  EXPECT_EQ(jpn_->ExpectErrorReason(), "RELEASE_REQUEST_LIMIT");
  // The same request id twice is refused too.
  jpn_->Send(EncodeReleaseRequest(5, AskFor("AUS", 0x20)));
  EXPECT_EQ(jpn_->ExpectErrorReason(), "RELEASE_DUPLICATE_REQUEST");
}

}  // namespace
}  // namespace tearline
