#include "tearline/labels/label.h"

#include <gtest/gtest.h>

#include "test_support.h"

namespace tearline {
namespace {

using testing::CoalitionPolicy;

std::string Canonical(std::string_view text) {
  auto m = ParseMarking(text, CoalitionPolicy());
  EXPECT_TRUE(m.ok()) << text << ": " << m.status().ToString();
  if (!m.ok()) return "<error>";
  return FormatMarking(m->label, m->form, CoalitionPolicy());
}

std::string ErrorReason(std::string_view text) {
  auto m = ParseMarking(text, CoalitionPolicy());
  EXPECT_FALSE(m.ok()) << text << " parsed as "
                       << (m.ok() ? FormatBanner(m->label, CoalitionPolicy()) : "");
  return m.ok() ? "" : m.status().reason();
}

TEST(LabelTest, CanonicalRelToOrder) {
  EXPECT_EQ(Canonical("SECRET//REL TO GBR, USA, AUS"), "SECRET//REL TO USA, AUS, GBR");
  EXPECT_EQ(Canonical("SECRET//REL TO FVEY, JPN, USA, ACGU, GBR"),
            "SECRET//REL TO USA, GBR, JPN, ACGU, FVEY");
  EXPECT_EQ(Canonical("SECRET//REL TO GBR, GBR, USA, FVEY, FVEY"), "SECRET//REL TO USA, GBR, FVEY");
  EXPECT_EQ(Canonical("SECRET//REL TO KOR, JPN"), "SECRET//REL TO JPN, KOR");
}

TEST(LabelTest, CaseAndWhitespaceTolerant) {
  EXPECT_EQ(Canonical("  secret // rel to  gbr ,usa  "), "SECRET//REL TO USA, GBR");
  EXPECT_EQ(Canonical("top secret//noforn"), "TOP SECRET//NOFORN");
  EXPECT_EQ(Canonical("Top   Secret"), "TOP SECRET");
  EXPECT_EQ(Canonical("( s // nf )"), "(S//NF)");
  EXPECT_EQ(Canonical("\tconfidential\n"), "CONFIDENTIAL");
}

TEST(LabelTest, PortionFormUsesAbbreviations) {
  EXPECT_EQ(Canonical("(S//REL TO GBR, USA)"), "(S//REL TO USA, GBR)");
  EXPECT_EQ(Canonical("(U)"), "(U)");
  EXPECT_EQ(Canonical("(TS//OC/NF)"), "(TS//OC/NF)");
  EXPECT_EQ(Canonical("(TS//NOFORN/ORCON)"), "(TS//OC/NF)");
  EXPECT_EQ(Canonical("(SECRET//REL TO USA, FVEY)"), "(S//REL TO USA, FVEY)");
}

TEST(LabelTest, BannerFormUsesFullWords) {
  EXPECT_EQ(Canonical("TS//NF/OC"), "TOP SECRET//ORCON/NOFORN");
  EXPECT_EQ(Canonical("S//OC/REL TO USA, GBR"), "SECRET//ORCON/REL TO USA, GBR");
  EXPECT_EQ(Canonical("SECRET//REL TO USA, GBR/ORCON"), "SECRET//ORCON/REL TO USA, GBR");
  EXPECT_EQ(Canonical("R"), "RESTRICTED");
  EXPECT_EQ(Canonical("UNCLASSIFIED"), "UNCLASSIFIED");
}

TEST(LabelTest, FieldsOfParsedLabel) {
  auto m = ParseMarking("(S//OC/REL TO USA, FVEY, JPN)", CoalitionPolicy());
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->form, MarkingForm::kPortion);
  EXPECT_EQ(m->label.level, 3);
  EXPECT_TRUE(m->label.orcon);
  EXPECT_FALSE(m->label.noforn);
  EXPECT_TRUE(m->label.has_rel_to);
  EXPECT_EQ(m->label.rel_to_nations, (std::vector<std::string>{"USA", "JPN"}));
  EXPECT_EQ(m->label.rel_to_groups, (std::vector<std::string>{"FVEY"}));
  EXPECT_EQ(FormatBanner(m->label, CoalitionPolicy()), "SECRET//ORCON/REL TO USA, JPN, FVEY");
  EXPECT_EQ(FormatRelTo(m->label), "REL TO USA, JPN, FVEY");
}

TEST(LabelTest, InvalidMarkings) {
  EXPECT_EQ(ErrorReason(""), "LABEL_EMPTY");
  EXPECT_EQ(ErrorReason("   "), "LABEL_EMPTY");
  EXPECT_EQ(ErrorReason("//NOFORN"), "LABEL_MISSING_CLASSIFICATION");
  EXPECT_EQ(ErrorReason("()"), "LABEL_MISSING_CLASSIFICATION");
  EXPECT_EQ(ErrorReason("COSMIC TOP SECRET"), "LABEL_UNKNOWN_CLASSIFICATION");
  EXPECT_EQ(ErrorReason("SECRET//REL TO USA, XYZ"), "LABEL_UNKNOWN_CODE");
  EXPECT_EQ(ErrorReason("SECRET//REL TO USA, EYES"), "LABEL_UNKNOWN_CODE");
  EXPECT_EQ(ErrorReason("SECRET//NOFORN/REL TO USA, GBR"), "LABEL_NOFORN_WITH_REL_TO");
  EXPECT_EQ(ErrorReason("SECRET//REL TO USA, GBR/NF"), "LABEL_NOFORN_WITH_REL_TO");
  EXPECT_EQ(ErrorReason("SECRET//REL TO"), "LABEL_EMPTY_REL_TO");
  EXPECT_EQ(ErrorReason("SECRET//REL TO   "), "LABEL_EMPTY_REL_TO");
  EXPECT_EQ(ErrorReason("SECRET//FOUO"), "LABEL_UNKNOWN_CONTROL");
  EXPECT_EQ(ErrorReason("SECRET//RELTO USA"), "LABEL_UNKNOWN_CONTROL");
  EXPECT_EQ(ErrorReason("SECRET//NOFORN/NF"), "LABEL_REPEATED_CONTROL");
  EXPECT_EQ(ErrorReason("SECRET//OC/ORCON"), "LABEL_REPEATED_CONTROL");
  EXPECT_EQ(ErrorReason("SECRET//REL TO USA/REL TO GBR"), "LABEL_REPEATED_CONTROL");
  EXPECT_EQ(ErrorReason("SECRET//"), "LABEL_SYNTAX");
  EXPECT_EQ(ErrorReason("SECRET//NOFORN/"), "LABEL_SYNTAX");
  EXPECT_EQ(ErrorReason("SECRET//ORCON//NOFORN"), "LABEL_SYNTAX");
  EXPECT_EQ(ErrorReason("(S//NF"), "LABEL_SYNTAX");
  EXPECT_EQ(ErrorReason("S//NF)"), "LABEL_SYNTAX");
  EXPECT_EQ(ErrorReason("((S))"), "LABEL_SYNTAX");
  EXPECT_EQ(ErrorReason("SECRET//REL TO USA,,GBR"), "LABEL_SYNTAX");
  EXPECT_EQ(ErrorReason("SECRET//REL TO USA GBR"), "LABEL_SYNTAX");
  EXPECT_EQ(ErrorReason("SECRET\x01"), "LABEL_SYNTAX");
  EXPECT_EQ(ErrorReason("SECRET//REL TO USA, GBR\xc3\xa9"), "LABEL_SYNTAX");
  EXPECT_EQ(ErrorReason(std::string(2000, 'S')), "LABEL_TOO_LONG");
}

TEST(LabelTest, ErrorsNameTheOffendingToken) {
  auto m = ParseMarking("SECRET//REL TO USA, xyz", CoalitionPolicy());
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("'XYZ'"), std::string::npos) << m.status().message();
  auto c = ParseMarking("SECRET//LIMDIS", CoalitionPolicy());
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("'LIMDIS'"), std::string::npos);
  auto l = ParseMarking("SECRT", CoalitionPolicy());
  ASSERT_FALSE(l.ok());
  EXPECT_NE(l.status().message().find("'SECRT'"), std::string::npos);
  EXPECT_EQ(l.status().code(), Code::kInvalidArgument);
}

