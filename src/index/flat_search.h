// Exact nearest-neighbour search by scanning every row: the path for small collections and the
// oracle the graph search is tested against.
#pragma once

#include <cstdint>

#include "collections/top_k.h"
#include "index/space.h"
#include "index/vector_store.h"

namespace omendb {

// Pushes every slot in [0, limit) for which keep(slot) holds, with its distance to `query` (a
// prepared row), into `results`, which keeps the nearest. Cost: one distance per kept slot, rows
// read in order. `keep` is a template parameter so an always-true predicate costs nothing.
template <class Keep>
void flat_search(const Space& space, const VectorStore& vectors, const float* query,
                 std::uint32_t limit, Keep keep, TopK& results) {
  for (std::uint32_t slot = 0; slot < limit; ++slot) {
    if (!keep(slot)) continue;
    const float distance = space.distance(query, vectors.row(slot));
    if (distance < results.threshold()) results.push({distance, slot});
  }
}

}  // namespace omendb
