#include "filter/evaluate.h"

#include <algorithm>
#include <cmath>
#include <compare>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace omendb {
namespace {

using StringList = std::vector<std::string>;

// Exact three-way comparison of an integer with a double (no rounding of the integer to double).
std::partial_ordering compare_int_double(std::int64_t integer, double number) noexcept {
  constexpr double kTwoTo63 = 9223372036854775808.0;
  if (std::isnan(number)) return std::partial_ordering::unordered;
  if (number >= kTwoTo63) return std::partial_ordering::less;
  if (number < -kTwoTo63) return std::partial_ordering::greater;
  const double whole = std::trunc(number);  // in [-2^63, 2^63): converts exactly
  const auto whole_integer = static_cast<std::int64_t>(whole);
  if (integer != whole_integer) return integer <=> whole_integer;
  return 0.0 <=> number - whole;  // the fraction decides; exact for a double
}

// Numbers by value across int and float, strings bytewise; unordered for anything else (a missing
// field, null, bool, lists, different kinds), which makes every ordering comparison false.
std::partial_ordering compare(const Value* stored, const Value& operand) noexcept {
  if (stored == nullptr) return std::partial_ordering::unordered;
  if (const auto* a = std::get_if<std::int64_t>(stored)) {
    if (const auto* b = std::get_if<std::int64_t>(&operand)) return *a <=> *b;
    if (const auto* b = std::get_if<double>(&operand)) return compare_int_double(*a, *b);
    return std::partial_ordering::unordered;
  }
  if (const auto* a = std::get_if<double>(stored)) {
    if (const auto* b = std::get_if<double>(&operand)) return *a <=> *b;
    if (const auto* b = std::get_if<std::int64_t>(&operand))
      return 0 <=> compare_int_double(*b, *a);
    return std::partial_ordering::unordered;
  }
  const auto* a = std::get_if<std::string>(stored);
  const auto* b = std::get_if<std::string>(&operand);
  return a != nullptr && b != nullptr ? *a <=> *b : std::partial_ordering::unordered;
}

// kEq: numbers by value, bool with bool, string with string, a list with an equal list, and a
// list with a string it holds. A missing field, null and different kinds are never equal.
bool equals(const Value* stored, const Value& operand) noexcept {
  if (stored == nullptr) return false;
  if (const auto* flag = std::get_if<bool>(stored)) {
    const auto* other = std::get_if<bool>(&operand);
    return other != nullptr && *flag == *other;
  }
  if (const auto* text = std::get_if<std::string>(stored)) {
    const auto* other = std::get_if<std::string>(&operand);
    return other != nullptr && *text == *other;
  }
  if (const auto* list = std::get_if<StringList>(stored)) {
    if (const auto* text = std::get_if<std::string>(&operand)) {
      return std::find(list->begin(), list->end(), *text) != list->end();
    }
    const auto* other = std::get_if<StringList>(&operand);
    return other != nullptr && *list == *other;
  }
  return compare(stored, operand) == 0;  // numbers; unordered (false) for null
}

bool in_list(const Value* stored, const std::vector<Value>& operands) noexcept {
  return std::any_of(operands.begin(), operands.end(),
                     [&](const Value& operand) { return equals(stored, operand); });
}

bool contains(const Value* stored, const Value& operand) noexcept {
  const auto* needle = std::get_if<std::string>(&operand);
  if (stored == nullptr || needle == nullptr) return false;
  if (const auto* text = std::get_if<std::string>(stored)) {
    return text->find(*needle) != std::string::npos;
  }
  if (const auto* list = std::get_if<StringList>(stored)) {
    return std::find(list->begin(), list->end(), *needle) != list->end();
  }
  return false;
}

}  // namespace

const Value* find_field(const Metadata& metadata, std::string_view key) noexcept {
  const auto it = std::lower_bound(
      metadata.begin(), metadata.end(), key,
      [](const Field& field, std::string_view wanted) { return field.key < wanted; });
  return it != metadata.end() && it->key == key ? &it->value : nullptr;
}

bool matches(const FilterExpr& filter, const Metadata& metadata) noexcept {
  const auto field = [&] { return find_field(metadata, filter.field); };
  switch (filter.op) {
    case FilterOp::kEq:
      return equals(field(), filter.operand);
    case FilterOp::kNe:
      return !equals(field(), filter.operand);
    case FilterOp::kGt:
      return compare(field(), filter.operand) > 0;
    case FilterOp::kGte:
      return compare(field(), filter.operand) >= 0;
    case FilterOp::kLt:
      return compare(field(), filter.operand) < 0;
    case FilterOp::kLte:
      return compare(field(), filter.operand) <= 0;
    case FilterOp::kIn:
      return in_list(field(), filter.operands);
    case FilterOp::kNin:
      return !in_list(field(), filter.operands);
    case FilterOp::kExists:
      return (field() != nullptr) == filter.exists;
    case FilterOp::kContains:
      return contains(field(), filter.operand);
    case FilterOp::kAnd:
      return std::all_of(filter.children.begin(), filter.children.end(),
                         [&](const FilterExpr& child) { return matches(child, metadata); });
    case FilterOp::kOr:
      return std::any_of(filter.children.begin(), filter.children.end(),
                         [&](const FilterExpr& child) { return matches(child, metadata); });
    case FilterOp::kNot:
      return !filter.children.empty() && !matches(filter.children.front(), metadata);
  }
  return false;  // not a FilterOp
}

}  // namespace omendb