TEST(LabelTest, ReleasableToExpandsGroups) {
  const Policy& p = CoalitionPolicy();
  auto rel = ReleasableTo(*ParseLabel("SECRET//REL TO USA, FVEY", p), p);
  ASSERT_TRUE(rel.has_value());
  EXPECT_EQ(*rel, (std::set<std::string>{"USA", "AUS", "CAN", "GBR", "NZL"}));
  EXPECT_EQ(ReleasableTo(*ParseLabel("(U)", p), p), std::nullopt);
  EXPECT_EQ(ReleasableTo(*ParseLabel("(U//OC)", p), p), std::nullopt);
  EXPECT_EQ(ReleasableTo(*ParseLabel("(U//NF)", p), p), std::set<std::string>{});
  EXPECT_EQ(ReleasableTo(*ParseLabel("(S)", p), p), std::set<std::string>{});
  EXPECT_EQ(ReleasableTo(*ParseLabel("(R)", p), p), std::set<std::string>{});
  EXPECT_EQ(ReleasableTo(*ParseLabel("(S//NF)", p), p), std::set<std::string>{});
}

TEST(LabelTest, CanonicalFormIsAFixedPoint) {
  const Policy& p = CoalitionPolicy();
  for (const char* text : {"SECRET//REL TO GBR, USA, AUS", "(ts//oc/nf)", "s//rel to fvey, jpn",
                           "CONFIDENTIAL//ORCON", "(U)", "(R//REL TO NATO, MILFWK)"}) {
    std::string once = Canonical(text);
    EXPECT_EQ(Canonical(once), once);
    auto a = ParseLabel(text, p);
    auto b = ParseLabel(once, p);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(*a, *b);
  }
}

