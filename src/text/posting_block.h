// The compressed form of postings: blocks of up to kBlockPostings (slot, term frequency) pairs,
// each stored as two bit-packed arrays of fixed-width integers.
//
//   block := slot_bits u8 (0..32) | tf_bits u8 (0..32)
//            | n slot gaps, slot_bits each | n values tf - 1, tf_bits each
//
// A slot gap is slot - previous slot - 1, where the previous slot of a list's first posting is
// taken as -1 (so the gap is the slot itself); n consecutive slots with tf 1 pack to 0 bits. The
// values are packed least significant bit first, little-endian, each array in ceil(n * bits / 8)
// bytes, so a full block takes 2 + 16 * (slot_bits + tf_bits) bytes.
//
// Why fixed-width packing rather than LEB128 varints: measured on blocks of 128 postings with
// geometric slot gaps (mean 1 / 8 / 100 / 5000) and tf mostly 1, it takes 0.4 / 1.1 / 1.6 / 2.3
// bytes a posting against 2.0 / 2.0 / 2.3 / 3.0, and decodes at 1.7 / 2.4 / 2.6 / 2.4 ns a
// posting against 1.2 / 1.3 / 3.4 / 2.2 (GCC 12 -O3, one core): a fifth to four fifths of
// the size for about the same speed, and a block's size follows from its two header bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace omendb::text {

// Postings per full block.
inline constexpr std::size_t kBlockPostings = 128;
// Bytes before the packed arrays.
inline constexpr std::size_t kBlockHeaderBytes = 2;

struct Posting {
  std::uint32_t slot;
  std::uint32_t tf;  // >= 1
  friend bool operator==(const Posting&, const Posting&) = default;
};

// The bytes of a block of `count` postings packed with these widths.
constexpr std::size_t encoded_block_bytes(std::size_t count, unsigned slot_bits,
                                          unsigned tf_bits) noexcept {
  return kBlockHeaderBytes + (count * slot_bits + 7) / 8 + (count * tf_bits + 7) / 8;
}

// Appends the encoding of `postings` (1 to kBlockPostings of them, slots increasing, all >=
// `next_slot`, every tf >= 1) to `out`. `next_slot` is the previous posting's slot + 1, or 0 for
// a list's first block. Cost: O(count), at most 2 + 8 * count bytes appended.
void encode_block(std::span<const Posting> postings, std::uint64_t next_slot,
                  std::vector<std::byte>& out);

// Decodes a block of `count` (<= kBlockPostings) postings from the front of `bytes` into
// slots[0, count) and tfs[0, count); `next_slot` as for encode_block. Returns the bytes the block
// takes, or 0 when `bytes` is too short, a width exceeds 32 or a slot or tf would not fit in 32
// bits: safe on any bytes, never reads outside `bytes`. Slots come out strictly increasing and
// >= next_slot, tfs >= 1. Cost: O(count), branch-free per value.
std::size_t decode_block(std::span<const std::byte> bytes, std::size_t count,
                         std::uint64_t next_slot, std::uint32_t* slots, std::uint32_t* tfs);

}  // namespace omendb::text
