#include "filter/payload_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <limits>
#include <numeric>
#include <optional>
#include <random>
#include <ranges>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "filter/evaluate.h"
#include "filter/filter_test_util.h"

namespace omendb {
namespace {

using Strings = std::vector<std::string>;
using Slots = std::vector<std::uint32_t>;
using filter_test::describe;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr std::int64_t kInt64Min = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();

// ---------------------------------------------------------------------------------------------
// Builders.

FilterExpr leaf(FilterOp op, std::string field, Value operand = {}) {
  FilterExpr e;
  e.op = op;
  e.field = std::move(field);
  e.operand = std::move(operand);
  return e;
}

FilterExpr in(FilterOp op, std::string field, std::vector<Value> operands) {
  FilterExpr e = leaf(op, std::move(field));
  e.operands = std::move(operands);
  return e;
}

FilterExpr exists(std::string field, bool present) {
  FilterExpr e = leaf(FilterOp::kExists, std::move(field));
  e.exists = present;
  return e;
}

FilterExpr node(FilterOp op, std::vector<FilterExpr> children) {
  FilterExpr e;
  e.op = op;
  e.children = std::move(children);
  return e;
}

Slots sorted(Slots slots) {
  std::sort(slots.begin(), slots.end());
  return slots;
}

// A small index from a list of metadata, slot i holding records[i].
class PayloadIndexTest : public ::testing::Test {
 protected:
  void build(std::vector<Metadata> records) {
    records_ = std::move(records);
    for (std::uint32_t slot = 0; slot < records_.size(); ++slot) {
      ASSERT_TRUE(normalize_metadata(records_[slot]).is_ok());
      index_.add(slot, records_[slot]);
    }
  }

  // The index's exact answer, also checked against matches() over every live record and against
  // estimate().
  Slots exact(const FilterExpr& filter) {
    Slots expected;
    for (std::uint32_t slot = 0; slot < records_.size(); ++slot) {
      if (index_.live().contains(slot) && matches(filter, records_[slot])) expected.push_back(slot);
    }
    const std::optional<Bitmap> got = index_.exact(filter);
    EXPECT_TRUE(got.has_value()) << describe(filter);
    if (!got) return {};
    EXPECT_EQ(got->to_vector(), expected) << describe(filter);
    EXPECT_EQ(index_.estimate(filter), expected.size()) << describe(filter);
    return got->to_vector();
  }

