#include "filter/filter_dict.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>

#include "filter/evaluate.h"
#include "filter/filter_test_util.h"

namespace omendb {
namespace {

using filter_test::describe;
using filter_test::filter_error;
using Object = DictNode::Object;
using List = DictNode::List;

std::string compiled(const DictNode& filter) { return describe(filter_from_dict(filter)); }
std::string error_of(const DictNode& filter) { return filter_error(filter_from_dict(filter)); }

// {"x": {op: operand}}
DictNode on_x(const char* op, DictNode operand) {
  return Object{{"x", Object{{op, std::move(operand)}}}};
}

TEST(FilterDictTest, BareValuesMeanEq) {
  EXPECT_EQ(compiled(Object{}), "and()");
  EXPECT_EQ(compiled(Object{{"year", 2020}}), "eq(year, 2020)");
  EXPECT_EQ(compiled(Object{{"x", 2.5}}), "eq(x, 2.5f)");
  EXPECT_EQ(compiled(Object{{"x", true}}), "eq(x, true)");
  EXPECT_EQ(compiled(Object{{"x", nullptr}}), "eq(x, null)");
  EXPECT_EQ(compiled(Object{{"x", "news"}}), "eq(x, 'news')");
  EXPECT_EQ(compiled(Object{{"tags", List{"a", "b"}}}), "eq(tags, ['a', 'b'])");
  EXPECT_EQ(compiled(Object{{"tags", List{}}}), "eq(tags, [])");
  EXPECT_EQ(compiled(Object{{"x", std::int64_t{-9223372036854775807 - 1}}}),
            "eq(x, -9223372036854775808)");
}

TEST(FilterDictTest, TopLevelIsImplicitAnd) {
  EXPECT_EQ(compiled(Object{{"year", 2020}, {"tag", "news"}}),
            "and(eq(year, 2020), eq(tag, 'news'))");
  // A repeated key (possible in a DictNode, not in a Python dict) is one more condition.
  EXPECT_EQ(compiled(Object{{"x", 1}, {"x", 2}}), "and(eq(x, 1), eq(x, 2))");
  // Keys keep their given order.
  EXPECT_EQ(compiled(Object{{"b", 1}, {"a", 2}}), "and(eq(b, 1), eq(a, 2))");
}

TEST(FilterDictTest, EveryFieldOperator) {
  EXPECT_EQ(compiled(on_x("$eq", 1)), "eq(x, 1)");
  EXPECT_EQ(compiled(on_x("$eq", List{"a"})), "eq(x, ['a'])");
  EXPECT_EQ(compiled(on_x("$ne", "a")), "ne(x, 'a')");
  EXPECT_EQ(compiled(on_x("$ne", List{"a", "b"})), "ne(x, ['a', 'b'])");
  EXPECT_EQ(compiled(on_x("$gt", 1)), "gt(x, 1)");
  EXPECT_EQ(compiled(on_x("$gte", 1.5)), "gte(x, 1.5f)");
  EXPECT_EQ(compiled(on_x("$lt", "m")), "lt(x, 'm')");
  EXPECT_EQ(compiled(on_x("$lte", nullptr)), "lte(x, null)");
  EXPECT_EQ(compiled(on_x("$in", List{1, "a", nullptr, true, 2.5})),
            "in(x, [1, 'a', null, true, 2.5f])");
  EXPECT_EQ(compiled(on_x("$in", List{})), "in(x, [])");
  EXPECT_EQ(compiled(on_x("$nin", List{"a"})), "nin(x, ['a'])");
  EXPECT_EQ(compiled(on_x("$exists", true)), "exists(x, true)");
  EXPECT_EQ(compiled(on_x("$exists", false)), "exists(x, false)");
  EXPECT_EQ(compiled(on_x("$contains", "ai")), "contains(x, 'ai')");
  EXPECT_EQ(compiled(on_x("$not", Object{{"$gt", 5}})), "not(gt(x, 5))");
}

TEST(FilterDictTest, SeveralOperatorsOnAFieldAreAnded) {
  EXPECT_EQ(compiled(Object{{"x", Object{{"$gte", 1}, {"$lt", 5}}}}), "and(gte(x, 1), lt(x, 5))");
  EXPECT_EQ(compiled(Object{{"x", Object{{"$not", Object{{"$gte", 1}, {"$lt", 5}}}}}}),
            "not(and(gte(x, 1), lt(x, 5)))");
  EXPECT_EQ(compiled(Object{{"x", Object{{"$gt", 1}}}, {"y", Object{{"$exists", false}}}}),
            "and(gt(x, 1), exists(y, false))");
}

TEST(FilterDictTest, LogicalOperators) {
  EXPECT_EQ(compiled(Object{{"$and", List{Object{{"a", 1}}, Object{{"b", 2}}}}}),
            "and(eq(a, 1), eq(b, 2))");
  EXPECT_EQ(compiled(Object{{"$or", List{Object{{"a", 1}}, Object{{"b", 2}, {"c", 3}}}}}),
            "or(eq(a, 1), and(eq(b, 2), eq(c, 3)))");
  EXPECT_EQ(compiled(Object{{"$or", List{Object{{"a", 1}}}}}), "or(eq(a, 1))");
  EXPECT_EQ(compiled(Object{{"$or", List{Object{}}}}), "or(and())");
  EXPECT_EQ(compiled(Object{{"$not", Object{{"a", 1}}}}), "not(eq(a, 1))");
  EXPECT_EQ(compiled(Object{{"$not", Object{}}}), "not(and())");
  EXPECT_EQ(
      compiled(Object{
          {"$and", List{Object{{"$or", List{Object{{"a", 1}}, Object{{"$not", Object{{"b", 2}}}}}}},
                        Object{{"c", Object{{"$in", List{"x"}}}}}}},
          {"d", Object{{"$exists", false}}}}),
      "and(and(or(eq(a, 1), not(eq(b, 2))), in(c, ['x'])), exists(d, false))");
}

TEST(FilterDictTest, FieldNames) {
  EXPECT_EQ(compiled(Object{{"a$b", 1}}), "eq(a$b, 1)");
  EXPECT_EQ(compiled(Object{{"my key.sub", 1}}), "eq(my key.sub, 1)");
  EXPECT_EQ(compiled(Object{{"and", 1}}), "eq(and, 1)");
  EXPECT_EQ(error_of(Object{{"", 1}}), "empty field name in filter");
}

TEST(FilterDictTest, StructureErrors) {
  EXPECT_EQ(error_of(List{}), "a filter must be an object (a dict), got list");
  EXPECT_EQ(error_of("year > 1"), "a filter must be an object (a dict), got string");
  EXPECT_EQ(error_of(DictNode()), "a filter must be an object (a dict), got null");
  EXPECT_EQ(error_of(Object{{"$and", Object{{"a", 1}}}}),
            "'$and' takes a non-empty list of filter objects, got object");
  EXPECT_EQ(error_of(Object{{"$and", List{}}}),
            "'$and' takes a non-empty list of filter objects, got an empty list");
  EXPECT_EQ(error_of(Object{{"$or", 5}}),
            "'$or' takes a non-empty list of filter objects, got int");
  EXPECT_EQ(error_of(Object{{"$and", List{Object{{"a", 1}}, 5}}}),
            "item 1 of '$and' must be an object (a dict), got int");
  EXPECT_EQ(error_of(Object{{"$or", List{List{Object{{"a", 1}}}}}}),
            "item 0 of '$or' must be an object (a dict), got list");
  EXPECT_EQ(error_of(Object{{"$not", List{Object{{"a", 1}}}}}),
            "'$not' must be an object (a dict), got list");
  EXPECT_EQ(error_of(Object{{"$not", true}}), "'$not' must be an object (a dict), got bool");
  // An error deep inside is reported as it is.
  EXPECT_EQ(error_of(Object{{"$or", List{Object{{"a", 1}}, Object{{"b", Object{{"$in", 1}}}}}}}),
            "'$in' in filter on 'b' takes a list, got int");
}

TEST(FilterDictTest, OperatorErrors) {
  EXPECT_EQ(error_of(Object{{"$regex", "x"}}), "unknown operator '$regex'");
  EXPECT_EQ(error_of(Object{{"$", 1}}), "unknown operator '$'");
  EXPECT_EQ(error_of(Object{{"$gt", 5}}),
            "operator '$gt' needs a field, as in {\"field\": {\"$gt\": value}}");
  EXPECT_EQ(error_of(Object{{"title", Object{{"$regex", "x"}}}}),
            "unknown operator '$regex' in filter on 'title'");
  EXPECT_EQ(error_of(Object{{"title", Object{{"$and", List{Object{{"a", 1}}}}}}}),
            "operator '$and' cannot be used inside the condition on 'title'; it takes a list of "
            "whole filters");
  EXPECT_EQ(error_of(Object{{"title", Object{{"$or", List{}}}}}),
            "operator '$or' cannot be used inside the condition on 'title'; it takes a list of "
            "whole filters");
  EXPECT_EQ(error_of(Object{{"title", Object{{"foo", 1}}}}),
            "the condition on 'title' has the key 'foo', which is not an operator (operators "
            "start with '$')");
  EXPECT_EQ(error_of(Object{{"title", Object{{"$eq", 1}, {"", 1}}}}),
            "the condition on 'title' has the key '', which is not an operator (operators start "
            "with '$')");
  EXPECT_EQ(error_of(Object{{"title", Object{}}}),
            "the condition on 'title' is an empty object; it needs an operator such as '$eq'");
  EXPECT_EQ(error_of(Object{{"x", Object{{"$not", 5}}}}),
            "'$not' in filter on 'x' takes an object of operators, got int");
  EXPECT_EQ(error_of(Object{{"x", Object{{"$not", Object{{"$bad", 5}}}}}}),
            "unknown operator '$bad' in filter on 'x'");
  EXPECT_EQ(error_of(Object{{"x", Object{{"$not", Object{{"y", 5}}}}}}),
            "the condition on 'x' has the key 'y', which is not an operator (operators start "
            "with '$')");
  const std::string long_name(100, 'n');
  EXPECT_EQ(error_of(Object{{long_name, Object{{"$regex", "x"}}}}),
            "unknown operator '$regex' in filter on '" + std::string(40, 'n') + "...'");
}

TEST(FilterDictTest, OperandErrors) {
  EXPECT_EQ(error_of(on_x("$in", "a")), "'$in' in filter on 'x' takes a list, got string");
  EXPECT_EQ(error_of(on_x("$nin", 5)), "'$nin' in filter on 'x' takes a list, got int");
  EXPECT_EQ(error_of(on_x("$in", List{1, List{2}})),
            "item 1 of '$in' in filter on 'x' must be null, a bool, a number or a string, got "
            "list");
  EXPECT_EQ(error_of(on_x("$nin", List{Object{{"a", 1}}})),
            "item 0 of '$nin' in filter on 'x' must be null, a bool, a number or a string, got "
            "object");
  EXPECT_EQ(error_of(on_x("$exists", 1)),
            "'$exists' in filter on 'x' takes true or false, got int");
  EXPECT_EQ(error_of(on_x("$exists", nullptr)),
            "'$exists' in filter on 'x' takes true or false, got null");
  EXPECT_EQ(error_of(on_x("$contains", 5)), "'$contains' in filter on 'x' takes a string, got int");
  EXPECT_EQ(error_of(on_x("$contains", List{"a"})),
            "'$contains' in filter on 'x' takes a string, got list");
  EXPECT_EQ(error_of(on_x("$gt", List{1})),
            "the operand of '$gt' in filter on 'x' must be null, a bool, a number or a string, got "
            "list");
  EXPECT_EQ(error_of(on_x("$lte", List{"a"})),
            "the operand of '$lte' in filter on 'x' must be null, a bool, a number or a string, "
            "got list");
  EXPECT_EQ(error_of(on_x("$eq", List{"a", 2})),
            "the operand of '$eq' in filter on 'x' is a list, which must hold only strings; item 1 "
            "is int");
  EXPECT_EQ(error_of(on_x("$ne", Object{{"a", 1}})),
            "the operand of '$ne' in filter on 'x' must be null, a bool, a number or a string, got "
            "object");
  EXPECT_EQ(error_of(Object{{"x", List{1}}}),
            "the value of 'x' is a list, which must hold only strings; item 0 is int");
}

TEST(FilterDictTest, NonFiniteNumbers) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double infinity = std::numeric_limits<double>::infinity();
  EXPECT_EQ(error_of(Object{{"x", nan}}), "the value of 'x' is not a finite number");
  EXPECT_EQ(error_of(on_x("$lt", infinity)),
            "the operand of '$lt' in filter on 'x' is not a finite number");
  EXPECT_EQ(error_of(on_x("$in", List{1, -infinity})),
            "item 1 of '$in' in filter on 'x' is not a finite number");
}

// `levels` nested {"$not": ...} around {"x": 1}.
DictNode nested_not(int levels) {
  DictNode node = Object{{"x", 1}};
  for (int i = 0; i < levels; ++i) node = Object{{"$not", std::move(node)}};
  return node;
}

// `levels` nested {"$and": [...]} around `inner`.
DictNode nested_and(int levels, DictNode inner) {
  DictNode node = std::move(inner);
  for (int i = 0; i < levels; ++i) node = Object{{"$and", List{std::move(node)}}};
  return node;
}

int node_depth(const DictNode& node) {
  int deepest = 0;
  if (const auto* list = std::get_if<List>(&node.value)) {
    for (const DictNode& item : *list) deepest = std::max(deepest, node_depth(item));
  }
  if (const auto* object = std::get_if<Object>(&node.value)) {
    for (const auto& entry : *object) deepest = std::max(deepest, node_depth(entry.second));
  }
  return deepest + 1;
}

TEST(FilterDictTest, DepthLimit) {
  const std::string too_deep = "filter nested deeper than 64 levels";
  EXPECT_TRUE(filter_from_dict(nested_not(kMaxFilterDepth)).is_ok());
  EXPECT_EQ(error_of(nested_not(kMaxFilterDepth + 1)), too_deep);
  EXPECT_TRUE(filter_from_dict(nested_and(kMaxFilterDepth, Object{{"x", 1}})).is_ok());
  EXPECT_EQ(error_of(nested_and(kMaxFilterDepth + 1, Object{{"x", 1}})), too_deep);
  // Field-level $not counts too.
  DictNode condition = Object{{"$eq", 1}};
  for (int i = 0; i < kMaxFilterDepth; ++i) condition = Object{{"$not", std::move(condition)}};
  EXPECT_TRUE(filter_from_dict(Object{{"x", condition}}).is_ok());
  EXPECT_EQ(error_of(Object{{"$not", Object{{"x", condition}}}}), too_deep);
  // Far deeper input fails at the limit without walking further.
  EXPECT_EQ(error_of(nested_not(2000)), too_deep);
}

TEST(FilterDictTest, DeepestValidFilterIsMaxDictNodeDepth) {
  const DictNode deepest =
      nested_and(kMaxFilterDepth, Object{{"x", Object{{"$in", List{1, "a"}}}}});
  EXPECT_TRUE(filter_from_dict(deepest).is_ok());
  EXPECT_EQ(node_depth(deepest), kMaxDictNodeDepth);
}

}  // namespace
}  // namespace omendb
