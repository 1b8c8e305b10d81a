// Exhaustive tampering of a small sealed report: every single-byte flip, every truncation.
// Opening must either fail with a typed envelope error or yield exactly the original
// originator, labels and content (a flip in bytes no field depends on, such as padding).
#include <gtest/gtest.h>
#include <sodium.h>

#include <algorithm>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tearline/envelope/envelope.h"
#include "test_support.h"

namespace tearline {
namespace {

using testing::CoalitionPolicy;

constexpr std::int64_t kCreated = 1'800'000'000;
constexpr std::int64_t kNow = kCreated + 10;

const std::set<std::string>& KnownReasons() {
  static const std::set<std::string> reasons = {
      "ENVELOPE_MALFORMED",
      "ENVELOPE_TOO_LARGE",
      "ENVELOPE_VERSION",
      "ENVELOPE_BAD_SIGNATURE",
      "ENVELOPE_COMMITMENT_MISMATCH",
      "ENVELOPE_EXPIRED",
      "ENVELOPE_NOT_YET_VALID",
      "ENVELOPE_NOT_A_RECIPIENT",
      "ENVELOPE_DECRYPT_FAILED",
      "ENVELOPE_PORTION_INDEX",
      "ENVELOPE_DUPLICATE_PORTION",
      "ENVELOPE_KEY_MISMATCH",
      "ENVELOPE_BAD_LABEL",
      "ENVELOPE_LABEL_NOT_RELEASABLE",
  };
  return reasons;
}

struct Expected {
  ReportId id{};
  std::string originator;
  std::vector<std::pair<std::string, std::string>> portions;  // label, content
};

class EnvelopeTamperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitCrypto().ok());
    sign_sk_ = std::move(SecretBytes::Allocate(crypto_sign_SECRETKEYBYTES)).value();
    crypto_sign_keypair(sign_pk_.data(), sign_sk_.data());
    enc_sk_ = std::move(SecretBytes::Allocate(crypto_box_SECRETKEYBYTES)).value();
    crypto_box_keypair(enc_pk_.data(), enc_sk_.data());
    other_sk_ = std::move(SecretBytes::Allocate(crypto_box_SECRETKEYBYTES)).value();
    crypto_box_keypair(other_pk_.data(), other_sk_.data());

    SealInput in;
    in.originator = "usa-node";
    in.originator_nation = "USA";
    in.created_unix = kCreated;
    in.expires_unix = kCreated + 3600;
    in.portions.push_back({"(S//REL TO USA, GBR)", {'a', 'b', 'c'}, {}});
    in.portions.push_back({"(U)", {'x', 'y'}, {}});
    in.recipients.push_back({"gbr-node", "GBR", 4, enc_pk_});
    in.recipients.push_back({"usa-2", "USA", 4, other_pk_});
    in.intended_nations = {"GBR"};
    auto sealed = Seal(in, sign_sk_, CoalitionPolicy());
    ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
    bytes_ = sealed->bytes;
    expected_.id = sealed->report_id;
    expected_.originator = "usa-node";
    expected_.portions = {{"(S//REL TO USA, GBR)", "abc"}, {"(U)", "xy"}};
  }

  Result<OpenedReport> OpenBytes(std::span<const std::uint8_t> b) const {
    RecipientIdentity me{"gbr-node", "GBR", 4, enc_pk_, enc_sk_};
    return Open(b, me, sign_pk_, CoalitionPolicy(), kNow);
  }

  // Empty string when the outcome is acceptable, a description otherwise.
  std::string Judge(const Result<OpenedReport>& r) const {
    if (!r.ok()) {
      if (!KnownReasons().contains(r.status().reason())) {
        return "untyped failure " + r.status().ToString();
      }
      if (r.status().code() == Code::kInternal) return "internal error " + r.status().ToString();
      return {};
    }
    if (r->report_id != expected_.id) return "different report id";
    if (r->originator != expected_.originator) return "different originator";
    if (r->portions.size() != expected_.portions.size()) return "different portion count";
    for (std::size_t i = 0; i < r->portions.size(); ++i) {
      const auto& p = r->portions[i];
      const std::string content(reinterpret_cast<const char*>(p.plaintext.data()),
                                p.plaintext.size());
      if (p.index != i || p.label != expected_.portions[i].first ||
          content != expected_.portions[i].second) {
        return "different portion " + std::to_string(i);
      }
    }
    return {};
  }

  std::array<std::uint8_t, 32> sign_pk_{};
  SecretBytes sign_sk_;
  std::array<std::uint8_t, 32> enc_pk_{};
  SecretBytes enc_sk_;
  std::array<std::uint8_t, 32> other_pk_{};
  SecretBytes other_sk_;
  std::vector<std::uint8_t> bytes_;
  Expected expected_;
};

