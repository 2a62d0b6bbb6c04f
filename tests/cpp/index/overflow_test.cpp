// Rows of huge finite values, whose distances overflow the float range: every search still returns
// min(k, live) hits, and no distance is NaN. Found by fuzz/snapshot_fuzz.cpp
// (fuzz/regressions/snapshot/huge-vectors).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "index/hnsw_index.h"
#include "index/space.h"
#include "util/thread_pool.h"

namespace omendb {
namespace {

TEST(Overflow, DistancesOverflowToInfinityNeverNaN) {
  const float a[2] = {1e30f, 1e30f}, b[2] = {1e30f, -1e30f};
  EXPECT_EQ(Space(Metric::kL2, 2).distance(a, b), std::numeric_limits<float>::infinity());
  EXPECT_FALSE(std::isnan(Space(Metric::kIp, 2).distance(a, b)));  // dot: +inf + -inf
}

TEST(Overflow, SearchesReturnEveryRowWhoseDistanceOverflows) {
  ThreadPool pool(1);
  for (Metric metric : {Metric::kL2, Metric::kIp}) {
    HnswIndex index(metric, 2, HnswParams{});
    const std::vector<float> rows = {1e30f, 1e30f, 2e30f, -1e30f, -1e30f, 1e30f};
    index.write_rows(rows, 3);
    index.publish(3);
    index.link(0, 3, pool);
    const std::vector<float> query = {1e30f, -1e30f};
    std::vector<Neighbor> hits;
    for (bool exact : {false, true}) {
      index.search(query, 3, 16, exact, hits);
      EXPECT_EQ(hits.size(), 3u) << "metric " << static_cast<int>(metric);
    }
    const std::vector<std::uint32_t> slots = {0, 1, 2};
    index.search_slots(query, 3, slots, hits);
    EXPECT_EQ(hits.size(), 3u) << "metric " << static_cast<int>(metric);
    for (const Neighbor& hit : hits) EXPECT_FALSE(std::isnan(hit.distance));
  }
}

}  // namespace
}  // namespace omendb
