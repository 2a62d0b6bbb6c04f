#include "index/flat_search.h"

namespace omendb {

void flat_search(const Space& space, const VectorStore& vectors, const float* query,
                 std::uint32_t limit, TopK& results) {
  for (std::uint32_t slot = 0; slot < limit; ++slot) {
    const float distance = space.distance(query, vectors.row(slot));
    if (distance < results.threshold()) results.push({distance, slot});
  }
}

}  // namespace omendb
