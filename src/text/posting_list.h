// One term's postings: (slot, term frequency) pairs in increasing slot order, appended at the
// end only. Full blocks of kBlockPostings postings are bit-packed (posting_block.h); the open
// tail block, which appends go to, stays plain until it fills.
//
// Every block, the tail included, has skip data: its last slot (to find the block holding a
// slot without decoding), and for block-max pruning its largest tf and its smallest ratio of
// document length to tf, from which a search bounds any BM25 score in the block at the current
// average document length (bm25.h: a posting scores weight / (1 + a / tf + c * length / tf)).
// The ratio bound is never looser than one from the smallest length, which it replaces: a block
// holding a long document with a high tf and a short one with tf 1 is not credited with a short
// document of high tf. Scores are never stored: the average changes with every insert.
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
struct BlockSkip {
  std::uint32_t last_slot = 0;     // the block's largest slot
  std::uint32_t max_tf = 0;        // the largest tf in the block
  std::uint32_t ratio_length = 0;  // the document length and tf of the block's posting with
  std::uint32_t ratio_tf = 1;      // the smallest length / tf (the first, among equal ratios)

  // Whether length / tf is below the block's smallest ratio. Exact (integer arithmetic).
  bool lower_ratio(std::uint32_t length, std::uint32_t tf) const noexcept {
    return std::uint64_t{length} * ratio_tf < std::uint64_t{ratio_length} * tf;
  }
  friend bool operator==(const BlockSkip&, const BlockSkip&) = default;
};

class PostingList {
 public:
  // Appends a posting. Preconditions: slot is greater than every slot appended so far; tf >= 1;
  // doc_length >= tf (the length of the slot's document, recorded in the block's skip data).
  // Cost: amortised O(1); every kBlockPostings-th append packs the tail, O(kBlockPostings).
  void append(std::uint32_t slot, std::uint32_t tf, std::uint32_t doc_length);

  // Postings appended.
  std::size_t size() const noexcept { return full_blocks() * kBlockPostings + tail_.size(); }
  bool empty() const noexcept { return size() == 0; }

  // Blocks, counting a non-empty tail as the last one.
  std::size_t block_count() const noexcept { return skips_.size() + (tail_.empty() ? 0 : 1); }
  std::size_t full_blocks() const noexcept { return skips_.size(); }

  // Skip data of block `block` < block_count().
  const BlockSkip& skip(std::size_t block) const noexcept {
    return block < skips_.size() ? skips_[block] : tail_skip_;
  }

  // The first block at or after `from` whose last slot is >= `slot`; block_count() if none.
  // Cost: O(log blocks).
  std::size_t find_block(std::size_t from, std::uint32_t slot) const noexcept;

  // Writes block `block` < block_count()'s slots and tfs to slots[] and tfs[] (room for
  // kBlockPostings each); returns how many. Cost: O(kBlockPostings).
  std::size_t decode(std::size_t block, std::uint32_t* slots, std::uint32_t* tfs) const;

  // The tf of `slot`, nullopt when the list has no posting for it. Cost: O(log blocks) and one
  // block decoded.
  std::optional<std::uint32_t> tf_of(std::uint32_t slot) const;

  // The packed bytes of full block `block` < full_blocks(), as posting_block.h lays them out.
  std::span<const std::byte> block_bytes(std::size_t block) const noexcept;
  // The plain tail: the postings after the full blocks.
  std::span<const Posting> tail() const noexcept { return tail_; }

  // Heap bytes held. Cost: O(1).
  std::size_t memory_bytes() const noexcept;

 private:
  std::vector<std::byte> packed_;      // the full blocks back to back
  std::vector<std::size_t> offsets_;   // where each full block starts in packed_
  std::vector<BlockSkip> skips_;       // per full block
  std::vector<Posting> tail_;          // < kBlockPostings postings
  BlockSkip tail_skip_;
};

}  // namespace omendb::text
