#include "text/posting_list.h"

#include <algorithm>

namespace omendb::text {

void PostingList::append(std::uint32_t slot, std::uint32_t tf, std::uint32_t doc_length) {
  if (tail_.empty()) {
    tail_skip_ = BlockSkip{slot, tf, doc_length, tf};
  } else {
    tail_skip_.last_slot = slot;
    tail_skip_.max_tf = std::max(tail_skip_.max_tf, tf);
    if (tail_skip_.lower_ratio(doc_length, tf)) {
      tail_skip_.ratio_length = doc_length;
      tail_skip_.ratio_tf = tf;
    }
  }
  tail_.push_back(Posting{slot, tf});
  if (tail_.size() < kBlockPostings) return;
  const std::uint64_t next_slot = skips_.empty() ? 0 : std::uint64_t{skips_.back().last_slot} + 1;
  offsets_.push_back(packed_.size());
  encode_block(tail_, next_slot, packed_);
  skips_.push_back(tail_skip_);
  // Frees the tail rather than keeping 1 KiB of capacity: most lists stop growing (restored,
  // compacted, or the term is rare), and regrowing costs 8 allocations per block.
  std::vector<Posting>().swap(tail_);
}

std::size_t PostingList::find_block(std::size_t from, std::uint32_t slot) const noexcept {
  if (from < skips_.size()) {
    const auto found =
        std::partition_point(skips_.begin() + static_cast<std::ptrdiff_t>(from), skips_.end(),
                             [slot](const BlockSkip& s) { return s.last_slot < slot; });
    if (found != skips_.end()) return static_cast<std::size_t>(found - skips_.begin());
  }
  if (!tail_.empty() && tail_skip_.last_slot >= slot && from <= skips_.size()) {
    return skips_.size();
  }
  return block_count();
}

std::size_t PostingList::decode(std::size_t block, std::uint32_t* slots,
                                std::uint32_t* tfs) const {
  if (block >= skips_.size()) {
    for (std::size_t i = 0; i < tail_.size(); ++i) {
      slots[i] = tail_[i].slot;
      tfs[i] = tail_[i].tf;
    }
    return tail_.size();
  }
  const std::uint64_t next_slot = block == 0 ? 0 : std::uint64_t{skips_[block - 1].last_slot} + 1;
  return decode_block(block_bytes(block), kBlockPostings, next_slot, slots, tfs) != 0
             ? kBlockPostings
             : 0;
}

std::optional<std::uint32_t> PostingList::tf_of(std::uint32_t slot) const {
  const std::size_t block = find_block(0, slot);
  if (block == block_count()) return std::nullopt;
  std::uint32_t slots[kBlockPostings];
  std::uint32_t tfs[kBlockPostings];
  const std::size_t count = decode(block, slots, tfs);
  const std::uint32_t* found = std::lower_bound(slots, slots + count, slot);
  if (found == slots + count || *found != slot) return std::nullopt;
  return tfs[found - slots];
}

std::span<const std::byte> PostingList::block_bytes(std::size_t block) const noexcept {
  const std::size_t begin = offsets_[block];
  const std::size_t end = block + 1 < offsets_.size() ? offsets_[block + 1] : packed_.size();
  return std::span<const std::byte>(packed_).subspan(begin, end - begin);
}

std::size_t PostingList::memory_bytes() const noexcept {
  return packed_.capacity() + offsets_.capacity() * sizeof(std::size_t) +
         skips_.capacity() * sizeof(BlockSkip) + tail_.capacity() * sizeof(Posting);
}

}  // namespace omendb::text
