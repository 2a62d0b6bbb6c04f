// The string form and the dict form of the same random filter compile to the same tree, and that
// tree evaluates on random metadata as an independent, naive reading of the semantics does.
#include <gtest/gtest.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "filter/evaluate.h"
#include "filter/filter_dict.h"
#include "filter/filter_string.h"
#include "filter/filter_test_util.h"

namespace omendb {
namespace {

using filter_test::describe;
using Strings = std::vector<std::string>;

// Field names: plain, dotted, one that needs quotes, one that is a keyword, and one never set.
const std::vector<std::string> kFields = {"a", "b.c", "tags", "my key", "in", "missing"};
const std::vector<std::string> kWords = {"x", "y", "it's", "", "x y"};

class RandomFilters {
 public:
  explicit RandomFilters(std::uint64_t seed) : random_(seed) {}

  std::size_t below(std::size_t n) { return static_cast<std::size_t>(random_() % n); }

  // Small ints and halves, so the naive evaluator's doubles are exact.
  Value scalar() {
    switch (below(6)) {
      case 0:
        return Value();
      case 1:
        return Value(below(2) == 0);
      case 2:
        return Value(static_cast<std::int64_t>(below(7)) - 3);
      case 3:
        return Value((static_cast<double>(below(13)) - 6) / 2);
      default:
        return Value(kWords[below(kWords.size())]);
    }
  }

  FilterExpr filter(int depth) {
    FilterExpr node;
    const std::size_t choice = below(depth > 0 ? 14 : 10);
    if (choice >= 10) {
      node.op = choice == 13 ? FilterOp::kNot : (choice == 12 ? FilterOp::kOr : FilterOp::kAnd);
      const std::size_t children = node.op == FilterOp::kNot ? 1 : 2 + below(2);
      for (std::size_t i = 0; i < children; ++i) node.children.push_back(filter(depth - 1));
      return node;
    }
    constexpr FilterOp kLeaves[] = {
        FilterOp::kEq,  FilterOp::kNe, FilterOp::kGt,  FilterOp::kGte,    FilterOp::kLt,
        FilterOp::kLte, FilterOp::kIn, FilterOp::kNin, FilterOp::kExists, FilterOp::kContains};
    node.op = kLeaves[choice];
    node.field = kFields[below(kFields.size())];
    if (node.op == FilterOp::kIn || node.op == FilterOp::kNin) {
      const std::size_t count = 1 + below(3);
      for (std::size_t i = 0; i < count; ++i) node.operands.push_back(scalar());
    } else if (node.op == FilterOp::kExists) {
      node.exists = below(2) == 0;
    } else if (node.op == FilterOp::kContains) {
      node.operand = kWords[below(kWords.size())];
    } else {
      node.operand = scalar();
    }
    return node;
  }

  Metadata metadata() {
    Metadata fields;
    for (const std::string& key : kFields) {
      if (key == "missing" || below(5) == 0) continue;
      if (below(4) == 0) {
        Strings list(below(3));
        for (std::string& item : list) item = kWords[below(kWords.size())];
        fields.push_back({key, Value(std::move(list))});
      } else {
        fields.push_back({key, scalar()});
      }
    }
    EXPECT_TRUE(normalize_metadata(fields).is_ok());
    return fields;
  }

  // Randomly upper- or lower-cases a keyword.
  std::string keyword(std::string word) {
    if (below(2) == 0) {
      std::transform(word.begin(), word.end(), word.begin(),
                     [](char c) { return static_cast<char>(c - 'A' + 'a'); });
    }
    return word;
  }

