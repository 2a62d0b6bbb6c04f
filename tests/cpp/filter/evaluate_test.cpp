#include "filter/evaluate.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <new>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "filter/filter_test_util.h"

namespace omendb {
namespace {

// Operator-new calls made while `g_counting` is set (see the replacement operator new at the end
// of this file).
std::atomic<bool> g_counting{false};
std::atomic<std::size_t> g_allocations{0};

using Strings = std::vector<std::string>;
using filter_test::describe;

constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kInt64Min = std::numeric_limits<std::int64_t>::min();

Value integer(std::int64_t value) { return Value(value); }
Value number(double value) { return Value(value); }
Value text(const char* value) { return Value(std::string(value)); }
Value strings(Strings values) { return Value(std::move(values)); }
Value null() { return Value(); }

FilterExpr leaf(FilterOp op, Value operand) {
  FilterExpr filter;
  filter.op = op;
  filter.field = "f";
  filter.operand = std::move(operand);
  return filter;
}
FilterExpr list_op(FilterOp op, std::vector<Value> operands) {
  FilterExpr filter;
  filter.op = op;
  filter.field = "f";
  filter.operands = std::move(operands);
  return filter;
}
FilterExpr exists(bool exists) {
  FilterExpr filter;
  filter.op = FilterOp::kExists;
  filter.field = "f";
  filter.exists = exists;
  return filter;
}

// One row of the semantics table: field "f" holding `stored` (nullopt: absent), `filter`, result.
struct Case {
  std::optional<Value> stored;
  FilterExpr filter;
  bool expected;
};

void check(const std::vector<Case>& cases) {
  for (const Case& row : cases) {
    Metadata metadata = {{"a", integer(0)}, {"z", integer(0)}};
    if (row.stored) metadata.insert(metadata.begin() + 1, Field{"f", *row.stored});
    EXPECT_EQ(matches(row.filter, metadata), row.expected)
        << describe(row.filter)
        << " on f = " << (row.stored ? describe(*row.stored) : std::string("(missing)"));
  }
}

using enum FilterOp;

TEST(EvaluateTest, NumbersCompareByValueAcrossIntAndFloat) {
  check({
      {integer(2020), leaf(kEq, integer(2020)), true},
      {integer(2020), leaf(kEq, number(2020.0)), true},
      {number(2020.0), leaf(kEq, integer(2020)), true},
      {integer(2020), leaf(kEq, number(2020.5)), false},
      {integer(2020), leaf(kNe, number(2020.0)), false},
      {integer(2020), leaf(kNe, number(2020.5)), true},
      {integer(2020), leaf(kGt, number(2019.5)), true},
      {integer(2020), leaf(kLt, number(2020.5)), true},
      {integer(2020), leaf(kGte, number(2020.0)), true},
      {integer(2020), leaf(kLte, number(2019.99)), false},
      {number(2.5), leaf(kGt, integer(2)), true},
      {number(2.5), leaf(kLt, integer(3)), true},
      {number(-2.5), leaf(kLt, integer(-2)), true},
      {number(-2.5), leaf(kGt, integer(-3)), true},
      {integer(-2), leaf(kGt, number(-2.5)), true},
      {integer(-3), leaf(kLt, number(-2.5)), true},
      {number(0.5), leaf(kGte, number(0.5)), true},
      {integer(7), leaf(kLte, integer(7)), true},
      {integer(7), leaf(kLt, integer(7)), false},
      // Exact at the edges of double precision: 2^53 + 1 is not 2^53.
      {integer((std::int64_t{1} << 53) + 1), leaf(kEq, number(9007199254740992.0)), false},
      {integer((std::int64_t{1} << 53) + 1), leaf(kGt, number(9007199254740992.0)), true},
      {number(9007199254740992.0), leaf(kLt, integer((std::int64_t{1} << 53) + 1)), true},
      {integer(kInt64Max), leaf(kLt, number(9223372036854775808.0)), true},
      {integer(kInt64Max), leaf(kEq, number(9223372036854775808.0)), false},
      {integer(kInt64Min), leaf(kEq, number(-9223372036854775808.0)), true},
      {integer(kInt64Min), leaf(kGt, number(-1e300)), true},
      {number(1e300), leaf(kGt, integer(kInt64Max)), true},
      {integer(0), leaf(kEq, number(-0.0)), true},
  });
}

TEST(EvaluateTest, BoolIsNotANumberAndHasNoOrder) {
  check({
      {Value(true), leaf(kEq, Value(true)), true},
      {Value(false), leaf(kEq, Value(false)), true},
      {Value(true), leaf(kEq, Value(false)), false},
      {Value(true), leaf(kNe, Value(false)), true},
      {Value(true), leaf(kEq, integer(1)), false},
      {Value(true), leaf(kEq, number(1.0)), false},
      {Value(true), leaf(kNe, integer(1)), true},
      {integer(1), leaf(kEq, Value(true)), false},
      {integer(0), leaf(kEq, Value(false)), false},
      {Value(true), leaf(kGt, Value(false)), false},
      {Value(true), leaf(kGte, Value(true)), false},
      {Value(true), list_op(kIn, {integer(1), Value(true)}), true},
      {Value(true), list_op(kIn, {integer(1)}), false},
  });
}

TEST(EvaluateTest, StringsCompareBytewise) {
  check({
      {text("news"), leaf(kEq, text("news")), true},
      {text("news"), leaf(kEq, text("News")), false},
      {text("b"), leaf(kGt, text("a")), true},
      {text("b"), leaf(kLt, text("a")), false},
      {text("abc"), leaf(kGte, text("abc")), true},
      {text("abc"), leaf(kLte, text("abd")), true},
      {text("ab"), leaf(kLt, text("abc")), true},
      {text("B"), leaf(kLt, text("a")), true},
      {text("\xc3\xa9"), leaf(kGt, text("z")), true},  // UTF-8 bytes order as code points
      {text(""), leaf(kEq, text("")), true},
      {text("2020"), leaf(kEq, integer(2020)), false},
      {text("2020"), leaf(kNe, integer(2020)), true},
      {text("2020"), leaf(kGt, integer(1)), false},
      {integer(2020), leaf(kEq, text("2020")), false},
      {integer(2020), leaf(kLt, text("a")), false},
  });
}

TEST(EvaluateTest, NullNeverCompares) {
  check({
      {null(), leaf(kEq, null()), false},
      {null(), leaf(kNe, null()), true},
      {null(), leaf(kEq, integer(1)), false},
      {null(), leaf(kNe, integer(1)), true},
      {null(), leaf(kGt, integer(0)), false},
      {null(), leaf(kLte, integer(0)), false},
      {null(), list_op(kIn, {null(), integer(1)}), false},
      {null(), list_op(kNin, {null()}), true},
      {null(), leaf(kContains, text("a")), false},
      {null(), exists(true), true},
      {null(), exists(false), false},
      {integer(5), leaf(kEq, null()), false},
      {integer(5), leaf(kNe, null()), true},
      {integer(5), leaf(kGt, null()), false},
      {text("a"), leaf(kLt, null()), false},
  });
}

TEST(EvaluateTest, MissingField) {
  check({
      {std::nullopt, leaf(kEq, integer(1)), false},
      {std::nullopt, leaf(kEq, null()), false},
      {std::nullopt, leaf(kNe, integer(1)), true},
      {std::nullopt, leaf(kNe, null()), true},
      {std::nullopt, leaf(kGt, integer(1)), false},
      {std::nullopt, leaf(kGte, integer(1)), false},
      {std::nullopt, leaf(kLt, integer(1)), false},
      {std::nullopt, leaf(kLte, integer(1)), false},
      {std::nullopt, list_op(kIn, {integer(1), null()}), false},
      {std::nullopt, list_op(kNin, {integer(1), null()}), true},
      {std::nullopt, exists(true), false},
      {std::nullopt, exists(false), true},
      {std::nullopt, leaf(kContains, text("")), false},
  });
}

TEST(EvaluateTest, ListsOfStrings) {
  const Value tags = strings({"a", "b"});
  check({
      {tags, leaf(kEq, text("a")), true},
      {tags, leaf(kEq, text("b")), true},
      {tags, leaf(kEq, text("c")), false},
      {tags, leaf(kNe, text("a")), false},
      {tags, leaf(kNe, text("c")), true},
      {tags, leaf(kEq, strings({"a", "b"})), true},
      {tags, leaf(kEq, strings({"b", "a"})), false},
      {tags, leaf(kEq, strings({"a"})), false},
      {tags, leaf(kNe, strings({"b", "a"})), true},
      {tags, leaf(kNe, strings({"a", "b"})), false},
      {tags, list_op(kIn, {text("c"), text("b")}), true},
      {tags, list_op(kIn, {text("c")}), false},
      {tags, list_op(kIn, {integer(1), null()}), false},
      {tags, list_op(kNin, {text("c")}), true},
      {tags, list_op(kNin, {text("a")}), false},
      {tags, leaf(kContains, text("a")), true},
      {tags, leaf(kContains, text("ab")), false},  // elements, not substrings
      {tags, leaf(kContains, text("")), false},
      {tags, leaf(kGt, text("0")), false},  // lists have no order
      {tags, leaf(kEq, integer(1)), false},
      {strings({}), leaf(kEq, text("a")), false},
      {strings({}), leaf(kEq, strings({})), true},
      {strings({}), leaf(kContains, text("")), false},
      {text("a"), leaf(kEq, strings({"a"})), false},
      {text("a"), leaf(kNe, strings({"a"})), true},
  });
}

TEST(EvaluateTest, ContainsOnStrings) {
  check({
      {text("hello world"), leaf(kContains, text("lo w")), true},
      {text("hello world"), leaf(kContains, text("hello world")), true},
      {text("hello world"), leaf(kContains, text("xyz")), false},
      {text("hello world"), leaf(kContains, text("")), true},
      {text("Hello"), leaf(kContains, text("hello")), false},
      {text(""), leaf(kContains, text("")), true},
      {integer(5), leaf(kContains, text("5")), false},
      {Value(true), leaf(kContains, text("true")), false},
      {text("5"), leaf(kContains, integer(5)), false},  // only a string operand contains
  });
}

TEST(EvaluateTest, InAndNin) {
  check({
      {integer(2), list_op(kIn, {integer(1), number(2.0)}), true},
      {number(2.5), list_op(kIn, {integer(1), integer(2)}), false},
      {text("a"), list_op(kIn, {integer(1), text("a")}), true},
      {text("a"), list_op(kNin, {integer(1), text("a")}), false},
      {text("a"), list_op(kNin, {text("b")}), true},
      {integer(1), list_op(kIn, {}), false},
      {integer(1), list_op(kNin, {}), true},
  });
}

TEST(EvaluateTest, LogicalNodes) {
  const Metadata metadata = {{"x", integer(1)}, {"y", text("s")}};
  FilterExpr x_is_1 = leaf(kEq, integer(1));
  x_is_1.field = "x";
  FilterExpr y_is_t = leaf(kEq, text("t"));
  y_is_t.field = "y";
  auto node = [](FilterOp op, std::vector<FilterExpr> children) {
    FilterExpr filter;
    filter.op = op;
    filter.children = std::move(children);
    return filter;
  };
  EXPECT_TRUE(matches(node(kAnd, {}), metadata));
  EXPECT_FALSE(matches(node(kOr, {}), metadata));
  EXPECT_FALSE(matches(node(kNot, {node(kAnd, {})}), metadata));
  EXPECT_TRUE(matches(node(kNot, {node(kOr, {})}), metadata));
  EXPECT_FALSE(matches(node(kNot, {}), metadata));
  EXPECT_TRUE(matches(node(kAnd, {x_is_1}), metadata));
  EXPECT_FALSE(matches(node(kAnd, {x_is_1, y_is_t}), metadata));
  EXPECT_TRUE(matches(node(kOr, {x_is_1, y_is_t}), metadata));
  EXPECT_TRUE(matches(node(kOr, {y_is_t, x_is_1}), metadata));
  EXPECT_FALSE(matches(node(kOr, {y_is_t, y_is_t}), metadata));
  EXPECT_TRUE(matches(node(kAnd, {x_is_1, node(kNot, {y_is_t})}), metadata));
  EXPECT_TRUE(matches(node(kNot, {node(kNot, {x_is_1})}), metadata));
}

TEST(EvaluateTest, FindFieldBinarySearch) {
  const Metadata empty;
  EXPECT_EQ(find_field(empty, "a"), nullptr);
  Metadata metadata;
  for (const char* key : {"a", "ab", "abc", "b", "ba", "c.d", "z"}) {
    metadata.push_back({key, text(key)});
  }
  ASSERT_TRUE(normalize_metadata(metadata).is_ok());
  for (const Field& field : metadata) {
    const Value* found = find_field(metadata, field.key);
    ASSERT_NE(found, nullptr) << field.key;
    EXPECT_EQ(*found, field.value);
  }
  for (const char* missing : {"", "0", "aa", "abcd", "bb", "c", "zz", "\xff"}) {
    EXPECT_EQ(find_field(metadata, missing), nullptr) << missing;
  }
}

TEST(EvaluateTest, NoAllocationPerCall) {
  Metadata metadata;
  for (int i = 0; i < 50; ++i) {
    metadata.push_back({"field_with_a_long_name_" + std::to_string(i), integer(i)});
  }
  metadata.push_back({"tags", strings({"alpha", "beta", "gamma"})});
  metadata.push_back({"title", text("a title long enough not to fit a small string buffer")});
  ASSERT_TRUE(normalize_metadata(metadata).is_ok());
  auto on = [](FilterExpr filter, const char* field) {
    filter.field = field;
    return filter;
  };
  FilterExpr filter;
  filter.op = kOr;
  filter.children = {
      on(leaf(kGt, number(10.5)), "field_with_a_long_name_3"),
      on(list_op(kIn, {text("delta"), text("gamma")}), "tags"),
      on(leaf(kContains, text("not to fit")), "title"),
      on(leaf(kNe, text("x")), "missing_field_with_a_long_name"),
  };
  FilterExpr negated;
  negated.op = kNot;
  negated.children = {filter};
  g_counting = true;
  bool result = true;
  for (int i = 0; i < 1000; ++i) result = result && matches(filter, metadata);
  for (int i = 0; i < 1000; ++i) result = result && !matches(negated, metadata);
  g_counting = false;
  EXPECT_TRUE(result);
  EXPECT_EQ(g_allocations.load(), 0u);
}

}  // namespace
}  // namespace omendb

// Counts the operator-new calls made while omendb::g_counting is set; otherwise forwards to malloc.
[[gnu::noinline]] void* operator new(std::size_t size) {
  if (omendb::g_counting.load(std::memory_order_relaxed)) {
    omendb::g_allocations.fetch_add(1, std::memory_order_relaxed);
  }
  if (void* memory = std::malloc(size == 0 ? 1 : size)) return memory;
  throw std::bad_alloc();
}
[[gnu::noinline]] void operator delete(void* memory) noexcept { std::free(memory); }
[[gnu::noinline]] void operator delete(void* memory, std::size_t) noexcept { std::free(memory); }
