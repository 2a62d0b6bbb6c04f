// Collection: batches are all-or-nothing, bad input is refused with the right code and changes
// nothing, hits carry ids and metadata, and searches run safely beside a writer.
#include "omendb/collection.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <thread>

#include "filter/expression.h"
#include "omendb/database.h"
#include "support/test_data.h"

namespace omendb {
namespace {

class CollectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Database::open(":memory:", DatabaseOptions{2});
    ASSERT_TRUE(opened.is_ok());
    db = std::move(opened).value();
    CollectionOptions options;
    options.dim = 3;
    auto created = db->create_collection("docs", options);
    ASSERT_TRUE(created.is_ok());
    docs = created.value();
  }

  // docs->add or docs->upsert of one batch built from the arguments.
  Status write(Status (Collection::*call)(const RecordBatch&), std::vector<std::string_view> ids,
               std::vector<float> vectors, std::vector<Metadata> metadata) {
    RecordBatch batch;
    batch.ids = ids;
    batch.vectors = vectors;
    batch.metadata = metadata;
    return (*docs.*call)(batch);
  }

  Status add(std::vector<std::string_view> ids, std::vector<float> vectors,
             std::vector<Metadata> metadata = {}) {
    return write(&Collection::add, std::move(ids), std::move(vectors), std::move(metadata));
  }

  Status upsert_records(std::vector<std::string_view> ids, std::vector<float> vectors,
                        std::vector<Metadata> metadata = {}) {
    return write(&Collection::upsert, std::move(ids), std::move(vectors), std::move(metadata));
  }

  std::vector<std::string> nearest_ids(std::vector<float> query, std::size_t k) {
    SearchOptions options;
    options.k = k;
    auto hits = docs->search(query, options);
    EXPECT_TRUE(hits.is_ok()) << hits.status().message();
    std::vector<std::string> ids;
    for (const Hit& hit : hits.value()) ids.push_back(hit.id);
    return ids;
  }

  std::unique_ptr<Database> db;
  std::shared_ptr<Collection> docs;
};

TEST_F(CollectionTest, AddThenSearchReturnsIdsDistancesAndMetadata) {
  Metadata tagged = {{"year", std::int64_t{2024}}, {"tag", std::string("news")}};
  ASSERT_TRUE(add({"a", "b"}, {1, 0, 0, 0, 1, 0}, {tagged, {}}).is_ok());
  EXPECT_EQ(docs->size(), 2u);
  SearchOptions options;
  options.k = 5;
  auto hits = docs->search(std::vector<float>{1, 0, 0}, options);
  ASSERT_TRUE(hits.is_ok());
  ASSERT_EQ(hits.value().size(), 2u);
  EXPECT_EQ(hits.value()[0].id, "a");
  EXPECT_EQ(hits.value()[0].distance, 0.0f);
  ASSERT_TRUE(normalize_metadata(tagged).is_ok());
  EXPECT_EQ(hits.value()[0].metadata, tagged);
  EXPECT_EQ(hits.value()[1].id, "b");
  EXPECT_FLOAT_EQ(hits.value()[1].distance, 2.0f);
  EXPECT_TRUE(hits.value()[1].metadata.empty());
}

TEST_F(CollectionTest, MetadataOfEarlierRecordsStaysEmptyWhenLaterOnesCarrySome) {
  ASSERT_TRUE(add({"plain"}, {0, 0, 1}).is_ok());
  ASSERT_TRUE(add({"rich"}, {0, 1, 0}, {{{"k", true}}}).is_ok());
  SearchOptions options;
  options.k = 2;
  auto hits = docs->search(std::vector<float>{0, 0, 1}, options);
  ASSERT_TRUE(hits.is_ok());
  EXPECT_EQ(hits.value()[0].id, "plain");
  EXPECT_TRUE(hits.value()[0].metadata.empty());
  EXPECT_EQ(hits.value()[1].metadata, (Metadata{{"k", true}}));
}

