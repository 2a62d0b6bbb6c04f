#include "collections/top_k.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <random>
#include <span>
#include <utility>
#include <vector>

namespace omendb {
namespace {

constexpr float kInfinity = std::numeric_limits<float>::infinity();

// Neighbours as (distance, slot) pairs, which compare and print in test assertions.
using Pairs = std::vector<std::pair<float, std::uint32_t>>;

Pairs as_pairs(std::span<const Neighbor> neighbors) {
  Pairs pairs;
  for (const Neighbor& n : neighbors) pairs.emplace_back(n.distance, n.slot);
  return pairs;
}

// A stream of `count` candidates with distinct slots whose distances take only `distinct_distances`
// values, so many tie.
std::vector<Neighbor> random_stream(std::size_t count, int distinct_distances, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> distance(0, distinct_distances - 1);
  std::vector<Neighbor> stream;
  for (std::size_t i = 0; i < count; ++i) {
    stream.push_back({static_cast<float>(distance(rng)) * 0.5f, static_cast<std::uint32_t>(i)});
  }
  std::shuffle(stream.begin(), stream.end(), rng);  // slots arrive out of order
  return stream;
}

// The reference answer: the k least candidates by (distance, slot), nearest first.
std::vector<Neighbor> nearest_by_sorting(std::vector<Neighbor> candidates, std::size_t k) {
  std::sort(candidates.begin(), candidates.end());
  candidates.resize(std::min(k, candidates.size()));
  return candidates;
}

// Neighbor orders by distance, then by slot.
TEST(TopKTest, NeighborOrdersByDistanceThenSlot) {
  EXPECT_LT((Neighbor{1.0f, 9}), (Neighbor{2.0f, 0}));
  EXPECT_LT((Neighbor{1.0f, 3}), (Neighbor{1.0f, 4}));
  EXPECT_FALSE((Neighbor{1.0f, 4}) < (Neighbor{1.0f, 4}));
  EXPECT_FALSE((Neighbor{2.0f, 0}) < (Neighbor{1.0f, 9}));
}

// For random streams with many ties and every k from 0 past the stream length, after each push
// the kept set, push()'s answer, size(), full() and threshold() match a sort-based reference.
TEST(TopKTest, MatchesSortedReferenceOnRandomStreamsWithTies) {
  TopK top;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    const std::vector<Neighbor> stream = random_stream(300, 1 + static_cast<int>(seed) * 3, seed);
    for (std::size_t k : {0u, 1u, 2u, 10u, 64u, 299u, 300u, 301u, 1000u}) {
      top.reset(k);
      std::vector<Neighbor> reference;
      for (std::size_t i = 0; i < stream.size(); ++i) {
        const bool kept = top.push(stream[i]);
        reference.push_back(stream[i]);
        reference = nearest_by_sorting(reference, k);
        const bool reference_kept = std::any_of(reference.begin(), reference.end(), [&](auto& n) {
          return n.slot == stream[i].slot;  // slots are unique in the stream
        });
        ASSERT_EQ(kept, reference_kept) << "seed " << seed << " k " << k << " push " << i;
        ASSERT_EQ(top.size(), reference.size());
        ASSERT_EQ(top.full(), reference.size() == k);
        const float expected_threshold = reference.size() < k ? kInfinity
                                         : reference.empty()  ? -kInfinity
                                                              : reference.back().distance;
        ASSERT_EQ(top.threshold(), expected_threshold) << "seed " << seed << " k " << k;
      }
      Pairs unordered = as_pairs(top.unordered());
      std::sort(unordered.begin(), unordered.end());
      ASSERT_EQ(unordered, as_pairs(reference));
      ASSERT_EQ(as_pairs(top.sort()), as_pairs(reference)) << "seed " << seed << " k " << k;
    }
  }
}

// A default-constructed or zero-capacity heap keeps nothing, is always full, and its threshold
// is -infinity: no candidate can beat it.
TEST(TopKTest, ZeroCapacityKeepsNothing) {
  TopK top;
  EXPECT_TRUE(top.empty());
  EXPECT_TRUE(top.full());
  EXPECT_EQ(top.threshold(), -kInfinity);
  EXPECT_FALSE(top.push({1.0f, 1}));
  top.reset(0);
  EXPECT_FALSE(top.push({-kInfinity, 0}));
  EXPECT_TRUE(top.empty());
  EXPECT_EQ(top.threshold(), -kInfinity);
  EXPECT_TRUE(top.sort().empty());
}

// With capacity 1 the heap holds the single nearest so far; a tie on distance goes to the
// smaller slot.
TEST(TopKTest, CapacityOneKeepsTheNearest) {
  TopK top;
  top.reset(1);
  EXPECT_EQ(top.threshold(), kInfinity);
  EXPECT_TRUE(top.push({5.0f, 7}));
  EXPECT_EQ(top.threshold(), 5.0f);
  EXPECT_FALSE(top.push({6.0f, 1}));
  EXPECT_FALSE(top.push({5.0f, 8}));
  EXPECT_TRUE(top.push({5.0f, 3}));
  EXPECT_TRUE(top.push({-1.0f, 9}));
  ASSERT_EQ(top.size(), 1u);
  EXPECT_EQ(as_pairs(top.unordered()), (Pairs{{-1.0f, 9}}));
}

// When k exceeds the candidates, all are kept, the heap never becomes full, and the threshold
// stays +infinity.
TEST(TopKTest, CapacityAboveCandidateCountKeepsAll) {
  TopK top;
  top.reset(100);
  const std::vector<Neighbor> stream = random_stream(40, 5, 3);
  for (const Neighbor& n : stream) EXPECT_TRUE(top.push(n));
  EXPECT_FALSE(top.full());
  EXPECT_EQ(top.threshold(), kInfinity);
  EXPECT_EQ(as_pairs(top.sort()), as_pairs(nearest_by_sorting(stream, 100)));
}

// pop_worst() removes the farthest kept neighbour each time, so popping everything yields the
// kept set farthest first; after a pop the heap is not full and takes any candidate again.
TEST(TopKTest, PopWorstRemovesFarthestFirst) {
  TopK top;
  top.reset(16);
  const std::vector<Neighbor> stream = random_stream(200, 7, 5);
  for (const Neighbor& n : stream) top.push(n);
  std::vector<Neighbor> expected = nearest_by_sorting(stream, 16);
  ASSERT_EQ(top.threshold(), expected.back().distance);
  while (!top.empty()) {
    const Neighbor worst = *std::max_element(top.unordered().begin(), top.unordered().end());
    ASSERT_EQ(as_pairs({&worst, 1}), as_pairs({&expected.back(), 1}));
    top.pop_worst();
    expected.pop_back();
    ASSERT_EQ(top.size(), expected.size());
    ASSERT_EQ(top.threshold(), kInfinity);
  }
  EXPECT_TRUE(top.push({1e9f, 1}));
  EXPECT_EQ(as_pairs(top.unordered()), (Pairs{{1e9f, 1}}));
}

// sort() returns the kept neighbours nearest first in place, and reset() makes the heap usable
// again with a different capacity.
TEST(TopKTest, SortThenResetReuses) {
  TopK top;
  const std::vector<Neighbor> first = random_stream(500, 50, 8);
  const std::vector<Neighbor> second = random_stream(500, 2, 9);
  top.reset(64);
  for (const Neighbor& n : first) top.push(n);
  const auto sorted = top.sort();
  EXPECT_TRUE(std::is_sorted(sorted.begin(), sorted.end()));
  EXPECT_EQ(as_pairs(sorted), as_pairs(nearest_by_sorting(first, 64)));
  EXPECT_EQ(as_pairs(top.unordered()), as_pairs(sorted));
  for (std::size_t k : {10u, 100u}) {
    top.reset(k);
    EXPECT_TRUE(top.empty());
    for (const Neighbor& n : second) top.push(n);
    EXPECT_EQ(as_pairs(top.sort()), as_pairs(nearest_by_sorting(second, k)));
  }
}

}  // namespace
}  // namespace omendb
