// Small text helpers for error messages.
#pragma once

#include <string>
#include <string_view>

namespace omendb {

// `text` in single quotes, cut to its first 40 bytes (then ending in "..."), for messages that
// quote user input.
inline std::string quoted(std::string_view text) {
  constexpr std::size_t kShown = 40;
  std::string out = "'";
  out.append(text.substr(0, kShown));
  out.append(text.size() > kShown ? "...'" : "'");
  return out;
}

}  // namespace omendb
