#include "tearline/broker/admission.h"

#include <gtest/gtest.h>

#include <ctime>

#include "mini_coalition.h"
#include "test_support.h"

namespace tearline::broker {
namespace {

using testing::CoalitionPolicy;

// gbr-2 is a CONFIDENTIAL node of GBR (MiniCoalition's default members).
class AdmissionTest : public ::testing::Test {
 protected:
  static ReportView View(const std::string& nation, const std::vector<std::string>& labels) {
    ReportView v;
    v.originator = "gbr-2";
    v.originator_nation = nation;
    v.intended_nations = {"USA"};
    for (std::uint32_t i = 0; i < labels.size(); ++i) {
      PortionView p;
      p.index = i;
      p.label = labels[i];
      v.portions.push_back(p);
    }
    return v;
  }
  Status Check(const ReportView& v) {
    return CheckOriginatorClaims(v, coalition_.cert("gbr-2"), CoalitionPolicy());
  }

  testing::MiniCoalition coalition_{static_cast<std::int64_t>(std::time(nullptr))};
};

TEST_F(AdmissionTest, ClaimsBackedByTheCertificateAreAdmitted) {
  EXPECT_TRUE(Check(View("GBR", {"(U)", "(C//REL TO USA, GBR)", "(R//NF)"})).ok());
}

TEST_F(AdmissionTest, AnotherNationIsRefused) {
  Status s = Check(View("USA", {"(U)"}));
  EXPECT_EQ(s.reason(), "ORIGINATOR_NATION_MISMATCH");
  EXPECT_NE(s.message().find("'USA'"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("'GBR'"), std::string::npos) << s.message();
  EXPECT_EQ(Check(View("", {"(U)"})).reason(), "ORIGINATOR_NATION_MISMATCH");
}

TEST_F(AdmissionTest, AnyPortionAboveTheOriginatorsClearanceIsRefused) {
  Status s = Check(View("GBR", {"(C//REL TO USA, GBR)", "(S//REL TO USA, GBR)"}));
  EXPECT_EQ(s.reason(), "ABOVE_CLEARANCE");
  EXPECT_NE(s.message().find("portion 2"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("CONFIDENTIAL"), std::string::npos) << s.message();
  EXPECT_EQ(Check(View("GBR", {"(TS//NF)"})).reason(), "ABOVE_CLEARANCE");
}

TEST_F(AdmissionTest, LabelsMustBeCanonicalOrAtLeastParse) {
  Status s = Check(View("GBR", {"(U)", "(c//rel to gbr,usa)"}));
  EXPECT_EQ(s.reason(), "LABEL_NOT_CANONICAL");
  EXPECT_NE(s.message().find("portion 2"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("(C//REL TO USA, GBR)"), std::string::npos) << s.message();
  EXPECT_EQ(Check(View("GBR", {"(C//REL TO NOWHERE)"})).reason(), "ROUTING_BAD_LABEL");
  // The label is judged before the clearance, so a lower-case TS label says what is wrong first.
  EXPECT_EQ(Check(View("GBR", {"(ts//nf)"})).reason(), "LABEL_NOT_CANONICAL");
}

}  // namespace
}  // namespace tearline::broker
