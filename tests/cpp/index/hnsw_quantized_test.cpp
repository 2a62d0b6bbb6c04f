// Tests of a quantized (sq8) HNSW index: walks on 8-bit codes with a float re-rank reach the float
// index's recall, return exact float distances, and keep working through deletes, compaction and
// a save/restore round trip (codes are derived from the restored rows), including one that serves
// the restored rows from a mapped file.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "index/hnsw_index.h"
#include "storage/env.h"
#include "support/test_data.h"
#include "util/thread_pool.h"

namespace omendb {
namespace {

constexpr std::size_t kDim = 48;
constexpr std::size_t kRows = 6000;
constexpr std::size_t kQueries = 200;

// A sink for save_vectors/save_graph that appends what it is given to `out`.
HnswIndex::ByteSink append_to(std::vector<std::byte>& out) {
  return [&out](std::span<const std::byte> bytes) {
    out.insert(out.end(), bytes.begin(), bytes.end());
  };
}

HnswParams sq8_params() {
  HnswParams params;
  params.exact_search_below = 0;
  params.quantization = Quantization::kSq8;
  return params;
}

std::unique_ptr<HnswIndex> build(Metric metric, const std::vector<float>& rows,
                                 const HnswParams& params, ThreadPool& pool) {
  auto index = std::make_unique<HnswIndex>(metric, kDim, params);
  const std::size_t n = rows.size() / kDim;
  index->write_rows(rows, n);
  index->publish(n);
  index->link(0, n, pool);
  return index;
}

// Recall@10 at ef against the index's exact scan; every hit's distance must be the float one.
double checked_recall(const HnswIndex& index, const std::vector<float>& queries, std::size_t ef) {
  std::size_t found = 0;
  std::vector<Neighbor> truth, hits;
  for (std::size_t q = 0; q < queries.size() / kDim; ++q) {
    const std::span<const float> query(queries.data() + q * kDim, kDim);
    index.search(query, 10, 10, /*exact=*/true, truth);
    index.search(query, 10, ef, /*exact=*/false, hits);
    EXPECT_TRUE(std::is_sorted(hits.begin(), hits.end()));
    for (const Neighbor& hit : hits) {
      std::vector<float> prepared(query.begin(), query.end());
      index.space().prepare(prepared.data(), prepared.data());
      EXPECT_EQ(hit.distance, index.space().distance(prepared.data(), index.row(hit.slot)));
      found += std::count_if(truth.begin(), truth.end(),
                             [&](const Neighbor& t) { return t.slot == hit.slot; });
    }
  }
  return static_cast<double>(found) / static_cast<double>(queries.size() / kDim * 10);
}

TEST(HnswQuantized, ReachesTheFloatIndexRecallForEveryMetric) {
  ThreadPool pool(2);
  auto rows = testing::clustered_vectors(kRows + kQueries, kDim, 30, 5);
  const std::vector<float> queries(rows.begin() + kRows * kDim, rows.end());
  rows.resize(kRows * kDim);
  for (Metric metric : {Metric::kL2, Metric::kCosine}) {
    HnswParams float_params = sq8_params();
    float_params.quantization = Quantization::kNone;
    const double float_recall =
        checked_recall(*build(metric, rows, float_params, pool), queries, 64);
    const double code_recall =
        checked_recall(*build(metric, rows, sq8_params(), pool), queries, 64);
    EXPECT_GE(code_recall, 0.97) << metric_name(metric);
    EXPECT_GE(code_recall, float_recall - 0.01) << metric_name(metric);
  }
}

TEST(HnswQuantized, DeletesCompactionAndRestoreKeepCodesInStep) {
  ThreadPool pool(2);
  auto rows = testing::clustered_vectors(kRows + kQueries, kDim, 30, 6);
  const std::vector<float> queries(rows.begin() + kRows * kDim, rows.end());
  rows.resize(kRows * kDim);
  auto index = build(Metric::kL2, rows, sq8_params(), pool);
  std::vector<std::uint32_t> deleted;
  for (std::uint32_t slot = 0; slot < kRows; slot += 4) {
    index->mark_deleted(slot);
    deleted.push_back(slot);
  }
  index->repair(deleted, pool);
  std::vector<Neighbor> hits;
  for (std::uint32_t slot = 1; slot < 400; slot += 4) {
    index->search({index->row(slot), kDim}, 3, 64, false, hits);
    ASSERT_FALSE(hits.empty());
    EXPECT_EQ(hits[0].slot, slot);
    for (const Neighbor& hit : hits) EXPECT_NE(hit.slot % 4, 0u);
  }
  HnswIndex::Compacted compacted = index->compacted(pool);
  EXPECT_GE(checked_recall(*compacted.index, queries, 64), 0.97);

  std::vector<std::byte> vectors, graph;
  compacted.index->save_vectors(append_to(vectors));
  compacted.index->save_graph(append_to(graph));
  const auto [entry_slot, entry_level] = compacted.index->entry_point();
  HnswImage image{compacted.index->size(), entry_slot, entry_level, vectors, graph, nullptr};
  Result<std::unique_ptr<HnswIndex>> restored =
      HnswIndex::restore(Metric::kL2, kDim, sq8_params(), image);
  ASSERT_TRUE(restored.is_ok()) << restored.status().message();
  std::vector<Neighbor> before, after;
  for (std::size_t q = 0; q < kQueries; ++q) {
    const std::span<const float> query(queries.data() + q * kDim, kDim);
    compacted.index->search(query, 10, 64, false, before);
    restored.value()->search(query, 10, 64, false, after);
    ASSERT_EQ(before.size(), after.size());
    for (std::size_t i = 0; i < before.size(); ++i) EXPECT_EQ(before[i].slot, after[i].slot);
  }
}

// A "mapped file" over bytes in memory that counts the calls giving its pages back and the rows
// read out of it.
class BytesAsMappedFile final : public storage::MappedFile {
 public:
  explicit BytesAsMappedFile(std::vector<std::byte> bytes) : bytes_(std::move(bytes)) {}
  std::span<const std::byte> bytes() const override { return bytes_; }
  void release_resident_pages() const noexcept override { ++releases; }
  void copy_out(std::uint64_t offset, std::span<std::byte> out) const noexcept override {
    ++copies;
    MappedFile::copy_out(offset, out);
  }
  mutable int releases = 0;
  mutable int copies = 0;

