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

// Marks made in each of the first epochs never reappear as the epoch counter wraps around (twice),
// and marks made just before a wrap are gone just after it.
TEST(VisitedSetTest, NoStaleMarksAcrossEpochWrapAround) {
  constexpr std::uint32_t kSlots = 1024;
  constexpr std::uint32_t kClears = 2 * 65'536 + 100;
  VisitedSet visited;
  for (std::uint32_t clears = 1; clears <= kClears; ++clears) {
    visited.clear(kSlots);
    ASSERT_EQ(count_marked(visited, kSlots), 0u) << "after clear " << clears;
    // Slot c is marked only in epoch c, so a missed wipe would make it reappear once the
    // counter comes back to c.
    if (clears < kSlots) {
      ASSERT_TRUE(visited.insert(clears));
    }
    // These are re-marked every clear, including the last epochs before each wrap.
    ASSERT_TRUE(visited.insert(0));
    ASSERT_FALSE(visited.insert(0));
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

// address_of() gives each slot its own, stable mark address.
TEST(VisitedSetTest, AddressOfIsDistinctPerSlot) {
  VisitedSet visited;
  visited.clear(64);
  EXPECT_NE(visited.address_of(0), visited.address_of(1));
  EXPECT_LT(visited.address_of(0), visited.address_of(63));
  const void* before = visited.address_of(5);
  visited.clear(64);
  EXPECT_EQ(visited.address_of(5), before);
}

}  // namespace
}  // namespace omendb
