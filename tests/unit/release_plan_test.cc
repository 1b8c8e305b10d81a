#include "tearline/labels/release_plan.h"

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

Recipient Who(std::string nation, std::optional<std::string> clearance = std::nullopt,
              std::optional<std::string> originator = "USA") {
  Recipient r;
  r.nation = std::move(nation);
  if (clearance) r.clearance = CoalitionPolicy().FindLevel(*clearance);
  r.originator_nation = std::move(originator);
  return r;
}

TEST(ReleasePlanTest, ReleasedAndWithheldPerRecipient) {
  const std::vector<Label> portions = {L("(U)"), L("(S//REL TO USA, GBR)"), L("(S//NF)"),
                                       L("(TS//REL TO USA, FVEY)")};
  const std::vector<Recipient> who = {Who("GBR", "SECRET"), Who("JPN"), Who("USA", "TOP SECRET")};
  const ReleasePlan plan = PlanRelease(portions, who, CoalitionPolicy());
  ASSERT_EQ(plan.recipients.size(), 3u);

  const RecipientRelease& gbr = plan.recipients[0];
  EXPECT_EQ(gbr.released, (std::vector<std::size_t>{0, 1}));
  ASSERT_EQ(gbr.withheld.size(), 2u);
  EXPECT_EQ(gbr.withheld[0].portion, 2u);
  EXPECT_EQ(gbr.withheld[0].reason, DenyReason::kNoforn);
  EXPECT_EQ(gbr.withheld[1].portion, 3u);
  EXPECT_EQ(gbr.withheld[1].reason, DenyReason::kAboveClearance);
  EXPECT_NE(gbr.withheld[1].explanation.find("TOP SECRET"), std::string::npos);
  EXPECT_EQ(gbr.withheld[1].ReasonCode(), "ABOVE_CLEARANCE");
  EXPECT_TRUE(gbr.withheld[1].error.ok());

  const RecipientRelease& jpn = plan.recipients[1];
  EXPECT_EQ(jpn.released, (std::vector<std::size_t>{0}));
  ASSERT_EQ(jpn.withheld.size(), 3u);
  EXPECT_EQ(jpn.withheld[0].reason, DenyReason::kNotReleasable);
  EXPECT_NE(jpn.withheld[0].Explanation().find("JPN"), std::string::npos);
  EXPECT_EQ(jpn.withheld[1].reason, DenyReason::kNoforn);
  EXPECT_EQ(jpn.withheld[2].reason, DenyReason::kNotReleasable);

  // The originator's nation receives its own material, NOFORN included.
  EXPECT_EQ(plan.recipients[2].released, (std::vector<std::size_t>{0, 1, 2, 3}));
  EXPECT_TRUE(plan.recipients[2].withheld.empty());

  EXPECT_EQ(plan.RecipientsOf(0), (std::vector<std::size_t>{0, 1, 2}));
  EXPECT_EQ(plan.RecipientsOf(1), (std::vector<std::size_t>{0, 2}));
  EXPECT_EQ(plan.RecipientsOf(2), (std::vector<std::size_t>{2}));
  EXPECT_TRUE(plan.RecipientsOf(9).empty());
}

// The plan is exactly DecideRelease per pair: same verdicts, same reasons, same sentences.
TEST(ReleasePlanTest, AgreesWithDecideReleaseOnEveryPair) {
  const std::vector<Label> portions = {L("(U)"),
                                       L("(U//NF)"),
                                       L("(R)"),
                                       L("(C//REL TO FVEY)"),
                                       L("(S//OC/NF)"),
                                       L("(S//REL TO MILFWK)"),
                                       L("(TS//REL TO USA, GBR)"),
                                       L("(S//REL TO JPN, KOR)")};
  std::vector<Recipient> who;
  for (const char* nation : {"USA", "GBR", "NZL", "DEU", "JPN", "KOR"}) {
    for (std::optional<std::string> clearance :
         {std::optional<std::string>(), std::optional<std::string>("CONFIDENTIAL"),
          std::optional<std::string>("TOP SECRET")}) {
      for (std::optional<std::string> originator :
           {std::optional<std::string>(), std::optional<std::string>("GBR")}) {
        who.push_back(Who(nation, clearance, originator));
      }
    }
  }
  const ReleasePlan plan = PlanRelease(portions, who, CoalitionPolicy());
  ASSERT_EQ(plan.recipients.size(), who.size());
  for (std::size_t r = 0; r < who.size(); ++r) {
    const RecipientRelease& got = plan.recipients[r];
    EXPECT_EQ(got.released.size() + got.withheld.size(), portions.size());
    std::size_t released = 0;
    std::size_t withheld = 0;
    for (std::size_t i = 0; i < portions.size(); ++i) {
      auto d = DecideRelease(portions[i], who[r], CoalitionPolicy());
      ASSERT_TRUE(d.ok()) << d.status().ToString();
      if (d->release) {
        ASSERT_LT(released, got.released.size());
        EXPECT_EQ(got.released[released++], i);
      } else {
        ASSERT_LT(withheld, got.withheld.size());
        const WithheldPortion& w = got.withheld[withheld++];
        EXPECT_EQ(w.portion, i);
        EXPECT_EQ(w.reason, d->reason);
        EXPECT_EQ(w.explanation, d->explanation);
        EXPECT_EQ(w.ReasonCode(), DenyReasonName(d->reason));
      }
    }
  }
}

TEST(ReleasePlanTest, UndecidablePairsAreWithheldWithTheirError) {
  const std::vector<Label> portions = {L("(U)"), L("(S//REL TO FVEY)")};
  Recipient bad_clearance = Who("GBR");
  bad_clearance.clearance = 99;
  const std::vector<Recipient> who = {Who("XXX"), Who("GBR", std::nullopt, "ZZZ"), bad_clearance,
                                      Who("AUS")};
  const ReleasePlan plan = PlanRelease(portions, who, CoalitionPolicy());
  ASSERT_EQ(plan.recipients.size(), 4u);
  const std::vector<std::string> expected = {"RELEASE_UNKNOWN_NATION", "RELEASE_UNKNOWN_ORIGINATOR",
                                             "RELEASE_BAD_CLEARANCE"};
  for (std::size_t r = 0; r < expected.size(); ++r) {
    const RecipientRelease& got = plan.recipients[r];
    EXPECT_TRUE(got.released.empty()) << r;
    ASSERT_EQ(got.withheld.size(), 2u) << r;
    for (const WithheldPortion& w : got.withheld) {
      EXPECT_FALSE(w.error.ok());
      EXPECT_EQ(w.reason, DenyReason::kNone);
      EXPECT_EQ(w.ReasonCode(), expected[r]);
      EXPECT_EQ(w.Explanation(), w.error.message());
    }
  }
  // Other recipients are unaffected.
  EXPECT_EQ(plan.recipients[3].released, (std::vector<std::size_t>{0, 1}));
}

TEST(ReleasePlanTest, EmptyInputsGiveEmptyPlans) {
  const std::vector<Label> portions = {L("(U)")};
  EXPECT_TRUE(PlanRelease(portions, {}, CoalitionPolicy()).recipients.empty());
  const std::vector<Recipient> who = {Who("GBR")};
  const ReleasePlan plan = PlanRelease({}, who, CoalitionPolicy());
  ASSERT_EQ(plan.recipients.size(), 1u);
  EXPECT_TRUE(plan.recipients[0].released.empty());
  EXPECT_TRUE(plan.recipients[0].withheld.empty());
}

}  // namespace
}  // namespace tearline
