// PrefixRoots against the reference tree (MerkleTree): the same root at every prepared and
// unprepared size, nothing beyond the leaves, and a cache that does not change answers.
#include "tearline/tlog/prefix_roots.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "tearline/crypto/secure_memory.h"
#include "tearline/tlog/merkle.h"

namespace tearline {
namespace {

class PrefixRootsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitCrypto().ok());
    for (std::uint64_t i = 0; i < 300; ++i) {
      std::uint8_t entry[8];
      for (std::size_t k = 0; k < 8; ++k) entry[k] = static_cast<std::uint8_t>(i >> (8 * k));
      leaves_.push_back(LeafHash(entry));
      reference_.Append(leaves_.back());
    }
  }
  std::vector<Hash> leaves_;
  MerkleTree reference_;
};

TEST_F(PrefixRootsTest, PreparedRootsEqualTheReferenceRoots) {
  PrefixRoots roots(leaves_);
  EXPECT_EQ(roots.size(), 300u);
  const std::vector<std::uint64_t> sizes = {300, 1, 0, 64, 65, 255, 64, 999};
  roots.Prepare(sizes);
  for (std::uint64_t s : {0u, 1u, 64u, 65u, 255u, 300u}) {
    ASSERT_EQ(roots.At(s), *reference_.RootAt(s)) << s;
  }
  EXPECT_EQ(roots.At(0), EmptyRoot());
  EXPECT_FALSE(roots.At(301).has_value());
  EXPECT_FALSE(roots.At(999).has_value());
}

TEST_F(PrefixRootsTest, UnpreparedSizesAreComputedOnDemandInAnyOrder) {
  PrefixRoots roots(leaves_);
  for (std::uint64_t s = 300;; s -= 7) {
    ASSERT_EQ(roots.At(s), *reference_.RootAt(s)) << s;
    ASSERT_EQ(roots.At(s), *reference_.RootAt(s)) << s;  // Cached: the same answer.
    if (s < 7) break;
  }
}

TEST_F(PrefixRootsTest, AnAlteredLeafChangesEveryRootThatCoversIt) {
  std::vector<Hash> altered = leaves_;
  altered[100][0] ^= 1;
  PrefixRoots roots(altered);
  EXPECT_EQ(roots.At(100), *reference_.RootAt(100));
  EXPECT_NE(roots.At(101), *reference_.RootAt(101));
  EXPECT_NE(roots.At(300), *reference_.RootAt(300));
}

}  // namespace
}  // namespace tearline
