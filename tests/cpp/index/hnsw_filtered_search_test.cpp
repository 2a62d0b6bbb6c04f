// Filtered search in the HNSW index: the scan of a slot set is exact, and the graph walk with
// two-hop expansion keeps recall as the filter gets selective.
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>

#include "index/hnsw_index.h"
#include "support/test_data.h"
#include "util/thread_pool.h"

namespace omendb {
namespace {

constexpr std::size_t kDim = 24;
constexpr std::size_t kRows = 20000;
constexpr std::size_t kQueries = 100;

class FilteredSearch : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rows_ = new std::vector<float>(testing::clustered_vectors(kRows + kQueries, kDim, 50, 31));
    ThreadPool pool(2);
    HnswParams params;
    params.exact_search_below = 0;
    index_ = new HnswIndex(Metric::kL2, kDim, params);
    index_->write_rows({rows_->data(), kRows * kDim}, kRows);
    index_->publish(kRows);
    index_->link(0, kRows, pool);
  }
  static void TearDownTestSuite() {
    delete index_;
    delete rows_;
  }
  static std::span<const float> query(std::size_t q) {
    return {rows_->data() + (kRows + q) * kDim, kDim};
  }

  // Recall@10 of the graph walk at `ef` against the exact scan of the matching slots.
  static double recall(std::uint32_t every, std::size_t ef) {
    std::vector<std::uint32_t> matching;
    for (std::uint32_t slot = 0; slot < kRows; slot += every) matching.push_back(slot);
    const HnswIndex::SlotFilter matches = [every](std::uint32_t slot) { return slot % every == 0; };
    std::size_t found = 0;
    std::vector<Neighbor> hits, truth;
    for (std::size_t q = 0; q < kQueries; ++q) {
      index_->search_slots(query(q), 10, matching, truth);
      index_->search_filtered(query(q), 10, ef, matches, hits);
      for (const Neighbor& hit : hits) {
        EXPECT_EQ(hit.slot % every, 0u);
        found += std::count_if(truth.begin(), truth.end(),
                               [&](const Neighbor& t) { return t.slot == hit.slot; });
      }
    }
    return static_cast<double>(found) / (kQueries * 10.0);
  }

  static std::vector<float>* rows_;
  static HnswIndex* index_;
};

std::vector<float>* FilteredSearch::rows_ = nullptr;
HnswIndex* FilteredSearch::index_ = nullptr;

TEST_F(FilteredSearch, SlotScanIsExact) {
  const std::vector<std::uint32_t> slots = {5, 77, 1234, 19999, 4};
  std::vector<Neighbor> hits;
  index_->search_slots(query(0), 3, slots, hits);
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_TRUE(std::is_sorted(hits.begin(), hits.end()));
  for (const Neighbor& hit : hits)
    EXPECT_NE(std::find(slots.begin(), slots.end(), hit.slot), slots.end());
}

// The walk serves filters matching 5% or more (the planner scans the matches below that): with ef
// raised to 64 / sqrt(selectivity) it keeps recall@10 >= 0.95 there.
TEST_F(FilteredSearch, GraphWalkKeepsRecallAtFallingSelectivity) {
  for (const auto& [every, ef] :
       {std::pair<std::uint32_t, std::size_t>{2, 91}, {10, 203}, {20, 287}}) {
    const double measured = recall(every, ef);
    std::cout << "filter matching 1/" << every << " at ef=" << ef << ": recall@10 " << measured
              << "\n";
    EXPECT_GE(measured, 0.95) << "1/" << every;
  }
}

}  // namespace
}  // namespace omendb
