// National markings: every nation's words in the shipped policy map to the canonical label and
// back, in both forms, and the policy refuses an equivalence that would be ambiguous.
#include "tearline/labels/national_markings.h"

#include <gtest/gtest.h>

#include "test_support.h"

namespace tearline {
namespace {

using testing::CoalitionPolicy;
using testing::SourcePath;

const NationalMarkings& Shipped() {
  static const NationalMarkings* m = [] {
    auto loaded = NationalMarkings::LoadFile(SourcePath("deploy/policy/coalition.toml").string(),
                                             CoalitionPolicy());
    EXPECT_TRUE(loaded.ok()) << loaded.status().ToString();
    return new NationalMarkings(loaded.ok() ? std::move(loaded).value() : NationalMarkings());
  }();
  return *m;
}

TEST(NationalMarkingsTest, ShippedPolicyNamesTheNationsOfTheIssue) {
  const Policy& p = CoalitionPolicy();
  const int secret = *p.FindLevel("SECRET");
  EXPECT_EQ(Shipped().LevelWords("GBR", secret, p), "UK SECRET");
  EXPECT_EQ(Shipped().LevelWords("DEU", secret, p), "GEHEIM");
  EXPECT_EQ(Shipped().LevelWords("FRA", secret, p), "SECRET DEFENSE");
  EXPECT_EQ(Shipped().LevelWords("NATO", secret, p), "NATO SECRET");
  EXPECT_EQ(Shipped().LevelWords("USA", secret, p), "SECRET");  // No table: canonical.
  for (const char* code : {"GBR", "DEU", "FRA", "JPN", "KOR", "NATO"}) {
    EXPECT_TRUE(Shipped().words().contains(code)) << code;
  }
}

// Both ways, for every nation of the shipped policy, every level it names, both forms.
TEST(NationalMarkingsTest, EveryShippedNationRoundTripsBothWays) {
  const Policy& p = CoalitionPolicy();
  std::size_t checked = 0;
  for (const auto& [code, words] : Shipped().words()) {
    for (const auto& [rank, w] : words) {
      for (MarkingForm form : {MarkingForm::kBanner, MarkingForm::kPortion}) {
        Label canonical;
        canonical.level = rank;
        if (rank > 0) {
          canonical.has_rel_to = true;
          canonical.rel_to_nations = {"USA", "GBR"};
          CanonicalizeRelTo(canonical, p);
        }
        // Canonical -> national.
        const std::string shown = Shipped().FormatAs(canonical, form, code, p);
        EXPECT_NE(shown.find(w), std::string::npos) << code << " " << shown;
        // National -> canonical: the same label, and the same marking in canonical words.
        auto back = Shipped().ParseAs(shown, code, p);
        ASSERT_TRUE(back.ok()) << code << " " << shown << ": " << back.status().ToString();
        EXPECT_EQ(back->label, canonical) << code << " " << shown;
        EXPECT_EQ(back->form, form);
        // Canonical words stay accepted from that nation too.
        auto plain = Shipped().ParseAs(FormatMarking(canonical, form, p), code, p);
        ASSERT_TRUE(plain.ok());
        EXPECT_EQ(plain->label, canonical);
        ++checked;
      }
    }
  }
  EXPECT_GE(checked, 40u);
}

TEST(NationalMarkingsTest, InputIsCaseInsensitiveAndPrefersTheLongestWords) {
  const Policy& p = CoalitionPolicy();
  auto m = Shipped().ParseAs("tres secret defense//rel to usa, fra", "FRA", p);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(FormatBanner(m->label, p), "TOP SECRET//REL TO USA, FRA");
  m = Shipped().ParseAs("(GEHEIM//NF)", "DEU", p);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(FormatPortion(m->label, p), "(S//NF)");
  // Another nation's words are not this nation's.
  EXPECT_FALSE(Shipped().ParseAs("GEHEIM//NF", "FRA", p).ok());
}

TEST(NationalMarkingsTest, AmbiguousOrUnknownEquivalencesAreRefused) {
  const Policy& p = CoalitionPolicy();
  auto parse = [&](const std::string& body) {
    return NationalMarkings::Parse(body, p, "test.toml").status();
  };
  EXPECT_TRUE(parse("").ok());
  EXPECT_EQ(parse("[national_markings.XXX]\nSECRET = \"X\"\n").reason(), "POLICY_INVALID");
  EXPECT_EQ(parse("[national_markings.GBR]\nSECRETISH = \"X\"\n").reason(), "POLICY_INVALID");
  EXPECT_EQ(parse("[national_markings.GBR]\nSECRET = \"TOP SECRET\"\n").reason(), "POLICY_INVALID");
  EXPECT_EQ(parse("[national_markings.GBR]\nSECRET = \"X\"\n\"TOP SECRET\" = \"X\"\n").reason(),
            "POLICY_INVALID");
  EXPECT_EQ(parse("[national_markings.GBR]\nSECRET = \"uk secret\"\n").reason(), "POLICY_INVALID");
}

}  // namespace
}  // namespace tearline
