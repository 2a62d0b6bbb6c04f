// Helpers shared by the filter tests: a compact, canonical text of an expression tree, so that a
// test states the whole tree it expects in one line.
#pragma once

#include <gtest/gtest.h>

#include <charconv>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "filter/expression.h"
#include "omendb/metadata.h"
#include "omendb/status.h"

namespace omendb::filter_test {

// null, true, 2020, 2020.0f (a float: shortest round-trip digits, then 'f'), 'text', ['a', 'b'].
inline std::string describe(const Value& value) {
  if (std::holds_alternative<std::monostate>(value)) return "null";
  if (const auto* flag = std::get_if<bool>(&value)) return *flag ? "true" : "false";
  if (const auto* integer = std::get_if<std::int64_t>(&value)) return std::to_string(*integer);
  if (const auto* number = std::get_if<double>(&value)) {
    char buffer[64];
    const auto end = std::to_chars(buffer, buffer + sizeof buffer, *number).ptr;
    return std::string(buffer, end) + "f";
  }
  if (const auto* text = std::get_if<std::string>(&value)) return "'" + *text + "'";
  std::string out = "[";
  for (const std::string& item : std::get<std::vector<std::string>>(value)) {
    out += (out.size() > 1 ? ", '" : "'") + item + "'";
  }
  return out + "]";
}

inline const char* op_name(FilterOp op) {
  switch (op) {
    case FilterOp::kEq:
      return "eq";
    case FilterOp::kNe:
      return "ne";
    case FilterOp::kGt:
      return "gt";
    case FilterOp::kGte:
      return "gte";
    case FilterOp::kLt:
      return "lt";
    case FilterOp::kLte:
      return "lte";
    case FilterOp::kIn:
      return "in";
    case FilterOp::kNin:
      return "nin";
    case FilterOp::kExists:
      return "exists";
    case FilterOp::kContains:
      return "contains";
    case FilterOp::kAnd:
      return "and";
    case FilterOp::kOr:
      return "or";
    case FilterOp::kNot:
      return "not";
  }
  return "?";
}

// and(gte(year, 2020), in(tag, ['news', 'blog'])), exists(x, false), not(contains(t, 'a')).
inline std::string describe(const FilterExpr& filter) {
  std::string out = std::string(op_name(filter.op)) + "(";
  switch (filter.op) {
    case FilterOp::kAnd:
    case FilterOp::kOr:
    case FilterOp::kNot:
      for (std::size_t i = 0; i < filter.children.size(); ++i) {
        out += (i > 0 ? ", " : "") + describe(filter.children[i]);
      }
      break;
    case FilterOp::kIn:
    case FilterOp::kNin:
      out += filter.field + ", [";
      for (std::size_t i = 0; i < filter.operands.size(); ++i) {
        out += (i > 0 ? ", " : "") + describe(filter.operands[i]);
      }
      out += "]";
      break;
    case FilterOp::kExists:
      out += filter.field + (filter.exists ? ", true" : ", false");
      break;
    default:
      out += filter.field + ", " + describe(filter.operand);
      break;
  }
  return out + ")";
}

// The tree's text, or "error: <message>" (so a failing test shows the message).
inline std::string describe(Result<FilterExpr> result) {
  if (!result.is_ok()) return "error: " + result.status().message();
  return describe(result.value());
}

// The message of a failure that must be kFilterError ("" and a test failure otherwise).
inline std::string filter_error(Result<FilterExpr> result) {
  if (result.is_ok()) {
    ADD_FAILURE() << "expected a filter error, parsed " << describe(result.value());
    return "";
  }
  EXPECT_EQ(result.status().code(), StatusCode::kFilterError) << result.status().message();
  return result.status().message();
}

}  // namespace omendb::filter_test
