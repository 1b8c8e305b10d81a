// Sealer: the daemon's own checks of a send request, per-portion release decisions for the
// directory's recipients (this node excluded), a 7-day lifetime on the injected clock, plaintext
// wiped, and the outbox inspection of stored reports.
#include "tearline/node/sealer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "node_unit_fixture.h"
#include "tearline/base/clock.h"
#include "tearline/envelope/envelope.h"

namespace tearline::node {
namespace {

class SealerTest : public ::testing::Test {
 protected:
  SealerTest() : coalition_(clock_.UnixNow()) {
    coalition_.Issue("usa-1", "USA", "SECRET");
    coalition_.Issue("gbr-1", "GBR", "SECRET");
    coalition_.Issue("gbr-2", "GBR", "CONFIDENTIAL");
    coalition_.Issue("jpn-1", "JPN", "SECRET");
    identity_ = coalition_.Identity("usa-1");
    directory_ =
        Directory::Build(coalition_.NodeCertificates(), *identity_.trust, clock_.UnixNow());
  }

  static ControlRequest Send(std::vector<std::string> to,
                             std::vector<std::pair<std::string, std::string>> portions) {
    ControlRequest r;
    r.op = ControlOp::kSend;
    r.to = std::move(to);
    for (auto& [marking, text] : portions) {
      r.portions.push_back({marking, std::vector<std::uint8_t>(text.begin(), text.end())});
    }
    return r;
  }

  FakeClock clock_;
  unit::TestCoalition coalition_;
  NodeIdentity identity_;
  Directory directory_;
};

TEST_F(SealerTest, ValidateRefusesWhatTheCliShouldHave) {
  Sealer sealer(clock_, identity_);
  auto ok = Send({"gbr", "Jpn"}, {{"(S//REL TO USA, GBR)", "x"}});
  EXPECT_TRUE(sealer.Validate(ok).ok());
  EXPECT_EQ(ok.to, (std::vector<std::string>{"GBR", "JPN"}));

  auto nation = Send({"XXX"}, {{"(U)", "x"}});
  EXPECT_EQ(sealer.Validate(nation).reason(), "SEND_UNKNOWN_NATION");
  auto unmarked = Send({"GBR"}, {{"secret stuff", "x"}});
  EXPECT_EQ(sealer.Validate(unmarked).reason(), "SEND_PORTION_UNMARKED");
  auto empty = Send({"GBR"}, {{"(U)", ""}});
  EXPECT_EQ(sealer.Validate(empty).reason(), "SEND_PORTION_EMPTY");
  auto many = Send({"GBR"}, {});
  many.portions.resize(kMaxPortions + 1, {"(U)", {'x'}});
  EXPECT_EQ(sealer.Validate(many).reason(), "SEND_TOO_MANY_PORTIONS");
}

TEST_F(SealerTest, SealsEachPortionOnlyForThoseItIsReleasableTo) {
  Sealer sealer(clock_, identity_);
  auto req = Send({"GBR", "JPN", "USA"},
                  {{"(S//REL TO USA, GBR)", "for the british"}, {"(U)", "for everyone"}});
  auto sealed = sealer.Seal(req, directory_);
  ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
  // Plaintext wiped from the request.
  for (const auto& p : req.portions) {
    EXPECT_TRUE(std::all_of(p.content.begin(), p.content.end(), [](auto b) { return b == 0; }));
  }
  EXPECT_EQ(sealed->recipients, 3u);  // gbr-1, gbr-2, jpn-1; never usa-1 itself.
  EXPECT_EQ(sealed->meta.submitted_unix, clock_.UnixNow());
  EXPECT_EQ(sealed->meta.expires_unix, clock_.UnixNow() + kReportLifetimeSeconds);
  auto view = InspectReport(sealed->bytes, identity_.keys.signing.public_key);
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  EXPECT_EQ(ReportIdHex(view->report_id), sealed->report_id_hex);
  ASSERT_EQ(view->portions.size(), 2u);
  // SECRET REL GBR: gbr-1 only (gbr-2 is CONFIDENTIAL, Japan is not released to).
  EXPECT_EQ(view->portions[0].recipients, std::vector<std::string>{"gbr-1"});
  EXPECT_EQ(view->portions[1].recipients.size(), 3u);
  EXPECT_EQ(sealed->meta.banner, "SECRET//REL TO USA, GBR");
}

TEST_F(SealerTest, InspectDescribesAStoredReport) {
  Sealer sealer(clock_, identity_);
  auto req = Send({"GBR"}, {{"(S//REL TO USA, GBR)", "text"}});
  auto sealed = sealer.Seal(req, directory_);
  ASSERT_TRUE(sealed.ok());
  auto meta = sealer.Inspect(sealed->report_id_hex, sealed->bytes);
  ASSERT_TRUE(meta.ok()) << meta.status().ToString();
  EXPECT_EQ(meta->banner, sealed->meta.banner);
  EXPECT_EQ(meta->expires_unix, sealed->meta.expires_unix);
  EXPECT_EQ(meta->submitted_unix, sealed->meta.submitted_unix);
  EXPECT_EQ(sealer.Inspect(std::string(32, '0'), sealed->bytes).status().reason(),
            "OUTBOX_ID_MISMATCH");
  auto tampered = sealed->bytes;
  tampered[tampered.size() / 2] ^= 1;
  EXPECT_FALSE(sealer.Inspect(sealed->report_id_hex, tampered).ok());
}

}  // namespace
}  // namespace tearline::node
