#include "text/analyzer.h"

#include <libstemmer.h>
#include <utf8proc.h>

#include <algorithm>
#include <functional>
#include <cstdlib>
#include <mutex>
#include <new>
#include <unordered_set>
#include <utility>

namespace omendb::text {
namespace {

constexpr utf8proc_option_t kNormalisation = static_cast<utf8proc_option_t>(
    UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD);

// Frees what utf8proc_map allocated.
struct FreeDeleter {
  void operator()(utf8proc_uint8_t* bytes) const noexcept { std::free(bytes); }
};

struct StemmerDeleter {
  void operator()(sb_stemmer* stemmer) const noexcept { sb_stemmer_delete(stemmer); }
};
using StemmerPtr = std::unique_ptr<sb_stemmer, StemmerDeleter>;

// The byte offset of the first invalid sequence of `text`, which utf8proc rejected.
std::size_t invalid_offset(std::string_view text) {
  const auto* bytes = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  std::size_t offset = 0;
  while (offset < text.size()) {
    utf8proc_int32_t code_point = 0;
    const utf8proc_ssize_t length = utf8proc_iterate(
        bytes + offset, static_cast<utf8proc_ssize_t>(text.size() - offset), &code_point);
    if (length <= 0) return offset;
    offset += static_cast<std::size_t>(length);
  }
  return offset;
}

// `text` normalised by rule 2 of analyzer.h (NFKC, case folded), or kInvalidArgument.
Result<std::string> normalise(std::string_view text) {
  if (text.empty()) return std::string();
  utf8proc_uint8_t* mapped = nullptr;
  const utf8proc_ssize_t length =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                   static_cast<utf8proc_ssize_t>(text.size()), &mapped, kNormalisation);
  const std::unique_ptr<utf8proc_uint8_t, FreeDeleter> owned(mapped);
  if (length == UTF8PROC_ERROR_NOMEM) throw std::bad_alloc();
  if (length < 0) {
    return Status::invalid_argument("text is not valid UTF-8 at byte " +
                                    std::to_string(invalid_offset(text)));
  }
  return std::string(reinterpret_cast<const char*>(mapped), static_cast<std::size_t>(length));
}

// Rule 3: letters, marks, numbers and connector punctuation make up tokens.
bool is_token_char(utf8proc_int32_t code_point) {
  switch (utf8proc_category(code_point)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
    case UTF8PROC_CATEGORY_PC:
      return true;
    default:
      return false;
  }
}

bool is_mark(utf8proc_int32_t code_point) {
  const utf8proc_category_t category = utf8proc_category(code_point);
  return category == UTF8PROC_CATEGORY_MN || category == UTF8PROC_CATEGORY_MC ||
         category == UTF8PROC_CATEGORY_ME;
}

// Rule 4: the blocks of scripts written without spaces, whose code points are tokens alone.
bool is_unspaced_script(utf8proc_int32_t c) {
  return (c >= 0x0E00 && c <= 0x0E7F) ||  // Thai
         (c >= 0x3040 && c <= 0x30FF) ||  // Hiragana, Katakana
         (c >= 0x31F0 && c <= 0x31FF) ||  // Katakana Phonetic Extensions
         (c >= 0x3400 && c <= 0x4DBF) ||  // CJK Unified Ideographs Extension A
         (c >= 0x4E00 && c <= 0x9FFF) ||  // CJK Unified Ideographs
         (c >= 0xF900 && c <= 0xFAFF) ||  // CJK Compatibility Ideographs
         (c >= 0x20000 && c <= 0x323AF);  // Extensions B-H, Compatibility Supplement
}

}  // namespace

// One stemmer per concurrent tokenize() call, reused across calls.
class StemmerPool {
 public:
  explicit StemmerPool(std::string language) : language_(std::move(language)) {}

  // A stemmer for the caller alone; give it back with release(). Null only when out of memory.
  StemmerPtr acquire() {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      if (!free_.empty()) {
        StemmerPtr stemmer = std::move(free_.back());
        free_.pop_back();
        return stemmer;
      }
    }
    return StemmerPtr(sb_stemmer_new(language_.c_str(), nullptr));
  }

  void release(StemmerPtr stemmer) {
    const std::lock_guard<std::mutex> lock(mutex_);
    free_.push_back(std::move(stemmer));
  }

 private:
  const std::string language_;
  std::mutex mutex_;
  std::vector<StemmerPtr> free_;
};

// Hashes std::string and std::string_view alike, so a set of strings can be asked about views.
struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const noexcept {
    return std::hash<std::string_view>{}(text);
  }
};

struct Analyzer::State {
  AnalyzerOptions options;
  std::unordered_set<std::string, StringHash, std::equal_to<>> stop_words;  // normalised
  std::unique_ptr<StemmerPool> stemmers;       // null without stemming
};