 private:
  std::mt19937_64 random_;
};

// ---- The string form -------------------------------------------------------------------------

std::string literal(const Value& value) {
  if (std::holds_alternative<std::monostate>(value)) return "null";
  if (const auto* flag = std::get_if<bool>(&value)) return *flag ? "true" : "false";
  if (const auto* integer = std::get_if<std::int64_t>(&value)) return std::to_string(*integer);
  if (const auto* number = std::get_if<double>(&value)) {
    char buffer[64];
    std::string text(buffer, std::to_chars(buffer, buffer + sizeof buffer, *number).ptr);
    return text.find_first_of(".e") == std::string::npos ? text + ".0" : text;
  }
  std::string out = "'";
  for (const char c : std::get<std::string>(value)) out += c == '\'' ? "''" : std::string(1, c);
  return out + "'";
}

std::string field_name(const std::string& field) {
  return field == "my key" || field == "in" ? "\"" + field + "\"" : field;
}

std::string to_text(const FilterExpr& filter, RandomFilters& random) {
  const std::string field = field_name(filter.field);
  auto join = [&](const char* keyword) {
    std::string out = "(";
    for (std::size_t i = 0; i < filter.children.size(); ++i) {
      if (i > 0) out.append(" ").append(random.keyword(keyword)).append(" ");
      out += to_text(filter.children[i], random);
    }
    return out + ")";
  };
  auto list = [&] {
    std::string out = "(";
    for (std::size_t i = 0; i < filter.operands.size(); ++i) {
      if (i > 0) out += ",";
      out += literal(filter.operands[i]);
    }
    return out + ")";
  };
  switch (filter.op) {
    case FilterOp::kEq:
      return field + " = " + literal(filter.operand);
    case FilterOp::kNe:
      return field + " != " + literal(filter.operand);
    case FilterOp::kGt:
      return field + ">" + literal(filter.operand);
    case FilterOp::kGte:
      return field + " >= " + literal(filter.operand);
    case FilterOp::kLt:
      return field + " < " + literal(filter.operand);
    case FilterOp::kLte:
      return field + "<=" + literal(filter.operand);
    case FilterOp::kIn:
      return field + " " + random.keyword("IN") + " " + list();
    case FilterOp::kNin:
      return field + " NOT " + random.keyword("IN") + list();
    case FilterOp::kExists:
      return field + (filter.exists ? " EXISTS" : " not exists");
    case FilterOp::kContains:
      return field + " CONTAINS " + literal(filter.operand);
    case FilterOp::kAnd:
      return join("AND");
    case FilterOp::kOr:
      return join("OR");
    case FilterOp::kNot:
      return random.keyword("NOT") + " " + to_text(filter.children[0], random);
  }
  return "";
}

// ---- The dict form ---------------------------------------------------------------------------

DictNode node_of(const Value& value) {
  if (const auto* flag = std::get_if<bool>(&value)) return *flag;
  if (const auto* integer = std::get_if<std::int64_t>(&value)) return *integer;
  if (const auto* number = std::get_if<double>(&value)) return *number;
  if (const auto* text = std::get_if<std::string>(&value)) return *text;
  return DictNode();
}

const char* operator_name(FilterOp op) {
  switch (op) {
    case FilterOp::kEq:
      return "$eq";
    case FilterOp::kNe:
      return "$ne";
    case FilterOp::kGt:
      return "$gt";
    case FilterOp::kGte:
      return "$gte";
    case FilterOp::kLt:
      return "$lt";
    case FilterOp::kLte:
      return "$lte";
    case FilterOp::kIn:
      return "$in";
    case FilterOp::kNin:
      return "$nin";
    case FilterOp::kExists:
      return "$exists";
    case FilterOp::kContains:
      return "$contains";
    default:
      return "";
  }
}

// {"$op": operand} for a leaf.
DictNode condition(const FilterExpr& leaf) {
  DictNode operand;
  if (leaf.op == FilterOp::kIn || leaf.op == FilterOp::kNin) {
    DictNode::List items;
    for (const Value& value : leaf.operands) items.push_back(node_of(value));
    operand = std::move(items);
  } else if (leaf.op == FilterOp::kExists) {
    operand = leaf.exists;
  } else {
    operand = node_of(leaf.operand);
  }
  return DictNode::Object{{operator_name(leaf.op), std::move(operand)}};
}

bool is_leaf(const FilterExpr& filter) {
  return filter.op != FilterOp::kAnd && filter.op != FilterOp::kOr && filter.op != FilterOp::kNot;
}

// An object with one entry, in one of the spellings that compile to `filter`.
DictNode to_dict(const FilterExpr& filter, RandomFilters& random) {
  using Object = DictNode::Object;
  if (is_leaf(filter)) {
    if (filter.op == FilterOp::kEq && random.below(2) == 0) {
      return Object{{filter.field, node_of(filter.operand)}};  // bare value
    }
    return Object{{filter.field, condition(filter)}};
  }
  if (filter.op == FilterOp::kNot) {
    const FilterExpr& child = filter.children[0];
    if (is_leaf(child) && random.below(2) == 0) {  // field-level {"f": {"$not": {...}}}
      return Object{{child.field, Object{{"$not", condition(child)}}}};
    }
    return Object{{"$not", to_dict(child, random)}};
  }
  std::vector<DictNode> children;
  for (const FilterExpr& child : filter.children) children.push_back(to_dict(child, random));
  // An $and of one-entry objects with distinct keys may also be written as one object.
  if (filter.op == FilterOp::kAnd && random.below(2) == 0) {
    Object merged;
    for (const DictNode& child : children) {
      const Object& entries = std::get<Object>(child.value);
      const bool repeated = std::any_of(merged.begin(), merged.end(), [&](const auto& seen) {
        return seen.first == entries.front().first;
      });
      if (entries.size() != 1 || repeated) break;
      merged.push_back(entries.front());
    }
    if (merged.size() == children.size()) return merged;
  }
  return Object{
      {filter.op == FilterOp::kAnd ? "$and" : "$or", DictNode::List(std::move(children))}};
}

// ---- A naive reading of the semantics --------------------------------------------------------

std::optional<double> as_number(const Value& value) {
  if (const auto* integer = std::get_if<std::int64_t>(&value)) return static_cast<double>(*integer);
  if (const auto* number = std::get_if<double>(&value)) return *number;
  return std::nullopt;
}

bool naive_equal(const Value& stored, const Value& operand) {
  if (as_number(stored) && as_number(operand)) return *as_number(stored) == *as_number(operand);
  if (const auto* list = std::get_if<Strings>(&stored)) {
    if (std::holds_alternative<Strings>(operand)) return *list == std::get<Strings>(operand);
    for (const std::string& item : *list) {
      if (operand == Value(item)) return true;
    }
    return false;
  }
  return !std::holds_alternative<std::monostate>(stored) && stored.index() == operand.index() &&
         stored == operand;
}

// -1, 0, 1, or nullopt when the two do not order.
std::optional<int> naive_order(const Value& stored, const Value& operand) {
  if (as_number(stored) && as_number(operand)) {
    const double a = *as_number(stored);
    const double b = *as_number(operand);
    return a < b ? -1 : (a > b ? 1 : 0);
  }
  const auto* a = std::get_if<std::string>(&stored);
  const auto* b = std::get_if<std::string>(&operand);
  if (a == nullptr || b == nullptr) return std::nullopt;
  return *a < *b ? -1 : (*a > *b ? 1 : 0);
}

bool naive_matches(const FilterExpr& filter, const Metadata& metadata) {
  const Value* stored = nullptr;
  for (const Field& field : metadata) {
    if (field.key == filter.field) stored = &field.value;
  }
  auto equal = [&](const Value& operand) { return stored && naive_equal(*stored, operand); };
  auto order = [&]() { return stored ? naive_order(*stored, filter.operand) : std::nullopt; };
  auto in = [&] { return std::any_of(filter.operands.begin(), filter.operands.end(), equal); };
  auto child = [&](const FilterExpr& c) { return naive_matches(c, metadata); };
  switch (filter.op) {
    case FilterOp::kEq:
      return equal(filter.operand);
    case FilterOp::kNe:
      return !equal(filter.operand);
    case FilterOp::kGt:
      return order() && *order() > 0;
    case FilterOp::kGte:
      return order() && *order() >= 0;
    case FilterOp::kLt:
      return order() && *order() < 0;
    case FilterOp::kLte:
      return order() && *order() <= 0;
    case FilterOp::kIn:
      return in();
    case FilterOp::kNin:
      return !in();
    case FilterOp::kExists:
      return (stored != nullptr) == filter.exists;
    case FilterOp::kContains: {
      const auto& needle = std::get<std::string>(filter.operand);
      if (!stored) return false;
      if (const auto* text = std::get_if<std::string>(stored)) {
        return text->find(needle) != std::string::npos;
      }
      const auto* list = std::get_if<Strings>(stored);
      return list && std::find(list->begin(), list->end(), needle) != list->end();
    }
    case FilterOp::kAnd:
      return std::all_of(filter.children.begin(), filter.children.end(), child);
    case FilterOp::kOr:
      return std::any_of(filter.children.begin(), filter.children.end(), child);
    case FilterOp::kNot:
      return !child(filter.children[0]);
  }
  return false;
}

TEST(FilterFormsTest, BothFormsCompileToTheSameTreeAndEvaluateAlike) {
  RandomFilters random(2024);
  std::vector<Metadata> records;
  for (int i = 0; i < 60; ++i) records.push_back(random.metadata());
  int matched = 0;
  int evaluations = 0;
  for (int i = 0; i < 600; ++i) {
    const FilterExpr original = random.filter(3);
    const std::string text = to_text(original, random);
    Result<FilterExpr> from_text = parse_filter_string(text);
    ASSERT_TRUE(from_text.is_ok()) << text << ": " << from_text.status().message();
    Result<FilterExpr> from_dict = filter_from_dict(to_dict(original, random));
    ASSERT_TRUE(from_dict.is_ok()) << text << ": " << from_dict.status().message();
    // Parentheses, bare values and merged objects add no node: both trees are the original.
    EXPECT_EQ(describe(from_text.value()), describe(original)) << text;
    EXPECT_EQ(describe(from_dict.value()), describe(original)) << text;
    for (const Metadata& record : records) {
      const bool expected = naive_matches(original, record);
      ASSERT_EQ(matches(from_text.value(), record), expected) << text;
      ASSERT_EQ(matches(from_dict.value(), record), expected) << text;
      matched += expected;
      ++evaluations;
    }
  }
  // Neither almost always true nor almost always false: the comparison says something.
  EXPECT_GT(matched, evaluations / 5);
  EXPECT_LT(matched, evaluations * 4 / 5);
}

}  // namespace
}  // namespace omendb
