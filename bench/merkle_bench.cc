// Merkle tree micro-benchmarks, each next to its raw SHA-256 baseline measured in the same run.
//
// Byte accounting: an append costs, amortised, one interior-node hash over 65 bytes
// (0x01 || left || right); BM_TreeAppend therefore reports 65 bytes per leaf and BM_Sha256_65B
// hashes 65-byte messages, so bytes/s of the two give the tree's bookkeeping overhead as a ratio.
// Likewise BM_LeafHash (0x00 || 256-byte entry) against BM_Sha256_257B. Root and proof
// benchmarks report items/s over a tree of 2^20 - 1 leaves (every level has a ragged right edge,
// the worst case for recomputation). BM_TreeAppendAndRoot / BM_CompactAppendAndRoot take a root
// after every append (MerkleTree against CompactMerkleTree).
#include <benchmark/benchmark.h>
#include <sodium.h>

#include <cstdint>
#include <cstdlib>
#include <vector>

#include "tearline/crypto/secure_memory.h"
#include "tearline/tlog/compact_merkle.h"
#include "tearline/tlog/merkle.h"

namespace {

using tearline::Hash;
using tearline::MerkleTree;

constexpr std::uint64_t kBigTree = (std::uint64_t{1} << 20) - 1;

std::vector<Hash> MakeLeaves(std::uint64_t n) {
  if (!tearline::InitCrypto().ok()) std::abort();
  std::vector<Hash> leaves(n);
  for (std::uint64_t i = 0; i < n; ++i) {
    std::uint8_t entry[8];
    for (std::size_t k = 0; k < 8; ++k) entry[k] = static_cast<std::uint8_t>(i >> (8 * k));
    leaves[i] = tearline::LeafHash(entry);
  }
  return leaves;
}

const MerkleTree& BigTree() {
  static const MerkleTree* tree = [] {
    auto* t = new MerkleTree();
    for (const Hash& h : MakeLeaves(kBigTree)) t->Append(h);
    return t;
  }();
  return *tree;
}

void RawSha256(benchmark::State& state, std::size_t message_size) {
  if (!tearline::InitCrypto().ok()) std::abort();
  std::vector<std::uint8_t> message(message_size, 0x5a);
  std::uint8_t out[crypto_hash_sha256_BYTES];
  for (auto _ : state) {
    crypto_hash_sha256(out, message.data(), message.size());
    message[1] = out[0];  // Chain so the compiler cannot hoist the hash.
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(message_size));
}

void BM_Sha256_65B(benchmark::State& state) { RawSha256(state, 65); }
BENCHMARK(BM_Sha256_65B);

void BM_Sha256_257B(benchmark::State& state) { RawSha256(state, 257); }
BENCHMARK(BM_Sha256_257B);

void BM_LeafHash(benchmark::State& state) {
  std::vector<std::uint8_t> entry(256, 0x5a);
  for (auto _ : state) {
    Hash h = tearline::LeafHash(entry);
    entry[1] = h[0];
    benchmark::DoNotOptimize(h);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * 257);
}
BENCHMARK(BM_LeafHash);

// Appends state.range(0) leaves to a fresh tree per iteration.
void BM_TreeAppend(benchmark::State& state) {
  const auto n = static_cast<std::uint64_t>(state.range(0));
  const std::vector<Hash> leaves = MakeLeaves(n);
  for (auto _ : state) {
    MerkleTree tree;
    for (const Hash& h : leaves) tree.Append(h);
    benchmark::DoNotOptimize(tree.size());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(n));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(n) * 65);
}
BENCHMARK(BM_TreeAppend)->Arg(1 << 10)->Arg(1 << 20)->Unit(benchmark::kMillisecond);

void BM_Root(benchmark::State& state) {
  const MerkleTree& tree = BigTree();
  for (auto _ : state) benchmark::DoNotOptimize(tree.Root());
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_Root);

// Append + root after every leaf, as a log that signs a root per entry does: the reference tree
// against the compact one (amortised 1 hash per append, popcount(n) - 1 per root), 65 bytes per
// leaf as in BM_TreeAppend so bytes/s compare with BM_Sha256_65B.
template <typename Tree>
void AppendAndRoot(benchmark::State& state) {
  const auto n = static_cast<std::uint64_t>(state.range(0));
  const std::vector<Hash> leaves = MakeLeaves(n);
  for (auto _ : state) {
    Tree tree;
    for (const Hash& h : leaves) {
      tree.Append(h);
      benchmark::DoNotOptimize(tree.Root());
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(n));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(n) * 65);
}
void BM_TreeAppendAndRoot(benchmark::State& state) { AppendAndRoot<MerkleTree>(state); }
BENCHMARK(BM_TreeAppendAndRoot)->Arg(1 << 16)->Unit(benchmark::kMillisecond);
void BM_CompactAppendAndRoot(benchmark::State& state) {
  AppendAndRoot<tearline::CompactMerkleTree>(state);
}
BENCHMARK(BM_CompactAppendAndRoot)->Arg(1 << 16)->Unit(benchmark::kMillisecond);

void BM_InclusionProof(benchmark::State& state) {
  const MerkleTree& tree = BigTree();
  std::uint64_t index = 0;
  for (auto _ : state) {
    auto proof = tree.InclusionProof(index, kBigTree);
    benchmark::DoNotOptimize(proof);
    index = (index + 7919) % kBigTree;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_InclusionProof);

void BM_ConsistencyProof(benchmark::State& state) {
  const MerkleTree& tree = BigTree();
  std::uint64_t old_size = 1;
  for (auto _ : state) {
    auto proof = tree.ConsistencyProof(old_size, kBigTree);
    benchmark::DoNotOptimize(proof);
    old_size = old_size % (kBigTree - 1) + 7919;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_ConsistencyProof);

void BM_VerifyInclusion(benchmark::State& state) {
  const MerkleTree& tree = BigTree();
  const std::uint64_t index = 123457;
  const Hash leaf = *tree.LeafAt(index);
  const Hash root = tree.Root();
  const std::vector<Hash> proof = *tree.InclusionProof(index, kBigTree);
  for (auto _ : state) {
    if (!tearline::VerifyInclusion(leaf, index, kBigTree, proof, root).ok()) std::abort();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_VerifyInclusion);

void BM_VerifyConsistency(benchmark::State& state) {
  const MerkleTree& tree = BigTree();
  const std::uint64_t old_size = 654321;
  const Hash old_root = *tree.RootAt(old_size);
  const Hash new_root = tree.Root();
  const std::vector<Hash> proof = *tree.ConsistencyProof(old_size, kBigTree);
  for (auto _ : state) {
    if (!tearline::VerifyConsistency(old_size, kBigTree, old_root, new_root, proof).ok()) {
      std::abort();
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_VerifyConsistency);

}  // namespace

BENCHMARK_MAIN();
