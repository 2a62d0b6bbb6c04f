// HNSW persistence: an index saved with save_vectors/save_graph and restored from the image is the
// same index (rows, lists, entry point, deleted flags, search results), keeps working as an index,
// and a damaged or crafted image is refused with kCorruption instead of being trusted.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "index/hnsw_index.h"
#include "support/test_data.h"
#include "util/thread_pool.h"

namespace omendb {
namespace {

using Bytes = std::vector<std::byte>;

// An index's saved image, owning its bytes.
struct Saved {
  std::size_t size = 0;
  std::uint32_t entry_slot = 0;
  int entry_level = -1;
  Bytes vectors;
  Bytes graph;

  HnswImage image() const { return {size, entry_slot, entry_level, vectors, graph, nullptr}; }
};

Saved save(const HnswIndex& index) {
  Saved saved;
  saved.size = index.size();
  std::tie(saved.entry_slot, saved.entry_level) = index.entry_point();
  index.save_vectors([&](std::span<const std::byte> b) {
    saved.vectors.insert(saved.vectors.end(), b.begin(), b.end());
  });
  index.save_graph([&](std::span<const std::byte> b) {
    saved.graph.insert(saved.graph.end(), b.begin(), b.end());
  });
  return saved;
}

HnswParams test_params() {
  HnswParams params;
  params.m = 8;
  params.ef_construction = 64;
  params.exact_search_below = 0;  // always walk the graph
  return params;
}

std::unique_ptr<HnswIndex> restore(Metric metric, std::size_t dim, const Saved& saved) {
  auto restored = HnswIndex::restore(metric, dim, test_params(), saved.image());
  EXPECT_TRUE(restored.is_ok()) << restored.status().message();
  return restored.is_ok() ? std::move(restored).value() : nullptr;
}

// Appends `count` rows of `rows` starting at row `first` to `index` and links them.
void append(HnswIndex& index, const std::vector<float>& rows, std::size_t first, std::size_t count,
            ThreadPool& pool) {
  const std::size_t dim = index.space().dim();
  const std::size_t start = index.size();
  index.write_rows(std::span(rows).subspan(first * dim, count * dim), count);
  index.publish(start + count);
  index.link(static_cast<std::uint32_t>(start), count, pool);
}

// An index of `n` clustered rows with every seventh slot deleted and repaired.
std::unique_ptr<HnswIndex> build(Metric metric, std::size_t dim, const std::vector<float>& rows,
                                 std::size_t n, ThreadPool& pool) {
  auto index = std::make_unique<HnswIndex>(metric, dim, test_params());
  append(*index, rows, 0, n, pool);
  std::vector<std::uint32_t> deleted;
  for (std::uint32_t slot = 3; slot < n; slot += 7) {
    index->mark_deleted(slot);
    deleted.push_back(slot);
  }
  index->repair(deleted, pool);
  return index;
}

// Expects two indexes to hold the same rows (bit for bit), lists, flags and entry point.
void expect_same_state(const HnswIndex& a, const HnswIndex& b) {
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(a.live_size(), b.live_size());
  EXPECT_EQ(a.entry_point(), b.entry_point());
  const std::size_t dim = a.space().dim();
  const HnswGraph& ga = a.graph();
  const HnswGraph& gb = b.graph();
  std::vector<std::uint32_t> la(ga.max_degree(0));
  std::vector<std::uint32_t> lb(gb.max_degree(0));
  for (std::uint32_t slot = 0; slot < a.size(); ++slot) {
    ASSERT_EQ(std::memcmp(a.row(slot), b.row(slot), dim * sizeof(float)), 0) << slot;
    ASSERT_EQ(a.is_deleted(slot), b.is_deleted(slot)) << slot;
    ASSERT_EQ(ga.level(slot), gb.level(slot)) << slot;
    for (int level = 0; level <= ga.level(slot); ++level) {
      const std::uint32_t ca = ga.copy_neighbors(slot, level, la.data());
      const std::uint32_t cb = gb.copy_neighbors(slot, level, lb.data());
      ASSERT_EQ(std::vector(la.begin(), la.begin() + ca), std::vector(lb.begin(), lb.begin() + cb))
          << "slot " << slot << " level " << level;
    }
  }
}

// Expects identical hits (slots and distance bits) for every query, graph and exact.
void expect_same_search(const HnswIndex& a, const HnswIndex& b, const std::vector<float>& queries) {
  const std::size_t dim = a.space().dim();
  std::vector<Neighbor> ha;
  std::vector<Neighbor> hb;
  for (std::size_t q = 0; q < queries.size() / dim; ++q) {
    const std::span<const float> query(queries.data() + q * dim, dim);
    for (const bool exact : {false, true}) {
      a.search(query, 10, 48, exact, ha);
      b.search(query, 10, 48, exact, hb);
      ASSERT_EQ(ha.size(), hb.size());
      for (std::size_t i = 0; i < ha.size(); ++i) {
        EXPECT_EQ(ha[i].slot, hb[i].slot) << "query " << q;
        EXPECT_EQ(std::bit_cast<std::uint32_t>(ha[i].distance),
                  std::bit_cast<std::uint32_t>(hb[i].distance));
      }
    }
  }
}

class HnswPersistRoundTrip : public ::testing::TestWithParam<Metric> {};

TEST_P(HnswPersistRoundTrip, RestoredIndexIsTheSameIndex) {
  ThreadPool pool(2);
  const std::size_t dim = 24;
  const auto rows = testing::clustered_vectors(3100, dim, 20, 7);
  const auto index = build(GetParam(), dim, rows, 3000, pool);
  const Saved saved = save(*index);
  EXPECT_EQ(saved.vectors.size(), 3000 * dim * sizeof(float));
  const auto restored = restore(GetParam(), dim, saved);
  ASSERT_NE(restored, nullptr);
  expect_same_state(*index, *restored);
  const std::vector<float> queries(rows.begin() + 3000 * dim, rows.end());
  expect_same_search(*index, *restored, queries);
  // Saving the restored index gives the same bytes.
  const Saved again = save(*restored);
  EXPECT_EQ(again.vectors, saved.vectors);
  EXPECT_EQ(again.graph, saved.graph);
}

TEST_P(HnswPersistRoundTrip, RestoredIndexKeepsGrowingAndCompacts) {
  ThreadPool pool(2);
  const std::size_t dim = 16;
  const auto rows = testing::clustered_vectors(6000, dim, 30, 11);
  const auto original = build(GetParam(), dim, rows, 2500, pool);
  auto restored = restore(GetParam(), dim, save(*original));
  ASSERT_NE(restored, nullptr);
  // Both go on with the same writes; the restored one must stay the same index.
  for (HnswIndex* index : {original.get(), restored.get()}) {
    append(*index, rows, 2500, 3000, pool);
    std::vector<std::uint32_t> deleted;
    for (std::uint32_t slot = 2; slot < 5500; slot += 11) {
      if (index->is_deleted(slot)) continue;
      index->mark_deleted(slot);
      deleted.push_back(slot);
    }
    index->repair(deleted, pool);
  }
  EXPECT_EQ(restored->size(), 5500u);
  EXPECT_EQ(restored->live_size(), original->live_size());
  // Recall of the grown restored index against its exact scan.
  std::size_t found = 0;
  std::vector<Neighbor> graph_hits;
  std::vector<Neighbor> exact_hits;
  for (std::size_t q = 5500; q < 6000; ++q) {
    const std::span<const float> query(rows.data() + q * dim, dim);
    restored->search(query, 10, 64, false, graph_hits);
    restored->search(query, 10, 10, true, exact_hits);
    for (const Neighbor& hit : graph_hits) {
      for (const Neighbor& truth : exact_hits) found += hit.slot == truth.slot;
    }
  }
  EXPECT_GE(static_cast<double>(found) / (500 * 10), 0.95);
  HnswIndex::Compacted compacted = restored->compacted(pool);
  EXPECT_EQ(compacted.index->size(), restored->live_size());
  EXPECT_EQ(compacted.index->live_size(), compacted.index->size());
}

INSTANTIATE_TEST_SUITE_P(Metrics, HnswPersistRoundTrip,
                         ::testing::Values(Metric::kL2, Metric::kCosine),
                         [](const auto& info) { return std::string(metric_name(info.param)); });

TEST(HnswPersist, CosineRowsAreRestoredAsStoredNotPreparedAgain) {
  ThreadPool pool(1);
  const std::size_t dim = 4;
  HnswIndex index(Metric::kCosine, dim, test_params());
  const std::vector<float> row = {3.0f, 0.0f, 4.0f, 0.0f};
  index.write_rows(row, 1);
  index.publish(1);
  index.link(0, 1, pool);
  Saved saved = save(index);
  // A stored row is trusted as prepared: halve it and it must come back halved.
  const float halved[4] = {0.3f, 0.0f, 0.4f, 0.0f};
  std::memcpy(saved.vectors.data(), halved, sizeof halved);
  const auto restored = restore(Metric::kCosine, dim, saved);
  ASSERT_NE(restored, nullptr);
  EXPECT_EQ(std::memcmp(restored->row(0), halved, sizeof halved), 0);
}

TEST(HnswPersist, EmptyIndexRoundTripsAndGrows) {
  ThreadPool pool(2);
  const std::size_t dim = 8;
  HnswIndex empty(Metric::kL2, dim, test_params());
  const Saved saved = save(empty);
  EXPECT_TRUE(saved.vectors.empty());
  EXPECT_TRUE(saved.graph.empty());
  EXPECT_EQ(saved.entry_level, -1);
  auto restored = restore(Metric::kL2, dim, saved);
  ASSERT_NE(restored, nullptr);
  std::vector<Neighbor> hits;
  const std::vector<float> query(dim, 1.0f);
  restored->search(query, 5, 16, false, hits);
  EXPECT_TRUE(hits.empty());
  const auto rows = testing::clustered_vectors(300, dim, 4, 2);
  append(*restored, rows, 0, 300, pool);
  restored->search(query, 5, 16, false, hits);
  EXPECT_EQ(hits.size(), 5u);
}

// ---- Crafted images -----------------------------------------------------------------------------

// A small saved index (m = 8) to damage, with the offsets of its sections.
class HnswPersistCrafted : public ::testing::Test {
 protected:
  static constexpr std::size_t kDim = 6;
  static constexpr std::size_t kSize = 400;
  static constexpr std::size_t kRecordWords = 1 + 2 * 8;
  static constexpr std::size_t kListWords = 1 + 8;

