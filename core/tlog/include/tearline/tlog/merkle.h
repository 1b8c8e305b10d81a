// RFC 6962 / RFC 9162 Merkle tree over SHA-256: hashing, an append-only tree that produces roots
// and proofs, and the free verification functions an independent auditor runs.
//
// Hashing (RFC 9162 section 2.1.1):
//   LeafHash(d)    = SHA-256(0x00 || d)
//   NodeHash(l, r) = SHA-256(0x01 || l || r)
//   MTH({})        = SHA-256("")                  (EmptyRoot())
//   MTH(D[n])      = NodeHash(MTH(D[0:k]), MTH(D[k:n])), k the largest power of two < n.
// The 0x00 / 0x01 prefixes keep a leaf from ever being mistaken for an interior node (second
// preimage resistance of the tree).
//
// Proof verification follows RFC 9162 sections 2.1.3.2 and 2.1.4.2 step by step, with these
// edge cases made explicit (they match the transparency-dev reference verifier and its probes):
//   - inclusion: index >= tree_size fails (MERKLE_INDEX_OUT_OF_RANGE); a proof that is too long or
//     too short for (index, tree_size) fails (MERKLE_BAD_PROOF) before any root comparison;
//   - consistency: old_size > new_size fails (MERKLE_INDEX_OUT_OF_RANGE); old_size == new_size
//     needs an empty proof and byte-identical roots (for size 0, both must be EmptyRoot());
//     0 == old_size < new_size fails (MERKLE_BAD_PROOF): RFC 9162 only defines proofs for
//     0 < old_size < new_size, and the empty tree is a prefix of every tree, so a caller holding
//     only an empty tree has nothing to check and must not ask; otherwise an empty proof fails.
//
// Thread-safety: free functions are pure and safe to call concurrently. MerkleTree's const
// members may run concurrently with each other; Append needs exclusive access.
#ifndef TEARLINE_MERKLE_H_
#define TEARLINE_MERKLE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "tearline/base/status.h"

namespace tearline {

inline constexpr std::size_t kMerkleHashSize = 32;
using Hash = std::array<std::uint8_t, kMerkleHashSize>;

// Longest proof either kind of verification can accept: a tree has at most 2^64 - 1 leaves, so
// an inclusion path has at most 64 hashes and a consistency proof at most 65.
inline constexpr std::size_t kMaxMerkleProofHashes = 65;

// SHA-256(0x00 || entry).
Hash LeafHash(std::span<const std::uint8_t> entry);
// SHA-256(0x01 || left || right).
Hash NodeHash(const Hash& left, const Hash& right);
// SHA-256(""): the root of the tree with no leaves.
Hash EmptyRoot();

// Copies exactly kMerkleHashSize bytes into a Hash; reason MERKLE_BAD_HASH_SIZE otherwise.
// For decoding hashes received from the wire before verification.
Result<Hash> HashFromBytes(std::span<const std::uint8_t> bytes);

// An append-only Merkle tree over leaf hashes (callers hash their entries with LeafHash).
//
// Storage: every complete (perfect, aligned) subtree hash is kept, level by level, so roots and
// proofs for any earlier size are served without rehashing leaves. Memory is about 2 hashes (64
// bytes) per leaf: roughly 64 MiB for 10^6 leaves.
// Cost, n = size(): Append is amortised O(1) hashes (worst case O(log n)); Root/RootAt is
// O(log n) hashes; InclusionProof and ConsistencyProof are O(log^2 n) hashes worst case (a
// right-edge subtree that is not perfect is recomputed from its O(log n) perfect parts).
//
// Ownership: a plain value (copyable, movable). Thread-safety: see the file comment.
class MerkleTree {
 public:
  MerkleTree() = default;

  // Appends one leaf hash; the new leaf has index size() - 1 afterwards.
  void Append(const Hash& leaf_hash);

  std::uint64_t size() const { return levels_.empty() ? 0 : levels_[0].size(); }

  // The leaf hash at `index`; MERKLE_INDEX_OUT_OF_RANGE when index >= size().
  Result<Hash> LeafAt(std::uint64_t index) const;

  // Root of the current tree (EmptyRoot() when empty).
  Hash Root() const;
  // Root of the tree made of the first `tree_size` leaves; MERKLE_INDEX_OUT_OF_RANGE when
  // tree_size > size().
  Result<Hash> RootAt(std::uint64_t tree_size) const;

  // RFC 9162 PATH(index, D[tree_size]), ordered from the leaf's sibling upwards.
  // MERKLE_INDEX_OUT_OF_RANGE unless index < tree_size <= size().
  Result<std::vector<Hash>> InclusionProof(std::uint64_t index, std::uint64_t tree_size) const;

  // RFC 9162 PROOF(old_size, D[new_size]); empty when old_size == 0 or old_size == new_size.
  // MERKLE_INDEX_OUT_OF_RANGE unless old_size <= new_size <= size().
  Result<std::vector<Hash>> ConsistencyProof(std::uint64_t old_size, std::uint64_t new_size) const;

 private:
  // MTH of leaves [begin, begin + count), count >= 1, where begin is a multiple of the smallest
  // power of two >= count (true of every subtree the RFC recursion visits).
  Hash SubtreeHash(std::uint64_t begin, std::uint64_t count) const;
  void Path(std::uint64_t index, std::uint64_t begin, std::uint64_t count,
            std::vector<Hash>& out) const;
  void SubProof(std::uint64_t old_size, std::uint64_t begin, std::uint64_t count, bool complete,
                std::vector<Hash>& out) const;

  // levels_[h][i] = MTH of leaves [i * 2^h, (i + 1) * 2^h); levels_[0] holds the leaf hashes.
  std::vector<std::vector<Hash>> levels_;
};

// RFC 9162 2.1.3.2: does `proof` show that `leaf_hash` is leaf `index` of the tree of `tree_size`
// leaves whose root is `root`? `leaf_hash` and `root` are byte strings as received (a wrong
// length fails with MERKLE_BAD_HASH_SIZE).
// Reasons: MERKLE_INDEX_OUT_OF_RANGE, MERKLE_BAD_HASH_SIZE, MERKLE_BAD_PROOF (wrong number of
// hashes), MERKLE_ROOT_MISMATCH (the proof leads to a different root).
Status VerifyInclusion(std::span<const std::uint8_t> leaf_hash, std::uint64_t index,
                       std::uint64_t tree_size, std::span<const Hash> proof,
                       std::span<const std::uint8_t> root);

// RFC 9162 2.1.4.2: does `proof` show that the tree of `old_size` leaves with root `old_root` is a
// prefix of the tree of `new_size` leaves with root `new_root`? Edge cases: see the file comment.
// Reasons: MERKLE_INDEX_OUT_OF_RANGE (old_size > new_size), MERKLE_BAD_HASH_SIZE,
// MERKLE_BAD_PROOF, MERKLE_ROOT_MISMATCH.
Status VerifyConsistency(std::uint64_t old_size, std::uint64_t new_size,
                         std::span<const std::uint8_t> old_root,
                         std::span<const std::uint8_t> new_root, std::span<const Hash> proof);

}  // namespace tearline

#endif  // TEARLINE_MERKLE_H_
