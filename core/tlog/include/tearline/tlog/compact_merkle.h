// An append-only RFC 6962 / RFC 9162 Merkle tree that keeps only what the next root needs: the
// roots of the perfect subtrees along its right edge ("peaks", one per set bit of size(), largest
// first; at most 64 hashes). It serves the current root and nothing older: a log writer or a
// verifier that consumes entries in order and needs roots at increasing sizes uses it instead of
// MerkleTree (merkle.h), whose 64 bytes per leaf buy roots and proofs for any earlier size.
//
// Cost, n = size(): Append merges the peaks the new leaf completes: amortised one hash, at most
// log2(n). Root folds the peaks from the right: popcount(n) - 1 hashes (at most log2(n)), cached
// until the next Append, so asking again costs nothing. Roots are byte-identical to
// MerkleTree::RootAt(n) (the MTH of merkle.h's file comment).
//
// Ownership: a plain value (copyable, movable). Thread-safety: Append needs exclusive access;
// Root() fills a cache, so concurrent Root() calls need external synchronisation too.
#ifndef TEARLINE_TLOG_COMPACT_MERKLE_H_
#define TEARLINE_TLOG_COMPACT_MERKLE_H_

#include <cstdint>
#include <vector>

#include "tearline/tlog/merkle.h"

namespace tearline {

class CompactMerkleTree {
 public:
  CompactMerkleTree() = default;

  // Appends one leaf hash (callers hash their entries with LeafHash).
  void Append(const Hash& leaf_hash);
  std::uint64_t size() const { return size_; }
  // MTH of the leaves appended so far (EmptyRoot() when none).
  Hash Root() const;
  // The peaks, largest subtree first: peaks()[i] is the root of a perfect subtree of
  // 2^(bit) leaves for the i-th set bit of size() counted from the most significant.
  const std::vector<Hash>& peaks() const { return peaks_; }

 private:
  std::uint64_t size_ = 0;
  std::vector<Hash> peaks_;
  mutable bool root_valid_ = false;
  mutable Hash root_{};
};

}  // namespace tearline

#endif  // TEARLINE_TLOG_COMPACT_MERKLE_H_
