// The compact tree against the reference tree (MerkleTree, itself checked against the RFC 6962
// probes in merkle_test): identical roots at every size up to 1100 and at large ragged sizes,
// at most log2(n) peaks, and roots that the reference proofs verify against.
#include "tearline/tlog/compact_merkle.h"

#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <vector>

#include "tearline/crypto/secure_memory.h"
#include "tearline/tlog/merkle.h"

namespace tearline {
namespace {

Hash Leaf(std::uint64_t i) {
  std::uint8_t entry[8];
  for (std::size_t k = 0; k < 8; ++k) entry[k] = static_cast<std::uint8_t>(i >> (8 * k));
  return LeafHash(entry);
}

class CompactMerkleTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(InitCrypto().ok()); }
};

TEST_F(CompactMerkleTest, EmptyTreeHasTheEmptyRoot) {
  const CompactMerkleTree t;
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.Root(), EmptyRoot());
  EXPECT_TRUE(t.peaks().empty());
}

TEST_F(CompactMerkleTest, RootEqualsTheReferenceRootAtEverySize) {
  MerkleTree reference;
  CompactMerkleTree compact;
  for (std::uint64_t n = 1; n <= 1100; ++n) {
    const Hash leaf = Leaf(n);
    reference.Append(leaf);
    compact.Append(leaf);
    ASSERT_EQ(compact.size(), n);
    ASSERT_EQ(compact.Root(), reference.Root()) << "size " << n;
    // One peak per set bit of the size: the state stays O(log n).
    ASSERT_EQ(compact.peaks().size(), static_cast<std::size_t>(std::popcount(n))) << n;
  }
}

TEST_F(CompactMerkleTest, RootsAtLargeRaggedSizesMatchAndTheReferenceProofsVerifyThem) {
  MerkleTree reference;
  CompactMerkleTree compact;
  std::vector<Hash> roots = {EmptyRoot()};  // roots[n]: compact root after n leaves
  const std::uint64_t kSize = (std::uint64_t{1} << 14) + 1234;
  for (std::uint64_t n = 1; n <= kSize; ++n) {
    reference.Append(Leaf(n));
    compact.Append(Leaf(n));
    roots.push_back(compact.Root());
  }
  for (std::uint64_t size : {std::uint64_t{4095}, std::uint64_t{4096}, std::uint64_t{4097},
                             std::uint64_t{12345}, kSize}) {
    auto root = reference.RootAt(size);
    ASSERT_TRUE(root.ok());
    EXPECT_EQ(roots[size], *root) << size;
  }
  // An inclusion proof and a consistency proof from the reference tree check out against roots
  // the compact tree produced along the way.
  const std::uint64_t index = 7777;
  auto inclusion = reference.InclusionProof(index, kSize);
  ASSERT_TRUE(inclusion.ok());
  const Hash leaf = Leaf(index + 1);
  EXPECT_TRUE(VerifyInclusion(leaf, index, kSize, *inclusion, roots[kSize]).ok());
  auto consistency = reference.ConsistencyProof(12345, kSize);
  ASSERT_TRUE(consistency.ok());
  EXPECT_TRUE(VerifyConsistency(12345, kSize, roots[12345], roots[kSize], *consistency).ok());
  // A tampered root fails: the comparison is real.
  Hash wrong = roots[kSize];
  wrong[0] ^= 1;
  EXPECT_FALSE(VerifyConsistency(12345, kSize, roots[12345], wrong, *consistency).ok());
}

TEST_F(CompactMerkleTest, RootIsCachedUntilTheNextAppend) {
  CompactMerkleTree t;
  for (std::uint64_t i = 0; i < 7; ++i) t.Append(Leaf(i));
  const Hash first = t.Root();
  EXPECT_EQ(t.Root(), first);
  t.Append(Leaf(7));
  EXPECT_NE(t.Root(), first);
  // Eight leaves make one perfect tree: a single peak, which is the root.
  ASSERT_EQ(t.peaks().size(), 1u);
  EXPECT_EQ(t.peaks()[0], t.Root());
}

TEST_F(CompactMerkleTest, CopiesAreIndependent) {
  CompactMerkleTree a;
  for (std::uint64_t i = 0; i < 5; ++i) a.Append(Leaf(i));
  CompactMerkleTree b = a;
  b.Append(Leaf(5));
  EXPECT_EQ(a.size(), 5u);
  EXPECT_EQ(b.size(), 6u);
  EXPECT_NE(a.Root(), b.Root());
}

}  // namespace
}  // namespace tearline
