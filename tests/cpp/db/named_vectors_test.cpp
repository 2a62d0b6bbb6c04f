// Named vector fields: a collection with several vector fields, each with its own graph, where a
// record may lack any field but the first. Writes, searches per field, get, upsert, delete,
// compaction, filters, snapshots and log replay are checked against a model of what was written.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "database_test_util.h"
#include "filter/filter_string.h"

namespace omendb::database_test {
namespace {

constexpr std::size_t kCaptionDim = 6;
constexpr std::size_t kTagsDim = 3;

// A collection of three fields: "image" (kDim, l2), "caption" (kCaptionDim, l2) and "tags"
// (kTagsDim, ip, sq8).
CollectionOptions three_fields() {
  CollectionOptions options = options_with();
  options.vector_name = "image";
  options.more_vectors = {
      {.name = "caption", .dim = kCaptionDim, .metric = Metric::kL2},
      {.name = "tags", .dim = kTagsDim, .metric = Metric::kIp, .quantization = Quantization::kSq8},
  };
  return options;
}

// What a test wrote: id -> the vector of each field (nothing where the record lacks it).
using FieldModel = std::map<std::string, std::vector<std::optional<std::vector<float>>>>;

std::vector<float> random_row(std::size_t dim, std::mt19937& random) {
  std::normal_distribution<float> normal;
  std::vector<float> row(dim);
  for (float& x : row) x = normal(random);
  return row;
}

// Writes `count` records "<prefix><i>": every record has an image, record i lacks its caption
// when i % 3 == 2, and all have tags when `with_tags`. Even records carry {"even": true}.
Status write_records(Collection& collection, FieldModel& model, const std::string& prefix,
                     std::size_t count, std::uint32_t seed, bool with_tags, bool upsert = false) {
  std::mt19937 random(seed);
  std::vector<std::string> ids;
  std::vector<float> images;
  std::vector<float> captions;
  std::vector<std::uint8_t> has_caption;
  std::vector<float> tags;
  std::vector<Metadata> metadata;
  for (std::size_t i = 0; i < count; ++i) {
    ids.push_back(numbered(prefix, i));
    auto& fields = model[ids.back()];
    fields.assign(3, std::nullopt);
    fields[0] = random_row(kDim, random);
    images.insert(images.end(), fields[0]->begin(), fields[0]->end());
    has_caption.push_back(i % 3 != 2);
    if (has_caption.back()) {
      fields[1] = random_row(kCaptionDim, random);
      captions.insert(captions.end(), fields[1]->begin(), fields[1]->end());
    }
    if (with_tags) {
      fields[2] = random_row(kTagsDim, random);
      tags.insert(tags.end(), fields[2]->begin(), fields[2]->end());
    }
    metadata.push_back(i % 2 == 0 ? Metadata{{"even", Value(true)}} : Metadata{});
  }
  std::vector<FieldRows> more = {{.field = 1, .present = has_caption, .vectors = captions}};
  if (with_tags) more.push_back({.field = 2, .present = {}, .vectors = tags});
  const std::vector<std::string_view> views(ids.begin(), ids.end());
  const RecordBatch batch{
      .ids = views, .vectors = images, .metadata = metadata, .more_vectors = more};
  return upsert ? collection.upsert(batch) : collection.add(batch);
}

// The ids of the k records nearest to `query` in `field` by brute force over the model.
std::vector<std::string> nearest(const FieldModel& model, std::size_t field,
                                 const std::vector<float>& query, Metric metric, std::size_t k) {
  std::vector<std::pair<float, std::string>> scored;
  for (const auto& [id, fields] : model) {
    if (!fields[field]) continue;
    float distance = 0;
    for (std::size_t j = 0; j < query.size(); ++j) {
      const float a = query[j];
      const float b = (*fields[field])[j];
      distance += metric == Metric::kIp ? -a * b : (a - b) * (a - b);
    }
    scored.emplace_back(distance, id);
  }
  std::sort(scored.begin(), scored.end());
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < std::min(k, scored.size()); ++i) ids.push_back(scored[i].second);
  return ids;
}

// Searches field `name` for `query`; the hits' ids.
std::vector<std::string> search_ids(const Collection& collection, std::string_view name,
                                    const std::vector<float>& query, std::size_t k, bool exact,
                                    const FilterExpr* filter = nullptr) {
  SearchOptions options;
  options.k = k;
  options.exact = exact;
  options.vector_field = name;
  options.filter = filter;
  auto hits = collection.search(query, options);
  EXPECT_TRUE(hits.is_ok()) << hits.status().message();
  std::vector<std::string> ids;
  if (hits.is_ok()) {
    for (const Hit& hit : hits.value()) ids.push_back(hit.id);
  }
  return ids;
}

// `collection` holds exactly the model: get() returns each field as written (or nothing), exact
// searches of each field agree with brute force, and graph searches find each record's own
// caption and image first and never return a record that lacks the field searched.
void expect_matches(const Collection& collection, const FieldModel& model) {
  ASSERT_EQ(collection.size(), model.size());
  std::vector<std::string_view> ids;
  for (const auto& [id, fields] : model) ids.push_back(id);
  auto got = collection.get(ids);
  ASSERT_TRUE(got.is_ok());
  std::size_t i = 0;
  for (const auto& [id, fields] : model) {
    const std::optional<Record>& record = got.value()[i++];
    ASSERT_TRUE(record.has_value()) << id;
    EXPECT_EQ(record->vector, *fields[0]) << id;
    ASSERT_EQ(record->more_vectors.size(), 2u);
    EXPECT_EQ(record->more_vectors[0], fields[1]) << id;
    EXPECT_EQ(record->more_vectors[1], fields[2]) << id;
  }
  std::mt19937 random(99);
  for (int q = 0; q < 10; ++q) {
    const std::vector<float> caption = random_row(kCaptionDim, random);
    EXPECT_EQ(search_ids(collection, "caption", caption, 10, true),
              nearest(model, 1, caption, Metric::kL2, 10));
    const std::vector<float> tags = random_row(kTagsDim, random);
    EXPECT_EQ(search_ids(collection, "tags", tags, 5, true),
              nearest(model, 2, tags, Metric::kIp, 5));
  }
  for (const auto& [id, fields] : model) {
    if (fields[1]) {
      const std::vector<std::string> found =
          search_ids(collection, "caption", *fields[1], 1, false);
      ASSERT_EQ(found.size(), 1u);
      EXPECT_EQ(found[0], id);
    }
    const std::vector<std::string> found = search_ids(collection, "image", *fields[0], 1, false);
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0], id);
  }
  // A search of a field returns only records that have it, however many are asked for.
  const std::vector<std::string> all =
      search_ids(collection, "caption", std::vector<float>(kCaptionDim, 0.5f), model.size(), false);
  std::size_t with_caption = 0;
  for (const auto& [id, fields] : model) with_caption += fields[1] ? 1 : 0;
  EXPECT_EQ(all.size(), with_caption);
  for (const std::string& id : all) EXPECT_TRUE(model.at(id)[1].has_value()) << id;
}

