#include "storage/crc32c.h"

#include <isa-l/crc.h>

#include <algorithm>

namespace omendb::storage {

std::uint32_t crc32c(std::span<const std::byte> data, std::uint32_t seed) noexcept {
  // ISA-L's crc32_iscsi neither inverts its initial value nor its result; the standard CRC-32C
  // does both, so crc32c(A) = ~crc32_iscsi(A, ~0) and extending from a finished CRC starts from
  // its inverse. ISA-L takes an int length (hence the chunks) and a non-const pointer it only
  // reads.
  constexpr std::size_t kMaxChunk = std::size_t{1} << 30;
  unsigned int state = ~seed;
  while (!data.empty()) {
    const std::size_t chunk = std::min(data.size(), kMaxChunk);
    auto* bytes = reinterpret_cast<unsigned char*>(const_cast<std::byte*>(data.data()));
    state = crc32_iscsi(bytes, static_cast<int>(chunk), state);
    data = data.subspan(chunk);
  }
  return ~state;
}

}  // namespace omendb::storage
