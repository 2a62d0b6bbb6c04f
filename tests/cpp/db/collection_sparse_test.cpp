// Sparse vector fields in a collection: the index follows adds, upserts, deletes, compaction,
// snapshots and log replay (searches always answer as a brute-force inner product over the live
// records' stored vectors), filtered sparse search, hybrid fusion with a sparse signal, and bad
// input that changes nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "database_test_util.h"
#include "filter/filter_string.h"

namespace omendb::database_test {
namespace {

CollectionOptions with_sparse() {
  CollectionOptions options = options_with();
  options.sparse_vectors = {"splade", "other"};
  return options;
}

// What a test wrote: id -> the record's "splade" vector (nothing when it lacks one).
using SparseModel = std::map<std::string, std::optional<SparseVector>>;

// A sparse vector of 1 to 12 entries over 200 indices, the low ones frequent; weights in (0, 2].
SparseVector random_sparse(std::mt19937& random) {
  std::map<std::uint32_t, float> entries;
  const std::size_t count = 1 + random() % 12;
  while (entries.size() < count) {
    const auto index = static_cast<std::uint32_t>(std::min(random() % 200, random() % 200));
    entries[index] = 0.01f + static_cast<float>(random() % 200) / 100.0f;
  }
  SparseVector vector;
  for (const auto& [index, value] : entries) {
    vector.indices.push_back(index);
    vector.values.push_back(value);
  }
  return vector;
}

// Writes `count` records "<prefix><i>": every fourth without a "splade" vector; even ones carry
// {"even": true}; none has the "other" field.
Status write_sparse(Collection& collection, SparseModel& model, const std::string& prefix,
                    std::size_t count, std::uint32_t seed, bool upsert = false) {
  std::mt19937 random(seed);
  std::normal_distribution<float> normal;
  std::vector<std::string> ids;
  std::vector<float> vectors;
  std::vector<Metadata> metadata;
  std::vector<std::uint8_t> present;
  std::vector<std::uint32_t> lengths;
  std::vector<std::uint32_t> indices;
  std::vector<float> values;
  for (std::size_t i = 0; i < count; ++i) {
    ids.push_back(numbered(prefix, i));
    for (std::size_t j = 0; j < kDim; ++j) vectors.push_back(normal(random));
    metadata.push_back(i % 2 == 0 ? Metadata{{"even", Value(true)}} : Metadata{});
    present.push_back(i % 4 != 3);
    if (!present.back()) {
      model[ids.back()] = std::nullopt;
      continue;
    }
    const SparseVector vector = random_sparse(random);
    model[ids.back()] = vector;
    lengths.push_back(static_cast<std::uint32_t>(vector.indices.size()));
    indices.insert(indices.end(), vector.indices.begin(), vector.indices.end());
    values.insert(values.end(), vector.values.begin(), vector.values.end());
  }
  const std::vector<std::string_view> id_views(ids.begin(), ids.end());
  const SparseRows rows{
      .field = 0, .present = present, .lengths = lengths, .indices = indices, .values = values};
  const RecordBatch batch{.ids = id_views,
                          .vectors = vectors,
                          .metadata = metadata,
                          .sparse = std::span(&rows, 1)};
  return upsert ? collection.upsert(batch) : collection.add(batch);
}

// The inner product of two sparse vectors and whether they share an index.
std::pair<double, bool> dot(const SparseVector& a, const SparseVector& b) {
  double sum = 0;
  bool shared = false;
  for (std::size_t i = 0, j = 0; i < a.indices.size() && j < b.indices.size();) {
    if (a.indices[i] < b.indices[j]) {
      ++i;
    } else if (a.indices[i] > b.indices[j]) {
      ++j;
    } else {
      sum += static_cast<double>(a.values[i++]) * b.values[j++];
      shared = true;
    }
  }
  return {sum, shared};
}

// get() returns every stored vector, and search_sparse() answers as a brute-force scan of the
// model would: the same scores in order and, away from ties, the same ids.
void expect_sparse_matches(const Collection& collection, const SparseModel& model,
                           const FilterExpr* filter = nullptr) {
  std::vector<std::string_view> ids;
  for (const auto& entry : model) ids.push_back(entry.first);
  auto records = collection.get(ids);
  ASSERT_TRUE(records.is_ok());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    ASSERT_TRUE(records.value()[i].has_value()) << ids[i];
    ASSERT_EQ(records.value()[i]->sparse.size(), 2u);
    EXPECT_EQ(records.value()[i]->sparse[0], model.at(std::string(ids[i]))) << ids[i];
    EXPECT_FALSE(records.value()[i]->sparse[1].has_value());
  }
  std::mt19937 random(99);
  for (int q = 0; q < 8; ++q) {
    const SparseVector query = random_sparse(random);
    std::vector<std::pair<double, std::string>> expected;
    for (const auto& [id, vector] : model) {
      if (!vector || (filter != nullptr && std::stoul(id.substr(1)) % 2 != 0)) continue;
      const auto [score, shared] = dot(*vector, query);
      if (shared) expected.emplace_back(score, id);
    }
    std::sort(expected.begin(), expected.end(),
              [](const auto& x, const auto& y) { return x.first > y.first; });
    SearchOptions options;
    options.filter = filter;
    auto hits = collection.search_sparse({"splade", query.indices, query.values}, options);
    ASSERT_TRUE(hits.is_ok()) << hits.status().message();
    ASSERT_EQ(hits.value().size(), std::min<std::size_t>(10, expected.size()));
    for (std::size_t i = 0; i < hits.value().size(); ++i) {
      const Hit& hit = hits.value()[i];
      EXPECT_NEAR(hit.score, expected[i].first, 1e-5 * std::abs(expected[i].first) + 1e-6);
      EXPECT_EQ(hit.distance, -hit.score);
      const bool tied = (i > 0 && expected[i - 1].first - expected[i].first < 1e-5) ||
                        (i + 1 < expected.size() && expected[i].first - expected[i + 1].first < 1e-5);
      if (!tied) {
        EXPECT_EQ(hit.id, expected[i].second) << "query " << q << " rank " << i;
      }
    }
  }
}

TEST(CollectionSparse, TheIndexFollowsAddsUpsertsDeletesAndCompaction) {
  auto db = Database::open(":memory:", {});
  ASSERT_TRUE(db.is_ok());
  auto created = db.value()->create_collection("docs", with_sparse());
  ASSERT_TRUE(created.is_ok()) << created.status().message();
  Collection& collection = *created.value();
  SparseModel model;
  ASSERT_TRUE(write_sparse(collection, model, "a", 600, 1).is_ok());
  expect_sparse_matches(collection, model);
  ASSERT_TRUE(write_sparse(collection, model, "a", 150, 2, /*upsert=*/true).is_ok());
  expect_sparse_matches(collection, model);
  std::vector<std::string> gone;
  for (std::size_t i = 0; i < 600; i += 2) gone.push_back(numbered("a", i));
  const std::vector<std::string_view> views(gone.begin(), gone.end());
  ASSERT_TRUE(collection.remove(views).is_ok());  // half deleted: compaction runs by itself
  for (const std::string& id : gone) model.erase(id);
  expect_sparse_matches(collection, model);
  ASSERT_TRUE(write_sparse(collection, model, "b", 200, 3).is_ok());
  ASSERT_TRUE(collection.compact().is_ok());
  expect_sparse_matches(collection, model);
}

TEST(CollectionSparse, FilteredSearchKeepsOnlyMatches) {
  auto db = Database::open(":memory:", {});
  ASSERT_TRUE(db.is_ok());
  auto created = db.value()->create_collection("docs", with_sparse());
  ASSERT_TRUE(created.is_ok());
  SparseModel model;
  ASSERT_TRUE(write_sparse(*created.value(), model, "a", 500, 4).is_ok());
  auto filter = parse_filter_string("even = true");
  ASSERT_TRUE(filter.is_ok());
  expect_sparse_matches(*created.value(), model, &filter.value());
}

TEST(CollectionSparse, BadSparseInputChangesNothing) {
  auto db = Database::open(":memory:", {});
  ASSERT_TRUE(db.is_ok());
  auto created = db.value()->create_collection("docs", with_sparse());
  ASSERT_TRUE(created.is_ok());
  Collection& collection = *created.value();
  const std::vector<std::string_view> ids = {"x", "y"};
  const std::vector<float> vectors(2 * kDim, 0.5f);
  const auto add = [&](const SparseRows& rows) {
    return collection.add({.ids = ids, .vectors = vectors, .metadata = {}, .sparse = std::span(&rows, 1)});
  };
  const std::vector<std::uint32_t> two = {1, 1};
  const std::vector<std::uint32_t> both_in_first = {2, 0};
  const std::vector<std::uint32_t> unsorted = {5, 3};
  const std::vector<std::uint32_t> sorted = {3, 5};
  const std::vector<float> finite = {1.0f, 2.0f};
  const std::vector<float> nan = {1.0f, std::nanf("")};
  struct Case {
    SparseRows rows;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{.field = 2, .lengths = two, .indices = sorted, .values = finite}, "out of range"},
      {{.field = 0, .lengths = std::span(two).first(1), .indices = sorted, .values = finite},
       "1 lengths for 2 present records"},
      {{.field = 0, .lengths = both_in_first, .indices = unsorted, .values = finite},
       "indices must strictly increase: 3 follows 5"},
      {{.field = 0, .lengths = two, .indices = sorted, .values = nan}, "not finite"},
      {{.field = 0, .lengths = two, .indices = sorted, .values = std::span(finite).first(1)},
       "there are 2 indices and 1 values"},
  };
  for (const Case& c : cases) {
    const Status status = add(c.rows);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << c.message;
    EXPECT_NE(status.message().find(c.message), std::string::npos) << status.message();
    EXPECT_EQ(collection.size(), 0u);
  }
  SearchOptions options;
  const std::vector<std::uint32_t> index = {3};
  const std::vector<float> weight = {1.0f};
  auto unknown = collection.search_sparse({"nope", index, weight}, options);
  EXPECT_NE(unknown.status().message().find("unknown sparse field 'nope'"), std::string::npos);
  auto empty = collection.search_sparse({"splade", {}, {}}, options);
  EXPECT_NE(empty.status().message().find("the sparse query is empty"), std::string::npos);
  auto bad = collection.search_sparse({"splade", unsorted, finite}, options);
  EXPECT_NE(bad.status().message().find("strictly increase"), std::string::npos);

