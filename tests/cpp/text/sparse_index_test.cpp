// SparseIndex (text/sparse_index.h) and its posting lists (text/sparse_postings.h): argument
// checks with their messages, searches against a brute-force inner product on random corpora
// (removes, filters, negative and zero weights, ties, any u32 index), compaction, memory
// accounting, and that block-max WAND prunes: on a skewed corpus a top-10 query scores far fewer
// postings than match.
#include "text/sparse_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace omendb::text {
namespace {

using Vector = std::vector<SparseEntry>;
using Vectors = std::map<std::uint32_t, Vector>;  // the live slots' vectors
using Filter = SparseIndex::SlotFilter;

constexpr std::uint32_t kMaxIndex = std::numeric_limits<std::uint32_t>::max();

// ---------------------------------------------------------------------------------------------
// The reference: brute force in double, each slot's products summed in increasing index order.

// The score of every live slot of `live` sharing an index with `query` and accepted by `accept`
// (when set).
std::map<std::uint32_t, double> reference_scores(const Vectors& live, const Vector& query,
                                                 const Filter& accept) {
  std::map<std::uint32_t, double> scores;
  for (const auto& [slot, vector] : live) {
    if (accept && !accept(slot)) continue;
    double sum = 0;
    bool shared = false;
    auto stored = vector.begin();
    for (const SparseEntry& q : query) {
      while (stored != vector.end() && stored->index < q.index) ++stored;
      if (stored == vector.end()) break;
      if (stored->index != q.index) continue;
      shared = true;
      sum += static_cast<double>(q.value) * static_cast<double>(stored->value);
    }
    if (shared) scores[slot] = sum;
  }
  return scores;
}

// The top k of `scores` as TopHits ranks them: by score, then smaller slot, in double; then
// reported best first by float score, ties by smaller slot.
std::vector<TextHit> reference_hits(const std::map<std::uint32_t, double>& scores,
                                    std::size_t k) {
  std::vector<std::pair<double, std::uint32_t>> ranked;
  for (const auto& [slot, score] : scores) ranked.emplace_back(-score, slot);
  std::sort(ranked.begin(), ranked.end());
  ranked.resize(std::min(k, ranked.size()));
  std::vector<TextHit> hits;
  for (const auto& [negated, slot] : ranked) hits.push_back({slot, static_cast<float>(-negated)});
  std::sort(hits.begin(), hits.end(), [](const TextHit& x, const TextHit& y) {
    return x.score > y.score || (x.score == y.score && x.slot < y.slot);
  });
  return hits;
}

// Expects the same slots in the same order, and scores within 1e-5 relative. (They are in fact
// equal: the index sums in the reference's order, each product exact in double.)
void expect_hits(const std::vector<TextHit>& hits, const std::vector<TextHit>& expected) {
  ASSERT_EQ(hits.size(), expected.size());
  for (std::size_t i = 0; i < hits.size(); ++i) {
    EXPECT_EQ(hits[i].slot, expected[i].slot) << "rank " << i;
    EXPECT_NEAR(hits[i].score, expected[i].score, 1e-5 * std::fabs(expected[i].score))
        << "rank " << i;
    EXPECT_EQ(hits[i].score, expected[i].score) << "rank " << i << " (bit-exact)";
  }
}

// Searches `index` and checks the hits against the reference.
void check_query(const SparseIndex& index, const Vectors& live, const Vector& query,
                 std::size_t k, const Filter& accept = {}) {
  std::vector<TextHit> hits{{7, 7}};
  ASSERT_TRUE(index.search(query, k, accept, hits).is_ok());
  expect_hits(hits, reference_hits(reference_scores(live, query, accept), k));
}

// ---------------------------------------------------------------------------------------------
// Random corpora.

// How values are drawn.
enum class Values {
  kPositive,  // SPLADE-like: log-normal, all > 0
  kMixed,     // uniform in [-1, 1), one in ten exactly 0
  kCoarse,    // multiples of 0.25 in [-1, 1]: zeros and many exactly tied scores
};

float draw_value(std::mt19937_64& rng, Values kind) {
  switch (kind) {
    case Values::kPositive:
      return static_cast<float>(std::exp(std::normal_distribution<double>(-1, 1)(rng)));
    case Values::kMixed:
      if (rng() % 10 == 0) return 0.0f;
      return static_cast<float>(std::uniform_real_distribution<double>(-1, 1)(rng));
    case Values::kCoarse:
      return static_cast<float>(static_cast<int>(rng() % 9) - 4) * 0.25f;
  }
  return 0;
}

// Dimensions drawn by a Zipf law over ranks 0..dimensions-1, each mapped to an index: the rank
// itself, or (spread) the rank times an odd constant modulo 2^32, so that most indices are far
// above SparseIndex::kDenseIndices.
class Shape {
 public:
  Shape(std::size_t dimensions, double exponent, bool spread, Values values)
      : spread_(spread), values_(values) {
    double sum = 0;
    for (std::size_t rank = 1; rank <= dimensions; ++rank) {
      sum += 1.0 / std::pow(static_cast<double>(rank), exponent);
      cumulative_.push_back(sum);
    }
  }

