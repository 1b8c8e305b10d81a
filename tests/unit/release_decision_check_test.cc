#include "tearline/audit/release_decision_check.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tearline/audit/audit_field_bound.h"
#include "tearline/base/encoding.h"
#include "tearline/crypto/keys.h"
#include "tearline/wire/release_frames.h"

namespace tearline {
namespace {

// An originator's decision, signed, and the record an honest broker writes for it.
class ReleaseDecisionCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto k = GenerateSigningKeyPair();
    ASSERT_TRUE(k.ok());
    originator_ = std::move(k).value();
    auto o = GenerateSigningKeyPair();
    ASSERT_TRUE(o.ok());
    other_ = std::move(o).value();
  }

  static ReleaseDecisionInfo Approval() {
    ReleaseDecisionInfo d;
    d.request_id = ReleaseId(16, 0x11);
    d.report_id = ReleaseId(16, 0x22);
    d.portion = 1;
    d.to_nation = "JPN";
    d.approved = true;
    d.label = "(S//REL TO USA, JPN)";
    d.release_report_id = ReleaseId(16, 0x33);
    d.decided_unix = 1700000000;
    return d;
  }
  static ReleaseDecisionInfo Denial() {
    ReleaseDecisionInfo d = Approval();
    d.approved = false;
    d.label.clear();
    d.release_report_id.clear();
    d.explanation = "source protection";
    return d;
  }

  // The record fields the broker writes for `d`, signed by `key`.
  ReleaseDecisionFields Record(const ReleaseDecisionInfo& d, const SigningKeyPair& key) const {
    const std::vector<std::uint8_t> body = EncodeReleaseDecisionBody(d);
    auto sig = SignWithDomain(key, kReleaseDecisionDomain, body);
    EXPECT_TRUE(sig.ok());
    ReleaseDecisionFields f;
    f.request_id = ToHex(d.request_id);
    f.report_id = ToHex(d.report_id);
    f.portion = d.portion;
    f.originator = "usa-1";
    f.requester = "gbr-1";
    f.to_nation = d.to_nation;
    f.decision = d.approved ? "approved" : "denied";
    if (d.approved) {
      f.label = d.label;
      f.release_report_id = ToHex(d.release_report_id);
      if (!d.rule.empty()) f.rule = d.rule;
    } else {
      f.explanation = BoundAuditText(d.explanation);
    }
    f.requested = 1699999000;
    f.signature = ToHex(*sig);
    f.decision_body = Base64Encode(body);
    return f;
  }

  std::vector<PublicKey> Keys() const { return {other_.public_key, originator_.public_key}; }

  SigningKeyPair originator_;
  SigningKeyPair other_;
};

TEST_F(ReleaseDecisionCheckTest, HonestRecordsOfEveryKindPass) {
  EXPECT_TRUE(
      CheckReleaseDecisionRecord("release_decided", Record(Approval(), originator_), Keys()).ok());
  EXPECT_TRUE(
      CheckReleaseDecisionRecord("release_decided", Record(Denial(), originator_), Keys()).ok());
  ReleaseDecisionInfo sanitised = Approval();
  sanitised.sanitised = true;
  EXPECT_TRUE(
      CheckReleaseDecisionRecord("release_sanitised", Record(sanitised, originator_), Keys()).ok());
  ReleaseDecisionInfo ruled = Approval();
  ruled.rule = "fvey-maritime";
  EXPECT_TRUE(
      CheckReleaseDecisionRecord("release_auto_approved", Record(ruled, originator_), Keys()).ok());
}

TEST_F(ReleaseDecisionCheckTest, ALongExplanationIsComparedAsTheLogStoresIt) {
  ReleaseDecisionInfo d = Denial();
  d.explanation.assign(kMaxReleaseWhyBytes - 2, 'x');
  d.explanation.append("\x1b[");  // A terminal escape: the log stores it sanitised.
  const ReleaseDecisionFields f = Record(d, originator_);
  ASSERT_LE(f.decision_body->size(), kMaxAuditStringBytes);
  EXPECT_TRUE(CheckReleaseDecisionRecord("release_decided", f, Keys()).ok());
}

