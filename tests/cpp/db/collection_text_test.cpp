// Documents and full-text search in a collection: the text index follows adds, upserts, deletes,
// compaction, snapshots and log replay (it always equals an index rebuilt from the live records'
// documents), BM25 search with filters, bad input, and hybrid search with its fusion.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "database_test_util.h"
#include "db/fusion.h"
#include "filter/filter_string.h"
#include "text/analyzer.h"
#include "text/text_index.h"

namespace omendb::database_test {
namespace {

const std::vector<std::string> kWords = {"apple", "banana", "cherry", "date", "elder", "fig",
                                         "grape", "honey",  "iris",   "jade", "kiwi",  "lemon",
                                         "mango", "nut",    "olive",  "pear", "quince"};

CollectionOptions with_text() {
  CollectionOptions options = options_with();
  options.text.enabled = true;
  return options;
}

// What a test wrote: id -> document (nothing for a record without one).
using TextModel = std::map<std::string, std::optional<std::string>>;

// A document of 3 to 12 words, drawn so that some words are frequent and some rare.
std::string random_document(std::mt19937& random) {
  std::string document;
  const std::size_t words = 3 + random() % 10;
  for (std::size_t i = 0; i < words; ++i) {
    const std::size_t word = std::min(random() % kWords.size(), random() % kWords.size());
    document += (i == 0 ? "" : (i % 4 == 0 ? ", " : " ")) + kWords[word];
  }
  return document;
}

// Writes `count` records "<prefix><i>": every fifth without a document; even ones {"even": true}.
Status write_documents(Collection& collection, TextModel& model, const std::string& prefix,
                       std::size_t count, std::uint32_t seed, bool upsert = false) {
  std::mt19937 random(seed);
  std::normal_distribution<float> normal;
  std::vector<std::string> ids;
  std::vector<std::string> documents;
  std::vector<std::uint8_t> has_document;
  std::vector<float> vectors;
  std::vector<Metadata> metadata;
  for (std::size_t i = 0; i < count; ++i) {
    ids.push_back(numbered(prefix, i));
    documents.push_back(random_document(random));
    has_document.push_back(i % 5 != 4);
    model[ids.back()] = has_document.back() ? std::optional(documents.back()) : std::nullopt;
    for (std::size_t j = 0; j < kDim; ++j) vectors.push_back(normal(random));
    metadata.push_back(i % 2 == 0 ? Metadata{{"even", Value(true)}} : Metadata{});
  }
  const std::vector<std::string_view> id_views(ids.begin(), ids.end());
  const std::vector<std::string_view> document_views(documents.begin(), documents.end());
  const RecordBatch batch{.ids = id_views,
                          .vectors = vectors,
                          .metadata = metadata,
                          .documents = document_views,
                          .has_document = has_document};
  return upsert ? collection.upsert(batch) : collection.add(batch);
}

// search_text() answers as a text index built from scratch over the model's documents would
// (same ids, scores within float rounding), and get() returns every document.
void expect_text_matches(const Collection& collection, const TextModel& model,
                         const FilterExpr* filter = nullptr) {
  Result<text::Analyzer> analyzer = text::Analyzer::create({});
  ASSERT_TRUE(analyzer.is_ok());
  text::TextIndex rebuilt;
  std::vector<std::string> ids;
  for (const auto& [id, document] : model) {
    ids.push_back(id);
    if (!document) continue;
    std::vector<std::string> terms;
    ASSERT_TRUE(analyzer.value().tokenize(*document, terms).is_ok());
    ASSERT_TRUE(rebuilt.add(static_cast<std::uint32_t>(ids.size() - 1), terms).is_ok());
  }
  const std::vector<std::string_view> views(ids.begin(), ids.end());
  auto records = collection.get(views);
  ASSERT_TRUE(records.is_ok());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    ASSERT_TRUE(records.value()[i].has_value()) << ids[i];
    EXPECT_EQ(records.value()[i]->document, model.at(ids[i])) << ids[i];
  }
  for (const std::string query :
       {"apple", "quince pear", "fig fig olive", "kiwi lemon mango nut"}) {
    std::vector<std::string> terms;
    ASSERT_TRUE(analyzer.value().tokenize(query, terms).is_ok());
    std::vector<text::TextHit> expected;  // one beyond the 10 asked: ties at the 10th place
    const text::TextIndex::SlotFilter accept = [&](std::uint32_t slot) {
      return filter == nullptr || std::stoul(ids[slot].substr(1)) % 2 == 0;
    };
    ASSERT_TRUE(rebuilt.search(terms, 11, {}, accept, expected).is_ok());
    const std::vector<text::TextHit> beyond = expected;
    if (expected.size() > 10) expected.pop_back();
    SearchOptions options;
    options.filter = filter;
    auto hits = collection.search_text(query, options);
    ASSERT_TRUE(hits.is_ok()) << hits.status().message();
    ASSERT_EQ(hits.value().size(), expected.size()) << query;
    for (std::size_t i = 0; i < expected.size(); ++i) {
      EXPECT_NEAR(hits.value()[i].score, expected[i].score, 1e-5f * expected[i].score) << query;
      EXPECT_EQ(hits.value()[i].distance, -hits.value()[i].score);
      EXPECT_EQ(hits.value()[i].document, model.at(hits.value()[i].id));
    }
    // Ids agree wherever the scores are not tied with a neighbour.
    for (std::size_t i = 0; i < expected.size(); ++i) {
      const bool tied = (i > 0 && beyond[i - 1].score == beyond[i].score) ||
                        (i + 1 < beyond.size() && beyond[i + 1].score == beyond[i].score);
      if (!tied) {
        EXPECT_EQ(hits.value()[i].id, ids[expected[i].slot]) << query << " rank " << i;
      }
    }
  }
}

TEST(CollectionText, TheIndexFollowsAddsUpsertsDeletesAndCompaction) {
  auto db = Database::open(":memory:", {});
  ASSERT_TRUE(db.is_ok());
  auto created = db.value()->create_collection("docs", with_text());
  ASSERT_TRUE(created.is_ok()) << created.status().message();
  Collection& collection = *created.value();
  TextModel model;
  ASSERT_TRUE(write_documents(collection, model, "a", 400, 1).is_ok());
  expect_text_matches(collection, model);
  ASSERT_TRUE(write_documents(collection, model, "a", 150, 2, /*upsert=*/true).is_ok());
  std::vector<std::string> removed;
  for (std::size_t i = 150; i < 230; ++i) removed.push_back(numbered("a", i));
  const std::vector<std::string_view> views(removed.begin(), removed.end());
  ASSERT_TRUE(collection.remove(views).is_ok());
  for (const std::string& id : removed) model.erase(id);
  expect_text_matches(collection, model);
  Result<FilterExpr> even = parse_filter_string("even = true");
  ASSERT_TRUE(even.is_ok());
  expect_text_matches(collection, model, &even.value());
  ASSERT_TRUE(collection.compact().is_ok());
  expect_text_matches(collection, model);
  ASSERT_TRUE(write_documents(collection, model, "b", 50, 3).is_ok());  // after the compaction
  expect_text_matches(collection, model);
}

TEST(CollectionText, BadDocumentsAndQueriesChangeNothing) {
  auto db = Database::open(":memory:", {});
  ASSERT_TRUE(db.is_ok());
  auto plain = db.value()->create_collection("plain", options_with());
  ASSERT_TRUE(plain.is_ok());
  const std::vector<std::string_view> ids = {"x", "y"};
  const std::vector<float> vectors(2 * kDim, 1.0f);
  const std::vector<std::string_view> documents = {"fine", "also fine"};
  Status no_text =
      plain.value()->add({.ids = ids, .vectors = vectors, .metadata = {}, .documents = documents});
  EXPECT_NE(no_text.message().find("collection 'plain' has no text index"), std::string::npos);
  auto no_text_search = plain.value()->search_text("fine", {});
  EXPECT_NE(no_text_search.status().message().find("has no text index"), std::string::npos);

  auto created = db.value()->create_collection("docs", with_text());
  ASSERT_TRUE(created.is_ok());
  Collection& collection = *created.value();
  const std::vector<std::string_view> bad = {"fine", std::string_view("\xff\xfe", 2)};
  Status invalid =
      collection.add({.ids = ids, .vectors = vectors, .metadata = {}, .documents = bad});
  EXPECT_EQ(invalid.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(invalid.message().find("documents[1]"), std::string::npos) << invalid.message();
  const std::vector<std::string_view> one = {"only one"};
  EXPECT_NE(collection.add({.ids = ids, .vectors = vectors, .metadata = {}, .documents = one})
                .message()
                .find("one entry per id"),
            std::string::npos);
  EXPECT_EQ(collection.size(), 0u);
  ASSERT_TRUE(
      collection.add({.ids = ids, .vectors = vectors, .metadata = {}, .documents = documents})
          .is_ok());
  EXPECT_EQ(collection.search_text("   ", {}).status().message(), "the text query is empty");
  EXPECT_EQ(collection.search_text("", {}).status().message(), "the text query is empty");
  EXPECT_FALSE(collection.search_text(std::string_view("\xc3", 1), {}).is_ok());
  auto nothing = collection.search_text("unknown words", {});
  ASSERT_TRUE(nothing.is_ok());
  EXPECT_TRUE(nothing.value().empty());
  CollectionOptions bad_stemmer = with_text();
  bad_stemmer.text.stemmer = "klingon";
  EXPECT_NE(db.value()->create_collection("k", bad_stemmer).status().message().find("klingon"),
            std::string::npos);
  CollectionOptions bad_b = with_text();
  bad_b.text.b = 2;
  EXPECT_FALSE(db.value()->create_collection("b", bad_b).is_ok());
}

TEST(CollectionText, SnapshotsAndLogReplayKeepTheTextIndex) {
  TempDir dir;
  TextModel model;
  CollectionOptions options = with_text();
  options.text.stemmer = "english";
  options.text.stop_words = text::english_stop_words();
  {
    auto db = open_at(dir.path());
    auto created = db->create_collection("docs", options);
    ASSERT_TRUE(created.is_ok()) << created.status().message();
    ASSERT_TRUE(write_documents(*created.value(), model, "a", 300, 4).is_ok());
    ASSERT_TRUE(db->checkpoint().is_ok());
    ASSERT_TRUE(write_documents(*created.value(), model, "a", 40, 5, true).is_ok());
    const std::vector<std::string_view> gone = {"a1", "a2", "a250"};
    ASSERT_TRUE(created.value()->remove(gone).is_ok());
    for (const std::string_view id : gone) model.erase(std::string(id));
    const fs::path crashed = dir.path().parent_path() / (dir.path().filename().string() + "-c");
    fs::copy(dir.path(), crashed, fs::copy_options::recursive);
    auto replayed = open_at(crashed);
    auto collection = replayed->get_collection("docs");
    ASSERT_TRUE(collection.is_ok());
    EXPECT_EQ(collection.value()->options().text.stemmer, "english");
    auto hits = collection.value()->search_text("the running apples", {});  // stop word, stems
    ASSERT_TRUE(hits.is_ok());
    auto same = created.value()->search_text("apple run", {});
    ASSERT_TRUE(same.is_ok());
    ASSERT_EQ(hits.value().size(), same.value().size());
    for (std::size_t i = 0; i < hits.value().size(); ++i) {
      EXPECT_EQ(hits.value()[i].id, same.value()[i].id);
      EXPECT_EQ(hits.value()[i].score, same.value()[i].score);
    }
    ASSERT_TRUE(replayed->close().is_ok());
    fs::remove_all(crashed);
  }
  auto reopened = open_at(dir.path());
  auto collection = reopened->get_collection("docs");
  ASSERT_TRUE(collection.is_ok());
  auto records = collection.value()->get(std::vector<std::string_view>{"a0", "a4", "a1"});
  ASSERT_TRUE(records.is_ok());
  EXPECT_EQ(records.value()[0]->document, model.at("a0"));
  EXPECT_FALSE(records.value()[1]->document.has_value());  // every fifth has none
  EXPECT_FALSE(records.value()[2].has_value());
}

// Text and hybrid searches run while a writer adds, upserts and deletes documents (TSan runs this
// test): every hit is a record whose document holds a query word.
TEST(CollectionText, ConcurrentTextSearchesDuringWrites) {
  auto db = Database::open(":memory:", {});
  ASSERT_TRUE(db.is_ok());
  auto created = db.value()->create_collection("docs", with_text());
  ASSERT_TRUE(created.is_ok());
  Collection& collection = *created.value();
  TextModel model;
  ASSERT_TRUE(write_documents(collection, model, "a", 200, 1).is_ok());
  std::atomic<bool> done{false};
  std::atomic<std::size_t> searches{0};
  const auto search = [&] {
    const std::vector<float> origin(kDim, 0.0f);
    const std::vector<VectorQuery> vectors = {{"", origin}};
    while (!done.load()) {
      SearchOptions options;
      options.k = 5;
      auto text_hits = collection.search_text("apple", options);
      auto hybrid_hits = collection.search_hybrid({.vectors = vectors, .text = "fig"}, options);
      ASSERT_TRUE(text_hits.is_ok() && hybrid_hits.is_ok());
      for (const Hit& h : text_hits.value()) {
        ASSERT_TRUE(h.document.has_value() && h.document->find("apple") != std::string::npos);
      }
      searches.fetch_add(1);
    }
  };
  std::thread first(search);
  std::thread second(search);
  for (std::uint32_t round = 0; round < 20; ++round) {
    ASSERT_TRUE(write_documents(collection, model, "a", 100, 10 + round, /*upsert=*/true).is_ok());
    const std::vector<std::string_view> gone = {"a3", "a7"};
    ASSERT_TRUE(collection.remove(gone).is_ok());
  }
  done.store(true);
  first.join();
  second.join();
  EXPECT_GT(searches.load(), 0u);
}

Hit hit(std::string id, float distance) {
  Hit h;
  h.id = std::move(id);
  h.distance = distance;
  return h;
}

TEST(Fusion, ReciprocalRankAndWeightedScoresAreAsDocumented) {
  const std::vector<std::vector<Hit>> lists = {
      {hit("a", 0.1f), hit("b", 0.2f), hit("c", 0.5f)},
      {hit("c", -9.0f), hit("d", -4.0f), hit("a", -1.0f)},
  };
  FusionOptions rrf;
  const std::vector<Hit> fused = fuse(lists, rrf, 10);
  ASSERT_EQ(fused.size(), 4u);
  // a: 1/61 + 1/63; c: 1/63 + 1/61 (tied with a: ids order them); b: 1/62; d: 1/62.
  EXPECT_EQ(fused[0].id, "a");
  EXPECT_EQ(fused[1].id, "c");
  EXPECT_EQ(fused[2].id, "b");
  EXPECT_EQ(fused[3].id, "d");
  EXPECT_FLOAT_EQ(fused[0].score, static_cast<float>(1.0 / 61 + 1.0 / 63));
  EXPECT_EQ(fused[0].distance, -fused[0].score);
  EXPECT_EQ(fuse(lists, rrf, 2).size(), 2u);

  FusionOptions weighted;
  weighted.kind = FusionOptions::Kind::kWeighted;
  weighted.weights = {0.25, 0.75};
  const std::vector<Hit> by_weight = fuse(lists, weighted, 10);
  // List 1 normalised: a 1, b 0.75, c 0; list 2: c 1, d 0.375, a 0.
  // a 0.25; b 0.1875; c 0.75; d 0.28125.
  ASSERT_EQ(by_weight.size(), 4u);
  EXPECT_EQ(by_weight[0].id, "c");
  EXPECT_FLOAT_EQ(by_weight[0].score, 0.75f);
  EXPECT_EQ(by_weight[1].id, "d");
  EXPECT_FLOAT_EQ(by_weight[1].score, 0.28125f);
  EXPECT_EQ(by_weight[2].id, "a");
  EXPECT_EQ(by_weight[3].id, "b");
  EXPECT_FALSE(weighted.validate(3).is_ok());
  FusionOptions bad;
  bad.rrf_k = 0;
  EXPECT_FALSE(bad.validate(2).is_ok());
}

TEST(HybridSearch, FusionFindsWhatEachSignalAloneMisses) {
  auto db = Database::open(":memory:", {});
  ASSERT_TRUE(db.is_ok());
  auto created = db.value()->create_collection("docs", with_text());
  ASSERT_TRUE(created.is_ok());
  Collection& collection = *created.value();
  // "near" records sit next to the query vector but say nothing of the query words; "wordy"
  // records say them but lie far away; fillers are neither.
  std::vector<std::string> ids;
  std::vector<std::string> documents;
  std::vector<float> vectors;
  std::mt19937 random(7);
  std::normal_distribution<float> normal;
  for (std::size_t i = 0; i < 300; ++i) {
    const std::string kind = i < 5 ? "near" : (i < 10 ? "wordy" : "filler");
    ids.push_back(kind + std::to_string(i));
    documents.push_back(kind == "wordy" ? "quantum entanglement explained"
                                        : random_document(random));
    for (std::size_t j = 0; j < kDim; ++j) {
      vectors.push_back(kind == "near" ? 0.01f * normal(random) : 5.0f + normal(random));
    }
  }
  const std::vector<std::string_view> id_views(ids.begin(), ids.end());
  const std::vector<std::string_view> document_views(documents.begin(), documents.end());
  ASSERT_TRUE(
      collection
          .add({.ids = id_views, .vectors = vectors, .metadata = {}, .documents = document_views})
          .is_ok());
  const std::vector<float> origin(kDim, 0.0f);
  SearchOptions options;
  options.k = 10;
  const std::vector<VectorQuery> vector_queries = {{"", origin}};
  auto fused = collection.search_hybrid({.vectors = vector_queries, .text = "quantum entanglement"},
                                        options);
  ASSERT_TRUE(fused.is_ok()) << fused.status().message();
  std::size_t near = 0;
  std::size_t wordy = 0;
  for (const Hit& h : fused.value()) {
    near += h.id.starts_with("near") ? 1 : 0;
    wordy += h.id.starts_with("wordy") ? 1 : 0;
  }
  EXPECT_EQ(near, 5u);
  EXPECT_EQ(wordy, 5u);
  options.k = 5;
  auto by_vector = collection.search(origin, options);
  auto by_text = collection.search_text("quantum entanglement", options);
  ASSERT_TRUE(by_vector.is_ok() && by_text.is_ok());
  for (const Hit& h : by_vector.value()) EXPECT_TRUE(h.id.starts_with("near")) << h.id;
  for (const Hit& h : by_text.value()) EXPECT_TRUE(h.id.starts_with("wordy")) << h.id;

  const std::vector<HybridQuery> batch = {{.vectors = vector_queries, .text = "quantum"},
                                          {.text = "entanglement"}};
  auto answers = collection.search_hybrid_batch(batch, options);
  ASSERT_TRUE(answers.is_ok());
  ASSERT_EQ(answers.value().size(), 2u);
  for (const Hit& h : answers.value()[1]) EXPECT_TRUE(h.id.starts_with("wordy"));
  EXPECT_FALSE(collection.search_hybrid({}, options).is_ok());
  const std::vector<VectorQuery> wrong_field = {{"nope", origin}};
  EXPECT_NE(collection.search_hybrid({.vectors = wrong_field}, options)
                .status()
                .message()
                .find("unknown vector field 'nope'"),
            std::string::npos);
}

}  // namespace
}  // namespace omendb::database_test
