#include "text/posting_block.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <limits>

namespace omendb::text {
namespace {

static_assert(std::endian::native == std::endian::little,
              "posting blocks are unpacked with little-endian loads");

constexpr std::uint64_t kMaxU32 = std::numeric_limits<std::uint32_t>::max();

// Appends values[0, count) as `bits`-bit integers, least significant bit first.
void pack(const std::uint32_t* values, std::size_t count, unsigned bits,
          std::vector<std::byte>& out) {
  if (bits == 0) return;
  std::uint64_t pending = 0;  // bits not yet written, in the low `filled` bits
  unsigned filled = 0;        // < 8 between values, so pending never holds more than 39 bits
  for (std::size_t i = 0; i < count; ++i) {
    pending |= std::uint64_t{values[i]} << filled;
    filled += bits;
    while (filled >= 8) {
      out.push_back(static_cast<std::byte>(pending & 0xFF));
      pending >>= 8;
      filled -= 8;
    }
  }
  if (filled != 0) out.push_back(static_cast<std::byte>(pending & 0xFF));
}

// Reads `count` `bits`-bit integers from `packed`, which holds exactly ceil(count * bits / 8)
// bytes. The bytes are first copied into a buffer with 8 zero bytes after them, so that each
// value is one unchecked 8-byte load, a shift and a mask.
void unpack(const std::byte* packed, std::size_t bytes, std::size_t count, unsigned bits,
            std::uint32_t* values) {
  if (bits == 0) {
    std::fill(values, values + count, 0);
    return;
  }
  std::array<unsigned char, kBlockPostings * 4 + 8> padded;  // bytes <= 16 * 32
  std::memcpy(padded.data(), packed, bytes);
  std::memset(padded.data() + bytes, 0, 8);
  const std::uint64_t mask = (std::uint64_t{1} << bits) - 1;
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t bit = i * bits;
    std::uint64_t word;
    std::memcpy(&word, padded.data() + bit / 8, sizeof word);
    values[i] = static_cast<std::uint32_t>((word >> (bit % 8)) & mask);
  }
}

}  // namespace

void encode_block(std::span<const Posting> postings, std::uint64_t next_slot,
                  std::vector<std::byte>& out) {
  std::array<std::uint32_t, kBlockPostings> gaps;
  std::array<std::uint32_t, kBlockPostings> tfs;
  std::uint32_t gap_bits_of = 0;
  std::uint32_t tf_bits_of = 0;
  for (std::size_t i = 0; i < postings.size(); ++i) {
    gaps[i] = static_cast<std::uint32_t>(postings[i].slot - next_slot);
    tfs[i] = postings[i].tf - 1;
    gap_bits_of |= gaps[i];
    tf_bits_of |= tfs[i];
    next_slot = std::uint64_t{postings[i].slot} + 1;
  }
  const auto slot_bits = static_cast<unsigned>(std::bit_width(gap_bits_of));
  const auto tf_bits = static_cast<unsigned>(std::bit_width(tf_bits_of));
  out.push_back(static_cast<std::byte>(slot_bits));
  out.push_back(static_cast<std::byte>(tf_bits));
  pack(gaps.data(), postings.size(), slot_bits, out);
  pack(tfs.data(), postings.size(), tf_bits, out);
}

std::size_t decode_block(std::span<const std::byte> bytes, std::size_t count,
                         std::uint64_t next_slot, std::uint32_t* slots, std::uint32_t* tfs) {
  if (bytes.size() < kBlockHeaderBytes || count > kBlockPostings) return 0;
  const auto slot_bits = static_cast<unsigned>(bytes[0]);
  const auto tf_bits = static_cast<unsigned>(bytes[1]);
  if (slot_bits > 32 || tf_bits > 32) return 0;
  const std::size_t size = encoded_block_bytes(count, slot_bits, tf_bits);
  if (size > bytes.size()) return 0;
  const std::size_t slot_bytes = (count * slot_bits + 7) / 8;
  const std::byte* packed = bytes.data() + kBlockHeaderBytes;
  unpack(packed, slot_bytes, count, slot_bits, slots);
  unpack(packed + slot_bytes, size - kBlockHeaderBytes - slot_bytes, count, tf_bits, tfs);
  // Prefix sums, one add per slot on the dependency chain; an overflow anywhere shows at the
  // end, as the sums only grow.
  for (std::size_t i = 0; i < count; ++i) {
    next_slot += std::uint64_t{slots[i]} + 1;
    slots[i] = static_cast<std::uint32_t>(next_slot - 1);
  }
  bool tf_overflow = false;
  for (std::size_t i = 0; i < count; ++i) {
    tf_overflow |= tfs[i] == kMaxU32;
    tfs[i] += 1;
  }
  if (next_slot > kMaxU32 + 1 || tf_overflow) return 0;
  return size;
}

}  // namespace omendb::text