  void SetUp() override {
    ThreadPool pool(2);
    const auto rows = testing::clustered_vectors(kSize, kDim, 5, 3);
    saved = save(*build(Metric::kL2, kDim, rows, kSize, pool));
  }

  std::uint32_t word(std::size_t byte_offset) const {
    std::uint32_t value = 0;
    std::memcpy(&value, saved.graph.data() + byte_offset, sizeof value);
    return value;
  }
  void set_word(std::size_t byte_offset, std::uint32_t value) {
    std::memcpy(saved.graph.data() + byte_offset, &value, sizeof value);
  }
  std::size_t level0_offset(std::size_t node) const { return node * kRecordWords * 4; }
  std::size_t upper_offset() const { return kSize * kRecordWords * 4; }
  std::size_t deleted_offset() const { return saved.graph.size() - kSize; }
  // Byte offsets of the upper-level records.
  std::vector<std::size_t> upper_records() const {
    std::vector<std::size_t> offsets;
    for (std::size_t offset = upper_offset(); offset < deleted_offset();) {
      offsets.push_back(offset);
      offset += 8 + word(offset + 4) * kListWords * 4;
    }
    return offsets;
  }
  // The lowest slot without an upper-level record: a node of level 0 only.
  std::uint32_t level0_only_node() const {
    std::vector<bool> upper(kSize, false);
    for (const std::size_t offset : upper_records()) upper[word(offset)] = true;
    std::uint32_t node = 0;
    while (upper[node]) ++node;
    return node;
  }

