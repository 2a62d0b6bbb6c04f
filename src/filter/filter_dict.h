// The dict form of a filter, {"year": {"$gte": 2020}, "tag": {"$in": ["news", "blog"]}}, as a
// language-neutral tree: the Python bindings convert a dict to a DictNode and compile that, so the
// rules and error messages live here, testable without Python. Rules: docs/filters.md.
//
// Thread safety: no state; any thread may call at any time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "filter/evaluate.h"
#include "filter/expression.h"
#include "omendb/status.h"

namespace omendb {

// The deepest DictNode a filter within kMaxFilterDepth can be, counting the top object as 1:
// kMaxFilterDepth nested "$and" lists of objects, then a field's object of operators, a "$in" list
// and its items. A converter (the Python bindings) can refuse deeper input as it builds the tree,
// so that a self-referencing or absurdly deep dict fails with kFilterError, not a stack overflow.
inline constexpr int kMaxDictNodeDepth = 2 * kMaxFilterDepth + 4;

// A JSON-like value: null, bool, int64, double, string, list, or object (keys in the order given;
// a repeated key is kept, and compiles as one more condition).
struct DictNode {
  using List = std::vector<DictNode>;
  using Object = std::vector<std::pair<std::string, DictNode>>;

  // Implicit, so that a tree reads like the dict it stands for:
  // DictNode::Object{{"year", DictNode::Object{{"$gte", 2020}}}, {"tags", DictNode::List{"ai"}}}.
  DictNode() = default;  // null
  DictNode(std::nullptr_t) {}
  DictNode(bool flag) : value(flag) {}
  DictNode(int integer) : value(std::int64_t{integer}) {}
  DictNode(std::int64_t integer) : value(integer) {}
  DictNode(double number) : value(number) {}
  DictNode(const char* text) : value(std::string(text)) {}
  DictNode(std::string text) : value(std::move(text)) {}
  DictNode(List list) : value(std::move(list)) {}
  DictNode(Object object) : value(std::move(object)) {}

  std::variant<std::monostate, bool, std::int64_t, double, std::string, List, Object> value;
};

// Compiles a dict-form filter into an expression tree:
// - the top level is an object, the implicit $and of its entries ({} matches everything);
// - "$and" / "$or": a non-empty list of objects, each one compiled like the top level;
//   "$not": one such object;
// - {"field": scalar or list of strings}: $eq;
// - {"field": {"$op": operand, ...}}: the $and of the ops, which are $eq $ne $gt $gte $lt $lte
//   (a null, bool, number or string; $eq and $ne also a list of strings), $in $nin (a list of
//   those scalars), $exists (a bool), $contains (a string) and $not (an object of such ops).
// Fails with kFilterError naming the operator and field ("unknown operator '$regex' in filter on
// 'title'"); also for non-finite floats, empty field names and nesting deeper than
// kMaxFilterDepth. Cost: O(nodes); recursion bounded by kMaxFilterDepth.
Result<FilterExpr> filter_from_dict(const DictNode& filter);

}  // namespace omendb
