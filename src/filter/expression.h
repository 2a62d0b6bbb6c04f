// A metadata filter as one expression tree. Both user-facing forms compile to it: the Mongo-style
// dict ({"year": {"$gte": 2020}, "tag": {"$in": ["news", "blog"]}}) and the string form
// ("year >= 2020 AND tag IN ('news', 'blog')").
//
// Semantics (the reference every evaluator and index must agree with):
// - Numbers compare by value across int and float (2020 == 2020.0), exactly (2^53 + 1 != 2^53 as a
//   float); bool is not a number. Strings order bytewise (UTF-8 code-point order). Bools and lists
//   have no order: kGt, kGte, kLt and kLte on them are false.
// - A comparison of values of different kinds (string vs number, bool vs string, ...) is false,
//   as is any comparison with a missing field or a null value, stored or operand (so `x = null`
//   is false even where x is null; kExists tests presence), except:
//   kNe and kNin are the negations of kEq and kIn: true for a missing field, a null, or another kind.
// - kIn is true when kEq holds for any operand.
// - kEq / kIn on a list-of-strings field: true when the list equals the operand (kEq with a list:
//   same strings in the same order) or when any element equals the (string) operand.
// - kContains: a list-of-strings field holds the string operand; a string field contains it as a
//   substring. False otherwise.
// - kExists: the field is present (its value may be null) == `exists`.
// - kAnd / kOr of no children are true / false; kNot has exactly one child.
#pragma once

#include <string>
#include <vector>

#include "omendb/metadata.h"

namespace omendb {

enum class FilterOp {
  kEq,
  kNe,
  kGt,
  kGte,
  kLt,
  kLte,
  kIn,
  kNin,
  kExists,
  kContains,
  kAnd,
  kOr,
  kNot,
};

struct FilterExpr {
  FilterOp op = FilterOp::kAnd;
  std::string field;                 // the metadata key, for every op but kAnd/kOr/kNot
  Value operand;                     // kEq..kLte and kContains
  std::vector<Value> operands;       // kIn and kNin
  bool exists = true;                // kExists
  std::vector<FilterExpr> children;  // kAnd, kOr, kNot

  // The same tree, field for field.
  friend bool operator==(const FilterExpr&, const FilterExpr&) = default;
};

}  // namespace omendb
