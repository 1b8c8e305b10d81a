#include "tearline/node/release_officer.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "node_unit_fixture.h"
#include "tearline/base/clock.h"
#include "tearline/base/encoding.h"
#include "tearline/crypto/keys.h"
#include "tearline/wire/release_frames.h"

namespace tearline::node {
namespace {

using tearline::testing::TempDir;

unit::TestCoalition Nations(std::int64_t now) {
  unit::TestCoalition c(now);
  c.Issue("usa-1", "USA", "SECRET");
  c.Issue("jpn-1", "JPN", "SECRET");
  c.Issue("kor-1", "KOR", "SECRET");
  return c;
}

const std::string kReport(32, 'a');

class ReleaseOfficerTest : public ::testing::Test {
 protected:
  ReleaseOfficerTest()
      : coalition_(Nations(clock_.UnixNow())),
        me_(coalition_.Identity("usa-1")),
        inbox_(InboxStore::Open(dir_.path()).value()),
        book_(ReleaseBook::Open(dir_.path()).value()),
        sources_(ReleaseSources::Open(dir_.path()).value()),
        directory_(clock_, *me_.trust, *me_.revocation_floor, *me_.own_cert, *me_.broker_cert,
                   broker_),
        officer_(clock_, me_, directory_, inbox_, book_, sources_, Rules(), broker_, replier_) {
    DirectoryUpdate u;
    u.certificates = coalition_.NodeCertificates();
    directory_.OnDirectory(u);
    broker_.sent.clear();
    const std::string content = "Maritime patrol schedule.";
    officer_.KeepSources(kReport, {"(S//REL TO USA, JPN)"},
                         {{reinterpret_cast<const std::uint8_t*>(content.data()), content.size()}});
  }
  static std::vector<ReleaseRule> Rules() {
    return ParseReleaseRules(
               "[[release_authorisation]]\nname = \"jpn-to-kor\"\noriginator = \"USA\"\n"
               "max_level = \"SECRET\"\nmarked_rel_to = [\"USA\", \"JPN\"]\n"
               "release_to = [\"KOR\"]\n",
               "t.toml", *coalition_policy())
        .value();
  }
  static std::shared_ptr<const Policy> coalition_policy() {
    static auto p = std::make_shared<const Policy>(tearline::testing::CoalitionPolicy());
    return p;
  }
  ReleaseNoticeInfo Notice(const std::string& to, std::uint8_t tag) {
    ReleaseNoticeInfo n;
    n.ask = {ReleaseId(16, tag), FromHex(kReport).value(), 0, to, "joint patrol"};
    n.requester = "jpn-1";
    n.requester_nation = "JPN";
    n.requested_unix = clock_.UnixNow();
    return n;
  }
  // The decision body of the last frame sent, its signature checked with usa-1's key.
  ReleaseDecisionInfo LastDecision() {
    const schema::Frame* f = broker_.Last();
    EXPECT_NE(f, nullptr);
    EXPECT_EQ(f->body_type(), schema::Body::ReleaseDecision);
    const auto* d = f->body_as_ReleaseDecision();
    std::span<const std::uint8_t> body(d->decision()->data(), d->decision()->size());
    EXPECT_TRUE(VerifyWithDomain(me_.keys.signing.public_key, kReleaseDecisionDomain, body,
                                 {d->signature()->data(), d->signature()->size()}));
    return DecodeReleaseDecisionBody(body).value();
  }

  TempDir dir_;
  FakeClock clock_;
  unit::TestCoalition coalition_;
  NodeIdentity me_;
  InboxStore inbox_;
  ReleaseBook book_;
  ReleaseSources sources_;
  unit::RecordingBroker broker_;
  unit::RecordingReplier replier_;
  DirectoryCache directory_;
  ReleaseOfficer officer_;
};

TEST_F(ReleaseOfficerTest, AStandingAuthorisationApprovesAtOnceSignedAsSuch) {
  officer_.OnNotice(Notice("KOR", 1));
  ASSERT_EQ(broker_.Count(schema::Body::ReleaseDecision), 1u);
  const ReleaseDecisionInfo d = LastDecision();
  EXPECT_TRUE(d.approved);
  EXPECT_EQ(d.rule, "jpn-to-kor");
  EXPECT_EQ(d.label, "(S//REL TO USA, JPN, KOR)");
  EXPECT_FALSE(d.sanitised);
  // The request is on record, pending until the broker confirms.
  EXPECT_EQ(book_.Find(ToHex(ReleaseId(16, 1)))->status.state, "pending");
}

TEST_F(ReleaseOfficerTest, AnUncoveredRequestWaitsForTheOfficerWhoseDenialIsSigned) {
  officer_.OnNotice(Notice("GBR", 2));
  EXPECT_EQ(broker_.Count(schema::Body::ReleaseDecision), 0u);
  ControlRequest deny;
  deny.op = ControlOp::kRelease;
  deny.release.action = "deny";
  deny.release.id = ToHex(ReleaseId(16, 2)).substr(0, 6);
  deny.release.why = "source protection";
  officer_.Start("cli", deny);
  ASSERT_EQ(broker_.Count(schema::Body::ReleaseDecision), 1u);
  const ReleaseDecisionInfo d = LastDecision();
  EXPECT_FALSE(d.approved);
  EXPECT_EQ(d.explanation, "source protection");
  // No broker answer within the deadline: the officer hears why.
  clock_.Advance(kReleaseReplyTimeout);
  officer_.Tick();
  ASSERT_EQ(replier_.replies.size(), 1u);
  EXPECT_NE(replier_.replies[0].second.find("BROKER_NO_REPLY"), std::string::npos);
}

TEST_F(ReleaseOfficerTest, TheBrokersStatusIsRecordedForBothSides) {
  officer_.OnNotice(Notice("GBR", 3));
  ReleaseStatusInfo s;
  s.request_id = ReleaseId(16, 3);
  s.report_id = FromHex(kReport).value();
  s.to_nation = "GBR";
  s.state = "denied";
  s.reason = "RELEASE_DENIED";
  s.explanation = "source protection";
  officer_.OnStatus(0, s);
  auto r = book_.Find(ToHex(ReleaseId(16, 3)));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->incoming);
  EXPECT_EQ(r->status.state, "denied");
  EXPECT_EQ(r->why, "joint patrol");
  // A decided request is not decided again.
  ControlRequest approve;
  approve.op = ControlOp::kRelease;
  approve.release.action = "approve";
  approve.release.id = r->request_hex();
  officer_.Start("cli", approve);
  ASSERT_EQ(replier_.replies.size(), 1u);
  EXPECT_NE(replier_.replies[0].second.find("RELEASE_ALREADY_DECIDED"), std::string::npos);
}

}  // namespace
}  // namespace tearline::node