TEST_F(ReleaseDecisionCheckTest, AMissingOrUnreadableBodyIsUnsigned) {
  ReleaseDecisionFields f = Record(Approval(), originator_);
  f.decision_body.reset();
  EXPECT_EQ(CheckReleaseDecisionRecord("release_decided", f, Keys()).reason(),
            "AUDIT_RELEASE_UNSIGNED");
  f = Record(Approval(), originator_);
  f.decision_body = "not base64!";
  EXPECT_EQ(CheckReleaseDecisionRecord("release_decided", f, Keys()).reason(),
            "AUDIT_RELEASE_UNSIGNED");
  f = Record(Approval(), originator_);
  f.decision_body = Base64Encode(std::vector<std::uint8_t>(40, 7));  // Not a TLRD body.
  EXPECT_EQ(CheckReleaseDecisionRecord("release_decided", f, Keys()).reason(),
            "AUDIT_RELEASE_UNSIGNED");
  f = Record(Approval(), originator_);
  f.signature = "abcd";
  EXPECT_EQ(CheckReleaseDecisionRecord("release_decided", f, Keys()).reason(),
            "AUDIT_RELEASE_UNSIGNED");
}

TEST_F(ReleaseDecisionCheckTest, ADecisionNotSignedByTheOriginatorIsRefused) {
  // Signed by a key that is not the originator's certified key (e.g. the broker's own).
  const std::vector<PublicKey> only_originator{originator_.public_key};
  EXPECT_EQ(
      CheckReleaseDecisionRecord("release_decided", Record(Approval(), other_), only_originator)
          .reason(),
      "AUDIT_RELEASE_SIGNATURE");
  // No certificate of the originator valid at the record's time.
  EXPECT_EQ(
      CheckReleaseDecisionRecord("release_decided", Record(Approval(), originator_), {}).reason(),
      "AUDIT_RELEASE_SIGNATURE");
  // A body altered after signing: one byte of the label.
  ReleaseDecisionFields f = Record(Approval(), originator_);
  auto body = Base64Decode(*f.decision_body);
  ASSERT_TRUE(body.ok());
  std::vector<std::uint8_t> altered = *body;
  const std::string label = "(S//REL TO USA, JPN)";
  auto at = std::search(altered.begin(), altered.end(), label.begin(), label.end());
  ASSERT_NE(at, altered.end());
  *(at + 4) = 'X';
  f.decision_body = Base64Encode(altered);
  EXPECT_EQ(CheckReleaseDecisionRecord("release_decided", f, Keys()).reason(),
            "AUDIT_RELEASE_SIGNATURE");
}

TEST_F(ReleaseDecisionCheckTest, EveryFieldTheRecordStatesMustMatchTheSignedBody) {
  const auto mismatch = [&](std::string_view type, const ReleaseDecisionFields& f) {
    return CheckReleaseDecisionRecord(type, f, Keys()).reason();
  };
  const ReleaseDecisionFields approval = Record(Approval(), originator_);
  const ReleaseDecisionFields denial = Record(Denial(), originator_);
  ReleaseDecisionFields f = approval;
  f.to_nation = "KOR";  // Re-targeted to another nation.
  EXPECT_EQ(mismatch("release_decided", f), "AUDIT_RELEASE_MISMATCH");
  f = approval;
  f.label = "(S//REL TO USA, JPN, KOR)";
  EXPECT_EQ(mismatch("release_decided", f), "AUDIT_RELEASE_MISMATCH");
  f = approval;
  f.portion = 0;
  EXPECT_EQ(mismatch("release_decided", f), "AUDIT_RELEASE_MISMATCH");
  f = approval;
  f.report_id = std::string(32, 'a');
  EXPECT_EQ(mismatch("release_decided", f), "AUDIT_RELEASE_MISMATCH");
  f = approval;
  f.request_id = std::string(32, 'b');
  EXPECT_EQ(mismatch("release_decided", f), "AUDIT_RELEASE_MISMATCH");
  f = approval;
  f.release_report_id = std::string(32, 'c');
  EXPECT_EQ(mismatch("release_decided", f), "AUDIT_RELEASE_MISMATCH");
  f = approval;
  f.rule = "invented";
  EXPECT_EQ(mismatch("release_decided", f), "AUDIT_RELEASE_MISMATCH");
  // A denial shown as an approval, and the reverse.
  f = denial;
  f.decision = "approved";
  EXPECT_EQ(mismatch("release_decided", f), "AUDIT_RELEASE_MISMATCH");
  f = approval;
  f.decision = "denied";
  EXPECT_EQ(mismatch("release_decided", f), "AUDIT_RELEASE_MISMATCH");
  f = denial;
  f.explanation = "another reason";
  EXPECT_EQ(mismatch("release_decided", f), "AUDIT_RELEASE_MISMATCH");
  // The record type must be the one the decision implies.
  EXPECT_EQ(mismatch("release_sanitised", approval), "AUDIT_RELEASE_MISMATCH");
  EXPECT_EQ(mismatch("release_auto_approved", approval), "AUDIT_RELEASE_MISMATCH");
}

}  // namespace
}  // namespace tearline
