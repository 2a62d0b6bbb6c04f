#include "collections/visited_set.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <random>
#include <set>
#include <vector>

namespace omendb {
namespace {

// Counts the slots in [0, slots) that the set contains.
std::size_t count_marked(const VisitedSet& visited, std::uint32_t slots) {
  std::size_t marked = 0;
  for (std::uint32_t s = 0; s < slots; ++s) marked += visited.contains(s) ? 1 : 0;
  return marked;
}

// insert() reports whether a slot is new, contains() sees exactly the inserted slots, and
// clear() empties the set.
TEST(VisitedSetTest, InsertContainsAndClear) {
  VisitedSet visited;
  visited.clear(100);
  EXPECT_EQ(count_marked(visited, 100), 0u);
  EXPECT_TRUE(visited.insert(7));
  EXPECT_FALSE(visited.insert(7));
  EXPECT_TRUE(visited.insert(0));
  EXPECT_TRUE(visited.insert(99));
  EXPECT_TRUE(visited.contains(7));
  EXPECT_TRUE(visited.contains(0));
  EXPECT_TRUE(visited.contains(99));
  EXPECT_FALSE(visited.contains(8));
  EXPECT_EQ(count_marked(visited, 100), 3u);
  visited.clear(100);
  EXPECT_EQ(count_marked(visited, 100), 0u);
  EXPECT_TRUE(visited.insert(7));
}

// Random inserts agree with std::set over many clears of varying size.
TEST(VisitedSetTest, AgreesWithStdSet) {
  std::mt19937 rng(42);
  VisitedSet visited;
  for (int round = 0; round < 300; ++round) {
    const std::uint32_t slots = 1 + rng() % 5000;
    visited.clear(slots);
    std::set<std::uint32_t> model;
    for (int i = 0; i < 400; ++i) {
      const std::uint32_t slot = rng() % slots;
      ASSERT_EQ(visited.insert(slot), model.insert(slot).second) << "round " << round;
    }
    for (std::uint32_t s = 0; s < slots; ++s) {
      ASSERT_EQ(visited.contains(s), model.contains(s)) << "round " << round << " slot " << s;
    }
  }
}

// Clearing leaves no mark behind on either of its paths: after a few inserts (zeroing the
// touched words) and after inserts into most words (wiping the whole bitset).
TEST(VisitedSetTest, ClearEmptiesAfterSparseAndDenseInserts) {
  constexpr std::uint32_t kSlots = 64 * 1000;
  VisitedSet visited;
  for (std::uint32_t step : {6400u, 997u, 64u, 63u, 1u}) {  // from 10 words touched to all
    visited.clear(kSlots);
    std::uint32_t inserted = 0;
    for (std::uint32_t s = step / 2; s < kSlots; s += step) {
      ASSERT_TRUE(visited.insert(s));
      ++inserted;
    }
    ASSERT_EQ(count_marked(visited, kSlots), inserted) << "step " << step;
    visited.clear(kSlots);
    ASSERT_EQ(count_marked(visited, kSlots), 0u) << "step " << step;
  }
}

// Growing keeps the set empty after clear(), extends it to the new slots, and a smaller clear()
// afterwards neither shrinks it nor leaves marks behind.
TEST(VisitedSetTest, GrowsOnDemand) {
  VisitedSet visited;
  visited.clear(10);
  for (std::uint32_t s = 0; s < 10; ++s) visited.insert(s);
  visited.clear(1'000'000);
  EXPECT_EQ(count_marked(visited, 1'000'000), 0u);
  EXPECT_TRUE(visited.insert(999'999));
  EXPECT_TRUE(visited.insert(3));
  EXPECT_TRUE(visited.contains(999'999));
  visited.clear(10);
  EXPECT_EQ(count_marked(visited, 1'000'000), 0u);  // the larger size is kept
  EXPECT_TRUE(visited.insert(999'999));
  for (std::uint32_t slots = 11; slots < 3000; slots += 17) {
    visited.clear(slots);
    ASSERT_TRUE(visited.insert(slots - 1));
    ASSERT_TRUE(visited.contains(slots - 1));
  }
}

}  // namespace
}  // namespace omendb
