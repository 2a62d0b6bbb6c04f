// The filter match cache: one computation per filter and payload version, recomputed after any
// write, least recently used entry evicted.
#include <gtest/gtest.h>

#include <string>

#include "filter/match_cache.h"

namespace omendb {
namespace {

FilterExpr equals(const std::string& field, std::int64_t value) {
  FilterExpr expr;
  expr.op = FilterOp::kEq;
  expr.field = field;
  expr.operand = value;
  return expr;
}

struct Counter {
  int calls = 0;
  FilterMatchCache::Compute compute() {
    return [this] {
      ++calls;
      return std::make_shared<const FilterMatches>();
    };
  }
};

TEST(FilterMatchCache, ComputesOncePerFilterAndVersion) {
  FilterMatchCache cache;
  Counter counter;
  const auto first = cache.get(equals("year", 2020), 7, counter.compute());
  const auto again = cache.get(equals("year", 2020), 7, counter.compute());
  EXPECT_EQ(counter.calls, 1);
  EXPECT_EQ(first, again);
  cache.get(equals("year", 2021), 7, counter.compute());  // another operand
  cache.get(equals("month", 2020), 7, counter.compute());  // another field
  EXPECT_EQ(counter.calls, 3);
}

TEST(FilterMatchCache, AWriteMakesEntriesStale) {
  FilterMatchCache cache;
  Counter counter;
  const auto before = cache.get(equals("year", 2020), 7, counter.compute());
  const auto after = cache.get(equals("year", 2020), 8, counter.compute());
  EXPECT_EQ(counter.calls, 2);
  EXPECT_NE(before, after);
}

TEST(FilterMatchCache, NestedTreesCompareWhole) {
  FilterMatchCache cache;
  Counter counter;
  FilterExpr both;
  both.op = FilterOp::kAnd;
  both.children = {equals("year", 2020), equals("tag", 1)};
  FilterExpr other = both;
  other.children[1].operand = std::int64_t{2};
  cache.get(both, 1, counter.compute());
  cache.get(other, 1, counter.compute());
  cache.get(both, 1, counter.compute());
  EXPECT_EQ(counter.calls, 2);
}

TEST(FilterMatchCache, EvictsTheLeastRecentlyUsed) {
  FilterMatchCache cache;
  Counter counter;
  for (std::int64_t i = 0; i < static_cast<std::int64_t>(FilterMatchCache::kEntries); ++i) {
    cache.get(equals("x", i), 1, counter.compute());
  }
  cache.get(equals("x", 0), 1, counter.compute());  // used again: 1 is now the oldest
  cache.get(equals("x", 100), 1, counter.compute());  // evicts 1
  EXPECT_EQ(counter.calls, static_cast<int>(FilterMatchCache::kEntries) + 1);
  cache.get(equals("x", 0), 1, counter.compute());
  EXPECT_EQ(counter.calls, static_cast<int>(FilterMatchCache::kEntries) + 1);
  cache.get(equals("x", 1), 1, counter.compute());
  EXPECT_EQ(counter.calls, static_cast<int>(FilterMatchCache::kEntries) + 2);
}

}  // namespace
}  // namespace omendb