  CollectionOptions clash = with_sparse();
  clash.sparse_vectors = {"default"};
  EXPECT_NE(db.value()->create_collection("clash", clash).status().message().find("declared twice"),
            std::string::npos);
}

TEST(CollectionSparse, SnapshotsAndLogReplayKeepTheSparseIndex) {
  TempDir dir;
  SparseModel model;
  {
    auto db = open_at(dir.path());
    auto created = db->create_collection("docs", with_sparse());
    ASSERT_TRUE(created.is_ok()) << created.status().message();
    ASSERT_TRUE(write_sparse(*created.value(), model, "a", 300, 5).is_ok());
    ASSERT_TRUE(db->checkpoint().is_ok());
    ASSERT_TRUE(write_sparse(*created.value(), model, "a", 40, 6, true).is_ok());
    const std::vector<std::string_view> gone = {"a1", "a2", "a250"};
    ASSERT_TRUE(created.value()->remove(gone).is_ok());
    for (const std::string_view id : gone) model.erase(std::string(id));
    const fs::path crashed = dir.path().parent_path() / (dir.path().filename().string() + "-c");
    fs::copy(dir.path(), crashed, fs::copy_options::recursive);
    {
      auto replayed = open_at(crashed);  // the snapshot, then the log
      auto collection = replayed->get_collection("docs");
      ASSERT_TRUE(collection.is_ok());
      EXPECT_EQ(collection.value()->options().sparse_vectors, with_sparse().sparse_vectors);
      expect_sparse_matches(*collection.value(), model);
      ASSERT_TRUE(replayed->close().is_ok());
    }
    fs::remove_all(crashed);
  }
  auto reopened = open_at(dir.path());  // the checkpoint of close()
  auto collection = reopened->get_collection("docs");
  ASSERT_TRUE(collection.is_ok());
  expect_sparse_matches(*collection.value(), model);
}

