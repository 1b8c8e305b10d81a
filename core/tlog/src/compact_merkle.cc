#include "tearline/tlog/compact_merkle.h"

namespace tearline {

void CompactMerkleTree::Append(const Hash& leaf_hash) {
  // Each trailing one bit of the old size is a peak the new leaf completes into one twice as
  // large: the carries of size_ + 1.
  Hash carry = leaf_hash;
  for (std::uint64_t bits = size_; (bits & 1) != 0; bits >>= 1) {
    carry = NodeHash(peaks_.back(), carry);
    peaks_.pop_back();
  }
  peaks_.push_back(carry);
  ++size_;
  root_valid_ = false;
}

Hash CompactMerkleTree::Root() const {
  if (root_valid_) return root_;
  if (peaks_.empty()) {
    root_ = EmptyRoot();
  } else {
    // MTH splits at the largest power of two below n, so the root is the peaks folded from the
    // smallest (rightmost): N(p0, N(p1, ... N(p[k-1], p[k]))).
    Hash acc = peaks_.back();
    for (std::size_t i = peaks_.size() - 1; i-- > 0;) acc = NodeHash(peaks_[i], acc);
    root_ = acc;
  }
  root_valid_ = true;
  return root_;
}

}  // namespace tearline