Status AnalyzerOptions::validate() const {
  if (!stemmer_language.empty()) {
    const std::vector<std::string> known = available_stemmers();
    if (std::find(known.begin(), known.end(), stemmer_language) == known.end()) {
      std::string message = "unknown stemmer language '" + stemmer_language + "'; available:";
      for (const std::string& name : known) message += " " + name;
      return Status::invalid_argument(std::move(message));
    }
  }
  for (const std::string& word : stop_words) {
    if (!normalise(word).is_ok()) {
      return Status::invalid_argument("stop word is not valid UTF-8 at byte " +
                                      std::to_string(invalid_offset(word)));
    }
  }
  return Status::ok();
}

std::vector<std::string> available_stemmers() {
  std::vector<std::string> names;
  for (const char** name = sb_stemmer_list(); *name != nullptr; ++name) names.emplace_back(*name);
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> english_stop_words() {
  return {"a",    "an",   "and",  "are",   "as",    "at",   "be",    "but",   "by",
          "for",  "if",   "in",   "into",  "is",    "it",   "no",    "not",   "of",
          "on",   "or",   "such", "that",  "the",   "their", "then", "there", "these",
          "they", "this", "to",   "was",   "will",  "with"};
}

Result<Analyzer> Analyzer::create(const AnalyzerOptions& options) {
  if (Status s = options.validate(); !s.is_ok()) return s;
  auto state = std::make_unique<State>();
  state->options = options;
  for (const std::string& word : options.stop_words) {
    Result<std::string> folded = normalise(word);
    state->stop_words.insert(std::move(folded).value());
  }
  if (!options.stemmer_language.empty()) {
    state->stemmers = std::make_unique<StemmerPool>(options.stemmer_language);
    StemmerPtr first = state->stemmers->acquire();
    if (first == nullptr) throw std::bad_alloc();
    state->stemmers->release(std::move(first));
  }
  return Analyzer(std::move(state));
}

Analyzer::Analyzer(std::unique_ptr<State> state) : state_(std::move(state)) {}
Analyzer::Analyzer(Analyzer&&) noexcept = default;
Analyzer& Analyzer::operator=(Analyzer&&) noexcept = default;
Analyzer::~Analyzer() = default;

const AnalyzerOptions& Analyzer::options() const noexcept { return state_->options; }

Status Analyzer::tokenize(std::string_view utf8, std::vector<std::string>& terms) const {
  terms.clear();
  Result<std::string> normalised = normalise(utf8);
  if (!normalised.is_ok()) return normalised.status();
  const std::string& text = normalised.value();
  const auto* bytes = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  const auto size = static_cast<utf8proc_ssize_t>(text.size());

  // Splits the normalised text into tokens, dropping long ones and stop words.
  utf8proc_ssize_t offset = 0;
  utf8proc_ssize_t token_begin = -1;  // -1: not inside a token
  bool in_unspaced = false;  // the current token is one code point of rule 4, plus its marks
  // Ends the current token, if any. (It also ends the unspaced character's run of marks: a mark
  // after a separator starts a token of its own; the fuzzer found one dropped, "\u0e29 \u0e3a".)
  const auto end_token = [&](utf8proc_ssize_t token_end) {
    in_unspaced = false;
    if (token_begin < 0) return;
    const std::string_view token(text.data() + token_begin,
                                 static_cast<std::size_t>(token_end - token_begin));
    if (token.size() <= kMaxTermBytes && !state_->stop_words.contains(token)) {
      terms.emplace_back(token);
    }
    token_begin = -1;
  };
  while (offset < size) {
    utf8proc_int32_t code_point = 0;
    // The normalised text is valid UTF-8, so length > 0.
    const utf8proc_ssize_t length = utf8proc_iterate(bytes + offset, size - offset, &code_point);
    if (!is_token_char(code_point)) {
      end_token(offset);
    } else if (in_unspaced && is_mark(code_point)) {
      // a mark stays with the unspaced character before it
    } else if (in_unspaced || is_unspaced_script(code_point)) {
      // An unspaced character starts a token and ends one: nothing but marks joins it.
      end_token(offset);
      token_begin = offset;
      in_unspaced = is_unspaced_script(code_point);
    } else if (token_begin < 0) {
      token_begin = offset;
    }
    offset += length;
  }
  end_token(offset);

  if (state_->stemmers == nullptr) return Status::ok();
  StemmerPtr stemmer = state_->stemmers->acquire();
  if (stemmer == nullptr) throw std::bad_alloc();
  std::size_t kept = 0;
  for (std::size_t i = 0; i < terms.size(); ++i) {
    const sb_symbol* stem =
        sb_stemmer_stem(stemmer.get(), reinterpret_cast<const sb_symbol*>(terms[i].data()),
                        static_cast<int>(terms[i].size()));
    if (stem == nullptr) throw std::bad_alloc();
    const auto stem_size = static_cast<std::size_t>(sb_stemmer_length(stemmer.get()));
    if (stem_size == 0 || stem_size > kMaxTermBytes) continue;
    terms[kept++].assign(reinterpret_cast<const char*>(stem), stem_size);
  }
  terms.resize(kept);
  state_->stemmers->release(std::move(stemmer));
  return Status::ok();
}

}  // namespace omendb::text
