// Checks on the shape of an HNSW graph that several index tests share.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "index/hnsw_index.h"

namespace omendb::testing {

// How many live nodes a walk along level-0 links from the entry point misses.
inline std::size_t unreachable_nodes(const HnswIndex& index) {
  const auto size = static_cast<std::uint32_t>(index.size());
  const HnswGraph& graph = index.graph();
  std::vector<std::uint32_t> links(graph.max_degree(0));
  std::vector<std::uint8_t> seen(size, 0);
  std::vector<std::uint32_t> stack{index.entry_point().first};
  seen[stack.front()] = 1;
  while (!stack.empty()) {
    const std::uint32_t node = stack.back();
    stack.pop_back();
    const std::uint32_t count = graph.copy_neighbors(node, 0, links.data());
    for (std::uint32_t i = 0; i < count; ++i) {
      if (!seen[links[i]]) {
        seen[links[i]] = 1;
        stack.push_back(links[i]);
      }
    }
  }
  std::size_t missed = 0;
  for (std::uint32_t node = 0; node < size; ++node) {
    missed += !index.is_deleted(node) && !seen[node];
  }
  return missed;
}

}  // namespace omendb::testing
