#include "tearline/labels/release.h"

#include <gtest/gtest.h>

#include "test_support.h"

namespace tearline {
namespace {

using testing::CoalitionPolicy;

Label L(std::string_view text) {
  auto l = ParseLabel(text, CoalitionPolicy());
  EXPECT_TRUE(l.ok()) << text << ": " << l.status().ToString();
  return l.ok() ? *l : Label{};
}

ReleaseDecision Decide(std::string_view marking, const std::string& nation,
                       std::optional<std::string> clearance = std::nullopt,
                       std::optional<std::string> originator = std::nullopt) {
  Recipient r;
  r.nation = nation;
  if (clearance) r.clearance = CoalitionPolicy().FindLevel(*clearance);
  r.originator_nation = originator;
  auto d = DecideRelease(L(marking), r, CoalitionPolicy());
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  return d.ok() ? *d : ReleaseDecision{};
}

std::string Banner(std::initializer_list<std::string_view> portions) {
  std::vector<Label> labels;
  for (auto p : portions) labels.push_back(L(p));
  auto r = Rollup(labels, CoalitionPolicy());
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? FormatBanner(*r, CoalitionPolicy()) : "<error>";
}

TEST(ReleaseTest, RelToWithGroup) {
  EXPECT_TRUE(Decide("SECRET//REL TO USA, FVEY", "NZL").release);
  auto jpn = Decide("SECRET//REL TO USA, FVEY", "JPN");
  EXPECT_FALSE(jpn.release);
  EXPECT_EQ(jpn.reason, DenyReason::kNotReleasable);
  EXPECT_NE(jpn.explanation.find("JPN"), std::string::npos);
  EXPECT_NE(jpn.explanation.find("REL TO USA, FVEY"), std::string::npos);
  EXPECT_TRUE(Decide("SECRET//REL TO MILFWK", "DEU").release);
  EXPECT_TRUE(Decide("SECRET//REL TO MILFWK", "NZL").release);  // via nested FVEY
  EXPECT_FALSE(Decide("SECRET//REL TO MILFWK", "KOR").release);
  EXPECT_TRUE(Decide("SECRET//REL TO JPN, KOR", "KOR").release);
}

TEST(ReleaseTest, Noforn) {
  auto d = Decide("SECRET//NOFORN", "GBR");
  EXPECT_FALSE(d.release);
  EXPECT_EQ(d.reason, DenyReason::kNoforn);
  EXPECT_EQ(Decide("(TS//OC/NF)", "AUS").reason, DenyReason::kNoforn);
  EXPECT_EQ(Decide("(U//NF)", "AUS").reason, DenyReason::kNoforn);
}

TEST(ReleaseTest, OriginatorAlwaysReceivesOwnMaterial) {
  EXPECT_TRUE(Decide("SECRET//NOFORN", "USA", std::nullopt, "USA").release);
  EXPECT_TRUE(Decide("SECRET//REL TO GBR, AUS", "JPN", std::nullopt, "JPN").release);
  EXPECT_TRUE(Decide("SECRET", "KOR", std::nullopt, "KOR").release);
  // ...but not when the material is above the originator node's clearance.
  EXPECT_EQ(Decide("TOP SECRET//NOFORN", "USA", "SECRET", "USA").reason,
            DenyReason::kAboveClearance);
  // Another nation's originator does not help.
  EXPECT_EQ(Decide("SECRET//NOFORN", "GBR", std::nullopt, "USA").reason, DenyReason::kNoforn);
}

TEST(ReleaseTest, AboveClearanceComesFirst) {
  auto d = Decide("TOP SECRET//REL TO USA, GBR", "GBR", "SECRET");
  EXPECT_FALSE(d.release);
  EXPECT_EQ(d.reason, DenyReason::kAboveClearance);
  EXPECT_NE(d.explanation.find("TOP SECRET"), std::string::npos);
  EXPECT_TRUE(Decide("TOP SECRET//REL TO USA, GBR", "GBR", "TOP SECRET").release);
  EXPECT_TRUE(Decide("SECRET//REL TO USA, GBR", "GBR", "TS").release);
  EXPECT_EQ(Decide("SECRET//NOFORN", "GBR", "C").reason, DenyReason::kAboveClearance);
}

TEST(ReleaseTest, NoReleasabilityMarking) {
  EXPECT_TRUE(Decide("UNCLASSIFIED", "KOR").release);
  EXPECT_TRUE(Decide("(U)", "PHL").release);
  EXPECT_TRUE(Decide("(U//OC)", "PHL").release);
  auto d = Decide("SECRET", "GBR", std::nullopt, "USA");
  EXPECT_FALSE(d.release);
  EXPECT_EQ(d.reason, DenyReason::kNoReleasabilityMarking);
  EXPECT_NE(d.explanation.find("treated as NOFORN"), std::string::npos);
  EXPECT_NE(d.explanation.find("REL TO USA, GBR"), std::string::npos) << d.explanation;
  EXPECT_EQ(Decide("(R)", "GBR").reason, DenyReason::kNoReleasabilityMarking);
  EXPECT_EQ(Decide("CONFIDENTIAL//ORCON", "GBR").reason, DenyReason::kNoReleasabilityMarking);
}

TEST(ReleaseTest, UnknownNationsAreErrors) {
  Recipient r{"XYZ", std::nullopt, std::nullopt};
  auto d = DecideRelease(L("SECRET//REL TO USA, GBR"), r, CoalitionPolicy());
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().reason(), "RELEASE_UNKNOWN_NATION");
  Recipient o{"GBR", std::nullopt, std::string("ZZZ")};
  auto e = DecideRelease(L("SECRET//REL TO USA, GBR"), o, CoalitionPolicy());
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().reason(), "RELEASE_UNKNOWN_ORIGINATOR");
  Recipient c{"GBR", 99, std::nullopt};
  EXPECT_FALSE(DecideRelease(L("SECRET//REL TO USA, GBR"), c, CoalitionPolicy()).ok());
}