TEST(NamedVectors, OptionsAreValidated) {
  EXPECT_TRUE(three_fields().validate().is_ok());
  CollectionOptions twice = three_fields();
  twice.more_vectors[1].name = "image";
  EXPECT_NE(twice.validate().message().find("'image' is declared twice"), std::string::npos);
  CollectionOptions bad_name = three_fields();
  bad_name.more_vectors[0].name = "a b";
  EXPECT_NE(bad_name.validate().message().find("may hold only"), std::string::npos);
  CollectionOptions empty_name = three_fields();
  empty_name.vector_name = "";
  EXPECT_NE(empty_name.validate().message().find("is empty"), std::string::npos);
  CollectionOptions bad_dim = three_fields();
  bad_dim.more_vectors[0].dim = 0;
  EXPECT_EQ(bad_dim.validate().message(),
            "vector field 'caption': dim must be between 1 and 65536, got 0");
  CollectionOptions many = options_with();
  for (std::size_t i = 0; i < CollectionOptions::kMaxVectorFields; ++i) {
    many.more_vectors.push_back({.name = numbered("f", i), .dim = 2});
  }
  EXPECT_NE(many.validate().message().find("at most 64 vector fields"), std::string::npos);
  EXPECT_EQ(three_fields().field_number("tags"), 2u);
  EXPECT_EQ(three_fields().field_number(""), 0u);
  EXPECT_FALSE(three_fields().field_number("nope").has_value());
}