TEST(HybridSearch, SparseSignalsFuseWithDenseOnes) {
  auto db = Database::open(":memory:", {});
  ASSERT_TRUE(db.is_ok());
  auto created = db.value()->create_collection("docs", with_sparse());
  ASSERT_TRUE(created.is_ok());
  Collection& collection = *created.value();
  // "dense" is nearest to the dense query but shares no index with the sparse one; "sparse" is
  // far away but holds the query's index.
  const std::vector<std::string_view> ids = {"dense", "sparse", "far"};
  std::vector<float> vectors(3 * kDim, 0.0f);
  for (std::size_t j = 0; j < kDim; ++j) {
    vectors[kDim + j] = 5.0f;
    vectors[2 * kDim + j] = 9.0f;
  }
  const std::vector<std::uint8_t> present = {0, 1, 1};
  const std::vector<std::uint32_t> lengths = {1, 1};
  const std::vector<std::uint32_t> indices = {7, 8};
  const std::vector<float> values = {2.0f, 3.0f};
  const SparseRows rows{
      .field = 0, .present = present, .lengths = lengths, .indices = indices, .values = values};
  ASSERT_TRUE(collection.add({.ids = ids, .vectors = vectors, .metadata = {}, .sparse = std::span(&rows, 1)})
                  .is_ok());
  const std::vector<float> query(kDim, 0.0f);
  const std::vector<std::uint32_t> query_indices = {7};
  const std::vector<float> query_values = {1.5f};
  const VectorQuery dense{"", query};
  const SparseQuery sparse{"splade", query_indices, query_values};
  SearchOptions options;
  options.k = 2;
  auto alone = collection.search_hybrid({.sparse = std::span(&sparse, 1)}, options);
  ASSERT_TRUE(alone.is_ok()) << alone.status().message();
  ASSERT_EQ(alone.value().size(), 1u);  // only "sparse" shares index 7
  EXPECT_EQ(alone.value()[0].id, "sparse");
  EXPECT_FLOAT_EQ(alone.value()[0].score, 3.0f);
  auto fused = collection.search_hybrid(
      {.vectors = std::span(&dense, 1), .sparse = std::span(&sparse, 1)}, options);
  ASSERT_TRUE(fused.is_ok()) << fused.status().message();
  ASSERT_EQ(fused.value().size(), 2u);
  // RRF: "dense" is first of the vectors (1/61) and absent from the sparse ranking; "sparse" is
  // second of the vectors (1/62) and first of the sparse ranking (1/61).
  EXPECT_EQ(fused.value()[0].id, "sparse");
  EXPECT_DOUBLE_EQ(fused.value()[0].score, static_cast<float>(1.0 / 62 + 1.0 / 61));
  EXPECT_EQ(fused.value()[1].id, "dense");
}

}  // namespace
}  // namespace omendb::database_test
