#include "tearline/tlog/merkle.h"

#include <sodium.h>

#include <algorithm>
#include <bit>
#include <string>
#include <utility>

#include "tearline/crypto/secure_memory.h"

namespace tearline {
namespace {

constexpr std::uint8_t kLeafPrefix = 0x00;
constexpr std::uint8_t kNodePrefix = 0x01;

// libsodium's SHA-256 is portable code with no runtime CPU dispatch and cannot fail, so hashing
// does not depend on the outcome; initialising once still keeps the library's contract.
void EnsureSodium() {
  static const bool initialised = InitCrypto().ok();
  static_cast<void>(initialised);
}

// Largest power of two strictly smaller than n (n >= 2): the RFC 9162 split point k.
std::uint64_t SplitPoint(std::uint64_t n) { return std::bit_floor(n - 1); }

bool SameBytes(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

Status OutOfRange(std::string message) {
  return InvalidArgument("MERKLE_INDEX_OUT_OF_RANGE", std::move(message));
}
Status BadProof(std::string message) {
  return Unauthenticated("MERKLE_BAD_PROOF", std::move(message));
}
Status RootMismatch(std::string message) {
  return Unauthenticated("MERKLE_ROOT_MISMATCH", std::move(message));
}
Status BadHashSize(const char* what, std::size_t size) {
  return InvalidArgument("MERKLE_BAD_HASH_SIZE", std::string(what) + " is " + std::to_string(size) +
                                                     " bytes, a SHA-256 hash is 32");
}

}  // namespace

Hash LeafHash(std::span<const std::uint8_t> entry) {
  EnsureSodium();
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  crypto_hash_sha256_update(&state, &kLeafPrefix, 1);
  crypto_hash_sha256_update(&state, entry.data(), entry.size());
  Hash out;
  crypto_hash_sha256_final(&state, out.data());
  return out;
}

Hash NodeHash(const Hash& left, const Hash& right) {
  EnsureSodium();
  std::array<std::uint8_t, 1 + 2 * kMerkleHashSize> buffer;
  buffer[0] = kNodePrefix;
  std::copy(left.begin(), left.end(), buffer.begin() + 1);
  std::copy(right.begin(), right.end(), buffer.begin() + 1 + kMerkleHashSize);
  Hash out;
  crypto_hash_sha256(out.data(), buffer.data(), buffer.size());
  return out;
}

Hash EmptyRoot() {
  EnsureSodium();
  Hash out;
  crypto_hash_sha256(out.data(), nullptr, 0);
  return out;
}

Result<Hash> HashFromBytes(std::span<const std::uint8_t> bytes) {
  if (bytes.size() != kMerkleHashSize) return BadHashSize("the hash", bytes.size());
  Hash out;
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return out;
}

// ---------------------------------------------------------------------------------------------
// MerkleTree

void MerkleTree::Append(const Hash& leaf_hash) {
  if (levels_.empty()) levels_.emplace_back();
  levels_[0].push_back(leaf_hash);
  // Each time a level gains an even number of nodes, the last two are siblings of a completed
  // perfect subtree: record its parent one level up (amortised one hash per append).
  std::size_t level = 0;
  while (levels_[level].size() % 2 == 0) {
    const std::vector<Hash>& nodes = levels_[level];
    Hash parent = NodeHash(nodes[nodes.size() - 2], nodes[nodes.size() - 1]);
    if (levels_.size() == level + 1) levels_.emplace_back();
    levels_[level + 1].push_back(parent);
    ++level;
  }
}

Result<Hash> MerkleTree::LeafAt(std::uint64_t index) const {
  if (index >= size()) {
    return OutOfRange("leaf " + std::to_string(index) + " is beyond the tree of " +
                      std::to_string(size()) + " leaves");
  }
  return levels_[0][index];
}

Hash MerkleTree::SubtreeHash(std::uint64_t begin, std::uint64_t count) const {
  if (std::has_single_bit(count)) {
    const auto level = static_cast<std::size_t>(std::countr_zero(count));
    return levels_[level][begin >> level];
  }
  const std::uint64_t k = SplitPoint(count);
  return NodeHash(SubtreeHash(begin, k), SubtreeHash(begin + k, count - k));
}

Hash MerkleTree::Root() const { return size() == 0 ? EmptyRoot() : SubtreeHash(0, size()); }

Result<Hash> MerkleTree::RootAt(std::uint64_t tree_size) const {
  if (tree_size > size()) {
    return OutOfRange("no root for " + std::to_string(tree_size) + " leaves: the tree has " +
                      std::to_string(size()));
  }
  return tree_size == 0 ? EmptyRoot() : SubtreeHash(0, tree_size);
}

void MerkleTree::Path(std::uint64_t index, std::uint64_t begin, std::uint64_t count,
                      std::vector<Hash>& out) const {
  if (count <= 1) return;
  const std::uint64_t k = SplitPoint(count);
  if (index < k) {
    Path(index, begin, k, out);
    out.push_back(SubtreeHash(begin + k, count - k));
  } else {
    Path(index - k, begin + k, count - k, out);
    out.push_back(SubtreeHash(begin, k));
  }
}

Result<std::vector<Hash>> MerkleTree::InclusionProof(std::uint64_t index,
                                                     std::uint64_t tree_size) const {
  if (tree_size > size()) {
    return OutOfRange("no proof in a tree of " + std::to_string(tree_size) +
                      " leaves: the tree has " + std::to_string(size()));
  }
  if (index >= tree_size) {
    return OutOfRange("leaf " + std::to_string(index) + " is not in a tree of " +
                      std::to_string(tree_size) + " leaves");
  }
  std::vector<Hash> proof;
  Path(index, 0, tree_size, proof);
  return proof;
}

void MerkleTree::SubProof(std::uint64_t old_size, std::uint64_t begin, std::uint64_t count,
                          bool complete, std::vector<Hash>& out) const {
  if (old_size == count) {
    // The whole subtree belongs to the old tree; the verifier already knows it as the old root
    // unless we are below a right turn.
    if (!complete) out.push_back(SubtreeHash(begin, count));
    return;
  }
  const std::uint64_t k = SplitPoint(count);
  if (old_size <= k) {
    SubProof(old_size, begin, k, complete, out);
    out.push_back(SubtreeHash(begin + k, count - k));
  } else {
    SubProof(old_size - k, begin + k, count - k, false, out);
    out.push_back(SubtreeHash(begin, k));
  }
}

Result<std::vector<Hash>> MerkleTree::ConsistencyProof(std::uint64_t old_size,
                                                       std::uint64_t new_size) const {
  if (new_size > size()) {
    return OutOfRange("no proof to a tree of " + std::to_string(new_size) +
                      " leaves: the tree has " + std::to_string(size()));
  }
  if (old_size > new_size) {
    return OutOfRange("old size " + std::to_string(old_size) + " exceeds new size " +
                      std::to_string(new_size));
  }
  std::vector<Hash> proof;
  if (old_size == 0 || old_size == new_size) return proof;
  SubProof(old_size, 0, new_size, true, proof);
  return proof;
}

// ---------------------------------------------------------------------------------------------
// Verification (RFC 9162 2.1.3.2 and 2.1.4.2)

Status VerifyInclusion(std::span<const std::uint8_t> leaf_hash, std::uint64_t index,
                       std::uint64_t tree_size, std::span<const Hash> proof,
                       std::span<const std::uint8_t> root) {
  if (index >= tree_size) {
    return OutOfRange("leaf index " + std::to_string(index) + " is not below tree size " +
                      std::to_string(tree_size));
  }
  if (leaf_hash.size() != kMerkleHashSize) return BadHashSize("the leaf hash", leaf_hash.size());
  if (root.size() != kMerkleHashSize) return BadHashSize("the root hash", root.size());

  std::uint64_t fn = index;
  std::uint64_t sn = tree_size - 1;
  Hash r;
  std::copy(leaf_hash.begin(), leaf_hash.end(), r.begin());
  for (const Hash& p : proof) {
    if (sn == 0) return BadProof("the inclusion proof has more hashes than the path is long");
    if ((fn & 1U) != 0 || fn == sn) {
      r = NodeHash(p, r);
      while ((fn & 1U) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return BadProof("the inclusion proof has fewer hashes than the path is long");
  if (!SameBytes(r, root)) {
    return RootMismatch("the inclusion proof leads to a root other than the one given");
  }
  return Status::Ok();
}

Status VerifyConsistency(std::uint64_t old_size, std::uint64_t new_size,
                         std::span<const std::uint8_t> old_root,
                         std::span<const std::uint8_t> new_root, std::span<const Hash> proof) {
  if (old_size > new_size) {
    return OutOfRange("old size " + std::to_string(old_size) + " exceeds new size " +
                      std::to_string(new_size));
  }
  if (old_size == new_size) {
    if (!proof.empty()) return BadProof("equal tree sizes need an empty consistency proof");
    if (old_size == 0) {
      const Hash empty = EmptyRoot();
      if (!SameBytes(old_root, empty) || !SameBytes(new_root, empty)) {
        return RootMismatch("the root of an empty tree must be SHA-256 of the empty string");
      }
      return Status::Ok();
    }
    if (!SameBytes(old_root, new_root)) {
      return RootMismatch("two trees of the same size have different roots");
    }
    return Status::Ok();
  }
  if (old_size == 0) {
    return BadProof("a consistency proof from the empty tree is meaningless");
  }
  if (old_root.size() != kMerkleHashSize) return BadHashSize("the old root", old_root.size());
  if (new_root.size() != kMerkleHashSize) return BadHashSize("the new root", new_root.size());
  if (proof.empty()) return BadProof("the consistency proof is empty");

  // Step 2: when the old tree is a perfect subtree, its root is the proof's implicit first hash.
  Hash fr;
  std::size_t next = 0;
  if (std::has_single_bit(old_size)) {
    std::copy(old_root.begin(), old_root.end(), fr.begin());
  } else {
    fr = proof[0];
    next = 1;
  }
  Hash sr = fr;
  std::uint64_t fn = old_size - 1;
  std::uint64_t sn = new_size - 1;
  while ((fn & 1U) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  for (; next < proof.size(); ++next) {
    const Hash& c = proof[next];
    if (sn == 0) return BadProof("the consistency proof has more hashes than needed");
    if ((fn & 1U) != 0 || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      while ((fn & 1U) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return BadProof("the consistency proof has fewer hashes than needed");
  if (!SameBytes(fr, old_root)) {
    return RootMismatch("the consistency proof does not lead to the old root");
  }
  if (!SameBytes(sr, new_root)) {
    return RootMismatch("the consistency proof does not lead to the new root");
  }
  return Status::Ok();
}

}  // namespace tearline
