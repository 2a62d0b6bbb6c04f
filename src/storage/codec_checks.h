// Small checks the payload codecs share (record_codec.cpp, batch_parts_codec.cpp).
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "omendb/status.h"
#include "storage/byte_io.h"

namespace omendb::storage {

// kCorruption "<context>: <what> at byte <offset>".
inline Status corrupt(std::string_view context, std::size_t offset, const std::string& what) {
  return {StatusCode::kCorruption,
          std::string(context) + ": " + what + " at byte " + std::to_string(offset)};
}

// "<n> bytes left", for messages.
inline std::string left(const ByteReader& in) {
  return std::to_string(in.remaining()) + " bytes left";
}

// Index of the first NaN or infinity in `values`, or values.size(). The first loop has no early
// exit, so the compiler vectorises it; the common all-finite case pays only that loop.
inline std::size_t first_non_finite(std::span<const float> values) noexcept {
  constexpr std::uint32_t kExponent = 0x7f800000;  // all ones: infinity or NaN
  std::uint32_t any = 0;
  for (const float value : values) {
    any |=
        static_cast<std::uint32_t>((std::bit_cast<std::uint32_t>(value) & kExponent) == kExponent);
  }
  if (any == 0) return values.size();
  return static_cast<std::size_t>(std::find_if(values.begin(), values.end(),
                                               [](float value) { return !std::isfinite(value); }) -
                                  values.begin());
}

}  // namespace omendb::storage
