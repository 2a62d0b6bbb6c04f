// Deletes in the HNSW index: a deleted slot is never returned, the repaired graph keeps recall on
// the rest, and inserts after deletes never link to deleted nodes.
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <random>
#include <unordered_set>

#include "index/hnsw_index.h"
#include "support/test_data.h"
#include "util/thread_pool.h"

namespace omendb {
namespace {

constexpr std::size_t kDim = 16;

HnswParams graph_always() {
  HnswParams params;
  params.exact_search_below = 0;
  return params;
}

void append(HnswIndex& index, const std::vector<float>& rows, std::size_t first, std::size_t count,
            ThreadPool& pool) {
  index.write_rows({rows.data() + first * kDim, count * kDim}, count);
  index.publish(first + count);
  index.link(static_cast<std::uint32_t>(first), count, pool);
}

std::vector<std::uint32_t> delete_random_thirty_percent(HnswIndex& index, std::size_t n,
                                                        ThreadPool& pool) {
  std::vector<std::uint32_t> order(n);
  for (std::uint32_t i = 0; i < n; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937(5));
  order.resize(n * 3 / 10);
  for (std::uint32_t slot : order) index.mark_deleted(slot);
  index.repair(order, pool);
  return order;
}

// recall@10 at ef=64 of the 100 query rows after the first n rows, against exact search; checks
// that every query gets 10 hits and that no slot in `gone` comes back from either search.
double recall_at_ef64(const HnswIndex& index, const std::vector<float>& rows, std::size_t n,
                      const std::unordered_set<std::uint32_t>& gone) {
  std::size_t found = 0;
  std::vector<Neighbor> hits, truth;
  for (std::size_t q = 0; q < 100; ++q) {
    const std::span<const float> query(rows.data() + (n + q) * kDim, kDim);
    index.search(query, 10, 64, /*exact=*/true, truth);
    index.search(query, 10, 64, /*exact=*/false, hits);
    EXPECT_EQ(hits.size(), 10u);
    for (const Neighbor& t : truth) EXPECT_FALSE(gone.count(t.slot));
    for (const Neighbor& hit : hits) {
      EXPECT_FALSE(gone.count(hit.slot)) << "deleted slot " << hit.slot << " returned";
      found += std::count_if(truth.begin(), truth.end(),
                             [&](const Neighbor& t) { return t.slot == hit.slot; });
    }
  }
  return static_cast<double>(found) / 1000.0;
}

TEST(HnswDelete, DeletedSlotsAreNeverReturnedAndRecallHolds) {
  ThreadPool pool(2);
  const std::size_t n = 6000;
  const auto rows = testing::clustered_vectors(n + 100, kDim, 20, 21);
  HnswIndex index(Metric::kL2, kDim, graph_always());
  append(index, rows, 0, n, pool);
  const auto deleted = delete_random_thirty_percent(index, n, pool);
  const std::unordered_set<std::uint32_t> gone(deleted.begin(), deleted.end());
  EXPECT_EQ(index.live_size(), n - deleted.size());

  const double recall = recall_at_ef64(index, rows, n, gone);
  std::cout << "recall@10 at ef=64 after deleting 30%: " << recall << "\n";
  EXPECT_GE(recall, 0.95);
}

// After repair no live node links to a deleted one on any level it was repaired on, and new
// inserts never link to deleted nodes.
TEST(HnswDelete, RepairAndLaterInsertsAvoidDeletedNodes) {
  ThreadPool pool(2);
  const std::size_t n = 3000;
  const auto rows = testing::clustered_vectors(2 * n, kDim, 10, 22);
  HnswIndex index(Metric::kL2, kDim, graph_always());
  append(index, rows, 0, n, pool);
  const auto deleted = delete_random_thirty_percent(index, n, pool);
  append(index, rows, n, n, pool);
  const HnswGraph& graph = index.graph();
  std::vector<std::uint32_t> links(graph.max_degree(0));
  std::size_t links_to_deleted = 0, links_total = 0;
  for (std::uint32_t node = 0; node < 2 * n; ++node) {
    if (index.is_deleted(node)) continue;
    const std::uint32_t count = graph.copy_neighbors(node, 0, links.data());
    for (std::uint32_t i = 0; i < count; ++i) {
      ++links_total;
      if (index.is_deleted(links[i])) {
        ++links_to_deleted;
        ASSERT_LT(node, n) << "a node inserted after the deletes links to deleted " << links[i];
      }
    }
  }
  // Links from nodes a deleted node did not link back to survive until compaction: few.
  EXPECT_LT(static_cast<double>(links_to_deleted), 0.02 * static_cast<double>(links_total));
}

TEST(HnswDelete, DeletingEverythingLeavesAnEmptyResult) {
  ThreadPool pool(1);
  const auto rows = testing::clustered_vectors(50, kDim, 2, 23);
  HnswIndex index(Metric::kL2, kDim, graph_always());
  append(index, rows, 0, 50, pool);
  std::vector<std::uint32_t> all(50);
  for (std::uint32_t i = 0; i < 50; ++i) {
    all[i] = i;
    index.mark_deleted(i);
  }
  index.repair(all, pool);
  std::vector<Neighbor> hits{{0.0f, 1}};
  index.search({rows.data(), kDim}, 5, 0, false, hits);
  EXPECT_TRUE(hits.empty());
  EXPECT_EQ(index.live_size(), 0u);
}

// Found by the crash test: with every node deleted (or replaced by an upsert), the entry point
// stayed on a deleted node, later inserts (which never link to deleted nodes) could not be reached
// from it, and a fifth of them were lost to graph search. Deleting the entry point moves it.
TEST(HnswDelete, InsertsAfterEverythingWasDeletedAreAllReachable) {
  ThreadPool pool(2);
  const auto rows = testing::clustered_vectors(3100, kDim, 8, 29);
  HnswIndex index(Metric::kL2, kDim, graph_always());
  append(index, rows, 0, 100, pool);
  std::vector<std::uint32_t> all(100);
  for (std::uint32_t i = 0; i < 100; ++i) {
    all[i] = i;
    index.mark_deleted(i);
  }
  index.repair(all, pool);
  EXPECT_EQ(index.entry_point().second, -1);  // nothing live: the graph starts afresh
  for (std::size_t first = 100; first < 3100; first += 100) append(index, rows, first, 100, pool);
  std::vector<Neighbor> hits;
  std::size_t lost = 0;
  for (std::uint32_t slot = 100; slot < 3100; ++slot) {
    index.search({rows.data() + slot * kDim, kDim}, 1, 64, /*exact=*/false, hits);
    lost += hits.empty() || hits[0].distance != 0.0f;
  }
  EXPECT_EQ(lost, 0u);
  // A deleted entry point with live nodes left moves to one of them.
  const std::uint32_t entry = index.entry_point().first;
  index.mark_deleted(entry);
  const std::uint32_t deleted[] = {entry};
  index.repair(deleted, pool);
  EXPECT_FALSE(index.is_deleted(index.entry_point().first));
  EXPECT_GE(index.entry_point().second, 0);
}

// Compaction keeps exactly the live slots, in order, with their vectors; the copy has no link to
// a dropped slot and searches as well as exact search over the live rows.
TEST(HnswDelete, CompactedCopyHoldsOnlyLiveSlotsAndKeepsRecall) {
  ThreadPool pool(2);
  const std::size_t n = 5000;
  const auto rows = testing::clustered_vectors(n + 100, kDim, 20, 24);
  HnswIndex index(Metric::kL2, kDim, graph_always());
  append(index, rows, 0, n, pool);
  const auto deleted = delete_random_thirty_percent(index, n, pool);
  HnswIndex::Compacted compacted = index.compacted(pool);
  const HnswIndex& fresh = *compacted.index;
  ASSERT_EQ(fresh.size(), n - deleted.size());
  ASSERT_EQ(compacted.kept.size(), fresh.size());
  EXPECT_EQ(fresh.live_size(), fresh.size());
  EXPECT_TRUE(std::is_sorted(compacted.kept.begin(), compacted.kept.end()));
  for (std::uint32_t slot = 0; slot < fresh.size(); ++slot) {
    ASSERT_FALSE(index.is_deleted(compacted.kept[slot]));
    ASSERT_TRUE(
        std::equal(fresh.row(slot), fresh.row(slot) + kDim, index.row(compacted.kept[slot])));
  }
  const HnswGraph& graph = fresh.graph();
  std::vector<std::uint32_t> links(graph.max_degree(0));
  for (std::uint32_t node = 0; node < fresh.size(); ++node) {
    for (int level = 0; level <= graph.level(node); ++level) {
      const std::uint32_t count = graph.copy_neighbors(node, level, links.data());
      for (std::uint32_t i = 0; i < count; ++i) ASSERT_LT(links[i], fresh.size());
    }
  }
  const double recall = recall_at_ef64(fresh, rows, n, {});
  std::cout << "recall@10 at ef=64 after deleting 30% and compacting: " << recall << "\n";
  EXPECT_GE(recall, 0.95);
}

}  // namespace
}  // namespace omendb
