// The two graph walks every search and insert is made of: greedy descent through the upper levels
// and best-first search of one level. Templates over the scorer (index/scorers.h), included by the
// files of HnswIndex that walk.
#pragma once

#include "index/hnsw_index.h"
#include "index/scorers.h"

namespace omendb {

template <class Scorer>
Neighbor HnswIndex::greedy_descend(const Scorer& scorer, Neighbor start, int from_level,
                                   int to_level, std::uint32_t limit, Workspace& ws) const {
  Neighbor current = start;
  for (int level = from_level; level > to_level; --level) {
    for (bool improved = true; improved;) {
      improved = false;
      const std::uint32_t count = graph_.copy_neighbors(current.slot, level, ws.links.data());
      for (std::uint32_t i = 0; i < count; ++i) {
        const std::uint32_t slot = ws.links[i];
        if (slot >= limit) continue;
        const float distance = scorer.distance(slot);
        if (distance < current.distance) {
          current = {distance, slot};
          improved = true;
        }
      }
    }
  }
  return current;
}

template <class Scorer>
void HnswIndex::search_level(const Scorer& scorer, Neighbor start, int level, std::size_t ef,
                             std::uint32_t limit, Workspace& ws) const {
  ws.visited.clear(limit);
  ws.candidates.reset(ef);
  ws.visited.insert(start.slot);
  ws.candidates.insert(start);

  Neighbor nearest;
  while (ws.candidates.expand_next(nearest)) {
    // Gather the unvisited neighbours first and start loading their rows, then compute distances
    // while the loads are in flight.
    const std::uint32_t count = graph_.copy_neighbors(nearest.slot, level, ws.links.data());
    std::uint32_t fresh = 0;
    for (std::uint32_t i = 0; i < count; ++i) {
      const std::uint32_t slot = ws.links[i];
      if (slot < limit && ws.visited.insert(slot)) {
        scorer.prefetch(slot);
        ws.unvisited[fresh++] = slot;
      }
    }
    for (std::uint32_t i = 0; i < fresh; ++i) {
      const std::uint32_t slot = ws.unvisited[i];
      const float distance = scorer.distance(slot);
      if (distance < ws.candidates.threshold()) {
        // It may be expanded later: start loading its neighbour list.
        graph_.prefetch_level0(slot);
        ws.candidates.insert({distance, slot});
      }
    }
  }
}

}  // namespace omendb
