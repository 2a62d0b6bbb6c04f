#include "index/insert_order.h"

#include <algorithm>
#include <limits>

#include "index/space.h"
#include "index/vector_store.h"
#include "util/thread_pool.h"

namespace omendb {

void order_for_locality(std::vector<std::uint32_t>& slots, const Space& space,
                        const VectorStore& rows, ThreadPool& pool) {
  if (slots.size() < kLocalityRegions) return;
  std::vector<std::uint32_t> centres(kLocalityRegions);
  for (std::size_t c = 0; c < kLocalityRegions; ++c) {
    centres[c] = slots[c * slots.size() / kLocalityRegions];
  }
  // (region, position in the batch) of each row outside the sample; the sample's stay unset.
  std::vector<std::uint64_t> keys(slots.size());
  pool.parallel_for(slots.size(), 256, [&](std::size_t, std::size_t i) {
    if (i % kLocalitySampleStride == 0) return;
    const float* row = rows.row(slots[i]);
    float nearest = std::numeric_limits<float>::infinity();
    std::uint64_t region = 0;
    for (std::size_t c = 0; c < kLocalityRegions; ++c) {
      const float distance = space.distance(row, rows.row(centres[c]));
      if (distance < nearest) nearest = distance, region = c;
    }
    keys[i] = region << 32 | i;
  });
  // The sample in batch order, then the rest's keys, compacted in place and sorted.
  std::vector<std::uint32_t> ordered;
  ordered.reserve(slots.size());
  std::size_t rest = 0;
  for (std::size_t i = 0; i < slots.size(); ++i) {
    if (i % kLocalitySampleStride == 0) {
      ordered.push_back(slots[i]);
    } else {
      keys[rest++] = keys[i];
    }
  }
  keys.resize(rest);
  std::sort(keys.begin(), keys.end());
  for (const std::uint64_t key : keys) ordered.push_back(slots[key & 0xFFFFFFFFu]);
  slots = std::move(ordered);
}

}  // namespace omendb
