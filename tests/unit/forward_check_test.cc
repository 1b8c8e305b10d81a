// The broker's forward checks: what the forwarder holds (by the broker's records), ORCON and
// claims, and that routing for the target nation releases every forwarded portion.
#include "tearline/broker/forward_check.h"

#include <gtest/gtest.h>

#include <ctime>

#include "mini_coalition.h"
#include "tearline/base/encoding.h"
#include "test_support.h"

namespace tearline::broker {
namespace {

class ForwardCheckTest : public ::testing::Test {
 protected:
  // GBR forwards USA's portions to AUS; each label, and the nodes the grant sealed it for.
  ForwardView View(const std::vector<std::pair<std::string, std::vector<std::string>>>& portions,
                   const std::string& target = "AUS") const {
    ForwardView v;
    v.forward_id.fill(0x0f);
    v.report_id.fill(0xab);
    v.forwarder = "gbr-1";
    v.forwarder_nation = "GBR";
    v.target_nation = target;
    v.report.report_id = v.forward_id;
    v.report.originator = "usa-1";
    v.report.originator_nation = "USA";
    v.report.intended_nations = {target};
    for (std::uint32_t i = 0; i < portions.size(); ++i) {
      v.portions.push_back(i);
      PortionView p;
      p.index = i;
      p.label = portions[i].first;
      p.recipients = portions[i].second;
      p.fingerprints.resize(p.recipients.size());
      v.report.portions.push_back(p);
    }
    return v;
  }
  Status Plan(const ForwardView& v) const {
    auto plan = PlanRouting(v.report, coalition_.directory(), coalition_.policy());
    if (!plan.ok()) return plan.status();
    return CheckPlanReleases(v, *plan);
  }

  testing::MiniCoalition coalition_{static_cast<std::int64_t>(std::time(nullptr)),
                                    {{"usa-1", "USA", "SECRET"},
                                     {"gbr-1", "GBR", "SECRET"},
                                     {"aus-1", "AUS", "SECRET"},
                                     {"kor-1", "KOR", "SECRET"}},
                                    86400};
};

TEST_F(ForwardCheckTest, TheForwarderMustHoldEveryPortionByTheBrokersRecords) {
  const ForwardView v = View({{"(S//REL TO USA, AUS, GBR)", {"aus-1"}}, {"(U)", {"aus-1"}}});
  Holding none;
  Status s = CheckHeld(v, none, "usa-1");
  EXPECT_EQ(s.reason(), "FORWARD_NOT_HELD");
  EXPECT_NE(s.message().find("never received"), std::string::npos) << s.message();

  Holding queued_only{true, false, {0, 1}};  // Released but never sent: not held yet.
  EXPECT_EQ(CheckHeld(v, queued_only, "usa-1").reason(), "FORWARD_NOT_HELD");

  Holding first_only{true, true, {0}};
  s = CheckHeld(v, first_only, "usa-1");
  EXPECT_EQ(s.reason(), "FORWARD_NOT_HELD");
  EXPECT_NE(s.message().find("portion 2"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("request-release " + ToHex(v.report_id) + " --portion 2 --to AUS"),
            std::string::npos)
      << s.message();

  Holding both{true, true, {0, 1}};
  EXPECT_TRUE(CheckHeld(v, both, "usa-1").ok());
}

TEST_F(ForwardCheckTest, OrconAndFalseClaimsAreRefused) {
  const Certificate& gbr = coalition_.cert("gbr-1");
  const Policy& policy = coalition_.policy();
  EXPECT_TRUE(CheckForwardable(View({{"(S//REL TO USA, AUS, GBR)", {}}}), gbr, policy).ok());

  Status s = CheckForwardable(View({{"(S//OC/REL TO USA, AUS, GBR)", {"aus-1"}}}), gbr, policy);
  EXPECT_EQ(s.reason(), "FORWARD_ORCON");
  EXPECT_NE(s.message().find("request-release"), std::string::npos) << s.message();

  EXPECT_EQ(CheckForwardable(View({{"(U)", {}}}), coalition_.cert("kor-1"), policy).reason(),
            "FORWARD_NATION_MISMATCH");
  EXPECT_EQ(CheckForwardable(View({{"(U)", {}}}, "USA"), gbr, policy).reason(),
            "FORWARD_TARGET_INVALID");
  EXPECT_EQ(CheckForwardable(View({{"(U)", {}}}, "GBR"), gbr, policy).reason(),
            "FORWARD_TARGET_INVALID");
  EXPECT_EQ(CheckForwardable(View({{"(S//REL TO NOWHERE)", {}}}), gbr, policy).reason(),
            "ROUTING_BAD_LABEL");
}

TEST_F(ForwardCheckTest, TheTargetGetsOnlyWhatTheOriginatorsLabelReleases) {
  EXPECT_TRUE(Plan(View({{"(S//REL TO USA, AUS, GBR)", {"aus-1"}}})).ok());

  Status s =
      Plan(View({{"(S//REL TO USA, AUS, GBR)", {"aus-1"}}, {"(S//REL TO USA, GBR)", {"aus-1"}}}));
  EXPECT_EQ(s.reason(), "FORWARD_NOT_RELEASABLE");
  EXPECT_NE(s.message().find("portion 2"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("usa-1"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("request-release"), std::string::npos) << s.message();

  EXPECT_EQ(Plan(View({{"(S//NF)", {"aus-1"}}})).reason(), "FORWARD_NOT_RELEASABLE");
  EXPECT_EQ(Plan(View({{"(S//REL TO USA, AUS, GBR)", {}}})).reason(), "FORWARD_NOT_SEALED");
  EXPECT_EQ(Plan(View({{"(U)", {"nzl-1"}}}, "NZL")).reason(), "FORWARD_NO_NODE");
}

}  // namespace
}  // namespace tearline::broker
