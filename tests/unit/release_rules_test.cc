#include "tearline/labels/release_rules.h"

#include <gtest/gtest.h>

#include "test_support.h"

namespace tearline {
namespace {

using testing::CoalitionPolicy;

Label L(const std::string& text) {
  auto l = ParseLabel(text, CoalitionPolicy());
  EXPECT_TRUE(l.ok()) << text;
  return l.ok() ? *l : Label{};
}

constexpr char kRules[] = R"(
[[release_authorisation]]
name = "fvey-to-asia"
originator = "USA"
max_level = "SECRET"
marked_rel_to = ["USA", "FVEY"]
release_to = ["JPN", "KOR"]
)";

std::vector<ReleaseRule> Rules() {
  auto r = ParseReleaseRules(kRules, "test.toml", CoalitionPolicy());
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : std::vector<ReleaseRule>{};
}

TEST(ReleaseRulesTest, MatchesOnlyWhatTheRuleCovers) {
  const auto rules = Rules();
  const Policy& p = CoalitionPolicy();
  auto m = MatchReleaseRule(rules, "USA", L("(S//REL TO USA, FVEY)"), "JPN", p);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->rule, "fvey-to-asia");
  EXPECT_EQ(FormatPortion(m->new_label, p), "(S//REL TO USA, JPN, FVEY)");
  // Another originator, a higher level, an uncovered nation, a missing marking, ORCON, NOFORN.
  EXPECT_FALSE(MatchReleaseRule(rules, "GBR", L("(S//REL TO USA, FVEY)"), "JPN", p));
  EXPECT_FALSE(MatchReleaseRule(rules, "USA", L("(TS//REL TO USA, FVEY)"), "JPN", p));
  EXPECT_FALSE(MatchReleaseRule(rules, "USA", L("(S//REL TO USA, FVEY)"), "IND", p));
  EXPECT_FALSE(MatchReleaseRule(rules, "USA", L("(S//REL TO USA, GBR)"), "JPN", p));
  EXPECT_FALSE(MatchReleaseRule(rules, "USA", L("(S//OC/REL TO USA, FVEY)"), "JPN", p));
  EXPECT_FALSE(MatchReleaseRule(rules, "USA", L("(S//NF)"), "JPN", p));
}

TEST(ReleaseRulesTest, WidenedLabelKeepsEveryNationAndRefusesNoforn) {
  const Policy& p = CoalitionPolicy();
  auto w = WidenedLabel(L("(S//REL TO USA, JPN)"), "KOR", p);
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(FormatPortion(*w, p), "(S//REL TO USA, JPN, KOR)");
  // Already releasable (through a group): unchanged.
  auto same = WidenedLabel(L("(S//REL TO USA, FVEY)"), "GBR", p);
  ASSERT_TRUE(same.has_value());
  EXPECT_EQ(FormatPortion(*same, p), "(S//REL TO USA, FVEY)");
  EXPECT_FALSE(WidenedLabel(L("(S//NF)"), "GBR", p));
  EXPECT_FALSE(WidenedLabel(L("(S)"), "GBR", p));
}

TEST(ReleaseRulesTest, RefusesMalformedRules) {
  const Policy& p = CoalitionPolicy();
  for (const char* bad : {
           "[[release_authorisation]]\nname = \"Bad Name\"\noriginator = \"USA\"\n"
           "max_level = \"S\"\nmarked_rel_to = [\"USA\"]\nrelease_to = [\"JPN\"]\n",
           "[[release_authorisation]]\nname = \"a\"\noriginator = \"XXX\"\n"
           "max_level = \"S\"\nmarked_rel_to = [\"USA\"]\nrelease_to = [\"JPN\"]\n",
           "[[release_authorisation]]\nname = \"a\"\noriginator = \"USA\"\n"
           "max_level = \"SECRETISH\"\nmarked_rel_to = [\"USA\"]\nrelease_to = [\"JPN\"]\n",
           "[[release_authorisation]]\nname = \"a\"\noriginator = \"USA\"\n"
           "max_level = \"S\"\nmarked_rel_to = [\"USA\"]\nrelease_to = [\"FVEY\"]\n",
           "[[release_authorisation]]\nname = \"a\"\noriginator = \"USA\"\n"
           "max_level = \"S\"\nmarked_rel_to = []\nrelease_to = [\"JPN\"]\n",
           "release_authorisation = 3\n",
       }) {
    auto r = ParseReleaseRules(bad, "bad.toml", p);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().reason(), "POLICY_INVALID");
    }
  }
  auto none = ParseReleaseRules("[policy]\nname = \"x\"\n", "none.toml", p);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(ReleaseRulesTest, TheShippedPolicyParsesWithItsRules) {
  auto rules = LoadReleaseRules(DefaultPolicyPath(), CoalitionPolicy());
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  EXPECT_FALSE(rules->empty());
}

}  // namespace
}  // namespace tearline