TEST_F(EnvelopeTamperTest, BaselineOpens) {
  auto r = OpenBytes(bytes_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Judge(r), "");
}

// The broker's one-decode InspectReport (key looked up from the header it decoded) must judge
// every flipped byte exactly as PeekOriginator followed by InspectReport with that key.
TEST_F(EnvelopeTamperTest, OneDecodeInspectJudgesEveryFlipAsPeekThenInspect) {
  std::vector<std::uint8_t> mutated = bytes_;
  for (std::size_t i = 0; i < bytes_.size(); ++i) {
    for (std::uint8_t mask : {std::uint8_t{0xff}}) {  // The other masks: the test above.
      mutated[i] = static_cast<std::uint8_t>(bytes_[i] ^ mask);
      std::optional<std::string> asked;
      auto one = InspectReport(
          mutated, [&](std::string_view originator) -> Result<std::span<const std::uint8_t>> {
            asked = std::string(originator);
            return std::span<const std::uint8_t>(sign_pk_);
          });
      auto peek = PeekOriginator(mutated);
      ASSERT_EQ(asked.has_value(), peek.ok()) << "byte " << i;
      if (!peek.ok()) {
        ASSERT_FALSE(one.ok());
        EXPECT_EQ(one.status().reason(), peek.status().reason()) << "byte " << i;
      } else {
        EXPECT_EQ(*asked, *peek);
        auto two = InspectReport(mutated, sign_pk_);
        ASSERT_EQ(one.ok(), two.ok()) << "byte " << i;
        if (!two.ok()) {
          EXPECT_EQ(one.status().reason(), two.status().reason()) << "byte " << i;
        } else {
          EXPECT_EQ(one->report_id, two->report_id);
          ASSERT_EQ(one->portions.size(), two->portions.size());
          for (std::size_t p = 0; p < two->portions.size(); ++p) {
            EXPECT_EQ(one->portions[p].label, two->portions[p].label);
            EXPECT_EQ(one->portions[p].ciphertext_digest, two->portions[p].ciphertext_digest);
          }
        }
      }
      mutated[i] = bytes_[i];
    }
  }
}

// A refusal from the key lookup (the broker's originator check) is the answer, before any
// signature is checked.
TEST_F(EnvelopeTamperTest, OneDecodeInspectReturnsTheLookupsRefusal) {
  auto view = InspectReport(bytes_, [](std::string_view) -> Result<std::span<const std::uint8_t>> {
    return PermissionDenied("ORIGINATOR_MISMATCH", "not the connection's node");
  });
  ASSERT_FALSE(view.ok());
  EXPECT_EQ(view.status().reason(), "ORIGINATOR_MISMATCH");
  auto wrong_key = InspectReport(bytes_, [&](std::string_view) {
    return Result<std::span<const std::uint8_t>>(std::span<const std::uint8_t>(other_pk_));
  });
  ASSERT_FALSE(wrong_key.ok());
  EXPECT_EQ(wrong_key.status().reason(), "ENVELOPE_BAD_SIGNATURE");
}

TEST_F(EnvelopeTamperTest, EverySingleByteFlipFailsTypedOrYieldsTheSameReport) {
  const std::uint8_t masks[] = {0x01, 0x02, 0x08, 0x10, 0x80, 0xff};
  std::size_t accepted = 0;
  std::size_t rejected = 0;
  std::vector<std::uint8_t> mutated = bytes_;
  for (std::size_t i = 0; i < bytes_.size(); ++i) {
    for (std::uint8_t mask : masks) {
      mutated[i] = static_cast<std::uint8_t>(bytes_[i] ^ mask);
      auto r = OpenBytes(mutated);
      const std::string verdict = Judge(r);
      ASSERT_EQ(verdict, "") << "byte " << i << " mask " << int{mask};
      (r.ok() ? accepted : rejected)++;
      // The broker-side entry points must be equally robust.
      auto view = InspectReport(mutated, sign_pk_);
      if (view.ok()) {
        EXPECT_EQ(view->report_id, expected_.id) << "byte " << i;
        ASSERT_EQ(view->portions.size(), 2u);
        EXPECT_EQ(view->portions[0].label, expected_.portions[0].first) << "byte " << i;
      } else {
        EXPECT_TRUE(KnownReasons().contains(view.status().reason())) << view.status().ToString();
      }
      (void)PeekOriginator(mutated);
      const std::uint32_t sel[] = {0};
      (void)SelectPortions(mutated, sel);
      mutated[i] = bytes_[i];
    }
  }
  // Almost every flip must be caught; a handful may hit padding or unused vtable slack.
  EXPECT_GT(rejected, 20 * accepted) << "accepted " << accepted << " of " << accepted + rejected;
  RecordProperty("report_bytes", static_cast<int>(bytes_.size()));
  RecordProperty("accepted_flips", static_cast<int>(accepted));
}

