// Database in memory: collection names, get-or-create, listing, dropping and closing. On disk:
// durable_database_test.cpp.
#include "omendb/database.h"

#include <gtest/gtest.h>

namespace omendb {
namespace {

std::unique_ptr<Database> open_memory() {
  auto opened = Database::open(":memory:", DatabaseOptions{});
  EXPECT_TRUE(opened.is_ok());
  return std::move(opened).value();
}

CollectionOptions options_with(std::size_t dim, Metric metric = Metric::kL2) {
  CollectionOptions options;
  options.dim = dim;
  options.metric = metric;
  return options;
}

TEST(Database, EmptyPathAndReadOnlyMemoryAreRefused) {
  EXPECT_EQ(Database::open("", DatabaseOptions{}).status().code(), StatusCode::kInvalidArgument);
  DatabaseOptions read_only;
  read_only.read_only = true;
  EXPECT_EQ(Database::open(":memory:", read_only).status().code(), StatusCode::kInvalidArgument);
}

TEST(Database, CollectionNamesAreValidated) {
  for (const char* bad : {"", "a/b", "..", ".hidden", "a b", "tab\tname"}) {
    EXPECT_EQ(validate_collection_name(bad).code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(validate_collection_name(std::string("nul\0x", 5)).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(
      validate_collection_name(std::string(Database::kMaxCollectionNameBytes + 1, 'a')).code(),
      StatusCode::kInvalidArgument);
  for (const char* good : {"docs", "my-docs_v2.1", "A"})
    EXPECT_TRUE(validate_collection_name(good).is_ok()) << good;
}

TEST(Database, CreateIsGetOrCreateAndChecksDimAndMetric) {
  auto db = open_memory();
  auto first = db->create_collection("docs", options_with(4));
  ASSERT_TRUE(first.is_ok());
  auto again = db->create_collection("docs", options_with(4));
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(first.value().get(), again.value().get());
  EXPECT_EQ(db->create_collection("docs", options_with(5)).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(db->create_collection("docs", options_with(4, Metric::kCosine)).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(db->create_collection("zero", options_with(0)).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(Database, ListsGetsAndDropsCollections) {
  auto db = open_memory();
  ASSERT_TRUE(db->create_collection("b", options_with(2)).is_ok());
  ASSERT_TRUE(db->create_collection("a", options_with(2)).is_ok());
  EXPECT_EQ(db->collection_names().value(), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(db->get_collection("a").is_ok());
  EXPECT_EQ(db->get_collection("c").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(db->drop_collection("a").is_ok());
  EXPECT_EQ(db->drop_collection("a").code(), StatusCode::kNotFound);
  EXPECT_EQ(db->collection_names().value(), std::vector<std::string>{"b"});
}

TEST(Database, CloseEndsEveryCall) {
  auto db = open_memory();
  auto docs = db->create_collection("docs", options_with(2)).value();
  EXPECT_TRUE(db->close().is_ok());
  EXPECT_TRUE(db->close().is_ok());  // idempotent
  EXPECT_TRUE(db->closed());
  EXPECT_EQ(db->collection_names().status().code(), StatusCode::kClosed);
  EXPECT_EQ(db->create_collection("x", options_with(2)).status().code(), StatusCode::kClosed);
  EXPECT_EQ(docs->search(std::vector<float>{1, 2}, SearchOptions{}).status().code(),
            StatusCode::kClosed);
}

}  // namespace
}  // namespace omendb
