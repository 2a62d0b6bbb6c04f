#include "filter/filter_dict.h"

#include <array>
#include <cmath>
#include <optional>
#include <string_view>

#include "filter/evaluate.h"
#include "util/text.h"

namespace omendb {
namespace {

using List = DictNode::List;
using Object = DictNode::Object;

// The operators that apply to a field, by name.
struct FieldOperator {
  std::string_view name;
  FilterOp op;
};
constexpr std::array<FieldOperator, 10> kFieldOperators = {{
    {"$eq", FilterOp::kEq},
    {"$ne", FilterOp::kNe},
    {"$gt", FilterOp::kGt},
    {"$gte", FilterOp::kGte},
    {"$lt", FilterOp::kLt},
    {"$lte", FilterOp::kLte},
    {"$in", FilterOp::kIn},
    {"$nin", FilterOp::kNin},
    {"$exists", FilterOp::kExists},
    {"$contains", FilterOp::kContains},
}};

std::optional<FilterOp> field_operator(std::string_view name) {
  for (const FieldOperator& entry : kFieldOperators) {
    if (entry.name == name) return entry.op;
  }
  return std::nullopt;
}

Status filter_error(std::string message) { return {StatusCode::kFilterError, std::move(message)}; }

const char* kind_name(const DictNode& node) {
  constexpr std::array<const char*, 7> kNames = {"null",   "bool", "int",   "float",
                                                 "string", "list", "object"};
  const std::size_t index = node.value.index();  // variant_npos only after a failed assignment
  return index < kNames.size() ? kNames[index] : "invalid";
}

Status too_deep() {
  return filter_error("filter nested deeper than " + std::to_string(kMaxFilterDepth) + " levels");
}

// Sets `out` to `node` when it is a null, bool, int, finite float or string; `what` names the
// operand in messages.
Status scalar(const DictNode& node, const std::string& what, Value& out) {
  if (const auto* number = std::get_if<double>(&node.value)) {
    if (!std::isfinite(*number)) return filter_error(what + " is not a finite number");
    out = *number;
  } else if (std::holds_alternative<std::monostate>(node.value)) {
    out = std::monostate{};
  } else if (const auto* flag = std::get_if<bool>(&node.value)) {
    out = *flag;
  } else if (const auto* integer = std::get_if<std::int64_t>(&node.value)) {
    out = *integer;
  } else if (const auto* text = std::get_if<std::string>(&node.value)) {
    out = *text;
  } else {
    return filter_error(what + " must be null, a bool, a number or a string, got " +
                        kind_name(node));
  }
  return Status::ok();
}

// A scalar, or a list of strings (the operand of $eq and $ne).
Status scalar_or_strings(const DictNode& node, const std::string& what, Value& out) {
  const auto* list = std::get_if<List>(&node.value);
  if (list == nullptr) return scalar(node, what, out);
  std::vector<std::string> strings;
  strings.reserve(list->size());
  for (std::size_t i = 0; i < list->size(); ++i) {
    const auto* text = std::get_if<std::string>(&(*list)[i].value);
    if (text == nullptr) {
      return filter_error(what + " is a list, which must hold only strings; item " +
                          std::to_string(i) + " is " + kind_name((*list)[i]));
    }
    strings.push_back(*text);
  }
  out = std::move(strings);
  return Status::ok();
}

// kNot over `child`.
FilterExpr negation(FilterExpr child) {
  FilterExpr node;
  node.op = FilterOp::kNot;
  node.children.push_back(std::move(child));
  return node;
}

// A conjunction of one condition is that condition.
FilterExpr single_or_all(FilterExpr all) {
  if (all.children.size() != 1) return all;
  FilterExpr only = std::move(all.children.front());
  return only;
}

// The list of scalars of $in / $nin.
Status set_operands(FilterExpr& node, const DictNode& operand, const std::string& what) {
  const auto* list = std::get_if<List>(&operand.value);
  if (list == nullptr) return filter_error(what + " takes a list, got " + kind_name(operand));
  node.operands.resize(list->size());
  for (std::size_t i = 0; i < list->size(); ++i) {
    const Status status =
        scalar((*list)[i], "item " + std::to_string(i) + " of " + what, node.operands[i]);
    if (!status.is_ok()) return status;
  }
  return Status::ok();
}

// Checks `operand` against what node.op takes and stores it in `node`.
Status set_operand(FilterExpr& node, const DictNode& operand, const std::string& what) {
  switch (node.op) {
    case FilterOp::kExists:
      if (const auto* flag = std::get_if<bool>(&operand.value)) {
        node.exists = *flag;
        return Status::ok();
      }
      return filter_error(what + " takes true or false, got " + kind_name(operand));
    case FilterOp::kContains:
      if (const auto* text = std::get_if<std::string>(&operand.value)) {
        node.operand = *text;
        return Status::ok();
      }
      return filter_error(what + " takes a string, got " + kind_name(operand));
    case FilterOp::kIn:
    case FilterOp::kNin:
      return set_operands(node, operand, what);
    case FilterOp::kEq:
    case FilterOp::kNe:
      return scalar_or_strings(operand, "the operand of " + what, node.operand);
    default:  // kGt, kGte, kLt, kLte
      return scalar(operand, "the operand of " + what, node.operand);
  }
}

Result<FilterExpr> compile_condition(const std::string& field, const DictNode& value, int depth);

// One {"$op": operand} of a field's condition.
Result<FilterExpr> compile_operator(const std::string& field, const std::string& name,
                                    const DictNode& operand, int depth) {
  const std::string what = quoted(name) + " in filter on " + quoted(field);
  if (name == "$not") {
    if (depth >= kMaxFilterDepth) return too_deep();
    if (!std::holds_alternative<Object>(operand.value)) {
      return filter_error(what + " takes an object of operators, got " + kind_name(operand));
    }
    Result<FilterExpr> inner = compile_condition(field, operand, depth + 1);
    if (!inner.is_ok()) return inner;
    return negation(std::move(inner).value());
  }
  const std::optional<FilterOp> op = field_operator(name);
  if (!op) {
    if (name == "$and" || name == "$or") {
      return filter_error("operator " + quoted(name) + " cannot be used inside the condition on " +
                          quoted(field) + "; it takes a list of whole filters");
    }
    if (name.empty() || name.front() != '$') {
      return filter_error("the condition on " + quoted(field) + " has the key " + quoted(name) +
                          ", which is not an operator (operators start with '$')");
    }
    return filter_error("unknown operator " + what);
  }
  FilterExpr node;
  node.op = *op;
  node.field = field;
  if (Status status = set_operand(node, operand, what); !status.is_ok()) return status;
  return node;
}

// The value of a field key: an object of operators, or a value meaning $eq.
Result<FilterExpr> compile_condition(const std::string& field, const DictNode& value, int depth) {
  const auto* object = std::get_if<Object>(&value.value);
  if (object == nullptr) {
    FilterExpr node;
    node.op = FilterOp::kEq;
    node.field = field;
    const Status status = scalar_or_strings(value, "the value of " + quoted(field), node.operand);
    if (!status.is_ok()) return status;
    return node;
  }
  if (object->empty()) {
    return filter_error("the condition on " + quoted(field) +
                        " is an empty object; it needs an operator such as '$eq'");
  }
  FilterExpr all;
  all.op = FilterOp::kAnd;
  for (const auto& [name, operand] : *object) {
    Result<FilterExpr> condition = compile_operator(field, name, operand, depth);
    if (!condition.is_ok()) return condition;
    all.children.push_back(std::move(condition).value());
  }
  return single_or_all(std::move(all));
}

Result<FilterExpr> compile_object(const DictNode& node, int depth, const std::string& what);

// "$and" / "$or": a non-empty list of filter objects.
Result<FilterExpr> compile_list(const std::string& key, const DictNode& value, int depth) {
  if (depth >= kMaxFilterDepth) return too_deep();
  const auto* list = std::get_if<List>(&value.value);
  if (list == nullptr || list->empty()) {
    return filter_error(quoted(key) + " takes a non-empty list of filter objects, got " +
                        (list == nullptr ? kind_name(value) : "an empty list"));
  }
  FilterExpr node;
  node.op = key == "$and" ? FilterOp::kAnd : FilterOp::kOr;
  for (std::size_t i = 0; i < list->size(); ++i) {
    Result<FilterExpr> child =
        compile_object((*list)[i], depth + 1, "item " + std::to_string(i) + " of " + quoted(key));
    if (!child.is_ok()) return child;
    node.children.push_back(std::move(child).value());
  }
  return node;
}

// One key of a filter object: "$and", "$or", "$not" or a field.
Result<FilterExpr> compile_entry(const std::string& key, const DictNode& value, int depth) {
  if (key == "$and" || key == "$or") return compile_list(key, value, depth);
  if (key == "$not") {
    if (depth >= kMaxFilterDepth) return too_deep();
    Result<FilterExpr> inner = compile_object(value, depth + 1, "'$not'");
    if (!inner.is_ok()) return inner;
    return negation(std::move(inner).value());
  }
  if (field_operator(key)) {
    return filter_error("operator " + quoted(key) + " needs a field, as in {\"field\": {\"" + key +
                        "\": value}}");
  }
  if (!key.empty() && key.front() == '$') return filter_error("unknown operator " + quoted(key));
  if (key.empty()) return filter_error("empty field name in filter");
  return compile_condition(key, value, depth);
}

// An object: the $and of its entries. `what` names it in messages.
Result<FilterExpr> compile_object(const DictNode& node, int depth, const std::string& what) {
  const auto* object = std::get_if<Object>(&node.value);
  if (object == nullptr) {
    return filter_error(what + " must be an object (a dict), got " + kind_name(node));
  }
  FilterExpr all;
  all.op = FilterOp::kAnd;
  for (const auto& [key, value] : *object) {
    Result<FilterExpr> entry = compile_entry(key, value, depth);
    if (!entry.is_ok()) return entry;
    all.children.push_back(std::move(entry).value());
  }
  return single_or_all(std::move(all));
}

}  // namespace

Result<FilterExpr> filter_from_dict(const DictNode& filter) {
  return compile_object(filter, 0, "a filter");
}

}  // namespace omendb