  // Expects restore to refuse the image with kCorruption, its message holding `needle`.
  void expect_refused(const std::string& needle) const {
    auto restored = HnswIndex::restore(Metric::kL2, kDim, test_params(), saved.image());
    ASSERT_FALSE(restored.is_ok());
    EXPECT_EQ(restored.status().code(), StatusCode::kCorruption);
    EXPECT_NE(restored.status().message().find(needle), std::string::npos)
        << restored.status().message();
  }

  Saved saved;
};

TEST_F(HnswPersistCrafted, UntouchedImageRestores) {
  EXPECT_TRUE(HnswIndex::restore(Metric::kL2, kDim, test_params(), saved.image()).is_ok());
}

TEST_F(HnswPersistCrafted, NeighbourOutOfRange) {
  ASSERT_GT(word(level0_offset(5)), 0u);
  set_word(level0_offset(5) + 4, kSize);
  expect_refused("graph: slot 5 level 0 links to slot 400");
}

TEST_F(HnswPersistCrafted, ListLongerThanTheMaximumDegree) {
  set_word(level0_offset(9), 17);
  expect_refused("graph: slot 9 level 0 holds 17 neighbours, more than 16");
}

TEST_F(HnswPersistCrafted, GarbageInUnusedEntries) {
  std::size_t node = 0;
  while (node < kSize && word(level0_offset(node)) == 16) ++node;
  ASSERT_LT(node, kSize) << "every level-0 list is full";
  set_word(level0_offset(node) + 4 * (1 + word(level0_offset(node))), 1);
  expect_refused("graph: slot " + std::to_string(node) + " level 0 has a non-zero unused entry");
}

TEST_F(HnswPersistCrafted, UpperRecordLevels) {
  const std::vector<std::size_t> records = upper_records();
  ASSERT_FALSE(records.empty()) << "no node above level 0";
  const std::size_t last = records.back();
  const std::uint32_t level = word(last + 4);
  set_word(last + 4, 0);
  expect_refused("has level 0, not in [1, 30]");
  set_word(last + 4, 31);
  expect_refused("has level 31");
  set_word(last + 4, level + 1);  // claims a level the record has no lists for
  expect_refused("is cut short");
}

TEST_F(HnswPersistCrafted, UpperRecordsOutOfOrder) {
  const std::vector<std::size_t> records = upper_records();
  ASSERT_GE(records.size(), 2u);
  const std::uint32_t first = word(records[0]);
  set_word(records[0], kSize + 3);
  expect_refused("names slot 403");
  set_word(records[0], first);
  set_word(records[1], first);  // the same node twice
  expect_refused("names slot " + std::to_string(first));
}

TEST_F(HnswPersistCrafted, UpperNeighbourWithoutThatLevel) {
  // Point a level-1 list at a node that has level 0 only.
  set_word(upper_offset() + 8, 1);
  set_word(upper_offset() + 12, level0_only_node());
  for (std::size_t i = 1; i < kListWords - 1; ++i) set_word(upper_offset() + 12 + 4 * i, 0);
  expect_refused("which has no lists on that level");
}

TEST_F(HnswPersistCrafted, TruncatedUpperRecord) {
  saved.graph.erase(saved.graph.begin() + static_cast<std::ptrdiff_t>(upper_offset() + 6));
  expect_refused("graph:");
}

TEST_F(HnswPersistCrafted, DeletedFlagOtherThanZeroOrOne) {
  saved.graph[deleted_offset() + 7] = std::byte{2};
  expect_refused("deleted flag of slot 7 is 2");
}

TEST_F(HnswPersistCrafted, EntryPoint) {
  const std::uint32_t entry = saved.entry_slot;
  saved.entry_slot = kSize;
  expect_refused("is not a slot");
  saved.entry_slot = level0_only_node();  // a node below the top level
  expect_refused("is not a live node of the top live level");
  saved.entry_slot = entry;
  saved.graph[deleted_offset() + entry] = std::byte{1};  // a deleted entry point
  expect_refused("is not a live node of the top live level");
  saved.graph[deleted_offset() + entry] = std::byte{0};
  saved.entry_level = -1;
  expect_refused("entry point");
}

TEST_F(HnswPersistCrafted, EmptyGraphWithAnEntryPoint) {
  Saved empty;
  empty.entry_level = 0;
  saved = empty;
  expect_refused("in a graph without live nodes");
}

TEST_F(HnswPersistCrafted, NonFiniteVector) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::memcpy(saved.vectors.data() + (10 * kDim + 2) * sizeof(float), &nan, sizeof nan);
  expect_refused("vectors: row 10 is not finite");
}

TEST_F(HnswPersistCrafted, SizesThatDoNotFit) {
  saved.vectors.pop_back();
  expect_refused("vectors:");
  saved.vectors.push_back(std::byte{0});
  saved.size = kSize * 100;
  expect_refused("vectors:");
  saved.size = std::size_t{1} << 33;
  expect_refused("graph:");
  saved.size = kSize;
  saved.graph.resize(upper_offset() - 4);
  expect_refused("too few for 400 slots");
}

}  // namespace
}  // namespace omendb
