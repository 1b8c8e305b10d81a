// Forward (re-share within the label): round trip, and the attacks a forwarder or a broker could
// try on a forward. Each attack test is named in docs/THREAT_MODEL.md.
#include "tearline/envelope/forward.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <array>
#include <string>
#include <utility>
#include <vector>

#include "tearline/crypto/random_source.h"
#include "tearline/envelope/envelope.h"
#include "test_support.h"

namespace tearline {
namespace {

using testing::CoalitionPolicy;

constexpr std::int64_t kCreated = 1'800'000'000;
constexpr std::int64_t kNow = kCreated + 60;

struct Party {
  std::string node_id;
  std::string nation;
  std::array<std::uint8_t, 32> sign_pk{};
  SecretBytes sign_sk;
  std::array<std::uint8_t, 32> enc_pk{};
  SecretBytes enc_sk;

  RecipientIdentity Identity() const {
    return RecipientIdentity{node_id, nation, 4, enc_pk, enc_sk};
  }
};

Party MakeParty(std::string id, std::string nation) {
  Party p;
  p.node_id = std::move(id);
  p.nation = std::move(nation);
  p.sign_sk = std::move(SecretBytes::Allocate(crypto_sign_SECRETKEYBYTES)).value();
  crypto_sign_keypair(p.sign_pk.data(), p.sign_sk.data());
  p.enc_sk = std::move(SecretBytes::Allocate(crypto_box_SECRETKEYBYTES)).value();
  crypto_box_keypair(p.enc_pk.data(), p.enc_sk.data());
  return p;
}

std::string AsString(const SecretBytes& b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

class ForwardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitCrypto().ok());
    usa_ = MakeParty("usa-1", "USA");
    gbr_ = MakeParty("gbr-1", "GBR");
    aus_ = MakeParty("aus-1", "AUS");
    // Portion 0 releases to AUS; portion 1 is ORCON; both reach GBR.
    SealInput in;
    in.originator = usa_.node_id;
    in.originator_nation = "USA";
    in.created_unix = kCreated;
    in.expires_unix = kCreated + 86400;
    in.portions.push_back({"(S//REL TO USA, AUS, GBR)", {'a', 'u', 's'}, std::nullopt});
    in.portions.push_back({"(S//OC/REL TO USA, GBR)", {'o', 'c'}, std::nullopt});
    in.recipients.push_back({gbr_.node_id, "GBR", 4, gbr_.enc_pk});
    in.intended_nations = {"GBR"};
    auto sealed = Seal(in, usa_.sign_sk, policy_);
    ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
    copy_ = sealed->bytes;
  }

  Result<SealedForward> ForwardToAus(std::vector<std::uint32_t> portions = {0}) const {
    ForwardInput in;
    in.forwarder = gbr_.node_id;
    in.forwarder_nation = "GBR";
    in.target_nation = "AUS";
    in.created_unix = kNow;
    in.portions = std::move(portions);
    in.targets.push_back({aus_.node_id, aus_.enc_pk});
    return SealForward(copy_, in, gbr_.Identity(), gbr_.sign_sk);
  }

  const Policy& policy_ = CoalitionPolicy();
  Party usa_, gbr_, aus_;
  std::vector<std::uint8_t> copy_;
};

TEST_F(ForwardTest, RecipientOpensForwardAndSeesTheChain) {
  auto fwd = ForwardToAus();
  ASSERT_TRUE(fwd.ok()) << fwd.status().ToString();
  ASSERT_TRUE(IsForward(fwd->bytes));
  auto parties = PeekForward(fwd->bytes);
  ASSERT_TRUE(parties.ok());
  EXPECT_EQ(parties->originator, "usa-1");
  EXPECT_EQ(parties->forwarder, "gbr-1");
  auto opened = OpenForward(fwd->bytes, aus_.Identity(), usa_.sign_pk, gbr_.sign_pk, policy_, kNow);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(opened->forward_id, fwd->forward_id);
  EXPECT_EQ(opened->forwarder, "gbr-1");
  EXPECT_EQ(opened->report.originator, "usa-1");
  ASSERT_EQ(opened->report.portions.size(), 1u);
  EXPECT_EQ(opened->report.portions[0].label, "(S//REL TO USA, AUS, GBR)");
  EXPECT_EQ(AsString(opened->report.portions[0].plaintext), "aus");
}

TEST_F(ForwardTest, BrokerViewCarriesTheGrantRecipientsAndTheSignedLabel) {
  auto fwd = ForwardToAus({0, 1});
  ASSERT_TRUE(fwd.ok());
  auto view = InspectForward(fwd->bytes, usa_.sign_pk, gbr_.sign_pk);
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  EXPECT_EQ(view->target_nation, "AUS");
  ASSERT_EQ(view->report.portions.size(), 2u);
  EXPECT_EQ(view->report.portions[1].label, "(S//OC/REL TO USA, GBR)");
  EXPECT_EQ(view->report.portions[0].recipients, std::vector<std::string>{"aus-1"});
  // The broker drops a body; the grant still verifies.
  const std::vector<std::uint32_t> keep{0};
  auto copy = SelectForwardPortions(fwd->bytes, keep);
  ASSERT_TRUE(copy.ok());
  EXPECT_TRUE(InspectForward(*copy, usa_.sign_pk, gbr_.sign_pk).ok());
}

