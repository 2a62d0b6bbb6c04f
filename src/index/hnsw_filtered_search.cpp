// Filtered search: the k nearest slots among those a predicate accepts. Two ways, chosen by the
// caller's planner: an exact scan of a known set of matching slots (few matches), or a graph walk
// that keeps only matching nodes and looks through non-matching neighbours to their neighbours
// (two-hop expansion in the spirit of ACORN-1), so that a selective filter does not cut the walk
// off from the matching part of the graph.
#include <algorithm>

#include "index/hnsw_index.h"
#include "index/hnsw_walk.h"

namespace omendb {
namespace {

void prefetch(const void* address) noexcept { __builtin_prefetch(address, 0, 3); }

}  // namespace

void HnswIndex::search_slots(std::span<const float> query, std::size_t k,
                             std::span<const std::uint32_t> slots,
                             std::vector<Neighbor>& out) const {
  WorkspaceLease lease(workspaces_);
  Workspace& ws = *lease;
  ws.prepare(graph_.max_degree(0), space_.dim());
  space_.prepare(query.data(), ws.query.data());
  const auto limit = static_cast<std::uint32_t>(size());
  ws.results.reset(k);
  for (std::size_t i = 0; i < slots.size(); ++i) {
    const std::uint32_t slot = slots[i];
    if (i + 1 < slots.size() && slots[i + 1] < limit) prefetch(vectors_.row(slots[i + 1]));
    if (slot >= limit || is_deleted(slot)) continue;
    // Not `distance < threshold()` first: that drops +infinity distances (see flat_search.h).
    ws.results.push({space_.distance(ws.query.data(), vectors_.row(slot)), slot});
  }
  const std::span<const Neighbor> sorted = ws.results.sort();
  out.assign(sorted.begin(), sorted.end());
}

void HnswIndex::search_filtered(std::span<const float> query, std::size_t k, std::size_t ef,
                                const SlotFilter& matches, std::vector<Neighbor>& out) const {
  out.clear();
  const auto limit = static_cast<std::uint32_t>(size());
  const Entry entry = load_entry();
  if (limit == 0 || k == 0 || entry.level < 0) return;
  WorkspaceLease lease(workspaces_);
  Workspace& ws = *lease;
  ws.prepare(graph_.max_degree(0), space_.dim());
  space_.prepare(query.data(), ws.query.data());
  const float* q = ws.query.data();
  const auto accepted = [&](std::uint32_t slot) { return !is_deleted(slot) && matches(slot); };

  const ExactScorer scorer = exact_scorer(q);
  const Neighbor start{scorer.distance(entry.slot), entry.slot};
  const Neighbor nearest = greedy_descend(scorer, start, entry.level, 0, limit, ws);
  const std::size_t degree = graph_.max_degree(0);
  ws.bridges.resize(degree);
  ws.matched.resize(degree + graph_.m());
  ws.visited.clear(limit);
  ws.candidates.reset(std::max(ef, k));
  ws.visited.insert(nearest.slot);
  ws.candidates.insert(nearest);  // guides the walk even when it does not match

  // Enough matching neighbours per expanded node: half the graph's degree above level 0. A full
  // m reached no better recall at 10-50% selectivity (200,000 x 128 and siftsmall) and looked
  // through twice as many non-matching neighbours (bench/filtered.py).
  const std::size_t wanted = std::max<std::size_t>(graph_.m() / 2, 1);
  Neighbor current;
  while (ws.candidates.expand_next(current)) {
    std::size_t found = 0;    // matching neighbours not visited before, in ws.matched
    std::size_t reached = 0;  // matching neighbours, visited before or not
    std::size_t bridges = 0;  // non-matching neighbours not visited before, in ws.bridges
    const std::uint32_t count = graph_.copy_neighbors(current.slot, 0, ws.links.data());
    for (std::uint32_t i = 0; i < count; ++i) {
      const std::uint32_t neighbor = ws.links[i];
      if (neighbor >= limit) continue;
      const bool fresh = ws.visited.insert(neighbor);
      if (accepted(neighbor)) {
        ++reached;
        if (!fresh) continue;
        prefetch(vectors_.row(neighbor));
        ws.matched[found++] = neighbor;
      } else if (fresh) {
        ws.bridges[bridges++] = neighbor;
      }
    }
    // Too few matches among the neighbours: look through the non-matching ones to their
    // neighbours (ACORN-1's two-hop expansion) until the node has `wanted` matching neighbours
    // within two hops, counting those already visited: the node's filtered neighbourhood, as
    // ACORN-1 defines it, whose new members join the candidates.
    for (std::size_t b = 0; b < bridges && reached < wanted; ++b) {
      const std::uint32_t second = graph_.copy_neighbors(ws.bridges[b], 0, ws.around.data());
      for (std::uint32_t j = 0; j < second && reached < wanted; ++j) {
        const std::uint32_t hop = ws.around[j];
        if (hop >= limit || !accepted(hop)) continue;
        ++reached;
        if (ws.visited.insert(hop)) {
          prefetch(vectors_.row(hop));
          ws.matched[found++] = hop;
        }
      }
    }
    for (std::size_t i = 0; i < found; ++i) {
      const std::uint32_t slot = ws.matched[i];
      const float distance = space_.distance(q, vectors_.row(slot));
      if (distance < ws.candidates.threshold()) ws.candidates.insert({distance, slot});
    }
  }
  ws.candidates.nearest_matching(k, accepted, out);
}

}  // namespace omendb
