#include "tearline/wire/release_frames.h"

#include <gtest/gtest.h>

#include "tearline/wire/wire.h"

namespace tearline {
namespace {

const schema::Frame* Decoded(const std::vector<std::uint8_t>& bytes) {
  auto f = DecodeFrame(bytes);
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  return f.ok() ? *f : nullptr;
}

ReleaseAsk Ask() { return {ReleaseId(16, 1), ReleaseId(16, 2), 3, "KOR", "joint patrol"}; }

TEST(ReleaseFramesTest, RequestNoticeAndStatusRoundTrip) {
  const auto request = EncodeReleaseRequest(7, Ask());
  const auto* f = Decoded(request);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->request_id(), 7u);
  auto ask = ToReleaseAsk(*f->body_as_ReleaseRequest());
  ASSERT_TRUE(ask.ok());
  EXPECT_EQ(ask->to_nation, "KOR");
  EXPECT_EQ(ask->portion, 3u);
  EXPECT_EQ(ask->request_id, ReleaseId(16, 1));

  const auto notice = EncodeReleaseNotice({Ask(), "jpn-1", "JPN", 1700000000});
  auto n = ToReleaseNoticeInfo(*Decoded(notice)->body_as_ReleaseNotice());
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->requester, "jpn-1");
  EXPECT_EQ(n->ask.why, "joint patrol");

  ReleaseStatusInfo s;
  s.request_id = ReleaseId(16, 1);
  s.state = "denied";
  s.reason = "RELEASE_DENIED";
  s.explanation = "source protection";
  auto st = ToReleaseStatusInfo(*Decoded(EncodeReleaseStatus(0, s))->body_as_ReleaseStatus());
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->explanation, "source protection");
}

TEST(ReleaseFramesTest, HostileFieldsAreRefused) {
  ReleaseAsk short_id = Ask();
  short_id.request_id.resize(5);
  auto a = ToReleaseAsk(*Decoded(EncodeReleaseRequest(1, short_id))->body_as_ReleaseRequest());
  EXPECT_EQ(a.status().reason(), "RELEASE_MALFORMED");
  ReleaseAsk long_why = Ask();
  long_why.why.assign(kMaxReleaseWhyBytes + 1, 'x');
  auto b = ToReleaseAsk(*Decoded(EncodeReleaseRequest(1, long_why))->body_as_ReleaseRequest());
  EXPECT_EQ(b.status().reason(), "RELEASE_MALFORMED");
  ReleaseAsk no_nation = Ask();
  no_nation.to_nation.clear();
  auto c = ToReleaseAsk(*Decoded(EncodeReleaseRequest(1, no_nation))->body_as_ReleaseRequest());
  EXPECT_EQ(c.status().reason(), "RELEASE_MALFORMED");
}

TEST(ReleaseFramesTest, DecisionBodyRoundTripsAndRejectsGarbage) {
  ReleaseDecisionInfo d;
  d.request_id = ReleaseId(16, 1);
  d.report_id = ReleaseId(16, 2);
  d.to_nation = "KOR";
  d.approved = true;
  d.label = "(S//REL TO USA, JPN, KOR)";
  d.release_report_id = ReleaseId(16, 3);
  d.rule = "usa-jpn-secret-to-kor";
  const auto body = EncodeReleaseDecisionBody(d);
  auto back = DecodeReleaseDecisionBody(body);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->label, d.label);
  EXPECT_EQ(back->rule, d.rule);
  EXPECT_TRUE(back->approved);

  // An approval without its release report id, random bytes, an oversized body.
  ReleaseDecisionInfo incomplete = d;
  incomplete.release_report_id.clear();
  EXPECT_EQ(DecodeReleaseDecisionBody(EncodeReleaseDecisionBody(incomplete)).status().reason(),
            "RELEASE_MALFORMED");
  std::vector<std::uint8_t> garbage(64, 0xAB);
  EXPECT_EQ(DecodeReleaseDecisionBody(garbage).status().reason(), "RELEASE_MALFORMED");
  std::vector<std::uint8_t> huge(kMaxReleaseDecisionBodyBytes + 1, 0);
  EXPECT_EQ(DecodeReleaseDecisionBody(huge).status().reason(), "RELEASE_MALFORMED");
}

}  // namespace
}  // namespace tearline