// Each bad batch fails with its code and leaves size and results as they were.
TEST_F(CollectionTest, BadBatchesChangeNothing) {
  ASSERT_TRUE(add({"a"}, {1, 2, 3}).is_ok());
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  struct Case {
    const char* what;
    Status status;
    StatusCode expected;
  };
  const Case cases[] = {
      {"wrong dimension", add({"x"}, {1, 2}), StatusCode::kDimensionMismatch},
      {"NaN", add({"x"}, {1, nan, 3}), StatusCode::kInvalidArgument},
      {"inf", add({"x", "y"}, {1, 2, 3, -inf, 0, 0}), StatusCode::kInvalidArgument},
      {"more vectors than ids", add({"x"}, {1, 2, 3, 4, 5, 6}), StatusCode::kInvalidArgument},
      {"duplicate of stored", add({"x", "a"}, {1, 2, 3, 4, 5, 6}), StatusCode::kDuplicateId},
      {"duplicate in batch", add({"x", "x"}, {1, 2, 3, 4, 5, 6}), StatusCode::kDuplicateId},
      {"empty id", add({""}, {1, 2, 3}), StatusCode::kInvalidArgument},
      {"empty batch", add({}, {}), StatusCode::kInvalidArgument},
      {"metadata count", add({"x", "y"}, {1, 2, 3, 4, 5, 6}, {{}}), StatusCode::kInvalidArgument},
      {"duplicate key", add({"x"}, {1, 2, 3}, {{{"k", true}, {"k", false}}}),
       StatusCode::kInvalidArgument},
      {"NaN metadata", add({"x"}, {1, 2, 3}, {{{"k", std::nan("")}}}),
       StatusCode::kInvalidArgument},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(c.status.code(), c.expected) << c.what << ": " << c.status.message();
    EXPECT_FALSE(c.status.message().empty()) << c.what;
  }
  const std::string long_id(Collection::kMaxIdBytes + 1, 'x');
  EXPECT_EQ(add({long_id}, {1, 2, 3}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(docs->size(), 1u);
  EXPECT_EQ(nearest_ids({0, 0, 0}, 10), std::vector<std::string>{"a"});
}

TEST_F(CollectionTest, BadSearchesAreRefused) {
  ASSERT_TRUE(add({"a"}, {1, 2, 3}).is_ok());
  SearchOptions options;
  EXPECT_EQ(docs->search(std::vector<float>{1, 2}, options).status().code(),
            StatusCode::kDimensionMismatch);
  EXPECT_EQ(docs->search(std::vector<float>{1, std::nanf(""), 2}, options).status().code(),
            StatusCode::kInvalidArgument);
  options.k = 0;
  EXPECT_EQ(docs->search(std::vector<float>{1, 2, 3}, options).status().code(),
            StatusCode::kInvalidArgument);
  options.k = 1;
  EXPECT_EQ(docs->search_batch(std::vector<float>{1, 2, 3, 4}, options).status().code(),
            StatusCode::kDimensionMismatch);
}

TEST_F(CollectionTest, SearchBatchPadsWhenFewerThanKRecords) {
  ASSERT_TRUE(add({"a", "b"}, {1, 0, 0, 0, 1, 0}).is_ok());
  SearchOptions options;
  options.k = 3;
  auto hits = docs->search_batch(std::vector<float>{1, 0, 0, 0, 1, 0}, options);
  ASSERT_TRUE(hits.is_ok());
  const BatchHits& batch = hits.value();
  ASSERT_EQ(batch.queries, 2u);
  EXPECT_EQ(batch.ids, (std::vector<std::string>{"a", "b", "", "b", "a", ""}));
  EXPECT_TRUE(std::isinf(batch.distances[2]));
  EXPECT_EQ(batch.distances[3], 0.0f);
}

TEST_F(CollectionTest, ClosedCollectionRefusesEveryCall) {
  ASSERT_TRUE(add({"a"}, {1, 2, 3}).is_ok());
  ASSERT_TRUE(db->drop_collection("docs").is_ok());
  EXPECT_EQ(add({"b"}, {1, 2, 3}).code(), StatusCode::kClosed);
  EXPECT_EQ(docs->search(std::vector<float>{1, 2, 3}, SearchOptions{}).status().code(),
            StatusCode::kClosed);
  EXPECT_EQ(docs->search_batch(std::vector<float>{1, 2, 3}, SearchOptions{}).status().code(),
            StatusCode::kClosed);
}

std::vector<std::string> ids_of(const std::vector<std::optional<Record>>& records) {
  std::vector<std::string> ids;
  for (const auto& record : records) ids.push_back(record ? record->id : "<none>");
  return ids;
}

TEST_F(CollectionTest, GetReturnsRecordsInTheOrderAsked) {
  ASSERT_TRUE(add({"a", "b"}, {1, 2, 3, 4, 5, 6}, {{{"k", true}}, {}}).is_ok());
  auto records = docs->get(std::vector<std::string_view>{"b", "missing", "a"});
  ASSERT_TRUE(records.is_ok());
  EXPECT_EQ(ids_of(records.value()), (std::vector<std::string>{"b", "<none>", "a"}));
  EXPECT_EQ(records.value()[0]->vector, (std::vector<float>{4, 5, 6}));
  EXPECT_EQ(records.value()[2]->metadata, (Metadata{{"k", true}}));
}

TEST_F(CollectionTest, RemoveDeletesAtOnceAndCountsOnlyExistingIds) {
  ASSERT_TRUE(add({"a", "b", "c"}, {1, 0, 0, 0, 1, 0, 0, 0, 1}).is_ok());
  auto removed = docs->remove(std::vector<std::string_view>{"a", "missing", "a"});
  ASSERT_TRUE(removed.is_ok());
  EXPECT_EQ(removed.value(), 1u);
  EXPECT_EQ(docs->size(), 2u);
  EXPECT_EQ(nearest_ids({1, 0, 0}, 5), (std::vector<std::string>{"b", "c"}));
  EXPECT_FALSE(docs->get(std::vector<std::string_view>{"a"}).value()[0].has_value());
  ASSERT_TRUE(add({"a"}, {1, 0, 0}).is_ok());  // a deleted id can be added again
  EXPECT_EQ(nearest_ids({1, 0, 0}, 1), std::vector<std::string>{"a"});
}

TEST_F(CollectionTest, UpsertReplacesVectorAndMetadataOfExistingIds) {
  ASSERT_TRUE(add({"a", "b"}, {1, 0, 0, 0, 1, 0}, {{{"v", std::int64_t{1}}}, {}}).is_ok());
  ASSERT_TRUE(add({"x"}, {0, 0, 1}).is_ok());
  ASSERT_TRUE(
      upsert_records({"a", "c"}, {0, 0, 5, 0, 5, 0}, {{{"v", std::int64_t{2}}}, {}}).is_ok());
  EXPECT_EQ(docs->size(), 4u);
  auto records = docs->get(std::vector<std::string_view>{"a"});
  EXPECT_EQ(records.value()[0]->vector, (std::vector<float>{0, 0, 5}));
  EXPECT_EQ(records.value()[0]->metadata, (Metadata{{"v", std::int64_t{2}}}));
  EXPECT_EQ(nearest_ids({1, 0, 0}, 1), std::vector<std::string>{"b"});
  EXPECT_EQ(upsert_records({"q", "q"}, {1, 2, 3, 4, 5, 6}).code(), StatusCode::kDuplicateId);
  EXPECT_EQ(docs->size(), 4u);
}

// Deleting a quarter of the slots compacts by itself; compact() reclaims the rest; ids, vectors,
// metadata and search results survive both.
TEST_F(CollectionTest, CompactionKeepsEveryLiveRecord) {
  const std::size_t n = 2000;
  const auto rows = testing::clustered_vectors(n, 3, 4, 13);
  std::vector<std::string> names;
  std::vector<Metadata> metadata;
  for (std::size_t i = 0; i < n; ++i) {
    names.push_back("id" + std::to_string(i));
    metadata.push_back({{"i", static_cast<std::int64_t>(i)}});
  }
  std::vector<std::string_view> all(names.begin(), names.end());
  ASSERT_TRUE(add(all, rows, metadata).is_ok());
  std::vector<std::string_view> first_tenth(all.begin(), all.begin() + n / 10);
  ASSERT_EQ(docs->remove(first_tenth).value(), n / 10);
  EXPECT_EQ(docs->compact().value(), n / 10);
  EXPECT_EQ(docs->compact().value(), 0u);  // nothing left to reclaim
  std::vector<std::string_view> next_quarter(all.begin() + n / 10, all.begin() + n / 10 + n / 4);
  ASSERT_EQ(docs->remove(next_quarter).value(), n / 4);  // crosses a quarter: compacts by itself
  EXPECT_EQ(docs->compact().value(), 0u);
  EXPECT_EQ(docs->size(), n - n / 10 - n / 4);
  auto records = docs->get(all).value();
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_EQ(records[i].has_value(), i >= n / 10 + n / 4) << i;
    if (!records[i]) continue;
    EXPECT_EQ(records[i]->vector,
              std::vector<float>(rows.begin() + i * 3, rows.begin() + i * 3 + 3));
    EXPECT_EQ(records[i]->metadata, (Metadata{{"i", static_cast<std::int64_t>(i)}}));
  }
  const std::size_t probe = n - 1;
  EXPECT_EQ(nearest_ids({rows[probe * 3], rows[probe * 3 + 1], rows[probe * 3 + 2]}, 1),
            std::vector<std::string>{names[probe]});
}

// Two threads search while batches are added: every hit is an id added before or during the
// search and results stay sorted (run under TSan in CI).
// Regression (found by the crash-state exploration): in a quantized collection, the relinking
// that compaction and deletes trigger pruned full lists with a code query it had never prepared
// and crashed. The sequence is the one that crashed: batches, two compactions, more batches, a
// delete by filter; afterwards every live record is found by searching its own vector.
TEST(QuantizedCollection, RelinkingAfterCompactionAndDeletesWorks) {
  auto opened = Database::open(":memory:", DatabaseOptions{1});
  ASSERT_TRUE(opened.is_ok());
  std::unique_ptr<Database> db = std::move(opened).value();
  CollectionOptions options;
  options.dim = 12;
  options.m = 8;
  options.ef_construction = 32;
  options.quantization = Quantization::kSq8;
  std::shared_ptr<Collection> sq = db->create_collection("sq", options).value();
  std::vector<std::string> all_ids;
  std::vector<float> all_vectors;
  const auto add_batch = [&](int count, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal;
    std::vector<std::string> ids;
    std::vector<Metadata> metadata;
    std::vector<float> vectors(static_cast<std::size_t>(count) * 12);
    for (float& x : vectors) x = normal(rng);
    for (int i = 0; i < count; ++i) {
      const std::size_t n = all_ids.size() + ids.size();
      ids.push_back("x" + std::to_string(n));
      metadata.push_back({{"tag", Value("t" + std::to_string(n % 4))}});
    }
    const std::vector<std::string_view> views(ids.begin(), ids.end());
    ASSERT_TRUE(sq->add({.ids = views, .vectors = vectors, .metadata = metadata}).is_ok());
    all_ids.insert(all_ids.end(), ids.begin(), ids.end());
    all_vectors.insert(all_vectors.end(), vectors.begin(), vectors.end());
  };
  unsigned seed = 1;
  for (int count : {15, 13, 9, 2, 14, 20, 7, 10}) add_batch(count, seed++);
  ASSERT_TRUE(sq->compact().is_ok());
  ASSERT_TRUE(sq->compact().is_ok());
  seed += 2;  // the seeds of the recorded sequence count the compactions too
  for (int count : {2, 5, 6, 10}) add_batch(count, seed++);
  FilterExpr tag_t0;
  tag_t0.op = FilterOp::kEq;
  tag_t0.field = "tag";
  tag_t0.operand = Value("t0");
  ASSERT_TRUE(sq->remove_where(tag_t0).is_ok());
  SearchOptions search;
  search.k = 1;
  for (std::size_t i = 0; i < all_ids.size(); ++i) {
    if (i % 4 == 0) continue;  // deleted (tag t0)
    auto hits = sq->search({all_vectors.data() + i * 12, 12}, search);
    ASSERT_TRUE(hits.is_ok()) << hits.status().message();
    ASSERT_EQ(hits.value().size(), 1u);
    EXPECT_EQ(hits.value()[0].id, all_ids[i]);
  }
}

TEST_F(CollectionTest, ConcurrentSearchesDuringAdds) {
  const std::size_t n = 3000;
  const auto rows = testing::clustered_vectors(n, 3, 5, 11);
  std::vector<std::string> names;
  for (std::size_t i = 0; i < n; ++i) names.push_back("id" + std::to_string(i));
  std::atomic<bool> done{false};
  auto reader = [&] {
    SearchOptions options;
    options.k = 5;
    std::size_t q = 0;
    while (!done.load()) {
      auto hits = docs->search(std::span<const float>(rows.data() + (q++ % n) * 3, 3), options);
      ASSERT_TRUE(hits.is_ok());
      for (std::size_t i = 1; i < hits.value().size(); ++i) {
        ASSERT_LE(hits.value()[i - 1].distance, hits.value()[i].distance);
      }
      for (const Hit& hit : hits.value()) ASSERT_EQ(hit.id.rfind("id", 0), 0u);
    }
  };
  std::thread a(reader), b(reader);
  for (std::size_t first = 0; first < n; first += 300) {
    std::vector<std::string_view> ids(names.begin() + first, names.begin() + first + 300);
    ASSERT_TRUE(add(ids, {rows.begin() + first * 3, rows.begin() + (first + 300) * 3}).is_ok());
  }
  done.store(true);
  a.join();
  b.join();
  EXPECT_EQ(docs->size(), n);
}

// Searches on two threads while another deletes and upserts: a search never returns an id
// deleted before it started, and every hit is a live or concurrently changed id (TSan in CI).
TEST_F(CollectionTest, ConcurrentSearchesDuringDeletesAndUpserts) {
  const std::size_t n = 3000;
  const auto rows = testing::clustered_vectors(n, 3, 5, 12);
  std::vector<std::string> names;
  for (std::size_t i = 0; i < n; ++i) names.push_back("id" + std::to_string(i));
  std::vector<std::string_view> all(names.begin(), names.end());
  ASSERT_TRUE(add(all, rows).is_ok());
  std::atomic<std::size_t> deleted_below{0};  // ids "id0" .. below this index are gone for good
  std::atomic<bool> done{false};
  auto reader = [&] {
    SearchOptions options;
    options.k = 10;
    std::size_t q = 0;
    while (!done.load()) {
      const std::size_t gone = deleted_below.load();
      auto hits = docs->search(std::span<const float>(rows.data() + (q++ % n) * 3, 3), options);
      ASSERT_TRUE(hits.is_ok());
      for (const Hit& hit : hits.value()) ASSERT_GE(std::stoul(hit.id.substr(2)), gone) << hit.id;
    }
  };
  std::thread a(reader), b(reader);
  for (std::size_t first = 0; first < n / 2; first += 100) {
    std::vector<std::string_view> ids(all.begin() + first, all.begin() + first + 100);
    ASSERT_EQ(docs->remove(ids).value(), 100u);
    deleted_below.store(first + 100);
    std::vector<std::string_view> changed(all.end() - 100 - first, all.end() - first);
    ASSERT_TRUE(
        upsert_records(changed, {rows.end() - (first + 100) * 3, rows.end() - first * 3}).is_ok());
  }
  done.store(true);
  a.join();
  b.join();
  EXPECT_EQ(docs->size(), n / 2);
}

}  // namespace
}  // namespace omendb
