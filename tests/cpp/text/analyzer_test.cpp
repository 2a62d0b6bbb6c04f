// The analyzer's rules (text/analyzer.h): normalisation and case folding, token boundaries,
// scripts without spaces, long tokens, invalid UTF-8, stop words, stemming, options, and
// concurrent use of one analyzer.
#include "text/analyzer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

namespace omendb::text {
namespace {

using Terms = std::vector<std::string>;

Analyzer make(AnalyzerOptions options = {}) {
  Result<Analyzer> analyzer = Analyzer::create(options);
  EXPECT_TRUE(analyzer.is_ok()) << analyzer.status().message();
  return std::move(analyzer).value();
}

Terms tokens(const Analyzer& analyzer, std::string_view text) {
  Terms terms;
  const Status status = analyzer.tokenize(text, terms);
  EXPECT_TRUE(status.is_ok()) << status.message();
  return terms;
}

TEST(AnalyzerTest, SplitsAsciiOnPunctuationAndFoldsCase) {
  const Analyzer plain = make();
  EXPECT_EQ(tokens(plain, "The Quick, brown FOX!"), (Terms{"the", "quick", "brown", "fox"}));
  EXPECT_EQ(tokens(plain, "don't e-mail 3.14 snake_case __x__ x2y"),
            (Terms{"don", "t", "e", "mail", "3", "14", "snake_case", "__x__", "x2y"}));
  EXPECT_EQ(tokens(plain, ""), Terms{});
  EXPECT_EQ(tokens(plain, "  \t\n ... "), Terms{});
  EXPECT_EQ(tokens(plain, std::string_view("a\0b", 3)), (Terms{"a", "b"}));
}

TEST(AnalyzerTest, ApostropheU2019Splits) {
  EXPECT_EQ(tokens(make(), "it\u2019s"), (Terms{"it", "s"}));
}

TEST(AnalyzerTest, KeepsAccentsAndNormalisesCompatibilityForms) {
  const Analyzer plain = make();
  // Precomposed and decomposed é are one term; accents are not stripped.
  EXPECT_EQ(tokens(plain, "Caf\u00e9 cafe\u0301 CAF\u00c9 cafe"),
            (Terms{"caf\u00e9", "caf\u00e9", "caf\u00e9", "cafe"}));
  // Ligature, full-width letters, superscript digit.
  EXPECT_EQ(tokens(plain, "\ufb01le \uff21\uff22\uff23 x\u00b2"), (Terms{"file", "abc", "x2"}));
}

TEST(AnalyzerTest, FoldsGermanSharpS) {
  const Analyzer plain = make();
  EXPECT_EQ(tokens(plain, "Stra\u00dfe STRASSE strasse"), (Terms{"strasse", "strasse", "strasse"}));
  EXPECT_EQ(tokens(plain, "\u1e9e"), Terms{"ss"});  // capital sharp s
}

TEST(AnalyzerTest, FoldsTurkishIWithDefaultNotTurkishRules) {
  const Analyzer plain = make();
  // Capital dotted I folds to i + COMBINING DOT ABOVE; dotless i stays; I folds to i.
  EXPECT_EQ(tokens(plain, "\u0130stanbul"), Terms{"i\u0307stanbul"});
  EXPECT_EQ(tokens(plain, "\u0131"), Terms{"\u0131"});
  EXPECT_EQ(tokens(plain, "ISTANBUL"), Terms{"istanbul"});
}

TEST(AnalyzerTest, SplitsUnspacedScriptsPerCharacter) {
  const Analyzer plain = make();
  EXPECT_EQ(tokens(plain, "\u6771\u4eac\u90fd"), (Terms{"\u6771", "\u4eac", "\u90fd"}));
  EXPECT_EQ(tokens(plain, "abc\u6f22\u5b57def"), (Terms{"abc", "\u6f22", "\u5b57", "def"}));
  // Hiragana and Katakana; half-width katakana is normalised to full width first.
  EXPECT_EQ(tokens(plain, "\u3072\u3089\u30ab\u30bf"),
            (Terms{"\u3072", "\u3089", "\u30ab", "\u30bf"}));
  EXPECT_EQ(tokens(plain, "\uff76"), Terms{"\u30ab"});
  // Thai: a consonant keeps the vowel mark that follows it.
  EXPECT_EQ(tokens(plain, "\u0e17\u0e35\u0e48"), Terms{"\u0e17\u0e35\u0e48"});
  EXPECT_EQ(tokens(plain, "\u0e20\u0e32\u0e29\u0e32"),
            (Terms{"\u0e20", "\u0e32", "\u0e29", "\u0e32"}));
  // A mark after a separator starts a token of its own, even after an unspaced character.
  EXPECT_EQ(tokens(plain, "\u0e29 \u0e3a"), (Terms{"\u0e29", "\u0e3a"}));
  EXPECT_EQ(tokens(plain, "x\u0e3a"), (Terms{"x", "\u0e3a"}));
  // Hangul is spaced: words stay whole.
  EXPECT_EQ(tokens(plain, "\ud55c\uad6d\uc5b4 \ud14d\uc2a4\ud2b8"),
            (Terms{"\ud55c\uad6d\uc5b4", "\ud14d\uc2a4\ud2b8"}));
}

TEST(AnalyzerTest, KeepsDigitsOfOtherScripts) {
  const Analyzer plain = make();
  EXPECT_EQ(tokens(plain, "2024 \u0661\u0662\u0663 \u2167"),
            (Terms{"2024", "\u0661\u0662\u0663", "viii"}));
}

TEST(AnalyzerTest, DropsTokensLongerThan255Bytes) {
  const Analyzer plain = make();
  const std::string longest(255, 'y');
  EXPECT_EQ(tokens(plain, std::string(256, 'x') + " " + longest + " z"), (Terms{longest, "z"}));
  // 128 two-byte letters: 256 bytes.
  std::string wide;
  for (int i = 0; i < 128; ++i) wide += "\u00e9";
  EXPECT_EQ(tokens(plain, wide), Terms{});
}

TEST(AnalyzerTest, RejectsInvalidUtf8WithItsOffset) {
  const Analyzer plain = make();
  Terms terms{"stale"};
  for (const std::string_view bad :
       {std::string_view("ok \xff"), std::string_view("ok \xc0\xaf"),   // overlong
        std::string_view("ok \xed\xa0\x80"),                            // surrogate
        std::string_view("ok \xf4\x90\x80\x80"),                        // above U+10FFFF
        std::string_view("ok \xe2\x82")}) {                             // truncated
    const Status status = plain.tokenize(bad, terms);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
    EXPECT_NE(status.message().find("at byte 3"), std::string::npos) << status.message();
    EXPECT_TRUE(terms.empty());
  }
}

TEST(AnalyzerTest, DropsStopWordsComparedAfterFolding) {
  AnalyzerOptions options;
  options.stop_words = english_stop_words();
  options.stop_words.push_back("STRASSE");
  const Analyzer analyzer = make(options);
  EXPECT_EQ(english_stop_words().size(), 33u);
  EXPECT_EQ(tokens(analyzer, "The cat and THE hat in Stra\u00dfe"), (Terms{"cat", "hat"}));
}

TEST(AnalyzerTest, StemsWithSnowball) {
  AnalyzerOptions options;
  options.stemmer_language = "english";
  options.stop_words = english_stop_words();
  const Analyzer english = make(options);
  EXPECT_EQ(tokens(english, "Running runs the runner"), (Terms{"run", "run", "runner"}));
  // Stop words are compared before stemming: "thes" is not a stop word, "these" is.
  EXPECT_EQ(tokens(english, "these thes"), Terms{"thes"});
  options.stemmer_language = "german";
  options.stop_words.clear();
  EXPECT_EQ(tokens(make(options), "H\u00e4user"), Terms{"haus"});
}

TEST(AnalyzerTest, RejectsUnknownStemmerListingTheKnownOnes) {
  AnalyzerOptions options;
  options.stemmer_language = "klingon";
  const Result<Analyzer> analyzer = Analyzer::create(options);
  ASSERT_FALSE(analyzer.is_ok());
  EXPECT_EQ(analyzer.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(analyzer.status().message().find("klingon"), std::string::npos);
  EXPECT_NE(analyzer.status().message().find("english"), std::string::npos);
  const std::vector<std::string> known = available_stemmers();
  EXPECT_NE(std::find(known.begin(), known.end(), "porter"), known.end());
  options.stemmer_language = "English";  // names are lower case
  EXPECT_FALSE(options.validate().is_ok());
}

TEST(AnalyzerTest, RejectsStopWordsThatAreNotUtf8) {
  AnalyzerOptions options;
  options.stop_words = {"fine", "\xff"};
  EXPECT_EQ(options.validate().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(Analyzer::create(options).is_ok());
}

TEST(AnalyzerTest, OneAnalyzerServesManyThreads) {
  AnalyzerOptions options;
  options.stemmer_language = "english";
  const Analyzer english = make(options);
  const Terms expected{"connect", "connect", "connect", "fish"};
  std::vector<std::thread> threads;
  std::vector<int> failures(8, 0);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      Terms terms;
      for (int i = 0; i < 2000; ++i) {
        if (!english.tokenize("connected connecting connection fishing", terms).is_ok() ||
            terms != expected) {
          ++failures[t];
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures, std::vector<int>(8, 0));
}

}  // namespace
}  // namespace omendb::text
