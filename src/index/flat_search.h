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
    // No `distance < threshold()` pre-check: push() keeps any candidate while `results` is not
    // full, and the pre-check dropped rows whose distance overflows to +infinity (huge finite
    // values), so a scan returned fewer than k hits (fuzz/regressions/snapshot/huge-vectors).
    results.push({space.distance(query, vectors.row(slot)), slot});
  }
}

}  // namespace omendb