  std::vector<Metadata> records_;
  PayloadIndex index_;
};

// ---------------------------------------------------------------------------------------------
// Bitmap

static_assert(std::input_iterator<Bitmap::Iterator>);
static_assert(std::ranges::input_range<const Bitmap>);

TEST(BitmapTest, BuildsFromAnyOrderAndIterates) {
  EXPECT_TRUE(Bitmap().empty());
  EXPECT_EQ(Bitmap().size(), 0u);
  EXPECT_EQ(Bitmap().begin(), Bitmap().end());
  EXPECT_EQ(Bitmap(), Bitmap::of({}));

  std::mt19937 rng(7);
  for (const std::size_t n : {1u, 63u, 64u, 65u, 4096u, 4097u, 30000u}) {
    Slots slots(n);
    for (auto& s : slots) s = static_cast<std::uint32_t>(rng() % 200000);
    slots.push_back(slots.front());  // a duplicate
    Slots unique = sorted(slots);
    unique.erase(std::unique(unique.begin(), unique.end()), unique.end());

    const Bitmap bitmap = Bitmap::of(slots);
    EXPECT_EQ(bitmap.size(), unique.size());
    EXPECT_EQ(bitmap.to_vector(), unique);
    Slots iterated;
    for (const std::uint32_t slot : bitmap) iterated.push_back(slot);
    EXPECT_EQ(iterated, unique) << n;
    EXPECT_EQ(Bitmap::of(unique), bitmap);
  }

  // Dense input past 1024 slots goes through CRoaring's serialized form: containers of exactly
  // 4096 (an array) and 4097 (a bitset) slots, and a partial last chunk; sparse input past 1024
  // slots (far above their count) is sorted instead.
  for (const std::uint32_t first_chunk : {4096u, 4097u, 65536u}) {
    Slots slots;
    for (std::uint32_t i = 0; i < first_chunk; ++i) slots.push_back(i * (65536 / first_chunk));
    for (std::uint32_t i = 0; i < 5000; ++i) slots.push_back(65536 + i * 3);
    for (std::uint32_t i = 0; i < 10; ++i) slots.push_back(3 * 65536 + 7 * i);
    std::shuffle(slots.begin(), slots.end(), rng);
    Bitmap one_by_one;
    for (const std::uint32_t slot : slots) one_by_one.add(slot);
    EXPECT_EQ(Bitmap::of(slots), one_by_one) << first_chunk;
    EXPECT_EQ(Bitmap::of(slots).to_vector(), sorted(slots)) << first_chunk;
  }
  Slots sparse(5000);
  for (auto& s : sparse) s = static_cast<std::uint32_t>(rng());
  Bitmap one_by_one;
  for (const std::uint32_t slot : sparse) one_by_one.add(slot);
  EXPECT_EQ(Bitmap::of(sparse), one_by_one);

  Bitmap top;
  top.add(UINT32_MAX);
  top.add(0);
  Slots iterated;
  for (const std::uint32_t slot : top) iterated.push_back(slot);
  EXPECT_EQ(iterated, (Slots{0, UINT32_MAX}));
  EXPECT_TRUE(top.contains(UINT32_MAX));
  EXPECT_FALSE(top.contains(1));

  Slots last_batch;  // a full batch of 64 that ends at the largest slot
  for (std::uint32_t i = 0; i < 64; ++i) last_batch.push_back(UINT32_MAX - 63 + i);
  iterated.clear();
  for (const std::uint32_t slot : Bitmap::of(last_batch)) iterated.push_back(slot);
  EXPECT_EQ(iterated, last_batch);
}

TEST(BitmapTest, SetOperations) {
  const Bitmap a = Bitmap::of(Slots{1, 2, 3, 70000});
  const Bitmap b = Bitmap::of(Slots{2, 3, 4});
  EXPECT_EQ((a & b).to_vector(), (Slots{2, 3}));
  EXPECT_EQ((a | b).to_vector(), (Slots{1, 2, 3, 4, 70000}));
  EXPECT_EQ((a - b).to_vector(), (Slots{1, 70000}));
  EXPECT_TRUE((a & Bitmap()).empty());
  EXPECT_EQ(a | Bitmap(), a);
  EXPECT_EQ(Bitmap() | a, a);
  EXPECT_EQ(a - Bitmap(), a);
  EXPECT_TRUE((Bitmap() - a).empty());

  Bitmap self = a;
  self &= self;
  EXPECT_EQ(self, a);
  self |= self;
  EXPECT_EQ(self, a);
  self -= self;
  EXPECT_TRUE(self.empty());
  EXPECT_EQ(self, Bitmap());

  Bitmap moved = a;
  Bitmap target = std::move(moved);
  EXPECT_EQ(target, a);
  target.remove(1);
  target.remove(12345);
  EXPECT_EQ(target.to_vector(), (Slots{2, 3, 70000}));
  EXPECT_EQ(a.size(), 4u);  // copies are deep
}

// ---------------------------------------------------------------------------------------------
// Focused semantics

TEST_F(PayloadIndexTest, IntsAndFloatsWithTheSameValueAreOneKey) {
  build({{{"year", std::int64_t{2020}}},
         {{"year", 2020.0}},
         {{"year", 2020.5}},
         {{"year", std::string("2020")}},
         {{"year", true}},
         {},
         {{"year", Value()}},
         {{"year", -0.0}},
         {{"year", std::int64_t{0}}}});
  EXPECT_EQ(exact(leaf(FilterOp::kEq, "year", std::int64_t{2020})), (Slots{0, 1}));
  EXPECT_EQ(exact(leaf(FilterOp::kEq, "year", 2020.0)), (Slots{0, 1}));
  EXPECT_EQ(exact(leaf(FilterOp::kEq, "year", 0.0)), (Slots{7, 8}));
  EXPECT_EQ(exact(in(FilterOp::kIn, "year", {2020.0, 2020.5, std::int64_t{2020}})),
            (Slots{0, 1, 2}));
  EXPECT_EQ(exact(leaf(FilterOp::kNe, "year", std::int64_t{2020})), (Slots{2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(exact(leaf(FilterOp::kEq, "year", std::string("2020"))), (Slots{3}));
  EXPECT_EQ(exact(leaf(FilterOp::kEq, "year", true)), (Slots{4}));
  EXPECT_EQ(exact(leaf(FilterOp::kEq, "year", std::int64_t{1})), Slots{});  // bool is no number
  EXPECT_EQ(exact(leaf(FilterOp::kEq, "year", Value())), Slots{});          // null equals nothing
  EXPECT_EQ(exact(leaf(FilterOp::kNe, "year", Value())), (Slots{0, 1, 2, 3, 4, 5, 6, 7, 8}));
}

TEST_F(PayloadIndexTest, LargeNumbersCompareExactly) {
  const std::int64_t two53 = std::int64_t{1} << 53;
  build({{{"n", two53}},
         {{"n", two53 + 1}},
         {{"n", 0x1p53}},
         {{"n", kInt64Max}},
         {{"n", kInt64Min}},
         {{"n", 1e300}},
         {{"n", -1e300}},
         {{"n", 0x1p63}}});
  EXPECT_EQ(exact(leaf(FilterOp::kEq, "n", 0x1p53)), (Slots{0, 2}));
  EXPECT_EQ(exact(leaf(FilterOp::kEq, "n", two53 + 1)), (Slots{1}));
  EXPECT_EQ(exact(leaf(FilterOp::kGt, "n", 0x1p53)), (Slots{1, 3, 5, 7}));
  EXPECT_EQ(exact(leaf(FilterOp::kLt, "n", 0x1p63)), (Slots{0, 1, 2, 3, 4, 6}));
  EXPECT_EQ(exact(leaf(FilterOp::kEq, "n", 0x1p63)), (Slots{7}));
  EXPECT_EQ(exact(leaf(FilterOp::kGte, "n", kInt64Max)), (Slots{3, 5, 7}));
  EXPECT_EQ(exact(leaf(FilterOp::kEq, "n", -0x1p63)), (Slots{4}));
  EXPECT_EQ(exact(leaf(FilterOp::kLt, "n", -0x1p63)), (Slots{6}));
  EXPECT_EQ(exact(leaf(FilterOp::kGt, "n", 0.5)), (Slots{0, 1, 2, 3, 5, 7}));
  EXPECT_EQ(exact(leaf(FilterOp::kLte, "n", -0.5)), (Slots{4, 6}));
}

TEST_F(PayloadIndexTest, RangeBoundsAtInfinityEqualValuesAndNaN) {
  build({{{"x", std::int64_t{1}}},
         {{"x", std::int64_t{2}}},
         {{"x", 2.0}},
         {{"x", 2.5}},
         {{"x", std::string("2")}},
         {{"x", Value()}},
         {}});
  EXPECT_EQ(exact(leaf(FilterOp::kGt, "x", std::int64_t{2})), (Slots{3}));
  EXPECT_EQ(exact(leaf(FilterOp::kGte, "x", 2.0)), (Slots{1, 2, 3}));
  EXPECT_EQ(exact(leaf(FilterOp::kLt, "x", std::int64_t{2})), (Slots{0}));
  EXPECT_EQ(exact(leaf(FilterOp::kLte, "x", 2.0)), (Slots{0, 1, 2}));
  EXPECT_EQ(exact(leaf(FilterOp::kLt, "x", kInf)), (Slots{0, 1, 2, 3}));
  EXPECT_EQ(exact(leaf(FilterOp::kGte, "x", -kInf)), (Slots{0, 1, 2, 3}));
  EXPECT_EQ(exact(leaf(FilterOp::kGt, "x", kInf)), Slots{});
  EXPECT_EQ(exact(leaf(FilterOp::kLte, "x", -kInf)), Slots{});
  EXPECT_EQ(exact(leaf(FilterOp::kEq, "x", kInf)), Slots{});
  EXPECT_EQ(exact(leaf(FilterOp::kLt, "x", kNaN)), Slots{});
  EXPECT_EQ(exact(leaf(FilterOp::kEq, "x", kNaN)), Slots{});
  EXPECT_EQ(exact(leaf(FilterOp::kNe, "x", kNaN)), (Slots{0, 1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(exact(leaf(FilterOp::kGt, "x", Value())), Slots{});
  EXPECT_EQ(exact(leaf(FilterOp::kGt, "missing", std::int64_t{0})), Slots{});
  EXPECT_EQ(exact(node(FilterOp::kAnd, {leaf(FilterOp::kGte, "x", std::int64_t{2}),
                                        leaf(FilterOp::kLte, "x", 2.0)})),
            (Slots{1, 2}));
}

TEST_F(PayloadIndexTest, RangesOnOneFieldInAnAndMeetAsOneInterval) {
  build({{{"x", std::int64_t{1}}},
         {{"x", std::int64_t{2}}},
         {{"x", 2.0}},
         {{"x", 2.5}},
         {{"x", std::int64_t{3}}},
         {{"x", std::string("2")}},
         {{"y", std::int64_t{2}}},
         {}});
  const std::vector<Value> bounds = {
      std::int64_t{1}, std::int64_t{2}, 2.0, 2.5, std::int64_t{3}, kInf, -kInf};
  const FilterOp ops[] = {FilterOp::kGt, FilterOp::kGte, FilterOp::kLt, FilterOp::kLte};
  for (const FilterOp a : ops) {
    for (const FilterOp b : ops) {
      for (const Value& x : bounds) {
        for (const Value& y : bounds) {
          exact(node(FilterOp::kAnd, {leaf(a, "x", x), leaf(b, "x", y)}));
          exact(node(FilterOp::kAnd,
                     {leaf(a, "x", x), leaf(FilterOp::kGte, "y", y), leaf(b, "x", y)}));
        }
      }
    }
  }
  exact(node(FilterOp::kAnd,
             {leaf(FilterOp::kGt, "x", std::int64_t{1}), leaf(FilterOp::kLt, "x", std::int64_t{3}),
              leaf(FilterOp::kNe, "x", 2.5), leaf(FilterOp::kGte, "x", 2.0)}));
}

TEST_F(PayloadIndexTest, NeAndNinHoldForMissingFieldsNullsAndOtherKinds) {
  build({{{"tag", std::string("news")}},
         {{"tag", std::string("blog")}},
         {{"tag", Value()}},
         {},
         {{"tag", std::int64_t{3}}},
         {{"tag", Strings{"news", "x"}}}});
  EXPECT_EQ(exact(leaf(FilterOp::kNe, "tag", std::string("news"))), (Slots{1, 2, 3, 4}));
  EXPECT_EQ(exact(in(FilterOp::kNin, "tag", {std::string("news"), std::string("blog")})),
            (Slots{2, 3, 4}));
  EXPECT_EQ(exact(in(FilterOp::kNin, "tag", {})), (Slots{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(exact(in(FilterOp::kIn, "tag", {})), Slots{});
  EXPECT_EQ(exact(leaf(FilterOp::kNe, "nowhere", std::int64_t{1})), (Slots{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(exact(in(FilterOp::kNin, "tag", {Value(), std::int64_t{3}})), (Slots{0, 1, 2, 3, 5}));
}

TEST_F(PayloadIndexTest, ExistsCountsNullAsPresent) {
  build({{{"a", Value()}}, {{"a", false}}, {{"b", std::int64_t{1}}}, {}});
  EXPECT_EQ(exact(exists("a", true)), (Slots{0, 1}));
  EXPECT_EQ(exact(exists("a", false)), (Slots{2, 3}));
  EXPECT_EQ(exact(exists("nowhere", true)), Slots{});
  EXPECT_EQ(exact(exists("nowhere", false)), (Slots{0, 1, 2, 3}));
  EXPECT_EQ(exact(leaf(FilterOp::kEq, "a", false)), (Slots{1}));
}

TEST_F(PayloadIndexTest, ListsMatchByElementOrAsAWhole) {
  build({{{"tags", Strings{"a", "b"}}},
         {{"tags", Strings{"b"}}},
         {{"tags", Strings{}}},
         {{"tags", std::string("a")}},
         {{"tags", std::string("xay")}},
         {{"tags", Strings{"a", "a"}}},
         {}});
  EXPECT_EQ(exact(leaf(FilterOp::kEq, "tags", std::string("a"))), (Slots{0, 3, 5}));
  EXPECT_EQ(exact(leaf(FilterOp::kEq, "tags", Strings{"a", "b"})), (Slots{0}));
  EXPECT_EQ(exact(leaf(FilterOp::kEq, "tags", Strings{"b", "a"})), Slots{});
  EXPECT_EQ(exact(leaf(FilterOp::kEq, "tags", Strings{})), (Slots{2}));
  EXPECT_EQ(exact(leaf(FilterOp::kEq, "tags", Strings{"a"})), Slots{});
  EXPECT_EQ(exact(leaf(FilterOp::kContains, "tags", std::string("a"))), (Slots{0, 3, 4, 5}));
  EXPECT_EQ(exact(leaf(FilterOp::kContains, "tags", std::string(""))), (Slots{3, 4}));
  EXPECT_EQ(exact(leaf(FilterOp::kContains, "tags", Strings{"a"})), Slots{});
  EXPECT_EQ(exact(in(FilterOp::kIn, "tags", {std::string("b"), Strings{"a", "a"}})),
            (Slots{0, 1, 5}));
  EXPECT_EQ(exact(leaf(FilterOp::kNe, "tags", std::string("a"))), (Slots{1, 2, 4, 6}));
}

TEST_F(PayloadIndexTest, AndOrOfNoChildrenAreTrueAndFalse) {
  build({{{"a", std::int64_t{1}}}, {}});
  EXPECT_EQ(exact(node(FilterOp::kAnd, {})), (Slots{0, 1}));
  EXPECT_EQ(exact(node(FilterOp::kOr, {})), Slots{});
  EXPECT_EQ(exact(node(FilterOp::kNot, {node(FilterOp::kAnd, {})})), Slots{});
  EXPECT_EQ(exact(node(FilterOp::kNot, {leaf(FilterOp::kEq, "a", 1.0)})), (Slots{1}));

  // A $not without exactly one child breaks expression.h's contract: the index claims nothing.
  const PayloadIndex::Superset malformed = index_.superset(node(FilterOp::kNot, {}));
  EXPECT_FALSE(malformed.exact);
  EXPECT_EQ(malformed.slots.to_vector(), (Slots{0, 1}));
}

TEST_F(PayloadIndexTest, StringsOrderBytewiseBoolsAndListsDoNot) {
  build({{{"s", std::string("apple")}},
         {{"s", std::string("pear")}},
         {{"s", std::string("\xc3\xa9t\xc3\xa9")}},  // "été": its first byte sorts after 'z'
         {{"s", std::string("")}},
         {{"s", std::int64_t{5}}},
         {{"s", true}},
         {{"s", Strings{"zzz"}}},
         {}});
  EXPECT_EQ(exact(leaf(FilterOp::kGt, "s", std::string("m"))), (Slots{1, 2}));
  EXPECT_EQ(exact(leaf(FilterOp::kGte, "s", std::string("pear"))), (Slots{1, 2}));
  EXPECT_EQ(exact(leaf(FilterOp::kGt, "s", std::string("pear"))), (Slots{2}));
  EXPECT_EQ(exact(leaf(FilterOp::kLt, "s", std::string("pear"))), (Slots{0, 3}));
  EXPECT_EQ(exact(leaf(FilterOp::kLte, "s", std::string(""))), (Slots{3}));
  EXPECT_EQ(exact(leaf(FilterOp::kLt, "s", std::string(""))), Slots{});
  EXPECT_EQ(exact(leaf(FilterOp::kGt, "s", std::string("z"))), (Slots{2}));
  EXPECT_EQ(exact(node(FilterOp::kAnd, {leaf(FilterOp::kGte, "s", std::string("a")),
                                        leaf(FilterOp::kLt, "s", std::string("q"))})),
            (Slots{0, 1}));
  EXPECT_EQ(exact(node(FilterOp::kNot, {leaf(FilterOp::kGt, "s", std::string("m"))})),
            (Slots{0, 3, 4, 5, 6, 7}));
  // Bools and lists have no order; a string operand never orders against a number or a list.
  EXPECT_EQ(exact(leaf(FilterOp::kGte, "s", false)), Slots{});
  EXPECT_EQ(exact(leaf(FilterOp::kLte, "s", Strings{"zzz"})), Slots{});
  EXPECT_EQ(exact(leaf(FilterOp::kGte, "s", std::int64_t{5})), (Slots{4}));
}

TEST_F(PayloadIndexTest, ContainsScansDistinctStringsUpToTheLimit) {
  std::vector<Metadata> records;
  const std::size_t n = PayloadIndex::kMaxSubstringScanValues + 1;
  for (std::size_t i = 0; i < n; ++i) records.push_back({{"title", "title " + std::to_string(i)}});
  records.push_back({{"title", Strings{"7"}}});
  build(std::move(records));

  const FilterExpr has7 = leaf(FilterOp::kContains, "title", std::string("7"));
  EXPECT_FALSE(index_.exact(has7).has_value());
  const PayloadIndex::Superset superset = index_.superset(has7);
  EXPECT_FALSE(superset.exact);
  EXPECT_EQ(superset.slots.size(), n + 1);
  EXPECT_EQ(index_.estimate(has7), n + 1);
  EXPECT_EQ(exact(leaf(FilterOp::kEq, "title", std::string("title 17"))), (Slots{17}));

  // Over an inexact subtree, $not is inexact too: its sure part is what the subtree surely
  // misses, its bound what the subtree does not surely match.
  records_.push_back({{"other", true}});
  index_.add(static_cast<std::uint32_t>(n + 1), records_.back());
  const PayloadIndex::Superset outside = index_.superset(node(FilterOp::kNot, {has7}));
  EXPECT_FALSE(outside.exact);
  EXPECT_EQ(outside.slots.size(), n + 1);  // all but the list holding "7"
  EXPECT_FALSE(outside.slots.contains(static_cast<std::uint32_t>(n)));
  // An exact side can settle it: nothing without a title contains "7".
  EXPECT_EQ(exact(node(FilterOp::kAnd, {has7, exists("title", false)})), Slots{});
  Slots titled(n + 1);
  std::iota(titled.begin(), titled.end(), 0u);
  EXPECT_EQ(exact(node(FilterOp::kOr, {has7, exists("title", true)})), titled);

  index_.remove(static_cast<std::uint32_t>(n + 1), records_.back());
  index_.remove(0, records_[0]);
  Slots expected;
  for (std::uint32_t slot = 1; slot <= n; ++slot) {
    if (slot == n || std::to_string(slot).find('7') != std::string::npos) expected.push_back(slot);
  }
  EXPECT_EQ(exact(has7), expected);
}

TEST_F(PayloadIndexTest, RemovalForgetsValuesAndSlotsCanComeBack) {
  build({{{"n", std::int64_t{1}}, {"s", std::string("a")}, {"l", Strings{"x"}}},
         {{"n", 1.5}, {"s", std::string("b")}}});
  index_.remove(0, records_[0]);
  EXPECT_EQ(exact(leaf(FilterOp::kEq, "n", std::int64_t{1})), Slots{});
  EXPECT_EQ(exact(exists("l", true)), Slots{});
  EXPECT_EQ(exact(exists("l", false)), (Slots{1}));
  EXPECT_EQ(exact(leaf(FilterOp::kNe, "s", std::string("b"))), Slots{});

  records_[0] = {{"n", std::int64_t{7}}};
  index_.add(0, records_[0]);
  EXPECT_EQ(exact(leaf(FilterOp::kGt, "n", std::int64_t{1})), (Slots{0, 1}));
  EXPECT_EQ(exact(leaf(FilterOp::kEq, "s", std::string("a"))), Slots{});

  index_.remove(0, records_[0]);
  index_.remove(1, records_[1]);
  EXPECT_TRUE(index_.live().empty());
  EXPECT_EQ(exact(node(FilterOp::kAnd, {})), Slots{});
  EXPECT_EQ(exact(leaf(FilterOp::kLt, "n", kInf)), Slots{});
}

TEST_F(PayloadIndexTest, NumericColumnStaysExactThroughMergesAndRemovals) {
  // Enough numbers in one field to fill many levels, with removals in the levels and in the
  // buffer, a rewrite once half is dead, and slots coming back with other values.
  std::vector<Metadata> records;
  for (std::int64_t i = 0; i < 6000; ++i)
    records.push_back({{"v", i % 2 ? Value(i / 10) : Value(i / 10.0)}});
  build(std::move(records));
  for (std::uint32_t slot = 0; slot < 6000; slot += 3) {  // a third dead: no rewrite yet
    index_.remove(slot, records_[slot]);
  }
  exact(leaf(FilterOp::kGte, "v", std::int64_t{300}));
  for (std::uint32_t slot = 1; slot < 6000; slot += 3) {  // past half dead: rewritten
    index_.remove(slot, records_[slot]);
  }
  exact(leaf(FilterOp::kGte, "v", std::int64_t{300}));
  exact(leaf(FilterOp::kEq, "v", 42.5));
  std::mt19937 rng(3);
  for (int round = 0; round < 3000; ++round) {
    const std::uint32_t slot = rng() % 6000;
    if (index_.live().contains(slot)) {
      index_.remove(slot, records_[slot]);
    } else {
      records_[slot] = {{"v", Value(static_cast<std::int64_t>(rng() % 700))}};
      index_.add(slot, records_[slot]);
    }
    if (round % 500 == 0) {
      exact(leaf(FilterOp::kGte, "v", std::int64_t{300}));
      exact(leaf(FilterOp::kLt, "v", 299.5));
      exact(leaf(FilterOp::kEq, "v", std::int64_t{42}));
      exact(
          node(FilterOp::kAnd, {leaf(FilterOp::kGt, "v", 10.5), leaf(FilterOp::kLte, "v", 20.0)}));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Randomised model test: random records, adds and removes, random filter trees; every answer is
// checked against matches() (filter/evaluate.h, the reference) run over every live record.

class RandomModel {
 public:
  explicit RandomModel(std::uint32_t seed) : rng_(seed) {}

  Value number() {
    static const std::vector<Value> kNumbers = {std::int64_t{-3},
                                                std::int64_t{-1},
                                                std::int64_t{0},
                                                std::int64_t{1},
                                                std::int64_t{2},
                                                std::int64_t{3},
                                                -2.5,
                                                -1.0,
                                                -0.0,
                                                0.5,
                                                1.0,
                                                2.0,
                                                2.5,
                                                3.0,
                                                0x1p53,
                                                std::int64_t{(std::int64_t{1} << 53) + 1},
                                                kInt64Max,
                                                kInt64Min,
                                                0x1p63,
                                                -1e300,
                                                1e300};
    return pick(kNumbers);
  }
  std::string word() {
    static const Strings kWords = {"", "a", "b", "c", "ab", "bc", "abc", "news"};
    return pick(kWords);
  }
  Strings list() {
    Strings out(rng_() % 4);
    for (auto& s : out) s = word();
    return out;
  }
  std::string text(std::size_t length) {
    std::string out(length, 'a');
    for (char& c : out) c = static_cast<char>('a' + rng_() % 4);
    return out;
  }
  Value any() {
    switch (rng_() % 6) {
      case 0:
        return Value();
      case 1:
        return rng_() % 2 == 0;
      case 2:
        return number();
      case 3:
        return word();
      case 4:
        return list();
      default:
        return text(1 + rng_() % 3);
    }
  }

  Metadata record() {
    Metadata out;
    const auto maybe = [&](const char* key, Value value) {
      if (rng_() % 4 == 0) return;
      out.push_back({key, rng_() % 20 == 0 ? Value() : std::move(value)});
    };
    maybe("bool", rng_() % 2 == 0);
    maybe("int", rng_() % 2 ? Value(static_cast<std::int64_t>(rng_() % 7) - 3) : number());
    maybe("list", list());
    maybe("mixed", any());
    maybe("num", number());
    maybe("str", word());
    maybe("text", text(8));  // thousands of distinct strings: $contains gets only a bound
    EXPECT_TRUE(normalize_metadata(out).is_ok());
    return out;
  }

  FilterExpr filter(int depth) {
    static const Strings kFields = {"bool", "int", "list", "mixed", "num", "str", "text", "none"};
    if (depth >= 4 || rng_() % 3 == 0) {
      if (rng_() % 8 == 0) {  // the case the index only bounds
        return leaf(FilterOp::kContains, "text", text(1 + rng_() % 3));
      }
      const auto op = static_cast<FilterOp>(rng_() % 10);  // kEq .. kContains
      FilterExpr e = leaf(op, pick(kFields), rng_() % 2 ? any() : typed());
      if (op == FilterOp::kIn || op == FilterOp::kNin) {
        for (std::size_t i = rng_() % 4; i > 0; --i)
          e.operands.push_back(rng_() % 2 ? any() : typed());
      }
      e.exists = rng_() % 2 == 0;
      return e;
    }
    const auto op = static_cast<FilterOp>(static_cast<int>(FilterOp::kAnd) + rng_() % 3);
    std::vector<FilterExpr> children(op == FilterOp::kNot ? 1 : rng_() % 4);
    for (auto& c : children) c = filter(depth + 1);
    return node(op, std::move(children));
  }

  std::mt19937& rng() { return rng_; }

 private:
  template <class T>
  const T& pick(const std::vector<T>& from) {
    return from[rng_() % from.size()];
  }
  Value typed() {  // operands likely to match something
    switch (rng_() % 4) {
      case 0:
        return number();
      case 1:
        return word();
      case 2:
        return text(1 + rng_() % 2);
      default:
        return list();
    }
  }

  std::mt19937 rng_;
};

struct Tally {
  int exact = 0;
  int bounded = 0;
  int nonempty = 0;
};

void check(const PayloadIndex& index, const std::vector<std::optional<Metadata>>& records,
           const FilterExpr& filter, Tally& tally) {
  Slots expected;
  for (std::uint32_t slot = 0; slot < records.size(); ++slot) {
    if (records[slot] && matches(filter, *records[slot])) expected.push_back(slot);
  }
  const PayloadIndex::Superset superset = index.superset(filter);
  const std::optional<Bitmap> exact = index.exact(filter);
  const std::uint64_t estimate = index.estimate(filter);
  ASSERT_EQ(exact.has_value(), superset.exact) << describe(filter);
  ASSERT_TRUE((superset.slots - index.live()).empty()) << describe(filter);
  if (exact) {
    ASSERT_EQ(exact->to_vector(), expected) << describe(filter);
    ASSERT_EQ(superset.slots.to_vector(), expected) << describe(filter);
    ASSERT_EQ(estimate, expected.size()) << describe(filter);
    ++tally.exact;
  } else {
    for (const std::uint32_t slot : expected) {
      ASSERT_TRUE(superset.slots.contains(slot)) << slot << " " << describe(filter);
    }
    ASSERT_EQ(estimate, superset.slots.size()) << describe(filter);
    ++tally.bounded;
  }
  tally.nonempty += expected.empty() ? 0 : 1;
}

// The index that save() and restore() make of `index`.
PayloadIndex round_trip(const PayloadIndex& index, std::uint32_t slots) {
  std::vector<std::byte> bytes;
  index.save([&](std::span<const std::byte> piece) {
    bytes.insert(bytes.end(), piece.begin(), piece.end());
  });
  Result<PayloadIndex> restored = PayloadIndex::restore(bytes, slots);
  EXPECT_TRUE(restored.is_ok()) << restored.status().message();
  return restored.is_ok() ? std::move(restored).value() : PayloadIndex();
}

// Expects `b` to answer `filter` exactly as `a` does.
void expect_same_answers(const PayloadIndex& a, const PayloadIndex& b, const FilterExpr& filter) {
  const PayloadIndex::Superset sa = a.superset(filter);
  const PayloadIndex::Superset sb = b.superset(filter);
  ASSERT_EQ(sa.exact, sb.exact) << describe(filter);
  ASSERT_EQ(sa.slots, sb.slots) << describe(filter);
  ASSERT_EQ(a.exact(filter).has_value(), b.exact(filter).has_value()) << describe(filter);
  ASSERT_EQ(a.estimate(filter), b.estimate(filter)) << describe(filter);
}

// Random records, adds, removes and re-adds (upserts); after each phase the index is saved and
// restored, the restored one must answer every filter as the original and the reference do, and
// the next phase writes to the restored one.
TEST(PayloadIndexModelTest, RandomFiltersAgreeWithTheReferenceEvaluator) {
  constexpr std::uint32_t kSlots = 5000;
  constexpr int kFiltersPerPhase = 150;
  for (const std::uint32_t seed : {1u, 2u}) {
    SCOPED_TRACE(seed);
    RandomModel model(seed);
    PayloadIndex index;
    std::vector<std::optional<Metadata>> records(kSlots);
    Slots order(kSlots);
    for (std::uint32_t i = 0; i < kSlots; ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), model.rng());

    Tally tally;
    const auto check_phase = [&] {
      PayloadIndex restored = round_trip(index, kSlots);
      for (int i = 0; i < kFiltersPerPhase; ++i) {
        const FilterExpr filter = model.filter(0);
        check(index, records, filter, tally);
        expect_same_answers(index, restored, filter);
        if (::testing::Test::HasFatalFailure()) return;
      }
      index = std::move(restored);
    };
    // Phase 1: adds only.
    for (const std::uint32_t slot : order) {
      records[slot] = model.record();
      index.add(slot, *records[slot]);
    }
    check_phase();
    // Phase 2: remove 40%.
    for (std::uint32_t i = 0; i < kSlots * 2 / 5; ++i) {
      index.remove(order[i], *records[order[i]]);
      records[order[i]].reset();
    }
    check_phase();
    // Phase 3: churn: slots come back with new metadata, others go.
    for (int i = 0; i < 4000; ++i) {
      const std::uint32_t slot = model.rng()() % kSlots;
      if (records[slot]) {
        index.remove(slot, *records[slot]);
        records[slot].reset();
      } else {
        records[slot] = model.record();
        index.add(slot, *records[slot]);
      }
    }
    check_phase();
    EXPECT_GT(tally.exact, 3 * kFiltersPerPhase * 3 / 4);  // most filters are answered exactly
    EXPECT_GT(tally.bounded, 0);
    EXPECT_GT(tally.nonempty, kFiltersPerPhase);
  }
}

}  // namespace
}  // namespace omendb
