#include "filter/filter_string.h"

#include <charconv>
#include <cstdint>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "filter/evaluate.h"

namespace omendb {
namespace {

enum class TokenKind {
  kEnd,
  kWord,         // identifier or keyword
  kQuotedField,  // "any key"
  kString,       // 'text'
  kInt,          // -?digits
  kFloat,        // a number with a fraction or an exponent
  kLeftParen,    // (
  kRightParen,   // )
  kComma,        // ,
  kComparison,   // = != < <= > >=
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::size_t offset = 0;               // byte offset of the first character in the input
  std::string_view text;                // the token as written
  std::string unquoted;                 // kString and kQuotedField: the contents, escapes resolved
  std::int64_t integer = 0;             // kInt
  double number = 0;                    // kFloat
  FilterOp comparison = FilterOp::kEq;  // kComparison
};

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_word_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool is_word_char(char c) { return is_word_start(c) || is_digit(c) || c == '.' || c == '-'; }

// Case-insensitive equality of a word with an upper-case ASCII keyword.
bool is_keyword(std::string_view word, std::string_view keyword) {
  if (word.size() != keyword.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i) {
    char c = word[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c != keyword[i]) return false;
  }
  return true;
}

bool is_reserved(std::string_view word) {
  for (const std::string_view keyword :
       {"AND", "OR", "NOT", "IN", "CONTAINS", "EXISTS", "TRUE", "FALSE", "NULL"}) {
    if (is_keyword(word, keyword)) return true;
  }
  return false;
}

// `text` cut to 40 bytes, for messages.
std::string shortened(std::string_view text) {
  constexpr std::size_t kShown = 40;
  return text.size() > kShown ? std::string(text.substr(0, kShown)) + "..." : std::string(text);
}

// How a token reads in "found ..." messages.
std::string describe(const Token& token) {
  std::string out;
  switch (token.kind) {
    case TokenKind::kEnd:
      return "end of filter";
    case TokenKind::kString:
      out = "string ";
      break;
    case TokenKind::kInt:
    case TokenKind::kFloat:
      out = "number ";
      break;
    case TokenKind::kQuotedField:
      out = "field ";
      break;
    default:
      return std::string("'").append(shortened(token.text)).append("'");
  }
  return out.append(shortened(token.text));
}

// A character as it reads in messages: 'c' when printable ASCII, else its byte value.
std::string describe_char(char c) {
  if (c >= 0x20 && c < 0x7f) return std::string("'") + c + "'";
  constexpr char kHex[] = "0123456789ABCDEF";
  const auto byte = static_cast<unsigned char>(c);
  return std::string("byte 0x") + kHex[byte >> 4] + kHex[byte & 0xf];
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Result<FilterExpr> parse() {
    if (Status status = advance(); !status.is_ok()) return status;
    Result<FilterExpr> filter = parse_or(0);
    if (!filter.is_ok()) return filter;
    if (token_.kind != TokenKind::kEnd) return expected("AND, OR or end of filter");
    return filter;
  }

 private:
  // "position <p>: <what>", p being the position of byte `offset`.
  Status error_at(std::size_t offset, const std::string& what) const {
    return {StatusCode::kFilterError,
            "position " + std::to_string(position_of(offset)) + ": " + what};
  }
  // The 1-based code-point position of byte `offset`: bytes that do not continue a UTF-8 sequence.
  std::size_t position_of(std::size_t offset) const {
    std::size_t position = 1;
    for (std::size_t i = 0; i < offset; ++i) {
      position += (static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80;
    }
    return position;
  }
  Status expected(const std::string& what) const {
    return error_at(token_.offset, "expected " + what + ", found " + describe(token_));
  }

  bool at_keyword(std::string_view keyword) const {
    return token_.kind == TokenKind::kWord && is_keyword(token_.text, keyword);
  }

  // ---- Tokenizer: reads the token at pos_ into token_ ----------------------------------------

  Status advance() {
    while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
    token_ = Token{};
    token_.offset = pos_;
    if (pos_ == text_.size()) return Status::ok();
    const char c = text_[pos_];
    if (is_word_start(c)) {
      std::size_t end = pos_ + 1;
      while (end < text_.size() && is_word_char(text_[end])) ++end;
      return finish(TokenKind::kWord, end);
    }
    if (is_digit(c) || ((c == '-' || c == '.') && pos_ + 1 < text_.size() &&
                        (is_digit(text_[pos_ + 1]) || text_[pos_ + 1] == '.'))) {
      return read_number();
    }
    if (c == '\'') return read_quoted('\'', TokenKind::kString);
    if (c == '"') return read_quoted('"', TokenKind::kQuotedField);
    if (c == '(') return finish(TokenKind::kLeftParen, pos_ + 1);
    if (c == ')') return finish(TokenKind::kRightParen, pos_ + 1);
    if (c == ',') return finish(TokenKind::kComma, pos_ + 1);
    const bool equals_follows = pos_ + 1 < text_.size() && text_[pos_ + 1] == '=';
    if (c == '=') return finish_comparison(FilterOp::kEq, 1);
    if (c == '!' && equals_follows) return finish_comparison(FilterOp::kNe, 2);
    if (c == '<')
      return finish_comparison(equals_follows ? FilterOp::kLte : FilterOp::kLt,
                               equals_follows ? 2 : 1);
    if (c == '>')
      return finish_comparison(equals_follows ? FilterOp::kGte : FilterOp::kGt,
                               equals_follows ? 2 : 1);
    return error_at(pos_, "unexpected character " + describe_char(c));
  }

  Status finish(TokenKind kind, std::size_t end) {
    token_.kind = kind;
    token_.text = text_.substr(pos_, end - pos_);
    pos_ = end;
    return Status::ok();
  }
  Status finish_comparison(FilterOp op, std::size_t length) {
    token_.comparison = op;
    return finish(TokenKind::kComparison, pos_ + length);
  }

  // '...' or "...", a doubled quote standing for one.
  Status read_quoted(char quote, TokenKind kind) {
    std::size_t i = pos_ + 1;
    while (true) {
      const std::size_t close = text_.find(quote, i);
      if (close == std::string_view::npos) {
        return error_at(pos_, kind == TokenKind::kString
                                  ? "unterminated string (no closing ')"
                                  : "unterminated field name (no closing \")");
      }
      token_.unquoted.append(text_.substr(i, close - i));
      if (close + 1 < text_.size() && text_[close + 1] == quote) {
        token_.unquoted.push_back(quote);
        i = close + 2;
        continue;
      }
      if (kind == TokenKind::kQuotedField && token_.unquoted.empty()) {
        return error_at(pos_, "empty field name \"\"");
      }
      return finish(kind, close + 1);
    }
  }

  // -?(digits [. digits*] | . digits) [(e|E) [+|-] digits]
  Status read_number() {
    std::size_t end = pos_;
    if (text_[end] == '-') ++end;
    auto skip_digits = [&] {
      const std::size_t start = end;
      while (end < text_.size() && is_digit(text_[end])) ++end;
      return end > start;
    };
    bool has_digits = skip_digits();
    bool is_float = false;
    if (end < text_.size() && text_[end] == '.') {
      ++end;
      is_float = true;
      has_digits = skip_digits() || has_digits;
    }
    bool well_formed = has_digits;
    if (well_formed && end < text_.size() && (text_[end] == 'e' || text_[end] == 'E')) {
      ++end;
      is_float = true;
      if (end < text_.size() && (text_[end] == '+' || text_[end] == '-')) ++end;
      well_formed = skip_digits();
    }
    if (!well_formed || (end < text_.size() && is_word_char(text_[end]))) {
      while (end < text_.size() && (is_word_char(text_[end]) || text_[end] == '+')) ++end;
      return error_at(pos_, "malformed number " + shortened(text_.substr(pos_, end - pos_)));
    }
    const std::string_view digits = text_.substr(pos_, end - pos_);
    const char* first = digits.data();
    const char* last = first + digits.size();
    // std::from_chars takes no leading '+', which the scan above never lets through.
    const std::from_chars_result parsed = is_float ? std::from_chars(first, last, token_.number)
                                                   : std::from_chars(first, last, token_.integer);
    if (parsed.ec != std::errc() || parsed.ptr != last) {
      return error_at(pos_, (is_float ? "float " : "integer ") + shortened(digits) +
                                (is_float ? " is out of the range of a 64-bit float"
                                          : " is out of the range of a 64-bit integer"));
    }
    return finish(is_float ? TokenKind::kFloat : TokenKind::kInt, end);
  }

  // ---- Parser ----------------------------------------------------------------------------------

  Status check_depth(int depth) const {
    if (depth < kMaxFilterDepth) return Status::ok();
    return error_at(token_.offset,
                    "filter nested deeper than " + std::to_string(kMaxFilterDepth) + " levels");
  }

  // Parses `operand (KEYWORD operand)*` into one node of `op`, or the operand alone.
  template <class ParseOperand>
  Result<FilterExpr> parse_chain(std::string_view keyword, FilterOp op,
                                 ParseOperand parse_operand) {
    Result<FilterExpr> first = parse_operand();
    if (!first.is_ok() || !at_keyword(keyword)) return first;
    FilterExpr chain;
    chain.op = op;
    chain.children.push_back(std::move(first).value());
    while (at_keyword(keyword)) {
      if (Status status = advance(); !status.is_ok()) return status;
      Result<FilterExpr> next = parse_operand();
      if (!next.is_ok()) return next;
      chain.children.push_back(std::move(next).value());
    }
    return chain;
  }

  Result<FilterExpr> parse_or(int depth) {
    return parse_chain("OR", FilterOp::kOr, [&] { return parse_and(depth); });
  }

  Result<FilterExpr> parse_and(int depth) {
    return parse_chain("AND", FilterOp::kAnd, [&] { return parse_not(depth); });
  }

  Result<FilterExpr> parse_not(int depth) {
    if (!at_keyword("NOT")) return parse_primary(depth);
    if (Status status = check_depth(depth); !status.is_ok()) return status;
    if (Status status = advance(); !status.is_ok()) return status;
    Result<FilterExpr> child = parse_not(depth + 1);
    if (!child.is_ok()) return child;
    return negation(std::move(child).value());
  }

  static FilterExpr negation(FilterExpr child) {
    FilterExpr node;
    node.op = FilterOp::kNot;
    node.children.push_back(std::move(child));
    return node;
  }

  Result<FilterExpr> parse_primary(int depth) {
    if (token_.kind == TokenKind::kLeftParen) {
      if (Status status = check_depth(depth); !status.is_ok()) return status;
      const std::size_t open = token_.offset;
      if (Status status = advance(); !status.is_ok()) return status;
      Result<FilterExpr> inner = parse_or(depth + 1);
      if (!inner.is_ok()) return inner;
      if (token_.kind != TokenKind::kRightParen) {
        return expected("AND, OR or ')' to close the '(' at position " +
                        std::to_string(position_of(open)));
      }
      if (Status status = advance(); !status.is_ok()) return status;
      return inner;
    }
    FilterExpr node;
    if (token_.kind == TokenKind::kQuotedField) {
      node.field = std::move(token_.unquoted);
    } else if (token_.kind == TokenKind::kWord && !is_reserved(token_.text)) {
      node.field = std::string(token_.text);
    } else if (token_.kind == TokenKind::kWord) {
      return expected("a field name or '(' (a field named like a keyword takes double quotes)");
    } else {
      return expected("a field name or '('");
    }
    if (Status status = advance(); !status.is_ok()) return status;
    return parse_condition(std::move(node));
  }

  // What follows a field: a comparison, [NOT] IN, [NOT] CONTAINS or [NOT] EXISTS.
  Result<FilterExpr> parse_condition(FilterExpr node) {
    if (token_.kind == TokenKind::kComparison) {
      node.op = token_.comparison;
      if (Status status = advance(); !status.is_ok()) return status;
      if (Status status = parse_literal(node.operand); !status.is_ok()) return status;
      return node;
    }
    const bool negated = at_keyword("NOT");
    if (negated) {
      if (Status status = advance(); !status.is_ok()) return status;
    }
    if (at_keyword("IN")) {
      node.op = negated ? FilterOp::kNin : FilterOp::kIn;
      if (Status status = advance(); !status.is_ok()) return status;
      if (Status status = parse_list(node.operands); !status.is_ok()) return status;
      return node;
    }
    if (at_keyword("EXISTS")) {
      node.op = FilterOp::kExists;
      node.exists = !negated;
      if (Status status = advance(); !status.is_ok()) return status;
      return node;
    }
    if (at_keyword("CONTAINS")) {
      node.op = FilterOp::kContains;
      if (Status status = advance(); !status.is_ok()) return status;
      if (token_.kind != TokenKind::kString) return expected("a 'string' after CONTAINS");
      node.operand = std::move(token_.unquoted);
      if (Status status = advance(); !status.is_ok()) return status;
      if (negated) return negation(std::move(node));
      return node;
    }
    if (negated) return expected("IN, CONTAINS or EXISTS after NOT");
    return expected(
        "an operator (=, !=, <, <=, >, >=, IN, NOT IN, CONTAINS, EXISTS) after field '" +
        shortened(node.field) + "'");
  }

  // '(' literal (',' literal)* ')'
  Status parse_list(std::vector<Value>& out) {
    if (token_.kind != TokenKind::kLeftParen) return expected("'(' after IN");
    do {
      if (Status status = advance(); !status.is_ok()) return status;
      out.emplace_back();
      if (Status status = parse_literal(out.back()); !status.is_ok()) return status;
    } while (token_.kind == TokenKind::kComma);
    if (token_.kind != TokenKind::kRightParen) return expected("',' or ')' in the IN list");
    return advance();
  }

  Status parse_literal(Value& out) {
    switch (token_.kind) {
      case TokenKind::kString:
        out = std::move(token_.unquoted);
        return advance();
      case TokenKind::kInt:
        out = token_.integer;
        return advance();
      case TokenKind::kFloat:
        out = token_.number;
        return advance();
      case TokenKind::kWord:
        if (at_keyword("TRUE") || at_keyword("FALSE")) {
          out = at_keyword("TRUE");
          return advance();
        }
        if (at_keyword("NULL")) {
          out = std::monostate{};
          return advance();
        }
        return expected("a value (strings take single quotes)");
      case TokenKind::kQuotedField:
        return expected("a value (double quotes name a field; strings take single quotes)");
      default:
        return expected("a value ('string', number, true, false or null)");
    }
  }

  std::string_view text_;
  std::size_t pos_ = 0;  // byte offset just past token_
  Token token_;
};

}  // namespace

Result<FilterExpr> parse_filter_string(std::string_view text) {
  if (text.size() > kMaxFilterStringBytes) {
    return Status(StatusCode::kFilterError, "filter string is " + std::to_string(text.size()) +
                                                " bytes, more than the " +
                                                std::to_string(kMaxFilterStringBytes) + " allowed");
  }
  return Parser(text).parse();
}

}  // namespace omendb
