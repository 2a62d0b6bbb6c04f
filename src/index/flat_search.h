// Exact nearest-neighbour search by scanning every row: the path for small collections and the
// oracle the graph search is tested against.
#pragma once

#include <cstdint>

#include "collections/top_k.h"
#include "index/space.h"
#include "index/vector_store.h"

namespace omendb {

// Pushes every slot in [0, limit) with its distance to `query` (a prepared row) into `results`,
// which keeps the nearest. Cost: limit distance computations, rows read in order.
void flat_search(const Space& space, const VectorStore& vectors, const float* query,
                 std::uint32_t limit, TopK& results);

}  // namespace omendb
