// Helpers of the database tests (durable_database_test.cpp, backup_test.cpp): a model of what a
// test wrote, records written to and checked against it, and folders opened and copied.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "omendb/database.h"
#include "storage/test_files.h"

namespace omendb::database_test {

namespace fs = std::filesystem;
using storage::testing::TempDir;

inline constexpr std::size_t kDim = 8;

inline CollectionOptions options_with(std::size_t dim = kDim, Metric metric = Metric::kL2) {
  CollectionOptions options;
  options.dim = dim;
  options.metric = metric;
  return options;
}

inline std::unique_ptr<Database> open_at(const fs::path& path, DatabaseOptions options = {}) {
  auto opened = Database::open(path.string(), options);
  EXPECT_TRUE(opened.is_ok()) << opened.status().message();
  return opened.is_ok() ? std::move(opened).value() : nullptr;
}

inline DatabaseOptions read_only_options() {
  DatabaseOptions options;
  options.read_only = true;
  return options;
}

inline std::shared_ptr<Collection> collection_of(Database& db,
                                                 const std::string& name = "docs") {
  auto found = db.create_collection(name, options_with());
  EXPECT_TRUE(found.is_ok()) << found.status().message();
  return found.value();
}

// "<prefix><number>". (Built by append: GCC 12 warns falsely on "literal" + std::to_string().)
inline std::string numbered(std::string_view prefix, std::size_t number) {
  std::string name(prefix);
  name.append(std::to_string(number));
  return name;
}

// What a test wrote: id -> (vector, metadata), the model the database must match.
using Model = std::map<std::string, std::pair<std::vector<float>, Metadata>>;

// Adds `count` records "<prefix><i>" with random vectors and, for even i, metadata.
inline void add_records(Collection& collection, Model& model, const std::string& prefix,
                        std::size_t count, std::uint32_t seed, bool upsert = false) {
  std::mt19937 random(seed);
  std::normal_distribution<float> normal;
  std::vector<std::string> ids;
  std::vector<float> vectors;
  std::vector<Metadata> metadata;
  for (std::size_t i = 0; i < count; ++i) {
    ids.push_back(numbered(prefix, i));
    std::vector<float> row(kDim);
    for (float& x : row) x = normal(random);
    vectors.insert(vectors.end(), row.begin(), row.end());
    Metadata fields;
    if (i % 2 == 0) {
      fields = {{"n", Value(static_cast<std::int64_t>(i))}, {"tag", Value(std::string(prefix))}};
    }
    metadata.push_back(fields);
    model[ids.back()] = {row, fields};
  }
  const std::vector<std::string_view> views(ids.begin(), ids.end());
  const RecordBatch batch{.ids = views, .vectors = vectors, .metadata = metadata};
  const Status status = upsert ? collection.upsert(batch) : collection.add(batch);
  ASSERT_TRUE(status.is_ok()) << status.message();
}

inline void remove_records(Collection& collection, Model& model,
                           const std::vector<std::string>& ids) {
  const std::vector<std::string_view> views(ids.begin(), ids.end());
  ASSERT_TRUE(collection.remove(views).is_ok());
  for (const std::string& id : ids) model.erase(id);
}

// Every record of `model` is in `collection` bit for bit, and nothing else is.
inline void expect_matches(const Collection& collection, const Model& model) {
  ASSERT_EQ(collection.size(), model.size());
  std::vector<std::string_view> ids;
  for (const auto& [id, record] : model) ids.push_back(id);
  auto got = collection.get(ids);
  ASSERT_TRUE(got.is_ok());
  std::size_t i = 0;
  for (const auto& [id, record] : model) {
    const std::optional<Record>& stored = got.value()[i++];
    ASSERT_TRUE(stored.has_value()) << id;
    EXPECT_EQ(stored->vector, record.first) << id;
    EXPECT_EQ(stored->metadata, record.second) << id;
  }
  // Graph search finds each record's own vector first.
  for (const auto& [id, record] : model) {
    SearchOptions search;
    search.k = 1;
    auto hits = collection.search(record.first, search);
    ASSERT_TRUE(hits.is_ok());
    ASSERT_EQ(hits.value().size(), 1u);
    EXPECT_EQ(hits.value()[0].distance, 0.0f) << id;
  }
}

// A copy of the folder as it is now: what a crash (kill -9) at this moment would leave, since
// every acknowledged write has been handed to the OS.
inline fs::path crash_copy(const fs::path& folder, const TempDir& scratch,
                           const std::string& name) {
  const fs::path copy = scratch / name;
  fs::copy(folder, copy, fs::copy_options::recursive);
  fs::remove(copy / "LOCK");
  return copy;
}

}  // namespace omendb::database_test
