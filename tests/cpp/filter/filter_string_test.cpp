#include "filter/filter_string.h"

#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "filter/evaluate.h"
#include "filter/filter_test_util.h"

namespace omendb {
namespace {

using filter_test::describe;
using filter_test::filter_error;

std::string parsed(std::string_view text) { return describe(parse_filter_string(text)); }
std::string error_of(std::string_view text) { return filter_error(parse_filter_string(text)); }

// ---- Accepted filters --------------------------------------------------------------------------

TEST(FilterStringTest, EveryComparison) {
  EXPECT_EQ(parsed("year = 2020"), "eq(year, 2020)");
  EXPECT_EQ(parsed("year != 2020"), "ne(year, 2020)");
  EXPECT_EQ(parsed("year < 2020"), "lt(year, 2020)");
  EXPECT_EQ(parsed("year <= 2020"), "lte(year, 2020)");
  EXPECT_EQ(parsed("year > 2020"), "gt(year, 2020)");
  EXPECT_EQ(parsed("year >= 2020"), "gte(year, 2020)");
  EXPECT_EQ(parsed("year>=2020"), "gte(year, 2020)");
  EXPECT_EQ(parsed("a<b"),
            "error: position 3: expected a value (strings take single quotes), "
            "found 'b'");
}

TEST(FilterStringTest, InContainsExists) {
  EXPECT_EQ(parsed("tag IN ('news', 'blog')"), "in(tag, ['news', 'blog'])");
  EXPECT_EQ(parsed("tag IN ('news')"), "in(tag, ['news'])");
  EXPECT_EQ(parsed("tag NOT IN ('news','blog')"), "nin(tag, ['news', 'blog'])");
  EXPECT_EQ(parsed("x IN (1, -2.5, 'a', true, false, null)"),
            "in(x, [1, -2.5f, 'a', true, false, null])");
  EXPECT_EQ(parsed("tags CONTAINS 'ai'"), "contains(tags, 'ai')");
  EXPECT_EQ(parsed("tags NOT CONTAINS 'ai'"), "not(contains(tags, 'ai'))");
  EXPECT_EQ(parsed("x EXISTS"), "exists(x, true)");
  EXPECT_EQ(parsed("x NOT EXISTS"), "exists(x, false)");
}

TEST(FilterStringTest, Precedence) {
  EXPECT_EQ(parsed("a = 1 OR b = 2 AND c = 3"), "or(eq(a, 1), and(eq(b, 2), eq(c, 3)))");
  EXPECT_EQ(parsed("a = 1 AND b = 2 OR c = 3"), "or(and(eq(a, 1), eq(b, 2)), eq(c, 3))");
  EXPECT_EQ(parsed("NOT a = 1 AND b = 2"), "and(not(eq(a, 1)), eq(b, 2))");
  EXPECT_EQ(parsed("NOT a = 1 OR NOT b = 2"), "or(not(eq(a, 1)), not(eq(b, 2)))");
  EXPECT_EQ(parsed("NOT NOT a = 1"), "not(not(eq(a, 1)))");
  EXPECT_EQ(parsed("a = 1 AND b = 2 AND c = 3"), "and(eq(a, 1), eq(b, 2), eq(c, 3))");
  EXPECT_EQ(parsed("a = 1 OR b = 2 OR c = 3"), "or(eq(a, 1), eq(b, 2), eq(c, 3))");
}

TEST(FilterStringTest, Parentheses) {
  EXPECT_EQ(parsed("(a = 1 OR b = 2) AND c = 3"), "and(or(eq(a, 1), eq(b, 2)), eq(c, 3))");
  EXPECT_EQ(parsed("a = 1 AND (b = 2 OR c = 3)"), "and(eq(a, 1), or(eq(b, 2), eq(c, 3)))");
  EXPECT_EQ(parsed("NOT (a = 1 OR b = 2)"), "not(or(eq(a, 1), eq(b, 2)))");
  EXPECT_EQ(parsed("((a = 1))"), "eq(a, 1)");
  EXPECT_EQ(parsed("(a = 1) AND ((b = 2))"), "and(eq(a, 1), eq(b, 2))");
}

TEST(FilterStringTest, KeywordsAreCaseInsensitive) {
  EXPECT_EQ(parsed("x in ('a') and not y exists or z Not In (1) OR t contains 'q'"),
            "or(and(in(x, ['a']), not(exists(y, true))), nin(z, [1]), contains(t, 'q'))");
  EXPECT_EQ(parsed("x = TRUE AND y = False AND z = NuLL"),
            "and(eq(x, true), eq(y, false), eq(z, null))");
  EXPECT_EQ(parsed("x nOt ExIsTs"), "exists(x, false)");
}

TEST(FilterStringTest, Fields) {
  EXPECT_EQ(parsed("meta.sub-key_2 = 1"), "eq(meta.sub-key_2, 1)");
  EXPECT_EQ(parsed("_x = 1"), "eq(_x, 1)");
  EXPECT_EQ(parsed("\"my key\" = 1"), "eq(my key, 1)");
  EXPECT_EQ(parsed("\"say \"\"hi\"\"\" = 1"), "eq(say \"hi\", 1)");
  EXPECT_EQ(parsed("\"and\" = 1"), "eq(and, 1)");
  EXPECT_EQ(parsed("\"année\" >= 2020"), "gte(année, 2020)");
  // A keyword that only starts a longer word is a field.
  EXPECT_EQ(parsed("notes = 1 AND order = 2 AND nullable = 3"),
            "and(eq(notes, 1), eq(order, 2), eq(nullable, 3))");
}

TEST(FilterStringTest, Strings) {
  EXPECT_EQ(parsed("x = 'it''s'"), "eq(x, 'it's')");
  EXPECT_EQ(parsed("x = ''"), "eq(x, '')");
  EXPECT_EQ(parsed("x = ''''"), "eq(x, ''')");
  EXPECT_EQ(parsed("x = 'a AND b OR (c)'"), "eq(x, 'a AND b OR (c)')");
  EXPECT_EQ(parsed("x = 'say \"hi\"'"), "eq(x, 'say \"hi\"')");
  EXPECT_EQ(parsed("x = 'café'"), "eq(x, 'café')");
  EXPECT_EQ(parsed("x = 'two\nlines'"), "eq(x, 'two\nlines')");
}

TEST(FilterStringTest, Numbers) {
  EXPECT_EQ(parsed("x = 0"), "eq(x, 0)");
  EXPECT_EQ(parsed("x = -5"), "eq(x, -5)");
  EXPECT_EQ(parsed("x=-5"), "eq(x, -5)");
  EXPECT_EQ(parsed("x = 007"), "eq(x, 7)");
  EXPECT_EQ(parsed("x = 9223372036854775807"), "eq(x, 9223372036854775807)");
  EXPECT_EQ(parsed("x = -9223372036854775808"), "eq(x, -9223372036854775808)");
  EXPECT_EQ(parsed("x = 2.5"), "eq(x, 2.5f)");
  EXPECT_EQ(parsed("x = -2.5"), "eq(x, -2.5f)");
  EXPECT_EQ(parsed("x = .5"), "eq(x, 0.5f)");
  EXPECT_EQ(parsed("x = -.5"), "eq(x, -0.5f)");
  EXPECT_EQ(parsed("x = 5."), "eq(x, 5f)");
  EXPECT_EQ(parsed("x = 1e3"), "eq(x, 1000f)");
  EXPECT_EQ(parsed("x = 1E-3"), "eq(x, 0.001f)");
  EXPECT_EQ(parsed("x = 2.5e+2"), "eq(x, 250f)");
  EXPECT_EQ(parsed("x = -1.5E2"), "eq(x, -150f)");
  EXPECT_EQ(parsed("x = 1e308"), "eq(x, 1e+308f)");
  EXPECT_EQ(parsed("x = 9223372036854775808.0"), "eq(x, 9223372036854775808f)");
}

TEST(FilterStringTest, Whitespace) {
  EXPECT_EQ(parsed(" \t\n a\r\n=\f1\v "), "eq(a, 1)");
  EXPECT_EQ(parsed("x IN('a',1)AND(y EXISTS)"), "and(in(x, ['a', 1]), exists(y, true))");
}

// ---- Errors: position and what was expected ----------------------------------------------------

TEST(FilterStringTest, StructureErrors) {
  EXPECT_EQ(error_of(""), "position 1: expected a field name or '(', found end of filter");
  EXPECT_EQ(error_of("   "), "position 4: expected a field name or '(', found end of filter");
  EXPECT_EQ(error_of("year >="),
            "position 8: expected a value ('string', number, true, false or null), found end of "
            "filter");
  EXPECT_EQ(error_of("x = 1 y = 2"), "position 7: expected AND, OR or end of filter, found 'y'");
  EXPECT_EQ(error_of("x = 1)"), "position 6: expected AND, OR or end of filter, found ')'");
  EXPECT_EQ(error_of("(x = 1"),
            "position 7: expected AND, OR or ')' to close the '(' at position 1, found end of "
            "filter");
  EXPECT_EQ(error_of("x = 1 AND"),
            "position 10: expected a field name or '(', found end of filter");
  EXPECT_EQ(error_of("x = 1 OR OR y = 1"),
            "position 10: expected a field name or '(' (a field "
            "named like a keyword takes double quotes), found 'OR'");
  EXPECT_EQ(error_of("NOT"), "position 4: expected a field name or '(', found end of filter");
  EXPECT_EQ(error_of("()"), "position 2: expected a field name or '(', found ')'");
  EXPECT_EQ(error_of("AND = 1"),
            "position 1: expected a field name or '(' (a field named like a keyword takes double "
            "quotes), found 'AND'");
  EXPECT_EQ(error_of("'x' = 1"), "position 1: expected a field name or '(', found string 'x'");
  EXPECT_EQ(error_of("5 = x"), "position 1: expected a field name or '(', found number 5");
  EXPECT_EQ(error_of("x 5"),
            "position 3: expected an operator (=, !=, <, <=, >, >=, IN, NOT IN, CONTAINS, EXISTS) "
            "after field 'x', found number 5");
  EXPECT_EQ(error_of("x"),
            "position 2: expected an operator (=, !=, <, <=, >, >=, IN, NOT IN, CONTAINS, EXISTS) "
            "after field 'x', found end of filter");
  EXPECT_EQ(error_of("x NOT = 1"),
            "position 7: expected IN, CONTAINS or EXISTS after NOT, found '='");
  EXPECT_EQ(error_of("x == 1"),
            "position 4: expected a value ('string', number, true, false or null), found '='");
}

TEST(FilterStringTest, ListErrors) {
  EXPECT_EQ(error_of("tag IN ('a', 'b'"),
            "position 17: expected ',' or ')' in the IN list, found end of filter");
  EXPECT_EQ(error_of("tag IN ('a' 'b')"),
            "position 13: expected ',' or ')' in the IN list, found string 'b'");
  EXPECT_EQ(error_of("tag IN 'a'"), "position 8: expected '(' after IN, found string 'a'");
  EXPECT_EQ(error_of("tag IN ()"),
            "position 9: expected a value ('string', number, true, false or null), found ')'");
  EXPECT_EQ(error_of("tag IN ('a',)"),
            "position 13: expected a value ('string', number, true, false or null), found ')'");
  EXPECT_EQ(error_of("tag NOT IN"), "position 11: expected '(' after IN, found end of filter");
}

TEST(FilterStringTest, ValueErrors) {
  EXPECT_EQ(error_of("x = news"),
            "position 5: expected a value (strings take single quotes), found 'news'");
  EXPECT_EQ(error_of("x = \"news\""),
            "position 5: expected a value (double quotes name a field; strings take single "
            "quotes), found field \"news\"");
  EXPECT_EQ(error_of("x CONTAINS 5"),
            "position 12: expected a 'string' after CONTAINS, found number 5");
  EXPECT_EQ(error_of("x NOT CONTAINS x"),
            "position 16: expected a 'string' after CONTAINS, found 'x'");
}

TEST(FilterStringTest, TokenErrors) {
  EXPECT_EQ(error_of("x = 'abc"), "position 5: unterminated string (no closing ')");
  EXPECT_EQ(error_of("x = 'it''s"), "position 5: unterminated string (no closing ')");
  EXPECT_EQ(error_of("\"abc = 1"), "position 1: unterminated field name (no closing \")");
  EXPECT_EQ(error_of("\"\" = 1"), "position 1: empty field name \"\"");
  EXPECT_EQ(error_of("x # 1"), "position 3: unexpected character '#'");
  EXPECT_EQ(error_of("x ! 1"), "position 3: unexpected character '!'");
  EXPECT_EQ(error_of("x = -"), "position 5: unexpected character '-'");
  EXPECT_EQ(error_of("x = 1 \x01"), "position 7: unexpected character byte 0x01");
  EXPECT_EQ(error_of(std::string_view("x = \0", 5)), "position 5: unexpected character byte 0x00");
  EXPECT_EQ(error_of("x = 1 \xff"), "position 7: unexpected character byte 0xFF");
}

TEST(FilterStringTest, NumberErrors) {
  EXPECT_EQ(error_of("x = 9223372036854775808"),
            "position 5: integer 9223372036854775808 is out of the range of a 64-bit integer");
  EXPECT_EQ(error_of("x = -9223372036854775809"),
            "position 5: integer -9223372036854775809 is out of the range of a 64-bit integer");
  EXPECT_EQ(error_of("x = 99999999999999999999"),
            "position 5: integer 99999999999999999999 is out of the range of a 64-bit integer");
  EXPECT_EQ(error_of("x = 1e400"), "position 5: float 1e400 is out of the range of a 64-bit float");
  EXPECT_EQ(error_of("x = -1e400"),
            "position 5: float -1e400 is out of the range of a 64-bit float");
  EXPECT_EQ(error_of("x = 1e-400"),
            "position 5: float 1e-400 is out of the range of a 64-bit float");
  EXPECT_EQ(error_of("x = 12abc"), "position 5: malformed number 12abc");
  EXPECT_EQ(error_of("x = 1e"), "position 5: malformed number 1e");
  EXPECT_EQ(error_of("x = 1e+"), "position 5: malformed number 1e+");
  EXPECT_EQ(error_of("x = 1.2.3"), "position 5: malformed number 1.2.3");
  EXPECT_EQ(error_of("x = 2020-01-01"), "position 5: malformed number 2020-01-01");
  EXPECT_EQ(error_of("x = -."), "position 5: malformed number -.");
  EXPECT_EQ(error_of("x = 0x1F"), "position 5: malformed number 0x1F");
}

TEST(FilterStringTest, PositionsCountCharactersNotBytes) {
  // 'é' is two bytes of UTF-8 but one character: ')' is character 19, byte 20.
  EXPECT_EQ(error_of("name = 'café' AND )"),
            "position 19: expected a field name or '(', found ')'");
  EXPECT_EQ(error_of("\"日本\" = 1 x"),
            "position 10: expected AND, OR or end of filter, found 'x'");
}

// ---- Limits ------------------------------------------------------------------------------------

std::string repeated(std::string_view piece, std::size_t times) {
  std::string out;
  for (std::size_t i = 0; i < times; ++i) out += piece;
  return out;
}

TEST(FilterStringTest, DepthLimit) {
  const std::size_t limit = kMaxFilterDepth;
  EXPECT_EQ(parsed(repeated("(", limit) + "x = 1" + repeated(")", limit)), "eq(x, 1)");
  EXPECT_EQ(error_of(repeated("(", limit + 1) + "x = 1" + repeated(")", limit + 1)),
            "position 65: filter nested deeper than 64 levels");
  EXPECT_TRUE(parse_filter_string(repeated("NOT ", limit) + "x = 1").is_ok());
  EXPECT_EQ(error_of(repeated("NOT ", limit + 1) + "x = 1"),
            "position 257: filter nested deeper than 64 levels");
  // Each "NOT (" is two levels: the 33rd NOT is the 65th level.
  EXPECT_EQ(error_of(repeated("NOT (", limit)),
            "position 161: filter nested deeper than 64 levels");
  // Deep input fails fast, whatever its length, without exhausting the stack.
  EXPECT_EQ(error_of(repeated("(", 60000)), "position 65: filter nested deeper than 64 levels");
  EXPECT_EQ(error_of(repeated("not ", 16000)), "position 257: filter nested deeper than 64 levels");
}

TEST(FilterStringTest, LengthLimit) {
  const std::string longest = "x = '" + std::string(kMaxFilterStringBytes - 6, 'a') + "'";
  ASSERT_EQ(longest.size(), kMaxFilterStringBytes);
  EXPECT_TRUE(parse_filter_string(longest).is_ok());
  EXPECT_EQ(error_of(longest + " "), "filter string is 65537 bytes, more than the 65536 allowed");
  // A long flat chain is parsed iteratively into one node.
  std::string chain = "x = 1";
  while (chain.size() + 9 < kMaxFilterStringBytes) chain += " OR x = 1";
  Result<FilterExpr> result = parse_filter_string(chain);
  ASSERT_TRUE(result.is_ok()) << result.status().message();
  EXPECT_EQ(result.value().op, FilterOp::kOr);
  EXPECT_EQ(result.value().children.size(), (chain.size() + 4) / 9);
}

// ---- Fuzz: any input parses or fails with kFilterError at a position inside it -----------------

// Depth of a tree, and a check that it is well formed.
int checked_depth(const FilterExpr& filter) {
  int deepest = 0;
  for (const FilterExpr& child : filter.children) deepest = std::max(deepest, checked_depth(child));
  switch (filter.op) {
    case FilterOp::kAnd:
    case FilterOp::kOr:
      EXPECT_GE(filter.children.size(), 2u);
      break;
    case FilterOp::kNot:
      EXPECT_EQ(filter.children.size(), 1u);
      break;
    default:
      EXPECT_FALSE(filter.field.empty());
      EXPECT_TRUE(filter.children.empty());
  }
  return deepest + 1;
}

// Parses `text`; a failure must be kFilterError at a position in [1, characters + 1].
// Returns whether it parsed.
bool parse_checked(const std::string& text) {
  Result<FilterExpr> result = parse_filter_string(text);
  if (result.is_ok()) {
    EXPECT_LE(checked_depth(result.value()), 3 * kMaxFilterDepth) << text;
    const Metadata metadata = {{"x", std::int64_t{1}}, {"y", std::string("s")}};
    static_cast<void>(matches(result.value(), metadata));
    return true;
  }
  const std::string message = result.status().message();
  EXPECT_EQ(result.status().code(), StatusCode::kFilterError) << text;
  std::size_t characters = 0;
  for (const char c : text) characters += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  const std::string_view prefix = "position ";
  EXPECT_EQ(message.substr(0, prefix.size()), prefix) << message;
  const std::size_t position = std::stoul(message.substr(prefix.size()));
  EXPECT_GE(position, 1u) << message;
  EXPECT_LE(position, characters + 1) << text << " -> " << message;
  return false;
}

TEST(FilterStringTest, RandomBytesNeverCrash) {
  std::mt19937_64 random(7);
  constexpr std::string_view kLikely = "xy( )',\"=!<>-.e0123456789";
  for (int i = 0; i < 10000; ++i) {
    std::string text(random() % 48, '\0');
    for (char& c : text) {
      c = random() % 2 == 0 ? kLikely[random() % kLikely.size()] : static_cast<char>(random());
    }
    parse_checked(text);
  }
}

TEST(FilterStringTest, RandomTokenSoupsNeverCrash) {
  constexpr std::array<std::string_view, 36> kTokens = {
      "x",  "y",      "tags",     "\"a b\"", "\"q\"\"\"", "AND",   "or",    "NOT",     "not",
      "IN", "in",     "CONTAINS", "EXISTS",  "(",         "(",     ")",     ")",       ",",
      "=",  "!=",     "<",        "<=",      ">",         ">=",    "'s'",   "'it''s'", "''",
      "1",  "-2.5e3", ".5",       "true",    "null",      "1e400", "'open", "\"open",  "#"};
  std::mt19937_64 random(11);
  int parsed_count = 0;
  for (int i = 0; i < 10000; ++i) {
    std::string text;
    const std::size_t length = 1 + random() % 16;
    for (std::size_t t = 0; t < length; ++t) {
      text += kTokens[random() % kTokens.size()];
      if (random() % 4 != 0) text += ' ';
    }
    parsed_count += parse_checked(text);
  }
  // Mostly malformed, but some parse: both paths are exercised.
  EXPECT_GT(parsed_count, 10);
}

}  // namespace
}  // namespace omendb