TEST(NamedVectors, WritesSearchesUpsertsDeletesAndCompactionsKeepEveryField) {
  auto db = Database::open(":memory:", {});
  ASSERT_TRUE(db.is_ok());
  auto created = db.value()->create_collection("products", three_fields());
  ASSERT_TRUE(created.is_ok()) << created.status().message();
  Collection& collection = *created.value();
  FieldModel model;
  // The first batch has no tags at all: the tags graph starts with the second.
  ASSERT_TRUE(write_records(collection, model, "a", 300, 1, /*with_tags=*/false).is_ok());
  ASSERT_TRUE(write_records(collection, model, "b", 300, 2, /*with_tags=*/true).is_ok());
  expect_matches(collection, model);

  // Upserts that drop a caption and add tags; deletes; then compaction renumbers every field.
  ASSERT_TRUE(write_records(collection, model, "a", 90, 3, true, /*upsert=*/true).is_ok());
  std::vector<std::string> removed;
  for (std::size_t i = 0; i < 200; ++i) removed.push_back(numbered("b", i));
  const std::vector<std::string_view> views(removed.begin(), removed.end());
  ASSERT_TRUE(collection.remove(views).is_ok());
  for (const std::string& id : removed) model.erase(id);
  expect_matches(collection, model);
  auto reclaimed = collection.compact();
  ASSERT_TRUE(reclaimed.is_ok());
  EXPECT_GT(reclaimed.value(), 0u);
  expect_matches(collection, model);

  // Filters apply to the field searched.
  Result<FilterExpr> even = parse_filter_string("even = true");
  ASSERT_TRUE(even.is_ok());
  const std::vector<float> query(kCaptionDim, 0.25f);
  const std::vector<std::string> hits =
      search_ids(collection, "caption", query, 1000, false, &even.value());
  std::size_t expected = 0;
  for (const auto& [id, fields] : model) {
    const std::size_t i = std::stoul(id.substr(1));
    expected += (fields[1] && i % 2 == 0) ? 1 : 0;
  }
  EXPECT_EQ(hits.size(), expected);
}

