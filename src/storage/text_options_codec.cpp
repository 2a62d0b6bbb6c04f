#include "storage/text_options_codec.h"

#include <bit>
#include <cstdint>

namespace omendb::storage {
namespace {

constexpr std::uint32_t kTextEnabled = 1;
constexpr std::size_t kMinStopWordBytes = 4 + 1;  // length, one byte

}  // namespace

void put_text_options(const TextOptions& text, ByteWriter& out) {
  out.put_u32(text.enabled ? kTextEnabled : 0);
  if (!text.enabled) return;
  out.put_string(text.stemmer);
  out.put_u32(static_cast<std::uint32_t>(text.stop_words.size()));
  for (const std::string& word : text.stop_words) out.put_string(word);
  out.put_u32(std::bit_cast<std::uint32_t>(text.k1));
  out.put_u32(std::bit_cast<std::uint32_t>(text.b));
}

std::string get_text_options(ByteReader& in, TextOptions& text) {
  std::uint32_t flags = 0;
  if (!in.get_u32(flags)) return "the text flags are truncated";
  if ((flags & ~kTextEnabled) != 0) return "the text flags hold unknown bits";
  text = TextOptions{};
  text.enabled = flags == kTextEnabled;
  if (!text.enabled) return "";
  std::string_view stemmer;
  std::uint32_t count = 0;
  if (!in.get_string(stemmer) || !in.get_u32(count)) return "the text settings are truncated";
  text.stemmer = stemmer;
  if (count > in.remaining() / kMinStopWordBytes) {
    return std::to_string(count) + " stop words do not fit in the " +
           std::to_string(in.remaining()) + " bytes left";
  }
  text.stop_words.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    std::string_view word;
    if (!in.get_string(word)) return "a stop word is truncated";
    if (word.empty()) return "a stop word is empty";
    text.stop_words.emplace_back(word);
  }
  std::uint32_t k1 = 0;
  std::uint32_t b = 0;
  if (!in.get_u32(k1) || !in.get_u32(b)) return "the BM25 parameters are truncated";
  text.k1 = std::bit_cast<float>(k1);
  text.b = std::bit_cast<float>(b);
  return "";
}

}  // namespace omendb::storage