TEST_F(EnvelopeTamperTest, EveryTruncationAndExtensionIsHandled) {
  for (std::size_t n = 0; n < bytes_.size(); ++n) {
    auto r = OpenBytes(std::span<const std::uint8_t>(bytes_).first(n));
    ASSERT_EQ(Judge(r), "") << "prefix " << n;
  }
  std::vector<std::uint8_t> longer = bytes_;
  longer.insert(longer.end(), 64, 0xa5);
  ASSERT_EQ(Judge(OpenBytes(longer)), "");
}

TEST_F(EnvelopeTamperTest, RandomBuffersNeverCrash) {
  std::vector<std::uint8_t> buf;
  for (int i = 0; i < 2000; ++i) {
    buf.resize(randombytes_uniform(2048));
    randombytes_buf(buf.data(), buf.size());
    if (buf.size() >= 8 && i % 2 == 0) {
      // Give half of them the right identifier so the Verifier is exercised.
      buf[4] = 'T';
      buf[5] = 'L';
      buf[6] = 'R';
      buf[7] = 'P';
    }
    auto r = OpenBytes(buf);
    ASSERT_FALSE(r.ok());
    ASSERT_TRUE(KnownReasons().contains(r.status().reason())) << r.status().ToString();
  }
}

// Provenance travels inside the committed body: it round-trips, and flipping any byte of it
// fails verification with the existing commitment reason.
TEST_F(EnvelopeTamperTest, ProvenanceIsSignedAndRoundTrips) {
  SealInput in;
  in.originator = "usa-node";
  in.originator_nation = "USA";
  in.created_unix = kCreated;
  in.expires_unix = kCreated + 3600;
  SealPortion p;
  p.marking = "(S//NF)";
  p.plaintext = {'d'};
  p.recipients = std::vector<std::string>{"usa-2"};
  ProvenanceSource src;
  src.report_id.fill(0x5a);
  src.portion = 2;
  src.nation = "GBR";
  in.provenance.resize(1);
  in.provenance[0].sources.push_back(src);
  in.provenance[0].override_reason = "QQQQ-override-QQQQ";
  in.portions.push_back(std::move(p));
  in.recipients.push_back({"usa-2", "USA", 4, other_pk_});
  auto sealed = Seal(in, sign_sk_, CoalitionPolicy());
  ASSERT_TRUE(sealed.ok()) << sealed.status().ToString();
  auto view = InspectReport(sealed->bytes, sign_pk_);
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  ASSERT_EQ(view->portions.size(), 1u);
  const PortionProvenance& got = view->portions[0].provenance;
  ASSERT_EQ(got.sources.size(), 1u);
  EXPECT_EQ(got.sources[0].report_id, src.report_id);
  EXPECT_EQ(got.sources[0].portion, 2u);
  EXPECT_EQ(got.sources[0].nation, "GBR");
  EXPECT_EQ(got.override_reason, "QQQQ-override-QQQQ");
  RecipientIdentity me{"usa-2", "USA", 4, other_pk_, other_sk_};
  auto opened = Open(sealed->bytes, me, sign_pk_, CoalitionPolicy(), kNow);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(opened->portions[0].provenance.override_reason, "QQQQ-override-QQQQ");

  // Flip a byte of the override reason, of the source nation, and of the source report id.
  auto flip_first = [&](const std::vector<std::uint8_t>& needle) {
    std::vector<std::uint8_t> b = sealed->bytes;
    auto it = std::search(b.begin(), b.end(), needle.begin(), needle.end());
    EXPECT_NE(it, b.end());
    if (it != b.end()) *it ^= 0x01;
    return b;
  };
  const std::string reason = "override";
  for (const auto& needle :
       {std::vector<std::uint8_t>(reason.begin(), reason.end()),
        std::vector<std::uint8_t>{'G', 'B', 'R'}, std::vector<std::uint8_t>(8, 0x5a)}) {
    auto tampered = InspectReport(flip_first(needle), sign_pk_);
    ASSERT_FALSE(tampered.ok());
    EXPECT_EQ(tampered.status().reason(), "ENVELOPE_COMMITMENT_MISMATCH");
  }
}

// A portion that is not derived writes no provenance fields: its body is what it always was.
TEST_F(EnvelopeTamperTest, PortionWithoutProvenanceHasNone) {
  auto view = InspectReport(bytes_, sign_pk_);
  ASSERT_TRUE(view.ok());
  for (const auto& p : view->portions) {
    EXPECT_TRUE(p.provenance.sources.empty());
    EXPECT_TRUE(p.provenance.override_reason.empty());
  }
}

}  // namespace
}  // namespace tearline