TEST(ReleaseTest, ReasonNamesRoundTrip) {
  for (DenyReason r : {DenyReason::kAboveClearance, DenyReason::kNoforn, DenyReason::kNotReleasable,
                       DenyReason::kNoReleasabilityMarking}) {
    EXPECT_EQ(DenyReasonFromName(DenyReasonName(r)), r);
  }
  EXPECT_EQ(DenyReasonFromName("BOGUS"), std::nullopt);
  EXPECT_EQ(DenyReasonName(DenyReason::kNoforn), "NOFORN");
}

TEST(RollupTest, IssueExamples) {
  EXPECT_EQ(Banner({"(S//NF)", "(S//REL TO USA, GBR)"}), "SECRET//NOFORN");
  EXPECT_EQ(Banner({"(U)", "(S//REL TO USA, GBR)"}), "SECRET//REL TO USA, GBR");
}

TEST(RollupTest, HighestClassificationAndOrcon) {
  EXPECT_EQ(Banner({"(U)", "(C//REL TO USA, GBR)", "(TS//REL TO USA, GBR)"}),
            "TOP SECRET//REL TO USA, GBR");
  EXPECT_EQ(Banner({"(U//OC)", "(S//REL TO USA, GBR)"}), "SECRET//ORCON/REL TO USA, GBR");
  EXPECT_EQ(Banner({"(U)"}), "UNCLASSIFIED");
  EXPECT_EQ(Banner({"(U)", "(U//OC)"}), "UNCLASSIFIED//ORCON");
}

TEST(RollupTest, ClassifiedWithoutRelToForcesNoforn) {
  EXPECT_EQ(Banner({"(C)", "(S//REL TO USA, GBR)"}), "SECRET//NOFORN");
  EXPECT_EQ(Banner({"(U//NF)", "(S//REL TO USA, GBR)"}), "SECRET//NOFORN");
  EXPECT_EQ(Banner({"(TS//OC/NF)", "(U)"}), "TOP SECRET//ORCON/NOFORN");
}

TEST(RollupTest, IntersectionOfExpandedLists) {
  EXPECT_EQ(Banner({"(S//REL TO USA, FVEY)", "(S//REL TO USA, GBR, JPN)"}),
            "SECRET//REL TO USA, GBR");
  EXPECT_EQ(Banner({"(S//REL TO USA, FVEY)", "(S//REL TO USA, AUS, CAN, GBR, NZL, JPN)"}),
            "SECRET//REL TO USA, FVEY");
  EXPECT_EQ(Banner({"(S//REL TO MILFWK)", "(S//REL TO NATO)"}),
            "SECRET//REL TO USA, BEL, CAN, DEU, DNK, ESP, FRA, GBR, ITA, NLD, NOR");
  EXPECT_EQ(Banner({"(S//REL TO QUAD)", "(S//REL TO AUKUS)"}), "SECRET//REL TO USA, AUS");
  // Unclassified portions with REL TO do restrict.
  EXPECT_EQ(Banner({"(U//REL TO USA, GBR, JPN)", "(S//REL TO USA, JPN, KOR)"}),
            "SECRET//REL TO USA, JPN");
}

TEST(RollupTest, IntersectionBelowTwoNationsIsNoforn) {
  EXPECT_EQ(Banner({"(S//REL TO USA, GBR)", "(S//REL TO USA, JPN)"}), "SECRET//NOFORN");
  EXPECT_EQ(Banner({"(S//REL TO GBR, AUS)", "(S//REL TO JPN, KOR)"}), "SECRET//NOFORN");
}

TEST(RollupTest, GroupsStayWhenAllMembersRemain) {
  EXPECT_EQ(Banner({"(S//REL TO USA, FVEY)", "(S//REL TO USA, FVEY)"}), "SECRET//REL TO USA, FVEY");
  EXPECT_EQ(Banner({"(S//REL TO USA, FVEY)", "(S//REL TO MILFWK)"}), "SECRET//REL TO USA, FVEY");
  EXPECT_EQ(Banner({"(S//REL TO TEYE)", "(S//REL TO ACGU)"}), "SECRET//REL TO USA, TEYE");
  EXPECT_EQ(Banner({"(S//REL TO USA, FVEY)", "(S//REL TO USA, GBR, CAN, AUS)"}),
            "SECRET//REL TO USA, AUS, CAN, GBR");
}

TEST(RollupTest, EmptyIsAnError) {
  auto r = Rollup({}, CoalitionPolicy());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), "ROLLUP_EMPTY");
}

}  // namespace
}  // namespace tearline
