// Roots of the prefixes of a sequence of leaf hashes at chosen sizes: what a verifier needs to
// compare a few signed roots (checkpoints at sizes s1 < s2 < ...) with the entries it read once.
// One ascending pass over the leaves with a CompactMerkleTree gives every requested root, so the
// cost is that of one root of the whole log (n - 1 node hashes) plus popcount(size) per request,
// and the state besides the leaves is O(log n): no full tree of every subtree hash (MerkleTree,
// 64 bytes per leaf) is built, because a verifier serves no proofs.
//
// A prefix root also settles consistency: two roots computed here from one leaf sequence are of
// one history by construction, so a verifier that matched both signed roots needs no consistency
// proof between them.
//
// Ownership: views `leaves`, which must outlive this object and not change. Thread-safety: At()
// fills a cache, so one thread at a time.
#ifndef TEARLINE_TLOG_PREFIX_ROOTS_H_
#define TEARLINE_TLOG_PREFIX_ROOTS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <span>

#include "tearline/tlog/merkle.h"

namespace tearline {

class PrefixRoots {
 public:
  explicit PrefixRoots(std::span<const Hash> leaves) : leaves_(leaves) {}

  // Number of leaves.
  std::uint64_t size() const { return leaves_.size(); }

  // Computes the roots at `sizes` (any order; duplicates and sizes above size() are ignored) in
  // one pass over the leaves, up to the largest of them.
  void Prepare(std::span<const std::uint64_t> sizes);

  // MTH of the first `tree_size` leaves (EmptyRoot() for 0); nullopt when tree_size > size(). A
  // size not prepared costs one pass over its prefix (O(tree_size) hashes), then is cached.
  std::optional<Hash> At(std::uint64_t tree_size);

 private:
  std::span<const Hash> leaves_;
  std::map<std::uint64_t, Hash> roots_;
};

}  // namespace tearline

#endif  // TEARLINE_TLOG_PREFIX_ROOTS_H_
