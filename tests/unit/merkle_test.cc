// Tests for the RFC 6962 / RFC 9162 Merkle tree: known answers, every shared verification probe
// (tests/testdata/rfc6962), the worked example of C2SP merkle-tree, and exhaustive properties of
// generated proofs for small trees.
#include "tearline/tlog/merkle.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tearline/base/encoding.h"
#include "tearline/tlog/checkpoint.h"
#include "test_support.h"

namespace tearline {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

Bytes FromHex(const std::string& hex) {
  if (hex.empty()) return {};  // libsodium must not be handed a null output pointer.
  Bytes out(hex.size() / 2);
  std::size_t len = 0;
  EXPECT_EQ(sodium_hex2bin(out.data(), out.size(), hex.data(), hex.size(), nullptr, &len, nullptr),
            0);
  out.resize(len);
  return out;
}

Hash HashFromHex(const std::string& hex) {
  auto h = HashFromBytes(FromHex(hex));
  EXPECT_TRUE(h.ok()) << hex;
  return h.ok() ? *h : Hash{};
}

Bytes FromBase64(const std::string& text) {
  auto b = Base64Decode(text);
  EXPECT_TRUE(b.ok()) << text;
  return b.ok() ? *b : Bytes{};
}

nlohmann::json LoadJson(const fs::path& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  return nlohmann::json::parse(in);
}

const fs::path& ProbeDir() {
  static const fs::path dir = testing::SourcePath("tests/testdata/rfc6962");
  return dir;
}

// Decodes a probe's proof. A component that is not 32 bytes cannot be a proof hash: the
// decoding step that precedes verification rejects it (nullopt).
std::optional<std::vector<Hash>> ProbeProof(const nlohmann::json& j) {
  std::vector<Hash> proof;
  if (j.is_null()) return proof;
  for (const auto& item : j) {
    auto h = HashFromBytes(FromBase64(item.get<std::string>()));
    if (!h.ok()) return std::nullopt;
    proof.push_back(*h);
  }
  return proof;
}

std::vector<fs::path> ProbeFiles(const std::string& kind) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(ProbeDir() / kind)) {
    if (entry.is_regular_file() && entry.path().extension() == ".json") {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Independent reference: MTH computed straight from the recursive definition.
Hash NaiveRoot(const std::vector<Hash>& leaves, std::size_t begin, std::size_t end) {
  const std::size_t n = end - begin;
  if (n == 0) return EmptyRoot();
  if (n == 1) return leaves[begin];
  std::size_t k = 1;
  while (k * 2 < n) k *= 2;
  return NodeHash(NaiveRoot(leaves, begin, begin + k), NaiveRoot(leaves, begin + k, end));
}

Hash TestLeaf(std::uint64_t i) {
  Bytes entry(8);
  for (std::size_t k = 0; k < 8; ++k) entry[k] = static_cast<std::uint8_t>(i >> (8 * k));
  return LeafHash(entry);
}

TEST(MerkleTest, KnownAnswersFromReferenceTree) {
  const nlohmann::json ref = LoadJson(ProbeDir() / "reference-tree.json");
  EXPECT_EQ(EmptyRoot(), HashFromHex(ref["empty_root"]));
  EXPECT_EQ(LeafHash({}), HashFromHex(ref["leaf_hash_of_empty"]));
  const std::string l123456 = "L123456";
  EXPECT_EQ(LeafHash(Bytes(l123456.begin(), l123456.end())), HashFromHex(ref["leaf_hash_L123456"]));
  // node_hash_N123_N456 hashes 4-byte children; NodeHash only takes 32-byte hashes, so that
  // vector is exercised through the roots below instead.

  const auto& inputs = ref["leaf_inputs"];
  const auto& roots = ref["roots"];
  ASSERT_EQ(roots.size(), inputs.size() + 1);
  MerkleTree tree;
  EXPECT_EQ(tree.Root(), HashFromHex(roots[0]));
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    tree.Append(LeafHash(FromHex(inputs[i])));
    EXPECT_EQ(tree.Root(), HashFromHex(roots[i + 1])) << "after " << i + 1 << " leaves";
  }
  for (std::size_t n = 0; n <= inputs.size(); ++n) {
    auto root = tree.RootAt(n);
    ASSERT_TRUE(root.ok());
    EXPECT_EQ(*root, HashFromHex(roots[n])) << "RootAt(" << n << ")";
  }
}

TEST(MerkleTest, EveryInclusionProbe) {
  const auto files = ProbeFiles("inclusion");
  ASSERT_GE(files.size(), 95U) << "the shared inclusion probes are missing";
  int want_ok = 0;
  for (const fs::path& file : files) {
    SCOPED_TRACE(file.lexically_relative(ProbeDir()).string());
    const nlohmann::json p = LoadJson(file);
    const bool want_err = p["wantErr"].get<bool>();
    const auto proof = ProbeProof(p["proof"]);
    if (!proof) {
      EXPECT_TRUE(want_err) << "a malformed proof component must make the probe fail";
      continue;
    }
    const Status s =
        VerifyInclusion(FromBase64(p["leafHash"]), p["leafIdx"].get<std::uint64_t>(),
                        p["treeSize"].get<std::uint64_t>(), *proof, FromBase64(p["root"]));
    EXPECT_EQ(s.ok(), !want_err) << p["desc"] << ": " << s.ToString();
    if (!s.ok()) {
      EXPECT_TRUE(s.reason().starts_with("MERKLE_")) << s.reason();
    }
    want_ok += want_err ? 0 : 1;
  }
  EXPECT_GT(want_ok, 0) << "no positive inclusion probe was run";
}

TEST(MerkleTest, EveryConsistencyProbe) {
  const auto files = ProbeFiles("consistency");
  ASSERT_GE(files.size(), 95U) << "the shared consistency probes are missing";
  int want_ok = 0;
  for (const fs::path& file : files) {
    SCOPED_TRACE(file.lexically_relative(ProbeDir()).string());
    const nlohmann::json p = LoadJson(file);
    const bool want_err = p["wantErr"].get<bool>();
    const auto proof = ProbeProof(p["proof"]);
    if (!proof) {
      EXPECT_TRUE(want_err) << "a malformed proof component must make the probe fail";
      continue;
    }
    const Status s =
        VerifyConsistency(p["size1"].get<std::uint64_t>(), p["size2"].get<std::uint64_t>(),
                          FromBase64(p["root1"]), FromBase64(p["root2"]), *proof);
    EXPECT_EQ(s.ok(), !want_err) << p["desc"] << ": " << s.ToString();
    if (!s.ok()) {
      EXPECT_TRUE(s.reason().starts_with("MERKLE_")) << s.reason();
    }
    want_ok += want_err ? 0 : 1;
  }
  EXPECT_GT(want_ok, 0) << "no positive consistency probe was run";
}

// The 7-leaf worked example of C2SP merkle-tree: labels a..g are leaves, h..l interior nodes.
TEST(MerkleTest, WorkedExampleFromC2sp) {
  std::vector<Hash> leaf;
  MerkleTree tree;
  for (std::uint64_t i = 0; i < 7; ++i) {
    leaf.push_back(TestLeaf(i));
    tree.Append(leaf.back());
  }
  const Hash &a = leaf[0], &b = leaf[1], &c = leaf[2], &d = leaf[3], &e = leaf[4], &f = leaf[5],
             &g = leaf[6];
  const Hash h = NodeHash(a, b), i = NodeHash(c, d), j = NodeHash(e, f);
  const Hash k = NodeHash(h, i), l = NodeHash(j, g);
  EXPECT_EQ(tree.Root(), NodeHash(k, l));

  using V = std::vector<Hash>;
  EXPECT_EQ(*tree.InclusionProof(0, 7), (V{b, i, l}));
  EXPECT_EQ(*tree.InclusionProof(3, 7), (V{c, h, l}));
  EXPECT_EQ(*tree.InclusionProof(4, 7), (V{f, g, k}));
  EXPECT_EQ(*tree.InclusionProof(6, 7), (V{j, k}));
  EXPECT_EQ(*tree.ConsistencyProof(3, 7), (V{c, d, h, l}));
  EXPECT_EQ(*tree.ConsistencyProof(4, 7), (V{l}));
  EXPECT_EQ(*tree.ConsistencyProof(6, 7), (V{j, g, k}));
}

TEST(MerkleTest, RangeErrors) {
  MerkleTree tree;
  EXPECT_EQ(tree.size(), 0U);
  EXPECT_EQ(tree.Root(), EmptyRoot());
  EXPECT_EQ(tree.RootAt(1).status().reason(), "MERKLE_INDEX_OUT_OF_RANGE");
  EXPECT_EQ(tree.LeafAt(0).status().reason(), "MERKLE_INDEX_OUT_OF_RANGE");
  for (std::uint64_t n = 0; n < 5; ++n) tree.Append(TestLeaf(n));
  EXPECT_EQ(*tree.LeafAt(4), TestLeaf(4));
  EXPECT_EQ(tree.InclusionProof(5, 5).status().reason(), "MERKLE_INDEX_OUT_OF_RANGE");
  EXPECT_EQ(tree.InclusionProof(0, 6).status().reason(), "MERKLE_INDEX_OUT_OF_RANGE");
  EXPECT_EQ(tree.InclusionProof(0, 0).status().reason(), "MERKLE_INDEX_OUT_OF_RANGE");
  EXPECT_EQ(tree.ConsistencyProof(3, 2).status().reason(), "MERKLE_INDEX_OUT_OF_RANGE");
  EXPECT_EQ(tree.ConsistencyProof(3, 6).status().reason(), "MERKLE_INDEX_OUT_OF_RANGE");
  EXPECT_TRUE(tree.ConsistencyProof(0, 5)->empty());
  EXPECT_TRUE(tree.ConsistencyProof(5, 5)->empty());

  const Hash root = tree.Root();
  const std::vector<Hash> proof = *tree.InclusionProof(2, 5);
  EXPECT_TRUE(VerifyInclusion(TestLeaf(2), 2, 5, proof, root).ok());
  EXPECT_EQ(VerifyInclusion(TestLeaf(2), 5, 5, proof, root).reason(), "MERKLE_INDEX_OUT_OF_RANGE");
  const Bytes short_hash(31, 0);
  EXPECT_EQ(VerifyInclusion(short_hash, 2, 5, proof, root).reason(), "MERKLE_BAD_HASH_SIZE");
  EXPECT_EQ(VerifyInclusion(TestLeaf(2), 2, 5, proof, short_hash).reason(), "MERKLE_BAD_HASH_SIZE");
  EXPECT_EQ(VerifyInclusion(TestLeaf(3), 2, 5, proof, root).reason(), "MERKLE_ROOT_MISMATCH");
  EXPECT_EQ(VerifyConsistency(4, 3, root, root, {}).reason(), "MERKLE_INDEX_OUT_OF_RANGE");
  EXPECT_EQ(VerifyConsistency(0, 5, EmptyRoot(), root, {}).reason(), "MERKLE_BAD_PROOF");
  EXPECT_TRUE(VerifyConsistency(0, 0, EmptyRoot(), EmptyRoot(), {}).ok());
  EXPECT_TRUE(VerifyConsistency(5, 5, root, root, {}).ok());
  EXPECT_EQ(VerifyConsistency(5, 5, root, EmptyRoot(), {}).reason(), "MERKLE_ROOT_MISMATCH");
  EXPECT_EQ(VerifyConsistency(3, 5, *tree.RootAt(3), root, {}).reason(), "MERKLE_BAD_PROOF");
}

// For every tree size up to 64: roots match the recursive definition; every inclusion and
// consistency proof verifies; flipping any single byte of any proof hash, dropping or adding a
// hash, or shifting an index or size makes verification fail.
TEST(MerkleTest, GeneratedProofsVerifyAndResistTampering) {
  constexpr std::uint64_t kMax = 64;
  std::vector<Hash> leaves;
  MerkleTree tree;
  for (std::uint64_t i = 0; i < kMax; ++i) {
    leaves.push_back(TestLeaf(i));
    tree.Append(leaves.back());
  }
  std::vector<Hash> roots;
  for (std::uint64_t n = 0; n <= kMax; ++n) {
    roots.push_back(*tree.RootAt(n));
    ASSERT_EQ(roots[n], NaiveRoot(leaves, 0, n)) << "root of " << n;
  }

  for (std::uint64_t n = 1; n <= kMax; ++n) {
    for (std::uint64_t m = 0; m < n; ++m) {
      SCOPED_TRACE("inclusion of " + std::to_string(m) + " in " + std::to_string(n));
      std::vector<Hash> proof = *tree.InclusionProof(m, n);
      ASSERT_TRUE(VerifyInclusion(leaves[m], m, n, proof, roots[n]).ok());
      for (std::size_t p = 0; p < proof.size(); ++p) {
        for (std::size_t byte = 0; byte < kMerkleHashSize; ++byte) {
          proof[p][byte] ^= 0x01;
          ASSERT_FALSE(VerifyInclusion(leaves[m], m, n, proof, roots[n]).ok())
              << "hash " << p << " byte " << byte;
          proof[p][byte] ^= 0x01;
        }
      }
      // (A neighbouring tree size can share the path's shape, so only the index is varied here;
      // the probes cover size mutations whose shape differs.)
      EXPECT_FALSE(VerifyInclusion(leaves[m], m ^ 1, n, proof, roots[n]).ok());
      if (!proof.empty()) {
        std::vector<Hash> shorter(proof.begin(), proof.end() - 1);
        EXPECT_EQ(VerifyInclusion(leaves[m], m, n, shorter, roots[n]).reason(), "MERKLE_BAD_PROOF");
      }
      std::vector<Hash> longer = proof;
      longer.push_back(roots[n]);
      EXPECT_EQ(VerifyInclusion(leaves[m], m, n, longer, roots[n]).reason(), "MERKLE_BAD_PROOF");
    }
  }

  for (std::uint64_t n = 1; n <= kMax; ++n) {
    for (std::uint64_t m = 1; m <= n; ++m) {
      SCOPED_TRACE("consistency " + std::to_string(m) + " -> " + std::to_string(n));
      std::vector<Hash> proof = *tree.ConsistencyProof(m, n);
      ASSERT_TRUE(VerifyConsistency(m, n, roots[m], roots[n], proof).ok());
      for (std::size_t p = 0; p < proof.size(); ++p) {
        for (std::size_t byte = 0; byte < kMerkleHashSize; ++byte) {
          proof[p][byte] ^= 0x01;
          ASSERT_FALSE(VerifyConsistency(m, n, roots[m], roots[n], proof).ok())
              << "hash " << p << " byte " << byte;
          proof[p][byte] ^= 0x01;
        }
      }
      if (m < n) {
        EXPECT_FALSE(VerifyConsistency(m, n, roots[m - 1], roots[n], proof).ok());
        EXPECT_FALSE(VerifyConsistency(m, n, roots[m], roots[n - 1], proof).ok());
        EXPECT_FALSE(VerifyConsistency(m, n, roots[n], roots[m], proof).ok());
        std::vector<Hash> shorter(proof.begin(), proof.end() - 1);
        EXPECT_FALSE(VerifyConsistency(m, n, roots[m], roots[n], shorter).ok());
        std::vector<Hash> longer = proof;
        longer.push_back(roots[m]);
        EXPECT_FALSE(VerifyConsistency(m, n, roots[m], roots[n], longer).ok());
      }
    }
  }
}

// A larger tree, to exercise deep levels and the stored-level lookups beyond what n <= 64 reach.
TEST(MerkleTest, LargeTreeSpotChecks) {
  constexpr std::uint64_t kSize = 100'003;
  MerkleTree tree;
  std::vector<Hash> leaves;
  for (std::uint64_t i = 0; i < kSize; ++i) {
    leaves.push_back(TestLeaf(i));
    tree.Append(leaves.back());
  }
  EXPECT_EQ(tree.Root(), NaiveRoot(leaves, 0, kSize));
  for (std::uint64_t n : {kSize, std::uint64_t{65'536}, std::uint64_t{99'999}}) {
    const Hash root = *tree.RootAt(n);
    for (std::uint64_t m : {std::uint64_t{0}, std::uint64_t{1}, n / 3, n - 1}) {
      EXPECT_TRUE(VerifyInclusion(leaves[m], m, n, *tree.InclusionProof(m, n), root).ok())
          << m << " in " << n;
      if (m > 0) {
        EXPECT_TRUE(
            VerifyConsistency(m, n, *tree.RootAt(m), root, *tree.ConsistencyProof(m, n)).ok())
            << m << " -> " << n;
      }
    }
  }
}

}  // namespace
}  // namespace tearline