TEST_F(ForwardTest, ForgedGrantSignatureIsRefused) {
  auto fwd = ForwardToAus();
  ASSERT_TRUE(fwd.ok());
  // Verified under another node's key: a third node cannot claim to be the forwarder.
  auto view = InspectForward(fwd->bytes, usa_.sign_pk, aus_.sign_pk);
  EXPECT_EQ(view.status().reason(), "ENVELOPE_BAD_SIGNATURE");
}

TEST_F(ForwardTest, ForwarderCannotChangeTheOriginatorsLabel) {
  auto fwd = ForwardToAus();
  ASSERT_TRUE(fwd.ok());
  // Flip one byte anywhere in the nested report (label, body, header): the originator's
  // signature or a commitment fails, whatever the forwarder signs.
  std::vector<std::uint8_t> bytes = fwd->bytes;
  const std::string needle = "REL TO USA, AUS";
  auto it = std::search(bytes.begin(), bytes.end(), needle.begin(), needle.end());
  ASSERT_NE(it, bytes.end());
  *(it + 7) = 'X';
  auto view = InspectForward(bytes, usa_.sign_pk, gbr_.sign_pk);
  EXPECT_FALSE(view.ok());
  EXPECT_EQ(view.status().reason(), "ENVELOPE_COMMITMENT_MISMATCH");
}

TEST_F(ForwardTest, NonRecipientCannotOpenAndPortionNotHeldCannotBeForwarded) {
  auto fwd = ForwardToAus();
  ASSERT_TRUE(fwd.ok());
  auto opened = OpenForward(fwd->bytes, gbr_.Identity(), usa_.sign_pk, gbr_.sign_pk, policy_, kNow);
  EXPECT_EQ(opened.status().reason(), "ENVELOPE_NOT_A_RECIPIENT");
  // AUS never received the report: it holds no wrap to forward from.
  ForwardInput in;
  in.forwarder = aus_.node_id;
  in.forwarder_nation = "AUS";
  in.target_nation = "GBR";
  in.created_unix = kNow;
  in.portions = {0};
  in.targets.push_back({gbr_.node_id, gbr_.enc_pk});
  auto bad = SealForward(copy_, in, aus_.Identity(), aus_.sign_sk);
  EXPECT_EQ(bad.status().reason(), "ENVELOPE_NOT_A_RECIPIENT");
  in.portions = {5};
  bad = SealForward(copy_, in, aus_.Identity(), aus_.sign_sk);
  EXPECT_EQ(bad.status().reason(), "ENVELOPE_NO_SUCH_PORTION");
}

TEST_F(ForwardTest, RecipientRefusesALabelThatDoesNotReleaseToIt) {
  // Portion 1 does not release to AUS: even if a broker passed it, AUS refuses to open it.
  auto fwd = ForwardToAus({1});
  ASSERT_TRUE(fwd.ok());
  auto opened = OpenForward(fwd->bytes, aus_.Identity(), usa_.sign_pk, gbr_.sign_pk, policy_, kNow);
  EXPECT_EQ(opened.status().reason(), "ENVELOPE_LABEL_NOT_RELEASABLE");
}

TEST_F(ForwardTest, GarbageIsMalformed) {
  const std::vector<std::uint8_t> junk{'x', 'x', 'x', 'x', 'T', 'L', 'F', 'W', 0, 0, 0, 0};
  EXPECT_EQ(PeekForward(junk).status().reason(), "ENVELOPE_MALFORMED");
  EXPECT_FALSE(IsForward(copy_));
}

// The forward id and the grant's wraps come from the OS by default and from a seeded source
// only when one is passed (conformance vectors): then the forward is reproducible and opens.
TEST_F(ForwardTest, ForwardIsRandomByDefaultAndReproducibleWithASeededSource) {
  auto a = ForwardToAus();
  auto b = ForwardToAus();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->bytes, b->bytes);
  EXPECT_NE(a->forward_id, b->forward_id);
  std::array<std::uint8_t, 32> seed{};
  seed.fill(0x3c);
  std::vector<std::vector<std::uint8_t>> seeded;
  for (int i = 0; i < 2; ++i) {
    SeededRandom random(seed);
    ForwardInput in;
    in.forwarder = gbr_.node_id;
    in.forwarder_nation = "GBR";
    in.target_nation = "AUS";
    in.created_unix = kNow;
    in.portions = {0};
    in.targets.push_back({aus_.node_id, aus_.enc_pk});
    in.random = &random;
    auto f = SealForward(copy_, in, gbr_.Identity(), gbr_.sign_sk);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    seeded.push_back(f->bytes);
  }
  EXPECT_EQ(seeded[0], seeded[1]);
  auto opened = OpenForward(seeded[0], aus_.Identity(), usa_.sign_pk, gbr_.sign_pk, policy_, kNow);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(opened->report.portions.size(), 1u);
}

}  // namespace
}  // namespace tearline
