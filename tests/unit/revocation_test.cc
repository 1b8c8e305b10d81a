#include "tearline/identity/revocation.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <vector>

namespace tearline {
namespace {

constexpr std::int64_t kNow = 1'800'000'000;

TEST(RevocationTest, IssueSortsDeduplicatesAndRoundTrips) {
  auto root = GenerateSigningKeyPair();
  ASSERT_TRUE(root.ok());
  auto list = RevocationList::Issue(*root, 3, kNow, {{"b", 2}, {"a", 9}, {"b", 1}, {"a", 9}});
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  const std::vector<RevocationEntry> want = {{"a", 9}, {"b", 1}, {"b", 2}};
  EXPECT_EQ(list->entries(), want);
  EXPECT_EQ(list->sequence(), 3u);
  EXPECT_EQ(list->issued_at(), kNow);
  EXPECT_EQ(list->issuer_key(), root->public_key);

  auto decoded = RevocationList::Decode(list->encoded());
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->entries(), want);
  EXPECT_TRUE(decoded->SignatureVerifiesWith(root->public_key));
  EXPECT_TRUE(decoded->IsRevoked("b", 2));
  EXPECT_TRUE(decoded->IsRevoked("a", 9));
  EXPECT_FALSE(decoded->IsRevoked("a", 1));
  EXPECT_FALSE(decoded->IsRevoked("c", 2));
}

TEST(RevocationTest, EmptyListIsValid) {
  auto root = GenerateSigningKeyPair();
  ASSERT_TRUE(root.ok());
  auto list = RevocationList::Issue(*root, 1, kNow, {});
  ASSERT_TRUE(list.ok());
  auto decoded = RevocationList::Decode(list->encoded());
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(decoded->entries().empty());
}

TEST(RevocationTest, SignatureIsBoundToRootAndDomain) {
  auto root = GenerateSigningKeyPair();
  auto other = GenerateSigningKeyPair();
  ASSERT_TRUE(root.ok() && other.ok());
  auto list = RevocationList::Issue(*root, 1, kNow, {{"n", 1}});
  ASSERT_TRUE(list.ok());
  EXPECT_FALSE(list->SignatureVerifiesWith(other->public_key));
}

TEST(RevocationTest, RejectsInvalidFields) {
  auto root = GenerateSigningKeyPair();
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(RevocationList::Issue(*root, 0, kNow, {}).status().reason(),
            "REVOCATION_INVALID_FIELDS");
  EXPECT_EQ(RevocationList::Issue(*root, 1, kNow, {{"Bad", 1}}).status().reason(),
            "REVOCATION_INVALID_FIELDS");
  EXPECT_EQ(RevocationList::Issue(*root, 1, kNow, {{"ok", 0}}).status().reason(),
            "REVOCATION_INVALID_FIELDS");
}

TEST(RevocationTest, FlippingAnyByteNeverYieldsAValidList) {
  auto root = GenerateSigningKeyPair();
  ASSERT_TRUE(root.ok());
  auto list = RevocationList::Issue(*root, 5, kNow, {{"usa-1", 2}, {"gbr-1", 3}});
  ASSERT_TRUE(list.ok());
  const std::vector<std::uint8_t> good = list->encoded();
  for (std::size_t i = 0; i < good.size(); ++i) {
    std::vector<std::uint8_t> bad = good;
    bad[i] ^= 0xff;
    auto decoded = RevocationList::Decode(bad);
    if (!decoded.ok()) {
      EXPECT_EQ(decoded.status().reason(), "REVOCATION_MALFORMED");
      continue;
    }
    EXPECT_FALSE(decoded->SignatureVerifiesWith(root->public_key)) << "byte " << i;
  }
  for (std::size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(RevocationList::Decode(std::span(good.data(), n)).ok()) << n;
  }
}

TEST(RevocationTest, RejectsOversizeInput) {
  std::vector<std::uint8_t> huge(kMaxRevocationListSize + 1, 0);
  EXPECT_EQ(RevocationList::Decode(huge).status().reason(), "REVOCATION_TOO_LARGE");
}

}  // namespace
}  // namespace tearline
