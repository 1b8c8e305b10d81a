// The provenance rule: a derived portion's label must keep releasing to each contributing nation,
// unless an override reason is given.
#include "tearline/labels/provenance_check.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_support.h"

namespace tearline {
namespace {

using testing::CoalitionPolicy;

Label L(const std::string& text) {
  auto l = ParseLabel(text, CoalitionPolicy());
  EXPECT_TRUE(l.ok()) << text;
  return l.ok() ? *l : Label{};
}

TEST(ProvenanceCheckTest, LabelThatKeepsEveryContributorPasses) {
  const std::vector<std::string> from = {"GBR", "GBR", "AUS"};
  EXPECT_TRUE(CheckProvenance(L("(S//REL TO USA, GBR, AUS)"), from, "USA", "", "portion 1",
                              CoalitionPolicy())
                  .ok());
  // A group code that contains the contributor keeps it.
  EXPECT_TRUE(
      CheckProvenance(L("(S//REL TO USA, FVEY)"), from, "USA", "", "portion 1", CoalitionPolicy())
          .ok());
}

TEST(ProvenanceCheckTest, LabelExcludingAContributorIsRefusedNamingItAndTheFix) {
  const std::vector<std::string> from = {"GBR", "JPN"};
  Status s =
      CheckProvenance(L("(S//REL TO USA, JPN)"), from, "USA", "", "portion 2", CoalitionPolicy());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.reason(), "PROVENANCE_EXCLUDES_CONTRIBUTOR");
  EXPECT_NE(s.message().find("portion 2"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("add GBR to REL TO, or give --override-provenance"), std::string::npos)
      << s.message();
  EXPECT_EQ(s.message().find("JPN to REL TO"), std::string::npos) << s.message();
  auto excluded = ExcludedContributors(L("(S//NF)"), from, "USA", CoalitionPolicy());
  ASSERT_TRUE(excluded.ok());
  EXPECT_EQ(*excluded, (std::vector<std::string>{"GBR", "JPN"}));
}

TEST(ProvenanceCheckTest, OverrideReasonAllowsAndOwnMaterialAlwaysPasses) {
  const std::vector<std::string> from = {"GBR"};
  EXPECT_TRUE(
      CheckProvenance(L("(S//NF)"), from, "USA", "US-only annex", "portion 1", CoalitionPolicy())
          .ok());
  // The deriving nation's own earlier report: NOFORN still releases to its originator.
  const std::vector<std::string> own = {"USA"};
  EXPECT_TRUE(CheckProvenance(L("(S//NF)"), own, "USA", "", "portion 1", CoalitionPolicy()).ok());
}

TEST(ProvenanceCheckTest, UnknownContributorIsAnError) {
  const std::vector<std::string> from = {"XXX"};
  Status s =
      CheckProvenance(L("(S//REL TO USA, GBR)"), from, "USA", "", "portion 1", CoalitionPolicy());
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.reason(), "PROVENANCE_EXCLUDES_CONTRIBUTOR");
}

}  // namespace
}  // namespace tearline
