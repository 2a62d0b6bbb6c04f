#include "index/candidate_list.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <random>
#include <vector>

namespace omendb {
namespace {

// Inserts as a graph walk does (only what beats the threshold) and returns what the list keeps.
std::vector<Neighbor> walk_inserts(CandidateList& list, const std::vector<Neighbor>& nodes) {
  for (const Neighbor& node : nodes) {
    if (node.distance < list.threshold()) list.insert(node);
  }
  std::vector<Neighbor> kept;
  list.nearest(list.size(), kept);
  return kept;
}

TEST(CandidateList, KeepsTheCapacityNearestInOrder) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  for (std::size_t capacity : {1u, 2u, 7u, 100u}) {
    for (std::size_t count : {0u, 1u, 5u, 100u, 1000u}) {
      std::vector<Neighbor> nodes;
      for (std::uint32_t slot = 0; slot < count; ++slot) nodes.push_back({uniform(rng), slot});
      CandidateList list;
      list.reset(capacity);
      const std::vector<Neighbor> kept = walk_inserts(list, nodes);

      std::vector<Neighbor> expected = nodes;
      std::sort(expected.begin(), expected.end());
      expected.resize(std::min(capacity, count));
      ASSERT_EQ(kept.size(), expected.size()) << capacity << " " << count;
      for (std::size_t i = 0; i < kept.size(); ++i) {
        EXPECT_EQ(kept[i].slot, expected[i].slot) << "capacity " << capacity << " rank " << i;
        EXPECT_EQ(kept[i].distance, expected[i].distance);
      }
    }
  }
}

TEST(CandidateList, EqualDistancesKeepArrivalOrder) {
  CandidateList list;
  list.reset(4);
  const std::vector<Neighbor> kept =
      walk_inserts(list, {{2.0f, 10}, {1.0f, 11}, {2.0f, 12}, {1.0f, 13}, {2.0f, 14}});
  ASSERT_EQ(kept.size(), 4u);
  EXPECT_EQ(kept[0].slot, 11u);
  EXPECT_EQ(kept[1].slot, 13u);
  EXPECT_EQ(kept[2].slot, 10u);
  EXPECT_EQ(kept[3].slot, 12u);  // 14 ties with the farthest kept: not below the threshold
}

TEST(CandidateList, ExpandsNearestUnexpandedFirstIncludingLaterArrivals) {
  CandidateList list;
  list.reset(3);
  list.insert({5.0f, 1});
  list.insert({3.0f, 2});
  Neighbor node;
  ASSERT_TRUE(list.expand_next(node));
  EXPECT_EQ(node.slot, 2u);
  list.insert({1.0f, 3});  // nearer than the expanded node: expanded next
  list.insert({4.0f, 4});  // fills the list; slot 1 (5.0) is dropped when it is full
  ASSERT_TRUE(list.expand_next(node));
  EXPECT_EQ(node.slot, 3u);
  ASSERT_TRUE(list.expand_next(node));
  EXPECT_EQ(node.slot, 4u);
  EXPECT_FALSE(list.expand_next(node));
  EXPECT_EQ(list.threshold(), 4.0f);
}

TEST(CandidateList, ResetEmptiesAndResizes) {
  CandidateList list;
  list.reset(2);
  list.insert({1.0f, 1});
  list.insert({2.0f, 2});
  EXPECT_EQ(list.threshold(), 2.0f);
  list.reset(5);
  EXPECT_EQ(list.size(), 0u);
  EXPECT_EQ(list.threshold(), std::numeric_limits<float>::infinity());
  Neighbor node;
  EXPECT_FALSE(list.expand_next(node));
}

}  // namespace
}  // namespace omendb
