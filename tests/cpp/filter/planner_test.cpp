// The planner: scan few matches, walk many, and widen the walk's list as the filter narrows.
#include <gtest/gtest.h>

#include <cmath>

#include "filter/planner.h"

namespace omendb {
namespace {

// `n` slots with bucket = slot % 1000, and the filter bucket < `below`.
struct Buckets {
  explicit Buckets(std::uint32_t n) {
    for (std::uint32_t slot = 0; slot < n; ++slot) {
      index.add(slot, Metadata{{"bucket", Value{std::int64_t{slot % 1000}}}});
    }
  }
  std::shared_ptr<const FilterMatches> below(std::int64_t bound, std::size_t slots) const {
    FilterExpr filter;
    filter.op = FilterOp::kLt;
    filter.field = "bucket";
    filter.operand = bound;
    return match_filter(index, filter, slots);
  }
  PayloadIndex index;
};

constexpr std::size_t kDegree = 32;  // level 0 at m = 16

TEST(Planner, FewMatchesAreScanned) {
  const Buckets buckets(200'000);
  const auto matches = buckets.below(10, 200'000);  // 1%: 2,000 matches
  EXPECT_EQ(matches->candidates.size(), 2000u);
  EXPECT_TRUE(matches->exact);
  EXPECT_FALSE(matches->walk);
  EXPECT_TRUE(plan_filtered_search(matches, 10, 64, kDegree).scan);
}

TEST(Planner, ManyMatchesAreWalkedWithAWiderList) {
  const Buckets buckets(200'000);
  const auto half = buckets.below(500, 200'000);
  ASSERT_TRUE(half->walk);
  EXPECT_TRUE(half->dense.contains(499) && !half->dense.contains(500));
  const FilterPlan plan = plan_filtered_search(half, 10, 64, kDegree);
  EXPECT_FALSE(plan.scan);
  EXPECT_EQ(plan.ef, static_cast<std::size_t>(64 * std::pow(0.5, -kWidening)));
  const FilterPlan tenth = plan_filtered_search(buckets.below(100, 200'000), 10, 64, kDegree);
  EXPECT_FALSE(tenth.scan);
  EXPECT_GT(tenth.ef, plan.ef);
}

// Near the scan share, a walk looks through so many non-matching neighbours that scanning the
// matches is cheaper until they outnumber the walk's expected cost.
TEST(Planner, ScansWhenTheWalkWouldCostMore) {
  const Buckets small(200'000);
  const auto six_percent = small.below(60, 200'000);  // 12,000 matches
  ASSERT_TRUE(six_percent->walk);
  EXPECT_TRUE(plan_filtered_search(six_percent, 10, 64, kDegree).scan);
  const Buckets large(1'000'000);
  EXPECT_FALSE(plan_filtered_search(large.below(60, 1'000'000), 10, 64, kDegree).scan);
}

}  // namespace
}  // namespace omendb
