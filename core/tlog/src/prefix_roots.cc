#include "tearline/tlog/prefix_roots.h"

#include <algorithm>
#include <vector>

#include "tearline/tlog/compact_merkle.h"

namespace tearline {

void PrefixRoots::Prepare(std::span<const std::uint64_t> sizes) {
  std::vector<std::uint64_t> wanted;
  for (std::uint64_t s : sizes) {
    if (s <= size() && !roots_.contains(s)) wanted.push_back(s);
  }
  if (wanted.empty()) return;
  std::sort(wanted.begin(), wanted.end());
  CompactMerkleTree tree;
  for (std::uint64_t s : wanted) {
    while (tree.size() < s) tree.Append(leaves_[tree.size()]);
    roots_.emplace(s, tree.Root());
  }
}

std::optional<Hash> PrefixRoots::At(std::uint64_t tree_size) {
  if (tree_size > size()) return std::nullopt;
  if (auto it = roots_.find(tree_size); it != roots_.end()) return it->second;
  const std::uint64_t one[] = {tree_size};
  Prepare(one);
  return roots_.at(tree_size);
}

}  // namespace tearline
