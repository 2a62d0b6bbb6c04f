// The order in which HnswIndex::link() inserts a large batch: chosen so that consecutive inserts
// walk the same region of the graph and find its codes and lists in cache.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace omendb {

class Space;
class ThreadPool;
class VectorStore;

// Regions a batch is grouped into: enough that one region's nodes fit in cache at 1,000,000
// nodes (about 4,000 each), few enough that choosing a region costs little beside an insert.
inline constexpr std::size_t kLocalityRegions = 256;
// Batches below this size keep their order (too few rows per region to pay).
inline constexpr std::size_t kLocalityMinBatch = 16 * kLocalityRegions;
// Every kLocalitySampleStride-th row of a batch goes first, in its place in the batch.
inline constexpr std::size_t kLocalitySampleStride = 20;

// Reorders `slots`, the rows of one batch, for linking: first every kLocalitySampleStride-th of
// them in batch order, a sample of the whole batch that every region can link to; then the rest
// grouped by the nearest of kLocalityRegions centres (rows spread evenly through the batch),
// regions in centre order and rows in batch order within each. The first slot stays first. Cost:
// kLocalityRegions distances per row, spread over `pool`, and a sort; `slots` keeps its elements.
void order_for_locality(std::vector<std::uint32_t>& slots, const Space& space,
                        const VectorStore& rows, ThreadPool& pool);

}  // namespace omendb
