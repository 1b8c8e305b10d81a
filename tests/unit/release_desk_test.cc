#include "tearline/broker/release_desk.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "mini_coalition.h"
#include "tearline/audit/audit_log.h"
#include "tearline/base/clock.h"
#include "tearline/base/encoding.h"
#include "tearline/crypto/keys.h"
#include "tearline/wire/wire.h"
#include "test_support.h"

namespace tearline::broker {
namespace {

using testing::MiniCoalition;
using testing::TempDir;

constexpr std::int64_t kNow = 1'800'000'000;

class ReleaseDeskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    coalition_.Issue("kor-1", "KOR", "SECRET");
    log_ = AuditLog::Open(dir_ / "audit").value();
    store_ = ReportStore::Open(dir_ / "reports.db").value();
    auditor_ = std::make_unique<Auditor>(*log_, [] {});
    SubmitOptions options;
    options.data_dir = dir_.path();
    options.min_free_bytes = 0;
    pipeline_ = std::make_unique<SubmitPipeline>(coalition_.directory(), coalition_.policy(),
                                                 *store_, *auditor_, clock_, options,
                                                 [](const std::string&) { return true; });
    desk_ = std::make_unique<ReleaseDesk>(coalition_.directory(), coalition_.policy(), *store_,
                                          *auditor_, *pipeline_, clock_, ReleaseDeskOptions{2, 8});
    const SealedReport report =
        coalition_.Seal("usa-1", {"(S//REL TO USA, GBR, JPN)"}, {"GBR", "JPN"}, kNow + 3600);
    report_id_.assign(report.report_id.begin(), report.report_id.end());
    ASSERT_FALSE(pipeline_->Submit("usa-1", 1, report.bytes).deliveries.empty());
  }
  ReleaseEffects Ask(const std::string& node, const std::string& nation, std::uint8_t tag) {
    frame_ = EncodeReleaseRequest(5, {ReleaseId(16, tag), report_id_, 0, nation, "patrol"});
    return desk_->Request(node, 5, *DecodeFrame(frame_).value()->body_as_ReleaseRequest());
  }
  ReleaseEffects Decide(const std::string& sender, std::uint8_t tag, const std::string& label,
                        const std::string& signer = "usa-1") {
    const SealedReport release = coalition_.Seal("usa-1", {label}, {"KOR"}, kNow + 3600);
    ReleaseDecisionInfo d;
    d.request_id = ReleaseId(16, tag);
    d.report_id = report_id_;
    d.to_nation = "KOR";
    d.approved = true;
    d.label = label;
    d.release_report_id.assign(release.report_id.begin(), release.report_id.end());
    const auto body = EncodeReleaseDecisionBody(d);
    const auto sig = SignWithDomain(coalition_.keys(signer).signing, kReleaseDecisionDomain, body);
    frame_ = EncodeReleaseDecision(6, body, *sig, release.bytes);
    return desk_->Decide(sender, 6, *DecodeFrame(frame_).value()->body_as_ReleaseDecision());
  }
  static std::string Refusal(const ReleaseEffects& e) {
    return e.refusal ? e.refusal->reason() : "";
  }

  FakeClock clock_{kNow};
  MiniCoalition coalition_{kNow};
  TempDir dir_;
  std::unique_ptr<AuditLog> log_;
  std::unique_ptr<ReportStore> store_;
  std::unique_ptr<Auditor> auditor_;
  std::unique_ptr<SubmitPipeline> pipeline_;
  std::unique_ptr<ReleaseDesk> desk_;
  ReleaseId report_id_;
  std::vector<std::uint8_t> frame_;
};

TEST_F(ReleaseDeskTest, ARequestFromAHolderIsAnsweredAndTheOriginatorNotified) {
  EXPECT_EQ(Refusal(Ask("kor-1", "KOR", 1)), "RELEASE_NOT_HELD");
  EXPECT_EQ(Refusal(Ask("jpn-1", "GBR", 2)), "RELEASE_ALREADY_HELD");
  EXPECT_EQ(Refusal(Ask("jpn-1", "XXX", 3)), "RELEASE_UNKNOWN_NATION");
  ReleaseEffects e = Ask("jpn-1", "KOR", 4);
  ASSERT_FALSE(e.refusal.has_value()) << e.refusal->ToString();
  ASSERT_EQ(e.frames.size(), 2u);
  EXPECT_EQ(e.frames[0].node_id, "jpn-1");  // pending, echoing the request id
  EXPECT_EQ(e.frames[1].node_id, "usa-1");  // the notice
  EXPECT_TRUE(e.frames[1].notice);
  // Owed until sent: offered again after the originator's Hello.
  EXPECT_EQ(desk_->Owed("usa-1").size(), 1u);
  desk_->Sent(e.frames[1]);
  EXPECT_TRUE(desk_->Owed("usa-1").empty());
  EXPECT_EQ(Refusal(Ask("jpn-1", "KOR", 4)), "RELEASE_DUPLICATE_REQUEST");
  ASSERT_FALSE(Ask("jpn-1", "AUS", 5).refusal.has_value());
  EXPECT_EQ(Refusal(Ask("jpn-1", "NZL", 6)), "RELEASE_REQUEST_LIMIT");
}

