// The analyzer: text to the terms that full-text search indexes and queries. The same analyzer
// (same options) must analyze a collection's documents and its queries.
//
// Rules, in order:
// 1. The input must be valid UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF);
//    otherwise tokenize() fails with kInvalidArgument naming the byte offset. NUL is an ordinary
//    (separating) character.
// 2. Normalisation: Unicode NFKC with full case folding (utf8proc: STABLE | COMPAT | COMPOSE |
//    CASEFOLD). So "Straße" folds to "strasse", "ﬁ" to "fi", full-width "ＡＢＣ" to "abc", "²" to
//    "2" and "İ" to "i̇" (i + U+0307 COMBINING DOT ABOVE: default, not Turkish, folding). Accents
//    are kept: "café" and "cafe" are different terms.
// 3. Tokens: a token is a maximal run of letters (categories L*), marks (M*), numbers (N*) and
//    connector punctuation (Pc, e.g. '_'). Everything else separates tokens, apostrophes and
//    periods included: "don't" is "don" and "t", "3.14" is "3" and "14", "e-mail" is "e" and
//    "mail", "snake_case" is one token.
// 4. Scripts written without spaces: each code point of the CJK ideograph blocks (Unified,
//    Extensions A-H, Compatibility), Hiragana, Katakana (and its phonetic extensions) and Thai,
//    with the marks (M*) that directly follow it, is a token of its own. There is no dictionary
//    segmentation: "東京都" gives "東", "京", "都". Hangul is spaced and follows rule 3.
// 5. A token longer than kMaxTermBytes (255) bytes after normalisation is dropped.
// 6. Stop words: a token equal to a stop word (normalised by rule 2 too) is dropped.
// 7. Stemming: with a stemmer language, each remaining token is replaced by its Snowball stem
//    ("running" -> "run" in English); a stem that is empty or longer than kMaxTermBytes is
//    dropped.
//
// Thread safety: an Analyzer is immutable once created; any number of threads may call
// tokenize() at once. Snowball stemmers are not thread-safe, so the analyzer keeps a pool of
// them: a call takes one (creating it when all are in use) and puts it back when done, two
// uncontended mutex operations per call. The pool holds as many stemmers as threads ever
// tokenized at the same time.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "omendb/status.h"

namespace omendb::text {

// Terms are at most this many bytes of UTF-8; longer tokens are dropped.
inline constexpr std::size_t kMaxTermBytes = 255;

struct AnalyzerOptions {
  // "" for no stemming, else a Snowball algorithm name as available_stemmers() lists it
  // ("english", "french", "german", "porter", ...).
  std::string stemmer_language;
  // Tokens dropped after normalisation and before stemming; each is normalised like the text,
  // so "The" and "the" are the same stop word. Empty: none.
  std::vector<std::string> stop_words;

  // kInvalidArgument for an unknown stemmer language (the message lists the known ones) or a
  // stop word that is not valid UTF-8. Cost: O(size of the options).
  Status validate() const;
};

// The Snowball algorithm names this build provides, sorted.
std::vector<std::string> available_stemmers();

// A classic short English stop-word list (33 words: "a", "an", "and", ..., "with").
std::vector<std::string> english_stop_words();

class Analyzer {
 public:
  // The analyzer of `options`: kInvalidArgument as AnalyzerOptions::validate() says. Cost:
  // normalises the stop words; creates one stemmer.
  static Result<Analyzer> create(const AnalyzerOptions& options);

  Analyzer(Analyzer&&) noexcept;
  Analyzer& operator=(Analyzer&&) noexcept;
  ~Analyzer();

  // Replaces `terms` with the terms of `utf8` in text order, repeats kept, by the rules at the
  // top of this file. kInvalidArgument (terms left empty) when `utf8` is not valid UTF-8.
  // Cost: O(bytes): one normalisation pass (one allocation of about the text's size), one
  // scan, one std::string per term, one stemmer call per term when stemming.
  Status tokenize(std::string_view utf8, std::vector<std::string>& terms) const;

  const AnalyzerOptions& options() const noexcept;

 private:
  struct State;
  explicit Analyzer(std::unique_ptr<State> state);

  std::unique_ptr<State> state_;
};

}  // namespace omendb::text
