// One dimension's postings in a SparseIndex: (slot, value) pairs in increasing slot order,
// appended at the end only. Full blocks of kBlockPostings postings keep their slots bit-packed
// by posting_block.h's encode_block (every tf given as 1, which packs to 0 bits) and their values
// as raw floats beside them; the open tail block, which appends go to, keeps its slots plain
// until it fills.
//
// Every block, the tail included, has skip data: its last slot (to find the block holding a
// slot without decoding), and for block-max pruning its largest and smallest value, from which a
// search bounds q * value over the block for a query weight q of either sign.
//
// Thread safety: none inside; const methods may run concurrently, append() needs exclusive
// access.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "text/posting_block.h"

namespace omendb::text {

// What a search may assume of a block's postings without decoding them.
struct SparseBlockSkip {
  std::uint32_t last_slot = 0;  // the block's largest slot
  float max_value = 0;          // the largest value in the block
  float min_value = 0;          // the smallest value in the block
  friend bool operator==(const SparseBlockSkip&, const SparseBlockSkip&) = default;
};

class SparsePostings {
 public:
  // Appends a posting. Preconditions: slot is greater than every slot appended so far; value is
  // finite. Cost: amortised O(1); every kBlockPostings-th append packs the tail's slots,
  // O(kBlockPostings), reusing the tail's memory.
  void append(std::uint32_t slot, float value);

  // Postings appended.
  std::size_t size() const noexcept { return values_.size(); }
  bool empty() const noexcept { return values_.empty(); }

  // Blocks, counting a non-empty tail as the last one.
  std::size_t block_count() const noexcept {
    return skips_.size() + (tail_slots_.empty() ? 0 : 1);
  }
  std::size_t full_blocks() const noexcept { return skips_.size(); }

  // Skip data of block `block` < block_count().
  const SparseBlockSkip& skip(std::size_t block) const noexcept {
    return block < skips_.size() ? skips_[block] : tail_skip_;
  }
  // The largest and smallest value of the whole list (0 when empty).
  float max_value() const noexcept { return max_value_; }
  float min_value() const noexcept { return min_value_; }

  // The first block at or after `from` whose last slot is >= `slot`; block_count() if none.
  // Cost: O(log blocks).
  std::size_t find_block(std::size_t from, std::uint32_t slot) const noexcept;

  // Writes block `block` < block_count()'s slots and values to slots[] and values[] (room for
  // kBlockPostings each); returns how many. Cost: O(kBlockPostings).
  std::size_t decode(std::size_t block, std::uint32_t* slots, float* values) const;

  // The value of `slot`, nullopt when the list has no posting for it. Cost: O(log blocks) and
  // one block decoded.
  std::optional<float> value_of(std::uint32_t slot) const;

  // Releases spare capacity (for a list that is not expected to grow). Cost: one copy.
  void shrink_to_fit();

  // Heap bytes held. Cost: O(1).
  std::size_t memory_bytes() const noexcept;

 private:
  std::vector<std::byte> packed_;           // the full blocks' slots back to back
  std::vector<std::size_t> offsets_;        // where each full block starts in packed_
  std::vector<SparseBlockSkip> skips_;      // per full block
  std::vector<float> values_;               // every value, block b's from b * kBlockPostings
  std::vector<std::uint32_t> tail_slots_;   // < kBlockPostings slots after the full blocks
  SparseBlockSkip tail_skip_;
  float max_value_ = 0;
  float min_value_ = 0;
};

}  // namespace omendb::text
