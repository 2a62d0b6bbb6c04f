// CRC-32C (Castagnoli, the iSCSI polynomial 0x1EDC6F41), the checksum of every on-disk structure.
// Computed by Intel ISA-L, which picks the fastest kernel for the CPU at run time (SSE4.2 crc32
// or carry-less multiply); several GB/s per core.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace omendb::storage {

// The standard CRC-32C of `data` (crc32c of "123456789" is 0xE3069283). With `seed` = the CRC of
// some bytes A, returns the CRC of A followed by `data`, so a CRC can be computed piece by piece.
// Cost: one pass over `data`.
std::uint32_t crc32c(std::span<const std::byte> data, std::uint32_t seed = 0) noexcept;

// The CRC of bytes followed by their own CRC is a constant, so data that embeds checksummed data
// (a log record carrying another record, say) can look self-consistent by accident. Stored CRCs
// are therefore masked (rotated and offset), as LevelDB does; crc32c_unmask(crc32c_mask(c)) == c.
constexpr std::uint32_t kCrc32cMaskDelta = 0xa282ead8u;

// The value stored on disk for the CRC `crc`. Cost: a few instructions.
constexpr std::uint32_t crc32c_mask(std::uint32_t crc) noexcept {
  return ((crc >> 15) | (crc << 17)) + kCrc32cMaskDelta;
}

// The CRC whose stored value is `masked`: the inverse of crc32c_mask.
constexpr std::uint32_t crc32c_unmask(std::uint32_t masked) noexcept {
  const std::uint32_t rotated = masked - kCrc32cMaskDelta;
  return (rotated >> 17) | (rotated << 15);
}

}  // namespace omendb::storage
