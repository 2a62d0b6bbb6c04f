// TextIndex::search against a brute-force BM25 reference (text_test_util.h) on random Zipf
// corpora with removes and filters, and that block-max WAND prunes: on a skewed corpus a top-10
// query scores far fewer postings than match.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "text/text_index.h"
#include "text_test_util.h"

namespace omendb::text {
namespace {

using testing::Documents;
using testing::Terms;
using testing::ZipfTerms;

// A random corpus of `count` documents of 0 to `max_length` terms, every `remove_every`-th
// add followed by the remove of a random earlier live document; the live ones in `live`.
TextIndex build(std::mt19937_64& rng, const ZipfTerms& zipf, std::size_t count,
                std::size_t max_length, std::size_t remove_every, Documents& live) {
  TextIndex index;
  std::uint32_t slot = 0;
  for (std::size_t i = 0; i < count; ++i) {
    slot += 1 + static_cast<std::uint32_t>(rng() % 3 == 0 ? rng() % 5 : 0);
    Terms terms = zipf.draw(rng, rng() % (max_length + 1));
    EXPECT_TRUE(index.add(slot, terms).is_ok());
    live[slot] = std::move(terms);
    if (remove_every != 0 && i % remove_every == remove_every - 1) {
      auto victim = live.lower_bound(static_cast<std::uint32_t>(rng() % (slot + 1)));
      if (victim == live.end()) continue;
      EXPECT_TRUE(index.remove(victim->first, victim->second).is_ok());
      live.erase(victim);
    }
  }
  return index;
}

void check_queries(const TextIndex& index, const Documents& live, std::mt19937_64& rng,
                   const ZipfTerms& zipf, const Bm25Params& params) {
  const TextIndex::SlotFilter not_third = [](std::uint32_t slot) { return slot % 3 != 0; };
  const testing::Reference reference(live);
  std::vector<TextHit> hits;
  for (int q = 0; q < 40; ++q) {
    Terms query = zipf.draw(rng, 1 + rng() % 5);
    if (q % 5 == 0) query.push_back(query.front());  // a repeated term counts twice
    if (q % 7 == 0) query.push_back("absent");
    for (const std::size_t k : {1, 10, 100}) {
      SCOPED_TRACE("query " + std::to_string(q) + " k " + std::to_string(k));
      ASSERT_TRUE(index.search(query, k, params, hits).is_ok());
      testing::expect_top_k(hits, reference.scores(query, params, nullptr), k);
      ASSERT_TRUE(index.search(query, k, params, not_third, hits).is_ok());
      testing::expect_top_k(hits, reference.scores(query, params, not_third), k);
    }
  }
}

TEST(TextSearchTest, MatchesBruteForceOnRandomCorpora) {
  for (const std::uint64_t seed : {1, 2, 3, 4}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    const ZipfTerms zipf(seed % 2 == 0 ? 500 : 3000, seed % 2 == 0 ? 1.1 : 0.9);
    Documents live;
    const TextIndex index = build(rng, zipf, 3000, 20, seed == 1 ? 0 : 4, live);
    ASSERT_TRUE(index.check().is_ok());
    check_queries(index, live, rng, zipf, Bm25Params{});
    check_queries(index, live, rng, zipf, Bm25Params{0.5f, 1.0f});
    check_queries(index, live, rng, zipf, Bm25Params{2.0f, 0.0f});
  }
}

TEST(TextSearchTest, RepeatedQueryTermCountsPerOccurrence) {
  TextIndex index;
  ASSERT_TRUE(index.add(0, Terms{"a", "b"}).is_ok());
  ASSERT_TRUE(index.add(1, Terms{"b", "c", "c"}).is_ok());
  ASSERT_TRUE(index.add(2, Terms{"d"}).is_ok());
  std::vector<TextHit> once;
  std::vector<TextHit> twice;
  ASSERT_TRUE(index.search(Terms{"a"}, 10, {}, once).is_ok());
  ASSERT_TRUE(index.search(Terms{"a", "a"}, 10, {}, twice).is_ok());
  ASSERT_EQ(once.size(), 1u);
  ASSERT_EQ(twice.size(), 1u);
  EXPECT_FLOAT_EQ(twice[0].score, 2 * once[0].score);
}

TEST(TextSearchTest, HandlesEmptyAndDegenerateQueries) {
  TextIndex index;
  std::vector<TextHit> hits{{1, 1}};
  ASSERT_TRUE(index.search(Terms{"a"}, 10, {}, hits).is_ok());
  EXPECT_TRUE(hits.empty());
  ASSERT_TRUE(index.add(0, Terms{}).is_ok());  // live, length 0
  ASSERT_TRUE(index.search(Terms{"a"}, 10, {}, hits).is_ok());
  EXPECT_TRUE(hits.empty());
  ASSERT_TRUE(index.add(1, Terms{"a", "a"}).is_ok());
  ASSERT_TRUE(index.search(Terms{}, 10, {}, hits).is_ok());
  EXPECT_TRUE(hits.empty());
  ASSERT_TRUE(index.search(Terms{"a"}, 0, {}, hits).is_ok());
  EXPECT_TRUE(hits.empty());
  ASSERT_TRUE(index.search(Terms{"a"}, 10, {}, hits).is_ok());
  ASSERT_EQ(hits.size(), 1u);
  // N = 2, n = 1, avgdl = 1, dl = 2, tf = 2.
  const double idf = std::log(1 + 1.5 / 1.5);
  EXPECT_NEAR(hits[0].score, idf * 2 / (2 + 1.2 * (1 - 0.75 + 0.75 * 2)), 1e-6);
  EXPECT_EQ(index.search(Terms{"a"}, 10, Bm25Params{-1, 0.5f}, hits).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(index.search(Terms{"a"}, 10, Bm25Params{1, 1.5f}, hits).code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(index.remove(1, Terms{"a", "a"}).is_ok());
  ASSERT_TRUE(index.search(Terms{"a"}, 10, {}, hits).is_ok());
  EXPECT_TRUE(hits.empty());
}

TEST(TextSearchTest, TiesGoToTheSmallerSlot) {
  TextIndex index;
  for (std::uint32_t slot = 0; slot < 1000; ++slot) {
    ASSERT_TRUE(index.add(slot, Terms{"same", slot % 2 == 0 ? "even" : "odd"}).is_ok());
  }
  std::vector<TextHit> hits;
  ASSERT_TRUE(index.search(Terms{"same"}, 5, {}, hits).is_ok());
  ASSERT_EQ(hits.size(), 5u);
  for (std::uint32_t i = 0; i < 5; ++i) EXPECT_EQ(hits[i].slot, i);
}

// Queries mixing frequent and rarer terms skip most postings: the frequent terms' lists alone
// cannot reach the k-th score, so their documents without a rarer term are passed over block by
// block. (Queries of frequent terms only prune little on such a uniform corpus: every block of
// 128 holds a short document and a high tf, so its bound stays above the threshold.)
TEST(TextSearchTest, BlockMaxWandPrunesOnASkewedCorpus) {
  std::mt19937_64 rng(11);
  const ZipfTerms zipf(5000, 1.1);
  Documents live;
  const TextIndex index = build(rng, zipf, 50000, 20, 0, live);
  const testing::Reference reference(live);
  const std::vector<std::pair<Terms, bool>> queries = {
      {{"t0", "t1", "t2", "t40"}, true}, {{"t0", "t3", "t900"}, true}, {{"t1", "t500"}, true},
      {{"t0"}, false}, {{"t0", "t1"}, false}, {{"t0", "t1", "t2", "t3", "t4", "t5"}, false}};
  for (const auto& [query, prunes] : queries) {
    std::size_t matching = 0;
    for (const std::string& term : query) matching += index.document_frequency(term);
    std::vector<TextHit> hits;
    SearchStats stats;
    ASSERT_TRUE(index.search(query, 10, {}, hits, &stats).is_ok());
    testing::expect_top_k(hits, reference.scores(query, {}, nullptr), 10);
    if (prunes) {
      EXPECT_LT(stats.postings_scored * 4, matching)
          << query.size() << " terms: " << stats.postings_scored << " of " << matching;
    }
    // Without pruning room (k above the matches) every match is scored.
    ASSERT_TRUE(index.search(query, 1000000, {}, hits, &stats).is_ok());
    EXPECT_EQ(stats.postings_scored, matching);
  }
}

}  // namespace
}  // namespace omendb::text
