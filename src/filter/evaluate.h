// Evaluation of a filter expression against one record's metadata, by the semantics stated in
// filter/expression.h. This is the reference the payload indexes and the planner must agree with.
//
// Thread safety: no state; any thread may call at any time.
#pragma once

#include <string_view>

#include "filter/expression.h"
#include "omendb/metadata.h"

namespace omendb {

// The deepest nesting the filter parsers accept: each parenthesis, NOT, "$and", "$or" and "$not"
// is one level. A parsed tree is therefore at most a small multiple of this deep, which bounds the
// recursion of matches() and of every other walk over the tree.
inline constexpr int kMaxFilterDepth = 64;

// The value of `key` in `metadata` (sorted by key, as normalize_metadata leaves it), or nullptr.
// Cost: binary search, O(log f) key comparisons; no allocation.
const Value* find_field(const Metadata& metadata, std::string_view key) noexcept;

// Whether `metadata` (sorted by key) satisfies `filter`. Precondition: every kNot node has exactly
// one child (a kNot without children is false). Cost: O(nodes * log f) plus the operand sizes for
// kIn / kNin and the string length for kContains; no allocation. Recursion: the tree's depth.
bool matches(const FilterExpr& filter, const Metadata& metadata) noexcept;

}  // namespace omendb