 private:
  std::vector<std::byte> bytes_;
};

// Restored with the file holding its vectors, a quantized index reads those rows in place (no
// copy), gives their pages back after encoding and after saving them, appends later rows in
// memory, and saves exactly the rows it holds; a float index copies them as before.
TEST(HnswQuantized, RestoreFromAMappedFileServesItsRowsInPlace) {
  ThreadPool pool(2);
  const std::vector<float> rows = testing::clustered_vectors(3500, kDim, 20, 11);
  const std::vector<float> first(rows.begin(), rows.begin() + 3000 * kDim);
  const std::vector<float> later(rows.begin() + 3000 * kDim, rows.begin() + 3500 * kDim);
  std::unique_ptr<HnswIndex> built = build(Metric::kL2, first, sq8_params(), pool);
  std::vector<std::byte> vectors, graph;
  built->save_vectors(append_to(vectors));
  built->save_graph(append_to(graph));
  const auto [entry_slot, entry_level] = built->entry_point();

  for (const Quantization quantization : {Quantization::kSq8, Quantization::kNone}) {
    auto file = std::make_shared<BytesAsMappedFile>(vectors);
    HnswParams params = sq8_params();
    params.quantization = quantization;
    const HnswImage image{3000, entry_slot, entry_level, file->bytes(), graph, file};
    Result<std::unique_ptr<HnswIndex>> restored =
        HnswIndex::restore(Metric::kL2, kDim, params, image);
    ASSERT_TRUE(restored.is_ok()) << restored.status().message();
    HnswIndex& index = *restored.value();
    const bool mapped = quantization == Quantization::kSq8;
    EXPECT_EQ(static_cast<const void*>(index.row(0)) == file->bytes().data(), mapped);
    EXPECT_EQ(file->releases, mapped ? 1 : 0);

    index.write_rows(later, 500);
    index.publish(3500);
    index.link(3000, 500, pool);
    std::vector<Neighbor> hits;
    for (std::uint32_t slot = 0; slot < 3500; slot += 7) {
      index.search({index.row(slot), kDim}, 1, 64, false, hits);
      ASSERT_FALSE(hits.empty());
      EXPECT_EQ(hits[0].slot, slot);
      EXPECT_EQ(hits[0].distance, 0.0f);
    }
    std::vector<std::byte> saved;
    index.save_vectors(append_to(saved));
    std::vector<std::byte> expected = vectors;
    const auto later_bytes = std::as_bytes(std::span(later));
    expected.insert(expected.end(), later_bytes.begin(), later_bytes.end());
    EXPECT_EQ(saved, expected);
    EXPECT_EQ(file->releases, mapped ? 2 : 0);
  }
}

// Searches of a restored quantized index re-rank its mapped rows by reading them out of the file
// (one copy_out per re-ranked row), or through the map when the image says map_floats; the hits
// are the same either way, with exact distances.
TEST(HnswQuantized, ReRankReadsMappedRowsFromTheFileUnlessToldToMapThem) {
  ThreadPool pool(2);
  const std::vector<float> rows = testing::clustered_vectors(3000, kDim, 20, 12);
  std::unique_ptr<HnswIndex> built = build(Metric::kL2, rows, sq8_params(), pool);
  std::vector<std::byte> vectors, graph;
  built->save_vectors(append_to(vectors));
  built->save_graph(append_to(graph));
  const auto [entry_slot, entry_level] = built->entry_point();
  const std::vector<float> queries = testing::clustered_vectors(20, kDim, 20, 13);

  std::vector<std::vector<Neighbor>> hits_by_mode;
  for (const bool map_floats : {false, true}) {
    auto file = std::make_shared<BytesAsMappedFile>(vectors);
    HnswImage image{3000, entry_slot, entry_level, file->bytes(), graph, file};
    image.map_floats = map_floats;
    Result<std::unique_ptr<HnswIndex>> restored =
        HnswIndex::restore(Metric::kL2, kDim, sq8_params(), image);
    ASSERT_TRUE(restored.is_ok()) << restored.status().message();
    std::vector<Neighbor> all, hits;
    for (std::size_t q = 0; q < 20; ++q) {
      const std::span<const float> query(queries.data() + q * kDim, kDim);
      restored.value()->search(query, 10, 64, false, hits);
      ASSERT_EQ(hits.size(), 10u);
      for (const Neighbor& hit : hits) {
        EXPECT_EQ(hit.distance,
                  restored.value()->space().distance(query.data(), rows.data() + hit.slot * kDim));
      }
      all.insert(all.end(), hits.begin(), hits.end());
    }
    // 20 queries re-rank min(ef, 2k) = 20 rows each, fewer only when some are deleted (none here).
    EXPECT_EQ(file->copies, map_floats ? 0 : 20 * 20);
    hits_by_mode.push_back(all);
  }
  ASSERT_EQ(hits_by_mode[0].size(), hits_by_mode[1].size());
  for (std::size_t i = 0; i < hits_by_mode[0].size(); ++i) {
    EXPECT_EQ(hits_by_mode[0][i].slot, hits_by_mode[1][i].slot);
    EXPECT_EQ(hits_by_mode[0][i].distance, hits_by_mode[1][i].distance);
  }
}

}  // namespace
}  // namespace omendb