TEST(NamedVectors, BadBatchesAndSearchesChangeNothing) {
  auto db = Database::open(":memory:", {});
  ASSERT_TRUE(db.is_ok());
  auto created = db.value()->create_collection("products", three_fields());
  ASSERT_TRUE(created.is_ok());
  Collection& collection = *created.value();
  const std::vector<std::string_view> ids = {"x", "y"};
  const std::vector<float> images(2 * kDim, 1.0f);
  const std::vector<float> captions(2 * kCaptionDim, 1.0f);
  const auto add = [&](std::vector<FieldRows> more) {
    return collection.add({.ids = ids, .vectors = images, .metadata = {}, .more_vectors = more});
  };
  EXPECT_NE(add({{.field = 3, .vectors = captions}}).message().find("out of range"),
            std::string::npos);
  EXPECT_NE(add({{.field = 0, .vectors = captions}}).message().find("out of range"),
            std::string::npos);
  EXPECT_NE(add({{.field = 1, .vectors = captions}, {.field = 1, .vectors = captions}})
                .message()
                .find("given twice"),
            std::string::npos);
  const Status short_rows = add({{.field = 1, .vectors = {captions.data(), kCaptionDim}}});
  EXPECT_EQ(short_rows.code(), StatusCode::kDimensionMismatch);
  EXPECT_NE(short_rows.message().find("vectors of field 'caption' must hold 2 x 6"),
            std::string::npos);
  const std::vector<std::uint8_t> one_flag = {1};
  EXPECT_NE(
      add({{.field = 1, .present = one_flag, .vectors = captions}}).message().find("one per id"),
      std::string::npos);
  std::vector<float> nan_caption = captions;
  nan_caption[7] = std::nanf("");
  EXPECT_NE(add({{.field = 1, .vectors = nan_caption}}).message().find("non-finite"),
            std::string::npos);
  EXPECT_EQ(collection.size(), 0u);

  ASSERT_TRUE(add({{.field = 1, .vectors = captions}}).is_ok());
  SearchOptions options;
  options.vector_field = "colour";
  auto unknown = collection.search(std::vector<float>(kDim, 0.0f), options);
  ASSERT_FALSE(unknown.is_ok());
  EXPECT_EQ(unknown.status().message(),
            "unknown vector field 'colour'; collection 'products' has 'image', 'caption', 'tags'");
  options.vector_field = "caption";
  auto wrong_dim = collection.search(std::vector<float>(kDim, 0.0f), options);
  ASSERT_FALSE(wrong_dim.is_ok());
  EXPECT_EQ(wrong_dim.status().code(), StatusCode::kDimensionMismatch);
  auto batch = collection.search_batch(std::vector<float>(3 * kCaptionDim, 0.0f), options);
  ASSERT_TRUE(batch.is_ok()) << batch.status().message();
  EXPECT_EQ(batch.value().queries, 3u);
  EXPECT_EQ(batch.value().ids[0], "x");  // both records have the same caption; x is first
}

TEST(NamedVectors, SnapshotsAndLogReplayKeepEveryField) {
  TempDir dir;
  FieldModel model;
  {
    auto db = open_at(dir.path());
    auto created = db->create_collection("products", three_fields());
    ASSERT_TRUE(created.is_ok()) << created.status().message();
    ASSERT_TRUE(write_records(*created.value(), model, "a", 400, 5, true).is_ok());
    ASSERT_TRUE(db->checkpoint().is_ok());  // these are in the snapshot
    ASSERT_TRUE(write_records(*created.value(), model, "b", 100, 6, false).is_ok());
    ASSERT_TRUE(write_records(*created.value(), model, "a", 50, 7, true, true).is_ok());
    std::vector<std::string> removed = {"a300", "a301", "b7"};
    const std::vector<std::string_view> views(removed.begin(), removed.end());
    ASSERT_TRUE(created.value()->remove(views).is_ok());
    for (const std::string& id : removed) model.erase(id);
    // Closing checkpoints; simulate a crash instead by copying the folder first.
    const fs::path crashed = dir.path().parent_path() / (dir.path().filename().string() + "-c");
    fs::copy(dir.path(), crashed, fs::copy_options::recursive);
    auto replayed = open_at(crashed);  // the snapshot, then the log replayed over it
    auto collection = replayed->get_collection("products");
    ASSERT_TRUE(collection.is_ok());
    EXPECT_EQ(collection.value()->options().more_vectors.size(), 2u);
    expect_matches(*collection.value(), model);
    ASSERT_TRUE(replayed->close().is_ok());
    fs::remove_all(crashed);
  }
  auto reopened = open_at(dir.path());  // from the snapshot written at close
  auto collection = reopened->get_collection("products");
  ASSERT_TRUE(collection.is_ok());
  expect_matches(*collection.value(), model);
  // Asking for the collection with other fields is an error; with the same ones, or none, not.
  CollectionOptions other = three_fields();
  other.more_vectors[0].dim = 7;
  auto mismatch = reopened->create_collection("products", other);
  ASSERT_FALSE(mismatch.is_ok());
  EXPECT_NE(mismatch.status().message().find("exists with vector fields image(8, l2), "
                                             "caption(6, l2), tags(3, ip), not"),
            std::string::npos);
  EXPECT_TRUE(reopened->create_collection("products", three_fields()).is_ok());
  EXPECT_TRUE(reopened->create_collection("products", options_with()).is_ok());
}

}  // namespace
}  // namespace omendb::database_test