TEST_F(ReleaseDeskTest, OnlyTheOriginatorRelabelsKeepingHoldersAndOnlyOnce) {
  ASSERT_FALSE(Ask("jpn-1", "KOR", 7).refusal.has_value());
  EXPECT_EQ(Refusal(Decide("jpn-1", 7, "(S//REL TO USA, GBR, JPN, KOR)", "jpn-1")),
            "RELABEL_NOT_ORIGINATOR");
  EXPECT_EQ(Refusal(Decide("usa-1", 7, "(S//REL TO USA, GBR, JPN, KOR)", "jpn-1")),
            "RELABEL_BAD_SIGNATURE");
  EXPECT_EQ(Refusal(Decide("usa-1", 7, "(S//REL TO GBR, JPN, KOR)")), "RELABEL_DROPS_ORIGINATOR");
  EXPECT_EQ(Refusal(Decide("usa-1", 7, "(S//REL TO USA, JPN, KOR)")), "RELABEL_DROPS_HOLDER");
  EXPECT_EQ(Refusal(Decide("usa-1", 7, "(S//REL TO USA, GBR, JPN)")), "RELABEL_NOT_RELEASED");
  EXPECT_EQ(Refusal(Decide("usa-1", 7, "(s//rel to usa,gbr,jpn,kor)")), "RELABEL_BAD_LABEL");
  ReleaseEffects ok = Decide("usa-1", 7, "(S//REL TO USA, GBR, JPN, KOR)");
  ASSERT_FALSE(ok.refusal.has_value()) << ok.refusal->ToString();
  ASSERT_EQ(ok.deliveries.size(), 1u);
  EXPECT_EQ(ok.deliveries[0].node_id, "kor-1");
  EXPECT_EQ(Refusal(Decide("usa-1", 7, "(S//REL TO USA, GBR, JPN, KOR)")), "RELEASE_REPLAYED");
  EXPECT_EQ(Refusal(Decide("usa-1", 99, "(S//REL TO USA, GBR, JPN, KOR)")),
            "RELEASE_UNKNOWN_REQUEST");
  // KOR now holds it: asking for KOR again is refused.
  EXPECT_EQ(Refusal(Ask("jpn-1", "KOR", 8)), "RELEASE_ALREADY_HELD");
}

TEST_F(ReleaseDeskTest, RequestsAndDecisionsSurviveARestart) {
  ReleaseEffects asked = Ask("jpn-1", "KOR", 9);
  ASSERT_FALSE(asked.refusal.has_value()) << asked.refusal->ToString();
  ASSERT_FALSE(Ask("jpn-1", "AUS", 10).refusal.has_value());
  // A new desk over the same store, as after a broker restart: the notices are still owed.
  desk_ = std::make_unique<ReleaseDesk>(coalition_.directory(), coalition_.policy(), *store_,
                                        *auditor_, *pipeline_, clock_, ReleaseDeskOptions{2, 8});
  ASSERT_TRUE(desk_->Restore().ok());
  EXPECT_EQ(desk_->size(), 2u);
  auto owed = desk_->Owed("usa-1");
  ASSERT_EQ(owed.size(), 2u);
  desk_->Sent(owed[0]);
  // The per-node limit counts the restored undecided requests.
  EXPECT_EQ(Refusal(Ask("jpn-1", "NZL", 11)), "RELEASE_REQUEST_LIMIT");
  ReleaseEffects ok = Decide("usa-1", 9, "(S//REL TO USA, GBR, JPN, KOR)");
  ASSERT_FALSE(ok.refusal.has_value()) << ok.refusal->ToString();
  ASSERT_EQ(ok.deliveries.size(), 1u);

  desk_ = std::make_unique<ReleaseDesk>(coalition_.directory(), coalition_.policy(), *store_,
                                        *auditor_, *pipeline_, clock_, ReleaseDeskOptions{2, 8});
  ASSERT_TRUE(desk_->Restore().ok());
  // The decision counts once across restarts, KOR's new access is remembered, the notice that
  // was sent is not offered again, and the decided status is still owed to the requester.
  EXPECT_EQ(Refusal(Decide("usa-1", 9, "(S//REL TO USA, GBR, JPN, KOR)")), "RELEASE_REPLAYED");
  EXPECT_EQ(Refusal(Ask("jpn-1", "KOR", 12)), "RELEASE_ALREADY_HELD");
  EXPECT_EQ(desk_->Owed("usa-1").size(), 1u);
  auto to_jpn = desk_->Owed("jpn-1");
  ASSERT_EQ(to_jpn.size(), 1u);
  EXPECT_FALSE(to_jpn[0].notice);
}

}  // namespace
}  // namespace tearline::broker
