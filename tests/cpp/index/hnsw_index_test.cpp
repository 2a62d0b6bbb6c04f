// The HNSW index against the exact scan: recall, exactness of the small-collection and exact
// paths, graph invariants, metrics, and searches running while a writer links.
#include "index/hnsw_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <set>
#include <thread>

#include "index/flat_search.h"
#include "index/insert_order.h"
#include "support/graph_checks.h"
#include "support/test_data.h"
#include "util/thread_pool.h"

namespace omendb {
namespace {

HnswParams params_with(std::size_t exact_search_below) {
  HnswParams params;
  params.exact_search_below = exact_search_below;
  return params;
}

// Builds an index of `rows` (n x dim) in one batch on two threads.
std::unique_ptr<HnswIndex> build(Metric metric, std::size_t dim, const std::vector<float>& rows,
                                 const HnswParams& params, ThreadPool& pool) {
  auto index = std::make_unique<HnswIndex>(metric, dim, params);
  const std::size_t n = rows.size() / dim;
  index->write_rows(rows, n);
  index->publish(n);
  index->link(0, n, pool);
  return index;
}

// Exact k nearest slots of a query, by the index's own scan.
std::vector<std::uint32_t> exact_slots(const HnswIndex& index, std::span<const float> query,
                                       std::size_t k) {
  std::vector<Neighbor> hits;
  index.search(query, k, k, /*exact=*/true, hits);
  std::vector<std::uint32_t> slots;
  for (const Neighbor& hit : hits) slots.push_back(hit.slot);
  return slots;
}

// Rows [n, n + count) of `rows`: held-out queries from the same distribution as the base.
std::vector<float> tail_rows(const std::vector<float>& rows, std::size_t n, std::size_t dim) {
  return {rows.begin() + static_cast<std::ptrdiff_t>(n * dim), rows.end()};
}

double recall(const HnswIndex& index, const std::vector<float>& queries, std::size_t dim,
              std::size_t k, std::size_t ef) {
  std::size_t found = 0;
  const std::size_t count = queries.size() / dim;
  std::vector<Neighbor> hits;
  for (std::size_t q = 0; q < count; ++q) {
    const std::span<const float> query(queries.data() + q * dim, dim);
    const std::vector<std::uint32_t> truth = exact_slots(index, query, k);
    index.search(query, k, ef, /*exact=*/false, hits);
    for (const Neighbor& hit : hits) found += std::count(truth.begin(), truth.end(), hit.slot);
  }
  return static_cast<double>(found) / static_cast<double>(count * k);
}

TEST(HnswIndex, GraphSearchReachesHighRecallOnClusteredData) {
  ThreadPool pool(2);
  const std::size_t dim = 32;
  auto rows = testing::clustered_vectors(8200, dim, 40, 1);
  const auto queries = tail_rows(rows, 8000, dim);
  rows.resize(8000 * dim);
  const auto index = build(Metric::kL2, dim, rows, params_with(0), pool);
  EXPECT_GE(recall(*index, queries, dim, 10, 64), 0.97);
  EXPECT_GE(recall(*index, queries, dim, 10, 200), 0.99);
}

TEST(HnswIndex, ExactSearchMatchesBruteForce) {
  ThreadPool pool(2);
  const std::size_t dim = 7;
  const auto rows = testing::clustered_vectors(500, dim, 5, 2);
  const auto index = build(Metric::kL2, dim, rows, params_with(0), pool);
  std::vector<Neighbor> hits;
  const std::span<const float> query(rows.data() + 3 * dim, dim);
  index->search(query, 20, 0, /*exact=*/true, hits);
  std::vector<Neighbor> truth;
  for (std::uint32_t slot = 0; slot < 500; ++slot) {
    float d = 0;
    for (std::size_t j = 0; j < dim; ++j)
      d += (rows[slot * dim + j] - query[j]) * (rows[slot * dim + j] - query[j]);
    truth.push_back({d, slot});
  }
  std::sort(truth.begin(), truth.end());
  ASSERT_EQ(hits.size(), 20u);
  EXPECT_EQ(hits[0].slot, 3u);
  for (std::size_t i = 0; i < 20; ++i) {
    EXPECT_EQ(hits[i].slot, truth[i].slot);
    EXPECT_NEAR(hits[i].distance, truth[i].distance, 1e-3f * (1 + truth[i].distance));
  }
}

TEST(HnswIndex, SmallCollectionsAreSearchedExactly) {
  ThreadPool pool(2);
  const std::size_t dim = 16;
  const auto rows = testing::clustered_vectors(1500, dim, 3, 3);
  const auto index = build(Metric::kL2, dim, rows, params_with(2048), pool);
  std::vector<Neighbor> hits;
  for (std::size_t q = 0; q < 20; ++q) {
    const std::span<const float> query(rows.data() + q * 37 * dim, dim);
    index->search(query, 10, 10, /*exact=*/false, hits);
    std::vector<std::uint32_t> slots;
    for (const Neighbor& hit : hits) slots.push_back(hit.slot);
    EXPECT_EQ(slots, exact_slots(*index, query, 10));
  }
}

TEST(HnswIndex, ReturnsEverySlotWhenKExceedsSize) {
  ThreadPool pool(1);
  const auto rows = testing::clustered_vectors(5, 4, 2, 4);
  const auto index = build(Metric::kL2, 4, rows, params_with(0), pool);
  std::vector<Neighbor> hits;
  index->search({rows.data(), 4}, 50, 0, false, hits);
  EXPECT_EQ(hits.size(), 5u);
  EXPECT_TRUE(std::is_sorted(hits.begin(), hits.end()));
}

TEST(HnswIndex, EmptyIndexReturnsNothing) {
  HnswIndex index(Metric::kL2, 3, HnswParams{});
  std::vector<Neighbor> hits{{1.0f, 1}};
  const float query[3] = {1, 2, 3};
  index.search(query, 5, 0, false, hits);
  EXPECT_TRUE(hits.empty());
}

// Degrees within bounds, no self links, no link to a missing node, and every node reachable from
// the entry point at level 0.
TEST(HnswIndex, GraphInvariantsHoldAfterParallelBuild) {
  ThreadPool pool(2);
  const std::size_t dim = 24;
  const std::size_t n = 6000;
  const auto rows = testing::clustered_vectors(n, dim, 30, 5);
  const auto index = build(Metric::kL2, dim, rows, params_with(0), pool);
  const HnswGraph& graph = index->graph();
  std::vector<std::uint32_t> links(graph.max_degree(0));
  for (std::uint32_t node = 0; node < n; ++node) {
    for (int level = 0; level <= graph.level(node); ++level) {
      const std::uint32_t count = graph.copy_neighbors(node, level, links.data());
      ASSERT_LE(count, graph.max_degree(level));
      const std::set<std::uint32_t> unique(links.begin(), links.begin() + count);
      ASSERT_EQ(unique.size(), count) << "duplicate link at node " << node;
      for (std::uint32_t i = 0; i < count; ++i) {
        ASSERT_NE(links[i], node);
        ASSERT_LT(links[i], n);
        ASSERT_GE(graph.level(links[i]), level);
      }
    }
  }
  const auto [entry, top_level] = index->entry_point();
  ASSERT_GE(top_level, 1);
  EXPECT_EQ(graph.level(entry), top_level);
  EXPECT_LE(static_cast<double>(testing::unreachable_nodes(*index)), 0.001 * n);
}

TEST(HnswIndex, IncrementalBatchesKeepRecall) {
  ThreadPool pool(2);
  const std::size_t dim = 16;
  const auto rows = testing::clustered_vectors(6100, dim, 20, 6);
  const auto queries = tail_rows(rows, 6000, dim);
  HnswIndex index(Metric::kL2, dim, params_with(0));
  for (std::size_t first = 0; first < 6000; first += 1000) {
    index.write_rows({rows.data() + first * dim, 1000 * dim}, 1000);
    index.publish(first + 1000);
    index.link(static_cast<std::uint32_t>(first), 1000, pool);
  }
  EXPECT_GE(recall(index, queries, dim, 10, 64), 0.97);
}

TEST(HnswIndex, BatchesInsertedInLocalityOrderKeepRecallAndReachEveryNode) {
  // Two batches above kLocalityMinBatch with the thresholds at 0: both go in locality order,
  // the second into a graph that holds the first.
  const std::size_t dim = 32;
  const std::size_t batch = kLocalityMinBatch + 100;
  auto rows = testing::clustered_vectors(2 * batch + 200, dim, 40, 8);
  const auto queries = tail_rows(rows, 2 * batch, dim);
  rows.resize(2 * batch * dim);
  for (const Quantization quantization : {Quantization::kNone, Quantization::kSq8}) {
    ThreadPool pool(2);
    HnswParams params = params_with(0);
    params.quantization = quantization;
    params.locality_order_min_bytes = 0;
    params.locality_order_min_linked = 0;
    HnswIndex index(Metric::kL2, dim, params);
    for (std::size_t first = 0; first < 2 * batch; first += batch) {
      index.write_rows({rows.data() + first * dim, batch * dim}, batch);
      index.publish(first + batch);
      index.link(static_cast<std::uint32_t>(first), batch, pool);
    }
    EXPECT_GE(recall(index, queries, dim, 10, 64), 0.97);
    EXPECT_GE(recall(index, queries, dim, 10, 200), 0.99);
    EXPECT_LE(static_cast<double>(testing::unreachable_nodes(index)), 0.001 * index.size());
  }
}

TEST(HnswIndex, InsertLinksTowardsAFartherClusterToo) {
  // Two tight clusters on a line, 40 points each: B around (-3, 0), then A around (1, 0); then a
  // node X at the origin. All of X's nearest are in A, where the nearest one shadows the rest;
  // the nearest B node lies in another direction, so the neighbour choice must keep it as well
  // (a choice among only X's 24 nearest would link X to A alone).
  const std::size_t dim = 2;
  std::vector<float> rows;
  for (const float centre : {-3.0f, 1.0f}) {
    for (int i = 0; i < 40; ++i) {
      rows.push_back(centre + 0.02f * static_cast<float>(i % 7));
      rows.push_back(0.02f * static_cast<float>(i / 7));
    }
  }
  rows.insert(rows.end(), {0.0f, 0.05f});
  for (const Quantization quantization : {Quantization::kNone, Quantization::kSq8}) {
    ThreadPool pool(1);
    HnswParams params = params_with(0);
    params.quantization = quantization;
    HnswIndex index(Metric::kL2, dim, params);
    index.write_rows(rows, 81);
    index.publish(81);
    index.link(0, 80, pool);
    index.link(80, 1, pool);
    std::vector<std::uint32_t> links(index.graph().max_degree(0));
    const std::uint32_t count = index.graph().copy_neighbors(80, 0, links.data());
    const auto in_b = std::count_if(links.begin(), links.begin() + count,
                                    [](std::uint32_t slot) { return slot < 40; });
    EXPECT_GE(in_b, 1) << "quantization " << static_cast<int>(quantization);
    EXPECT_GE(count - in_b, 1u) << "quantization " << static_cast<int>(quantization);
  }
}

TEST(HnswIndex, CosineNormalisesAndKeepsZeroVectorsFinite) {
  ThreadPool pool(1);
  const std::vector<float> rows = {3, 4, 0, 0, 0, 0, 0, 2, 0};
  const auto index = build(Metric::kCosine, 3, rows, params_with(0), pool);
  EXPECT_NEAR(index->row(0)[0], 0.6f, 1e-6f);
  EXPECT_NEAR(index->row(0)[1], 0.8f, 1e-6f);
  EXPECT_EQ(index->row(1)[0], 0.0f);
  std::vector<Neighbor> hits;
  const float query[3] = {6, 8, 0};
  index->search(query, 3, 0, false, hits);
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_EQ(hits[0].slot, 0u);
  EXPECT_NEAR(hits[0].distance, 0.0f, 1e-6f);
  for (const Neighbor& hit : hits) EXPECT_FALSE(std::isnan(hit.distance));
  const float zero[3] = {0, 0, 0};
  index->search(zero, 3, 0, false, hits);
  for (const Neighbor& hit : hits) EXPECT_EQ(hit.distance, 1.0f);
}

TEST(HnswIndex, InnerProductPrefersLargestDot) {
  ThreadPool pool(1);
  const std::vector<float> rows = {1, 0, 5, 0, 0, 2};
  const auto index = build(Metric::kIp, 2, rows, params_with(0), pool);
  std::vector<Neighbor> hits;
  const float query[2] = {1, 0.1f};
  index->search(query, 3, 0, false, hits);
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_EQ(hits[0].slot, 1u);
  EXPECT_FLOAT_EQ(hits[0].distance, -5.0f);
}

// Searches on other threads while batches are linked: every hit is a published slot, results are
// sorted, and nothing crashes (run under TSan in CI).
TEST(HnswIndex, ConcurrentSearchesWhileLinking) {
  ThreadPool pool(2);
  const std::size_t dim = 16;
  const std::size_t n = 4000;
  const auto rows = testing::clustered_vectors(n + 50, dim, 10, 7);
  const auto queries = tail_rows(rows, n, dim);
  HnswIndex index(Metric::kL2, dim, params_with(0));
  std::atomic<bool> done{false};
  std::atomic<std::size_t> searches{0};
  auto reader = [&] {
    std::vector<Neighbor> hits;
    std::size_t q = 0;
    while (!done.load()) {
      const std::size_t visible = index.size();
      index.search({rows.data() + (q++ % n) * dim, dim}, 10, 32, false, hits);
      ASSERT_LE(hits.size(), 10u);
      ASSERT_TRUE(std::is_sorted(hits.begin(), hits.end()));
      for (const Neighbor& hit : hits) ASSERT_LT(hit.slot, std::max(visible, index.size()));
      searches.fetch_add(1);
    }
  };
  std::thread reader_a(reader), reader_b(reader);
  for (std::size_t first = 0; first < n; first += 500) {
    index.write_rows({rows.data() + first * dim, 500 * dim}, 500);
    index.publish(first + 500);
    index.link(static_cast<std::uint32_t>(first), 500, pool);
  }
  done.store(true);
  reader_a.join();
  reader_b.join();
  EXPECT_GT(searches.load(), 0u);
  EXPECT_GE(recall(index, queries, dim, 10, 64), 0.95);
}

TEST(HnswIndex, SiftSmallRecallMatchesShippedGroundTruth) {
  std::size_t dim = 0, truth_dim = 0, query_dim = 0;
  const auto dir = testing::shared_data_dir() / "siftsmall";
  auto base = testing::read_vecs<float>(dir / "siftsmall_base.fvecs", dim);
  auto queries = testing::read_vecs<float>(dir / "siftsmall_query.fvecs", query_dim);
  auto truth = testing::read_vecs<std::int32_t>(dir / "siftsmall_groundtruth.ivecs", truth_dim);
  if (!base || !queries || !truth) GTEST_SKIP() << "../shared/data/siftsmall not found at " << dir;
  ThreadPool pool(2);
  const auto index = build(Metric::kL2, dim, *base, HnswParams{}, pool);
  const std::size_t count = queries->size() / dim;
  for (const auto& [ef, floor] : {std::pair<std::size_t, double>{32, 0.98}, {64, 0.99}}) {
    std::size_t found = 0;
    std::vector<Neighbor> hits;
    for (std::size_t q = 0; q < count; ++q) {
      index->search({queries->data() + q * dim, dim}, 10, ef, false, hits);
      const auto* row = truth->data() + q * truth_dim;
      for (const Neighbor& hit : hits)
        found += std::count(row, row + 10, static_cast<std::int32_t>(hit.slot));
    }
    const double measured = static_cast<double>(found) / static_cast<double>(count * 10);
    std::cout << "siftsmall recall@10 at ef=" << ef << ": " << measured << "\n";
    EXPECT_GE(measured, floor);
  }
}

}  // namespace
}  // namespace omendb
