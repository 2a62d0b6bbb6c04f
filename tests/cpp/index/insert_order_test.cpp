// order_for_locality: the order a large batch is linked in is a permutation of the batch that
// puts a sample first and groups the rest by their nearest centre.
#include "index/insert_order.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <numeric>

#include "index/space.h"
#include "index/vector_store.h"
#include "support/test_data.h"
#include "util/thread_pool.h"

namespace omendb {
namespace {

struct Batch {
  Space space{Metric::kL2, 8};
  VectorStore rows{8};
  std::vector<std::uint32_t> slots;
};

// Fills `batch` with `n` clustered rows of 8 dims at slots 0..n-1, the slots in batch order.
void fill(Batch& batch, std::size_t n) {
  const std::vector<float> data = testing::clustered_vectors(n, 8, 12, 3);
  batch.rows.reserve(n);
  for (std::uint32_t slot = 0; slot < n; ++slot) {
    std::copy_n(data.data() + slot * 8, 8, batch.rows.mutable_row(slot));
  }
  batch.slots.resize(n);
  std::iota(batch.slots.begin(), batch.slots.end(), 0u);
}

TEST(InsertOrder, SampleFirstThenRowsGroupedByNearestCentre) {
  ThreadPool pool(2);
  Batch batch;
  fill(batch, 3000);
  const std::vector<std::uint32_t> original = batch.slots;
  order_for_locality(batch.slots, batch.space, batch.rows, pool);

  std::vector<std::uint32_t> sorted = batch.slots;
  std::sort(sorted.begin(), sorted.end());
  ASSERT_EQ(sorted, original);  // a permutation

  const std::size_t sample = (original.size() + kLocalitySampleStride - 1) / kLocalitySampleStride;
  for (std::size_t i = 0; i < sample; ++i) {
    ASSERT_EQ(batch.slots[i], original[i * kLocalitySampleStride]);
  }
  // After the sample: regions in centre order, and batch order within a region.
  std::vector<std::uint32_t> centres;
  for (std::size_t c = 0; c < kLocalityRegions; ++c) {
    centres.push_back(original[c * original.size() / kLocalityRegions]);
  }
  const auto region_of = [&](std::uint32_t slot) {
    std::size_t best = 0;
    float nearest = std::numeric_limits<float>::infinity();
    for (std::size_t c = 0; c < centres.size(); ++c) {
      const float d = batch.space.distance(batch.rows.row(slot), batch.rows.row(centres[c]));
      if (d < nearest) nearest = d, best = c;
    }
    return best;
  };
  for (std::size_t i = sample + 1; i < batch.slots.size(); ++i) {
    const std::size_t before = region_of(batch.slots[i - 1]);
    const std::size_t here = region_of(batch.slots[i]);
    ASSERT_LE(before, here) << "position " << i;
    if (before == here) {
      ASSERT_LT(batch.slots[i - 1], batch.slots[i]) << "position " << i;
    }
  }
}

TEST(InsertOrder, BatchesSmallerThanTheRegionCountKeepTheirOrder) {
  ThreadPool pool(2);
  Batch batch;
  fill(batch, kLocalityRegions - 1);
  const std::vector<std::uint32_t> original = batch.slots;
  order_for_locality(batch.slots, batch.space, batch.rows, pool);
  EXPECT_EQ(batch.slots, original);
}

}  // namespace
}  // namespace omendb
