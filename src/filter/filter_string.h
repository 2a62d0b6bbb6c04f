// The string form of a filter: "year >= 2020 AND tag IN ('news', 'blog')". Grammar, literals and
// error messages: docs/filters.md.
//
//   or_expr   := and_expr (OR and_expr)*
//   and_expr  := not_expr (AND not_expr)*
//   not_expr  := NOT not_expr | primary
//   primary   := '(' or_expr ')'
//              | field ('=' | '!=' | '<' | '<=' | '>' | '>=') literal
//              | field [NOT] IN '(' literal (',' literal)* ')'
//              | field [NOT] CONTAINS string
//              | field [NOT] EXISTS
//
// Keywords are case-insensitive. A field is an identifier [A-Za-z_][A-Za-z0-9_.-]* or any
// non-empty key in double quotes ("" is a quote inside). A literal is a single-quoted string (''
// is a quote inside), an int64 integer, a finite float, true, false or null.
//
// Thread safety: no state; any thread may call at any time.
#pragma once

#include <cstddef>
#include <string_view>

#include "filter/expression.h"
#include "omendb/status.h"

namespace omendb {

// Longer filter strings are rejected before any parsing.
inline constexpr std::size_t kMaxFilterStringBytes = 64 * 1024;

// Compiles a filter string into an expression tree. AND and OR with several operands become one
// kAnd / kOr node; parentheses add no node; `field NOT IN`, `NOT CONTAINS` and `NOT EXISTS` become
// kNin, kNot over kContains, and kExists with exists = false.
// Fails with kFilterError "position <p>: expected <what>, found <token>", p being the 1-based
// character (UTF-8 code point) position; also for input past kMaxFilterStringBytes and nesting
// (parentheses and NOT) deeper than kMaxFilterDepth (filter/evaluate.h). Cost: O(input bytes);
// recursion is bounded by kMaxFilterDepth whatever the input.
Result<FilterExpr> parse_filter_string(std::string_view text);

}  // namespace omendb
