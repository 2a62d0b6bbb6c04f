// What the fuzz targets share: the libFuzzer entry point, a view of its input, and a check that
// turns a broken invariant into a crash libFuzzer (or the regression driver) reports.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string_view>

// libFuzzer's entry point, which every target defines: runs one input, returns 0.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace omendb::fuzz {

// The fuzz input as bytes.
inline std::span<const std::byte> input_bytes(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const std::byte*>(data), size};
}

// Aborts, naming `what`, unless `holds`: a decoder broke one of its documented guarantees.
inline void require(bool holds, std::string_view what) {
  if (holds) return;
  std::fprintf(stderr, "fuzz invariant broken: %.*s\n", static_cast<int>(what.size()), what.data());
  std::abort();
}

}  // namespace omendb::fuzz
