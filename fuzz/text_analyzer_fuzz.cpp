// Fuzz target: the full-text analyzer (text/analyzer.h) on arbitrary bytes.
//
// The input is tokenized by a plain analyzer, one with English stop words and one with English
// stop words and stemming. Checks: tokenize() fails exactly when the input is not valid UTF-8,
// with kInvalidArgument and no terms; every term is valid UTF-8 of 1 to kMaxTermBytes bytes;
// a plain term tokenized again is itself (normalisation and splitting are idempotent on their
// output) and plain terms joined by spaces tokenize to the same terms; stop words remove
// exactly the plain terms that are stop words; stemming drops no more than that.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "support/check.h"
#include "text/analyzer.h"

namespace omendb::fuzz {
namespace {

// Whether `bytes` is valid UTF-8: shortest forms, no surrogates, nothing above U+10FFFF.
bool valid_utf8(std::string_view bytes) {
  std::size_t i = 0;
  while (i < bytes.size()) {
    const auto lead = static_cast<unsigned char>(bytes[i]);
    std::size_t length = 0;
    std::uint32_t code_point = 0;
    if (lead < 0x80) {
      length = 1;
      code_point = lead;
    } else if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
      code_point = lead & 0x1F;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      code_point = lead & 0x0F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      code_point = lead & 0x07;
    } else {
      return false;
    }
    if (bytes.size() - i < length) return false;
    for (std::size_t j = 1; j < length; ++j) {
      const auto next = static_cast<unsigned char>(bytes[i + j]);
      if ((next & 0xC0) != 0x80) return false;
      code_point = (code_point << 6) | (next & 0x3F);
    }
    const std::uint32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code_point < smallest[length] || code_point > 0x10FFFF ||
        (code_point >= 0xD800 && code_point <= 0xDFFF)) {
      return false;
    }
    i += length;
  }
  return true;
}

enum class Kind { kPlain, kStopWords, kEnglish };

// No options; English stop words; English stop words and stemming.
const text::Analyzer& analyzer(Kind kind) {
  static const text::Analyzer plain = text::Analyzer::create({}).value();
  static const text::Analyzer stop =
      text::Analyzer::create({"", text::english_stop_words()}).value();
  static const text::Analyzer english =
      text::Analyzer::create({"english", text::english_stop_words()}).value();
  return kind == Kind::kPlain ? plain : kind == Kind::kStopWords ? stop : english;
}

// Tokenizes `input` with one analyzer and checks the terms; returns them.
std::vector<std::string> check_tokens(std::string_view input, Kind kind) {
  std::vector<std::string> terms;
  const Status status = analyzer(kind).tokenize(input, terms);
  require(status.is_ok() == valid_utf8(input), "tokenize() disagrees on UTF-8 validity");
  if (!status.is_ok()) {
    require(status.code() == StatusCode::kInvalidArgument, "bad UTF-8 is not kInvalidArgument");
    require(terms.empty(), "a failed tokenize() left terms");
    return terms;
  }
  for (const std::string& term : terms) {
    require(!term.empty() && term.size() <= text::kMaxTermBytes, "term length out of range");
    require(valid_utf8(term), "a term is not valid UTF-8");
  }
  return terms;
}

// Without stemming, tokenizing a term gives the term, and tokenizing the terms joined by spaces
// gives the terms.
void check_stable(const std::vector<std::string>& terms) {
  std::string joined;
  std::vector<std::string> again;
  for (const std::string& term : terms) {
    require(analyzer(Kind::kPlain).tokenize(term, again).is_ok(), "a term does not tokenize");
    require(again.size() == 1 && again[0] == term, "a term does not tokenize to itself");
    joined += term;
    joined += ' ';
  }
  require(analyzer(Kind::kPlain).tokenize(joined, again).is_ok() && again == terms,
          "joined terms tokenize to other terms");
}

}  // namespace
}  // namespace omendb::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace omendb::fuzz;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::vector<std::string> plain = check_tokens(input, Kind::kPlain);
  check_stable(plain);
  // Stop words remove exactly the plain terms that are stop words (stop words are compared
  // before stemming, so a stem may still equal one).
  std::vector<std::string> expected;
  const std::vector<std::string> stop_words = omendb::text::english_stop_words();
  for (const std::string& term : plain) {
    if (std::find(stop_words.begin(), stop_words.end(), term) == stop_words.end()) {
      expected.push_back(term);
    }
  }
  require(check_tokens(input, Kind::kStopWords) == expected, "stop words removed otherwise");
  require(check_tokens(input, Kind::kEnglish).size() <= expected.size(), "stemming added terms");
  return 0;
}
