#include "tearline/broker/refusal_policy.h"

#include <gtest/gtest.h>

namespace tearline::broker {
namespace {

TEST(RefusalPolicyTest, OnlyReasonsThatCanChangeAreTransient) {
  for (const char* r : {"ORIGINATOR_UNKNOWN", "ENVELOPE_NOT_YET_VALID", "INBOX_IO", "INBOX_FULL",
                        "FILE_WRITE", "SIGN_FAILED"}) {
    EXPECT_EQ(ClassifyRefusal(r), RefusalKind::kTransient) << r;
  }
  for (const char* r :
       {"ENVELOPE_DECRYPT_FAILED", "ENVELOPE_KEY_MISMATCH", "ENVELOPE_BAD_SIGNATURE",
        "ENVELOPE_NOT_A_RECIPIENT", "ENVELOPE_MALFORMED", "ORIGINATOR_NATION_MISMATCH",
        "NODE_LABEL_INVALID", "NODE_LABEL_NOT_RELEASABLE", "SOMETHING_INVENTED", ""}) {
    EXPECT_EQ(ClassifyRefusal(r), RefusalKind::kPermanent) << r;
  }
}

TEST(RefusalPolicyTest, OnlyWellFormedCodesAreRecorded) {
  EXPECT_EQ(RecordedRefusalReason("ENVELOPE_DECRYPT_FAILED"), "ENVELOPE_DECRYPT_FAILED");
  EXPECT_EQ(RecordedRefusalReason("A1_B"), "A1_B");
  for (const char* bad : {"", "lower", "1ABC", "WITH SPACE", "QUOTE\"", "NEW\nLINE"}) {
    EXPECT_EQ(RecordedRefusalReason(bad), "DELIVERY_REFUSED") << bad;
  }
  EXPECT_EQ(RecordedRefusalReason(std::string(65, 'A')), "DELIVERY_REFUSED");
  EXPECT_EQ(RecordedRefusalReason(std::string(64, 'A')), std::string(64, 'A'));
}

}  // namespace
}  // namespace tearline::broker