TEST(LabelTest, OnlyTheCanonicalPortionFormIsAcceptedWhereLabelsTravel) {
  const Policy& p = CoalitionPolicy();
  for (const char* ok :
       {"(S//REL TO USA, GBR)", "(U)", "(TS//NF)", "(S//OC/REL TO USA, FVEY)", "(C//OC/NF)"}) {
    auto l = ParseCanonicalPortion(ok, p);
    ASSERT_TRUE(l.ok()) << ok << ": " << l.status().ToString();
    EXPECT_EQ(FormatPortion(*l, p), ok);
  }
  // Each parses (ParseMarking is lenient on input) but is not the bytes that travel.
  for (const char* lenient :
       {"(s//rel to gbr,usa)", "(S//REL TO GBR, USA)", "(S//REL TO USA,GBR)",
        " (S//REL TO USA, GBR)", "(S//REL TO USA, GBR) ", "(S//REL TO USA, USA, GBR)",
        "(S //REL TO USA, GBR)", "SECRET//REL TO USA, GBR", "(SECRET//REL TO USA, GBR)",
        "(S//NOFORN)", "(S//ORCON/REL TO USA, GBR)", "(S//REL TO USA, GBR/OC)"}) {
    auto l = ParseCanonicalPortion(lenient, p);
    ASSERT_FALSE(l.ok()) << lenient;
    EXPECT_EQ(l.status().reason(), "LABEL_NOT_CANONICAL") << lenient;
  }
  auto lower = ParseCanonicalPortion("(s//rel to gbr,usa)", p);
  EXPECT_NE(lower.status().message().find("'(S//REL TO USA, GBR)'"), std::string::npos)
      << lower.status().message();
  // What does not parse at all keeps its own reason.
  EXPECT_EQ(ParseCanonicalPortion("(S//REL TO XXX)", p).status().reason(), "LABEL_UNKNOWN_CODE");
  EXPECT_EQ(ParseCanonicalPortion("", p).status().reason(), "LABEL_EMPTY");
}

}  // namespace
}  // namespace tearline