  std::uint32_t index_of(std::size_t rank) const {
    return static_cast<std::uint32_t>(spread_ ? rank * 2654435761u : rank);
  }

  std::size_t draw_rank(std::mt19937_64& rng) const {
    std::uniform_real_distribution<double> uniform(0, cumulative_.back());
    return static_cast<std::size_t>(
        std::lower_bound(cumulative_.begin(), cumulative_.end(), uniform(rng)) -
        cumulative_.begin());
  }

  // A vector of up to `entries` distinct dimensions (fewer where draws repeat).
  Vector draw(std::mt19937_64& rng, std::size_t entries) const {
    std::map<std::uint32_t, float> drawn;
    for (std::size_t i = 0; i < entries; ++i) {
      drawn[index_of(draw_rank(rng))] = draw_value(rng, values_);
    }
    Vector vector;
    for (const auto& [index, value] : drawn) vector.push_back({index, value});
    return vector;
  }

  std::size_t dimensions() const { return cumulative_.size(); }
  Values values() const { return values_; }

 private:
  std::vector<double> cumulative_;
  bool spread_;
  Values values_;
};

// A random corpus of `count` vectors of 0 to `max_entries` entries at increasing slots with
// random gaps, every `remove_every`-th add followed by the remove of a random earlier live slot;
// the live ones in `live`.
SparseIndex build(std::mt19937_64& rng, const Shape& shape, std::size_t count,
                  std::size_t max_entries, std::size_t remove_every, Vectors& live) {
  SparseIndex index;
  std::uint32_t slot = 0;
  for (std::size_t i = 0; i < count; ++i) {
    slot += 1 + static_cast<std::uint32_t>(rng() % 3 == 0 ? rng() % 5 : 0);
    Vector vector = shape.draw(rng, rng() % (max_entries + 1));
    EXPECT_TRUE(index.add(slot, vector).is_ok());
    live[slot] = std::move(vector);
    if (remove_every != 0 && i % remove_every == remove_every - 1) {
      auto victim = live.lower_bound(static_cast<std::uint32_t>(rng() % (slot + 1)));
      if (victim == live.end()) continue;
      EXPECT_TRUE(index.remove(victim->first, victim->second).is_ok());
      live.erase(victim);
    }
  }
  return index;
}

// Random queries of 1 to 8 entries, some with an index no vector has, some with a weight of the
// other sign or 0, each at several k, unfiltered and filtered; checks that the filter is asked
// only about live slots, in increasing order, at most once each.
void check_queries(const SparseIndex& index, const Vectors& live, std::mt19937_64& rng,
                   const Shape& shape) {
  const Filter not_third = [](std::uint32_t slot) { return slot % 3 != 0; };
  std::vector<std::uint32_t> asked;
  const Filter recording = [&asked, &not_third](std::uint32_t slot) {
    asked.push_back(slot);
    return not_third(slot);
  };
  for (int q = 0; q < 40; ++q) {
    Vector query = shape.draw(rng, 1 + rng() % 8);
    if (q % 7 == 0) {  // an index beyond the corpus's dimensions
      const std::uint32_t absent = shape.index_of(shape.dimensions() + 3);
      if (std::none_of(query.begin(), query.end(),
                       [&](const SparseEntry& e) { return e.index == absent; })) {
        query.push_back({absent, 1.0f});
        std::sort(query.begin(), query.end(),
                  [](const SparseEntry& x, const SparseEntry& y) { return x.index < y.index; });
      }
    }
    if (q % 5 == 1) query.front().value = -query.front().value;
    if (q % 5 == 2) query.back().value = 0.0f;
    for (const std::size_t k : {std::size_t{1}, std::size_t{10}, std::size_t{100},
                                std::size_t{100000}}) {
      SCOPED_TRACE("query " + std::to_string(q) + " k " + std::to_string(k));
      check_query(index, live, query, k);
      asked.clear();
      std::vector<TextHit> hits;
      ASSERT_TRUE(index.search(query, k, recording, hits).is_ok());
      expect_hits(hits, reference_hits(reference_scores(live, query, not_third), k));
      for (std::size_t i = 0; i < asked.size(); ++i) {
        EXPECT_TRUE(live.count(asked[i]) == 1) << "asked about dead slot " << asked[i];
        if (i > 0) { EXPECT_LT(asked[i - 1], asked[i]) << "asked out of order or twice"; }
      }
    }
  }
}

TEST(SparseIndexTest, MatchesBruteForceOnRandomCorpora) {
  const Shape shapes[] = {
      Shape(500, 1.1, false, Values::kPositive),  Shape(3000, 0.9, true, Values::kPositive),
      Shape(500, 1.0, true, Values::kMixed),      Shape(2000, 1.1, false, Values::kMixed),
      Shape(300, 1.0, false, Values::kCoarse),    Shape(3000, 0.8, true, Values::kCoarse),
  };
  std::uint64_t seed = 0;
  for (const Shape& shape : shapes) {
    ++seed;
    SCOPED_TRACE("shape " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    Vectors live;
    const SparseIndex index = build(rng, shape, 3000, 30, seed % 2 == 0 ? 0 : 4, live);
    ASSERT_TRUE(index.check().is_ok()) << index.check().message();
    EXPECT_EQ(index.live_count(), live.size());
    check_queries(index, live, rng, shape);
  }
}

// ---------------------------------------------------------------------------------------------
// Arguments.

TEST(SparseIndexTest, ValidateSparseNamesTheProblem) {
  EXPECT_TRUE(validate_sparse(Vector{}).is_ok());
  EXPECT_TRUE(validate_sparse(Vector{{0, 0.0f}, {7, -1.5f}, {kMaxIndex, 3.0f}}).is_ok());
  const Status decreasing = validate_sparse(Vector{{9, 1.0f}, {7, 1.0f}});
  EXPECT_EQ(decreasing.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(decreasing.message(),
            "sparse vector: indices must strictly increase (index 7 after 9)");
  EXPECT_EQ(validate_sparse(Vector{{3, 1.0f}, {3, 2.0f}}).message(),
            "sparse vector: indices must strictly increase (index 3 after 3)");
  const Status nan = validate_sparse(Vector{{1, 1.0f}, {12, std::nanf("")}});
  EXPECT_EQ(nan.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(nan.message(), "sparse vector: value of index 12 is not finite");
  EXPECT_EQ(validate_sparse(Vector{{5, -std::numeric_limits<float>::infinity()}}).message(),
            "sparse vector: value of index 5 is not finite");
  EXPECT_EQ(validate_sparse(Vector{{5, std::numeric_limits<float>::infinity()}}).code(),
            StatusCode::kInvalidArgument);
}

TEST(SparseIndexTest, AddChecksSlotOrderAndEntries) {
  SparseIndex index;
  ASSERT_TRUE(index.add(3, Vector{{1, 0.5f}, {4, 2.0f}}).is_ok());
  EXPECT_EQ(index.slot_count(), 4u);
  const Status again = index.add(3, Vector{{1, 1.0f}});
  EXPECT_EQ(again.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(again.message(), "sparse slot 3 is not above the last slot added");
  EXPECT_EQ(index.add(1, Vector{{1, 1.0f}}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(index.add(4, Vector{{2, 1.0f}, {1, 1.0f}}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(index.add(4, Vector{{2, std::nanf("")}}).code(), StatusCode::kInvalidArgument);
  // Failed adds change nothing.
  EXPECT_EQ(index.slot_count(), 4u);
  EXPECT_EQ(index.live_count(), 1u);
  EXPECT_EQ(index.dimension_count(), 2u);
  ASSERT_TRUE(index.check().is_ok());
  ASSERT_TRUE(index.add(4, Vector{}).is_ok());  // live, matches nothing
  EXPECT_TRUE(index.is_live(4));
  EXPECT_FALSE(index.is_live(0));
  EXPECT_FALSE(index.is_live(5));
  EXPECT_EQ(index.live_count(), 2u);
  std::vector<TextHit> hits;
  ASSERT_TRUE(index.search(Vector{{1, 1.0f}, {4, 1.0f}}, 10, {}, hits).is_ok());
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0], (TextHit{3, 2.5f}));
}

TEST(SparseIndexTest, RemoveChecksLivenessAndEntries) {
  SparseIndex index;
  const Vector a{{1, 0.5f}, {4, 2.0f}, {9, -1.0f}};
  const Vector b{{4, 1.0f}};
  ASSERT_TRUE(index.add(0, a).is_ok());
  ASSERT_TRUE(index.add(1, b).is_ok());
  const Status not_live = index.remove(2, b);
  EXPECT_EQ(not_live.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(not_live.message(), "sparse slot 2 is not live");
  const Status wrong = index.remove(0, Vector{{1, 0.5f}, {4, 2.0f}});  // one missing
  EXPECT_EQ(wrong.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(wrong.message(), "the sparse vector given for slot 0 is not the one it was added with");
  EXPECT_EQ(index.remove(0, Vector{{1, 0.5f}, {4, 2.0f}, {9, -1.0f}, {10, 1.0f}}).code(),
            StatusCode::kInvalidArgument);  // one extra
  EXPECT_EQ(index.remove(0, Vector{{1, 0.5f}, {4, 2.5f}, {9, -1.0f}}).code(),
            StatusCode::kInvalidArgument);  // a value differs
  EXPECT_EQ(index.remove(0, Vector{{1, 0.5f}, {5, 2.0f}, {9, -1.0f}}).code(),
            StatusCode::kInvalidArgument);  // an index differs
  EXPECT_EQ(index.remove(0, Vector{{4, 2.0f}, {1, 0.5f}, {9, -1.0f}}).code(),
            StatusCode::kInvalidArgument);  // not a valid vector
  EXPECT_EQ(index.remove(1, Vector{{1, 0.5f}}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(index.live_count(), 2u);
  ASSERT_TRUE(index.check().is_ok());
  ASSERT_TRUE(index.remove(0, a).is_ok());
  EXPECT_EQ(index.remove(0, a).code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(index.is_live(0));
  EXPECT_EQ(index.live_count(), 1u);
  EXPECT_EQ(index.dimension_count(), 3u);  // until compacted
  ASSERT_TRUE(index.check().is_ok()) << index.check().message();
  std::vector<TextHit> hits;
  ASSERT_TRUE(index.search(a, 10, {}, hits).is_ok());
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0], (TextHit{1, 2.0f}));
  ASSERT_TRUE(index.remove(1, b).is_ok());
  ASSERT_TRUE(index.search(a, 10, {}, hits).is_ok());
  EXPECT_TRUE(hits.empty());
  // An empty vector is removed with an empty vector.
  ASSERT_TRUE(index.add(5, Vector{}).is_ok());
  EXPECT_EQ(index.remove(5, b).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(index.remove(5, Vector{}).is_ok());
  EXPECT_EQ(index.live_count(), 0u);
  ASSERT_TRUE(index.check().is_ok());
}

// ---------------------------------------------------------------------------------------------
// Search semantics.

TEST(SparseIndexTest, NegativeAndZeroWeights) {
  SparseIndex index;
  Vectors live;
  live[0] = {{1, 2.0f}, {2, -1.0f}};
  live[1] = {{1, -3.0f}};
  live[2] = {{2, 0.0f}};            // shares index 2, product 0
  live[3] = {{3, 1.0f}};            // shares nothing with the queries below but {3}
  live[4] = {{1, 0.5f}, {2, 4.0f}};
  for (const auto& [slot, vector] : live) ASSERT_TRUE(index.add(slot, vector).is_ok());
  std::vector<TextHit> hits;
  // 0: 2 + 1 = 3; 1: -3; 2: 0; 4: 0.5 - 4 = -3.5.
  ASSERT_TRUE(index.search(Vector{{1, 1.0f}, {2, -1.0f}}, 10, {}, hits).is_ok());
  EXPECT_EQ(hits, (std::vector<TextHit>{{0, 3.0f}, {2, 0.0f}, {1, -3.0f}, {4, -3.5f}}));
  ASSERT_TRUE(index.search(Vector{{1, 1.0f}, {2, -1.0f}}, 2, {}, hits).is_ok());
  EXPECT_EQ(hits, (std::vector<TextHit>{{0, 3.0f}, {2, 0.0f}}));
  // A query weight of 0 still matches: every slot with index 1 scores 0.
  ASSERT_TRUE(index.search(Vector{{1, 0.0f}}, 10, {}, hits).is_ok());
  EXPECT_EQ(hits, (std::vector<TextHit>{{0, 0.0f}, {1, 0.0f}, {4, 0.0f}}));
  // All scores negative: the least negative first.
  ASSERT_TRUE(index.search(Vector{{1, -1.0f}}, 2, {}, hits).is_ok());
  EXPECT_EQ(hits, (std::vector<TextHit>{{1, 3.0f}, {4, -0.5f}}));
  ASSERT_TRUE(index.search(Vector{{2, 1.0f}, {3, 1.0f}}, 10, {}, hits).is_ok());
  EXPECT_EQ(hits, (std::vector<TextHit>{{4, 4.0f}, {3, 1.0f}, {2, 0.0f}, {0, -1.0f}}));
  // Many slots whose only match is negative, and one positive late: found at k = 1.
  SparseIndex many;
  Vectors many_live;
  for (std::uint32_t slot = 0; slot < 1000; ++slot) {
    many_live[slot] = slot == 900 ? Vector{{5, 1.0f}} : Vector{{5, -1.0f - slot % 7}};
    ASSERT_TRUE(many.add(slot, many_live[slot]).is_ok());
  }
  for (const float q : {1.0f, -1.0f, 0.0f}) {
    for (const std::size_t k : {1, 3, 2000}) check_query(many, many_live, Vector{{5, q}}, k);
  }
}

TEST(SparseIndexTest, EmptyQueryAndDegenerateCases) {
  SparseIndex index;
  std::vector<TextHit> hits{{1, 1}};
  SearchStats stats{1, 1, 1};
  ASSERT_TRUE(index.search(Vector{{1, 1.0f}}, 10, {}, hits, &stats).is_ok());  // empty index
  EXPECT_TRUE(hits.empty());
  EXPECT_EQ(stats.postings_scored + stats.documents_scored + stats.blocks_decoded, 0u);
  ASSERT_TRUE(index.add(0, Vector{}).is_ok());
  ASSERT_TRUE(index.add(1, Vector{{1, 2.0f}, {3, 1.0f}}).is_ok());
  ASSERT_TRUE(index.add(2, Vector{{3, 1.0f}}).is_ok());
  hits = {{1, 1}};
  ASSERT_TRUE(index.search(Vector{}, 10, {}, hits).is_ok());  // empty query
  EXPECT_TRUE(hits.empty());
  hits = {{1, 1}};
  ASSERT_TRUE(index.search(Vector{{1, 1.0f}}, 0, {}, hits).is_ok());  // k = 0
  EXPECT_TRUE(hits.empty());
  ASSERT_TRUE(index.search(Vector{{2, 1.0f}, {99, 1.0f}}, 10, {}, hits).is_ok());  // unknown
  EXPECT_TRUE(hits.empty());
  // k larger than the matches: all of them.
  ASSERT_TRUE(index.search(Vector{{1, 1.0f}, {3, 1.0f}}, 1000000, {}, hits, &stats).is_ok());
  EXPECT_EQ(hits, (std::vector<TextHit>{{1, 3.0f}, {2, 1.0f}}));
  EXPECT_EQ(stats.postings_scored, 3u);
  EXPECT_EQ(stats.documents_scored, 2u);
  // An invalid query.
  const Status invalid = index.search(Vector{{3, 1.0f}, {1, 1.0f}}, 10, {}, hits);
  EXPECT_EQ(invalid.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(invalid.message(), "sparse vector: indices must strictly increase (index 1 after 3)");
  EXPECT_TRUE(hits.empty());
  EXPECT_EQ(index.search(Vector{{1, std::numeric_limits<float>::infinity()}}, 10, {}, hits).code(),
            StatusCode::kInvalidArgument);
  // A filter refusing everything.
  ASSERT_TRUE(index.search(Vector{{3, 1.0f}}, 10, [](std::uint32_t) { return false; }, hits)
                  .is_ok());
  EXPECT_TRUE(hits.empty());
}

TEST(SparseIndexTest, TiesGoToTheSmallerSlot) {
  SparseIndex index;
  Vectors live;
  for (std::uint32_t slot = 0; slot < 1000; ++slot) {
    live[slot] = {{1, 1.0f}, {slot % 2 == 0 ? 2u : 3u, 1.0f}};
    ASSERT_TRUE(index.add(slot, live[slot]).is_ok());
  }
  std::vector<TextHit> hits;
  ASSERT_TRUE(index.search(Vector{{1, 1.0f}}, 5, {}, hits).is_ok());
  ASSERT_EQ(hits.size(), 5u);
  for (std::uint32_t i = 0; i < 5; ++i) EXPECT_EQ(hits[i], (TextHit{i, 1.0f}));
  check_query(index, live, Vector{{1, 1.0f}, {3, 1.0f}}, 7);  // odd slots first
  check_query(index, live, Vector{{1, 1.0f}, {2, 0.5f}, {3, 0.5f}}, 7);  // all tied
}

TEST(SparseIndexTest, AnyIndexIsAccepted) {
  constexpr std::uint32_t kDense = SparseIndex::kDenseIndices;
  SparseIndex index;
  Vectors live;
  live[0] = {{0, 1.0f}, {kDense - 1, 2.0f}, {kDense, 3.0f}, {kMaxIndex, 4.0f}};
  live[1] = {{kDense, -1.0f}, {kMaxIndex - 1, 1.0f}};
  live[2] = {{kMaxIndex, 0.5f}};
  for (const auto& [slot, vector] : live) ASSERT_TRUE(index.add(slot, vector).is_ok());
  EXPECT_EQ(index.dimension_count(), 5u);
  ASSERT_TRUE(index.check().is_ok()) << index.check().message();
  check_query(index, live, live[0], 10);
  check_query(index, live, Vector{{kDense, 1.0f}, {kMaxIndex, 1.0f}}, 10);
  check_query(index, live, Vector{{kMaxIndex - 1, 1.0f}}, 10);
  ASSERT_TRUE(index.remove(0, live[0]).is_ok());
  Result<SparseIndex> compact =
      index.compacted(std::vector<std::uint32_t>{SparseIndex::kDropped, 0, 1});
  ASSERT_TRUE(compact.is_ok());
  ASSERT_TRUE(compact.value().check().is_ok());
  EXPECT_EQ(compact.value().dimension_count(), 3u);  // kDense, kMaxIndex - 1, kMaxIndex
  const Vectors renumbered{{0, live[1]}, {1, live[2]}};
  check_query(compact.value(), renumbered, live[0], 10);
  check_query(compact.value(), renumbered, Vector{{0, 1.0f}, {kMaxIndex, 2.0f}}, 10);
}

// ---------------------------------------------------------------------------------------------
// Compaction and memory.

TEST(SparseIndexTest, CompactedRenumbersAndDropsDeadSlots) {
  std::mt19937_64 rng(21);
  const Shape shape(800, 1.0, true, Values::kMixed);
  Vectors live;
  const SparseIndex index = build(rng, shape, 4000, 25, 3, live);
  // Keep every live slot but those divisible by 5, renumbered densely after a gap of 10.
  std::vector<std::uint32_t> map(index.slot_count(), SparseIndex::kDropped);
  Vectors renumbered;
  std::uint32_t next = 10;
  for (std::uint32_t slot = 0; slot < index.slot_count(); ++slot) {
    if (slot % 5 == 0) continue;
    map[slot] = next++;  // dead slots get a number too; they are dropped all the same
    if (live.count(slot) != 0) renumbered[map[slot]] = live[slot];
  }
  Result<SparseIndex> result = index.compacted(map);
  ASSERT_TRUE(result.is_ok()) << result.status().message();
  const SparseIndex& compact = result.value();
  ASSERT_TRUE(compact.check().is_ok()) << compact.check().message();
  EXPECT_EQ(compact.slot_count(), next);
  EXPECT_EQ(compact.live_count(), renumbered.size());
  for (std::uint32_t slot = 0; slot < next; ++slot) {
    EXPECT_EQ(compact.is_live(slot), renumbered.count(slot) == 1) << slot;
  }
  EXPECT_LT(compact.memory_bytes(), index.memory_bytes());
  for (int q = 0; q < 30; ++q) {
    const Vector query = shape.draw(rng, 1 + rng() % 6);
    for (const std::size_t k : {std::size_t{1}, std::size_t{10}, std::size_t{100000}}) {
      check_query(compact, renumbered, query, k);
    }
  }
  // The compacted index keeps growing and removing like any other.
  const Vector extra{{shape.index_of(0), 1.0f}, {shape.index_of(5000), 2.0f}};
  SparseIndex grown = std::move(result).value();
  ASSERT_TRUE(grown.add(next + 3, extra).is_ok());
  renumbered[next + 3] = extra;
  const auto victim = renumbered.begin();
  ASSERT_TRUE(grown.remove(victim->first, victim->second).is_ok());
  renumbered.erase(victim);
  ASSERT_TRUE(grown.check().is_ok());
  check_query(grown, renumbered, extra, 20);

  // Dropping everything leaves no dimensions.
  std::vector<std::uint32_t> none(index.slot_count(), SparseIndex::kDropped);
  Result<SparseIndex> empty = index.compacted(none);
  ASSERT_TRUE(empty.is_ok());
  EXPECT_EQ(empty.value().dimension_count(), 0u);
  EXPECT_EQ(empty.value().live_count(), 0u);
  EXPECT_EQ(empty.value().slot_count(), 0u);
  EXPECT_TRUE(empty.value().check().is_ok());
}

TEST(SparseIndexTest, CompactedRejectsBadMaps) {
  SparseIndex index;
  ASSERT_TRUE(index.add(0, Vector{{1, 1.0f}}).is_ok());
  ASSERT_TRUE(index.add(1, Vector{{1, 2.0f}}).is_ok());
  ASSERT_TRUE(index.add(2, Vector{{2, 1.0f}}).is_ok());
  EXPECT_EQ(index.compacted(std::vector<std::uint32_t>{0, 1}).status().code(),
            StatusCode::kInvalidArgument);  // too short
  EXPECT_EQ(index.compacted(std::vector<std::uint32_t>{1, 0, 2}).status().code(),
            StatusCode::kInvalidArgument);  // order not kept
  EXPECT_EQ(index.compacted(std::vector<std::uint32_t>{0, 0, 1}).status().code(),
            StatusCode::kInvalidArgument);  // two slots on one
  EXPECT_TRUE(index.compacted(std::vector<std::uint32_t>{5, SparseIndex::kDropped, 6, 9})
                  .is_ok());  // longer than needed is fine
}

TEST(SparseIndexTest, MemoryBytesFollowsThePostings) {
  SparseIndex index;
  const std::size_t empty = index.memory_bytes();
  std::mt19937_64 rng(3);
  const Shape shape(30000, 1.0, false, Values::kPositive);
  Vectors live;
  std::size_t entries = 0;
  for (std::uint32_t slot = 0; slot < 20000; ++slot) {
    live[slot] = shape.draw(rng, 100);
    entries += live[slot].size();
    ASSERT_TRUE(index.add(slot, live[slot]).is_ok());
  }
  const std::size_t full = index.memory_bytes();
  EXPECT_GT(full, empty + 4 * entries);  // at least the raw values
  EXPECT_LT(full, empty + 16 * entries);
  // Removing every other slot frees nothing until compaction, which about halves the memory.
  std::vector<std::uint32_t> same(index.slot_count());
  for (std::uint32_t slot = 0; slot < same.size(); ++slot) {
    same[slot] = slot;
    if (slot % 2 == 1) { ASSERT_TRUE(index.remove(slot, live[slot]).is_ok()); }
  }
  EXPECT_EQ(index.memory_bytes(), full);
  Result<SparseIndex> compact = index.compacted(same);
  ASSERT_TRUE(compact.is_ok());
  const std::size_t half = compact.value().memory_bytes();
  EXPECT_LT(half, full * 6 / 10);
  EXPECT_GT(half, full * 3 / 10);
}

// ---------------------------------------------------------------------------------------------
// The posting lists.

TEST(SparsePostingsTest, RoundTripsAtBlockBoundaries) {
  for (const std::size_t count : {std::size_t{0}, std::size_t{1}, std::size_t{127},
                                  std::size_t{128}, std::size_t{129}, std::size_t{1000}}) {
    SCOPED_TRACE(count);
    std::mt19937_64 rng(count);
    SparsePostings list;
    std::vector<std::pair<std::uint32_t, float>> postings;
    std::uint64_t slot = 0;
    for (std::size_t i = 0; i < count; ++i) {
      slot += rng() % 3 == 0 ? rng() % 100000 : 1 + rng() % 3;
      if (i == count - 1 && count > 500) slot = kMaxIndex;  // the largest slot
      const float value = draw_value(rng, Values::kMixed);
      list.append(static_cast<std::uint32_t>(slot), value);
      postings.emplace_back(static_cast<std::uint32_t>(slot), value);
      ++slot;
    }
    ASSERT_EQ(list.size(), count);
    EXPECT_EQ(list.full_blocks(), count / kBlockPostings);
    EXPECT_EQ(list.block_count(), (count + kBlockPostings - 1) / kBlockPostings);
    std::uint32_t slots[kBlockPostings];
    float values[kBlockPostings];
    float list_max = 0;
    float list_min = 0;
    for (std::size_t block = 0; block < list.block_count(); ++block) {
      const std::size_t n = list.decode(block, slots, values);
      const std::size_t begin = block * kBlockPostings;
      ASSERT_EQ(n, std::min(kBlockPostings, count - begin));
      SparseBlockSkip skip{postings[begin + n - 1].first, values[0], values[0]};
      for (std::size_t i = 0; i < n; ++i) {
        EXPECT_EQ(slots[i], postings[begin + i].first);
        EXPECT_EQ(values[i], postings[begin + i].second);
        skip.max_value = std::max(skip.max_value, values[i]);
        skip.min_value = std::min(skip.min_value, values[i]);
        list_max = begin + i == 0 ? values[i] : std::max(list_max, values[i]);
        list_min = begin + i == 0 ? values[i] : std::min(list_min, values[i]);
      }
      EXPECT_EQ(list.skip(block), skip);
      EXPECT_EQ(list.find_block(0, skip.last_slot), block);
      EXPECT_EQ(list.find_block(block, postings[begin].first), block);
    }
    EXPECT_EQ(list.max_value(), list_max);
    EXPECT_EQ(list.min_value(), list_min);
    for (std::size_t i = 0; i < postings.size(); ++i) {
      const std::uint32_t s = postings[i].first;
      EXPECT_EQ(list.value_of(s), postings[i].second);
      const bool gap_before = i == 0 ? s > 0 : postings[i - 1].first + 1 < s;
      if (gap_before) { EXPECT_EQ(list.value_of(s - 1), std::nullopt); }
    }
    EXPECT_EQ(list.find_block(list.block_count(), 0), list.block_count());
    if (count == 0) { EXPECT_EQ(list.value_of(0), std::nullopt); }
  }
}

// ---------------------------------------------------------------------------------------------
// Pruning.

// How many (live slot, query entry) pairs share an index: the postings a search with no room
// to prune scores.
std::size_t matching_postings(const Vectors& live, const Vector& query) {
  std::size_t count = 0;
  for (const auto& [slot, vector] : live) {
    for (const SparseEntry& q : query) {
      count += std::binary_search(vector.begin(), vector.end(), q,
                                  [](const SparseEntry& x, const SparseEntry& y) {
                                    return x.index < y.index;
                                  });
    }
  }
  return count;
}

// On a SPLADE-like corpus (Zipf dimensions, log-normal values) queries that weight rarer
// dimensions above frequent ones (as SPLADE's query weights do) score a small part of their
// matches: the frequent dimensions' blocks rarely reach the k-th score on their own. And where a
// frequent dimension's large values cluster in a slot range (documents on one topic added
// together), a query of that dimension alone skips the blocks outside it. (Queries of frequent
// dimensions only, equally weighted, prune little on such a uniform corpus: every block of 128
// holds a large value of each, so its bound stays above the threshold.)
TEST(SparseIndexTest, BlockMaxWandPrunesOnASkewedCorpus) {
  std::mt19937_64 rng(11);
  const Shape shape(5000, 1.1, false, Values::kPositive);
  Vectors live;
  build(rng, shape, 50000, 40, 0, live);
  // Dimension 9999 in every slot, valued below 0.01 but 1 in slots 20000 to 20999.
  SparseIndex index;
  for (auto& [slot, vector] : live) {
    const float low = std::uniform_real_distribution<float>(0, 0.01f)(rng);
    vector.push_back({9999, slot >= 20000 && slot < 21000 ? 1.0f : low});
    ASSERT_TRUE(index.add(slot, vector).is_ok());
  }
  const std::vector<std::pair<Vector, bool>> queries = {
      {{{0, 0.3f}, {1, 0.3f}, {2, 0.3f}, {40, 1.5f}}, true},
      {{{0, 0.3f}, {3, 0.3f}, {900, 2.0f}}, true},
      {{{1, 1.0f}, {500, 1.0f}}, true},
      {{{9999, 1.0f}}, true},
      {{{0, 0.2f}, {9999, 1.0f}}, true},
      {{{0, 1.0f}, {1, 1.0f}, {2, 1.0f}, {3, 1.0f}, {4, 1.0f}, {5, 1.0f}}, false},
  };
  for (const auto& [query, prunes] : queries) {
    const std::size_t matching = matching_postings(live, query);
    std::vector<TextHit> hits;
    SearchStats stats;
    ASSERT_TRUE(index.search(query, 10, {}, hits, &stats).is_ok());
    expect_hits(hits, reference_hits(reference_scores(live, query, {}), 10));
    if (prunes) {
      EXPECT_LT(stats.postings_scored * 3, matching)
          << query.size() << " entries: " << stats.postings_scored << " of " << matching;
    }
    // Without pruning room (k above the matches) every match is scored.
    ASSERT_TRUE(index.search(query, 1000000, {}, hits, &stats).is_ok());
    EXPECT_EQ(stats.postings_scored, matching);
  }
}

}  // namespace
}  // namespace omendb::text
