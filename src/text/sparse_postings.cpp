#include "text/sparse_postings.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace omendb::text {

void SparsePostings::append(std::uint32_t slot, float value) {
  if (values_.empty()) {
    max_value_ = value;
    min_value_ = value;
  } else {
    max_value_ = std::max(max_value_, value);
    min_value_ = std::min(min_value_, value);
  }
  if (tail_slots_.empty()) {
    tail_skip_ = SparseBlockSkip{slot, value, value};
  } else {
    tail_skip_.last_slot = slot;
    tail_skip_.max_value = std::max(tail_skip_.max_value, value);
    tail_skip_.min_value = std::min(tail_skip_.min_value, value);
  }
  tail_slots_.push_back(slot);
  values_.push_back(value);
  if (tail_slots_.size() < kBlockPostings) return;
  std::array<Posting, kBlockPostings> postings;
  for (std::size_t i = 0; i < kBlockPostings; ++i) postings[i] = Posting{tail_slots_[i], 1};
  const std::uint64_t next_slot = skips_.empty() ? 0 : std::uint64_t{skips_.back().last_slot} + 1;
  offsets_.push_back(packed_.size());
  encode_block(postings, next_slot, packed_);
  skips_.push_back(tail_skip_);
  // Keeps the tail's capacity (512 bytes): a list that filled a block is likely to fill more,
  // as in a bulk rebuild, and regrowing would cost 8 allocations per block.
  tail_slots_.clear();
}

std::size_t SparsePostings::find_block(std::size_t from, std::uint32_t slot) const noexcept {
  if (from < skips_.size()) {
    const auto found =
        std::partition_point(skips_.begin() + static_cast<std::ptrdiff_t>(from), skips_.end(),
                             [slot](const SparseBlockSkip& s) { return s.last_slot < slot; });
    if (found != skips_.end()) return static_cast<std::size_t>(found - skips_.begin());
  }
  if (!tail_slots_.empty() && tail_skip_.last_slot >= slot && from <= skips_.size()) {
    return skips_.size();
  }
  return block_count();
}

std::size_t SparsePostings::decode(std::size_t block, std::uint32_t* slots,
                                   float* values) const {
  const float* block_values = values_.data() + block * kBlockPostings;
  if (block >= skips_.size()) {
    std::copy(tail_slots_.begin(), tail_slots_.end(), slots);
    std::memcpy(values, block_values, tail_slots_.size() * sizeof(float));
    return tail_slots_.size();
  }
  const std::uint64_t next_slot = block == 0 ? 0 : std::uint64_t{skips_[block - 1].last_slot} + 1;
  const std::size_t begin = offsets_[block];
  const std::size_t end = block + 1 < offsets_.size() ? offsets_[block + 1] : packed_.size();
  std::array<std::uint32_t, kBlockPostings> tfs;  // all 1
  if (decode_block(std::span<const std::byte>(packed_).subspan(begin, end - begin),
                   kBlockPostings, next_slot, slots, tfs.data()) == 0) {
    return 0;
  }
  std::memcpy(values, block_values, kBlockPostings * sizeof(float));
  return kBlockPostings;
}

std::optional<float> SparsePostings::value_of(std::uint32_t slot) const {
  const std::size_t block = find_block(0, slot);
  if (block == block_count()) return std::nullopt;
  std::uint32_t slots[kBlockPostings];
  float values[kBlockPostings];
  const std::size_t count = decode(block, slots, values);
  const std::uint32_t* found = std::lower_bound(slots, slots + count, slot);
  if (found == slots + count || *found != slot) return std::nullopt;
  return values[found - slots];
}

void SparsePostings::shrink_to_fit() {
  packed_.shrink_to_fit();
  offsets_.shrink_to_fit();
  skips_.shrink_to_fit();
  values_.shrink_to_fit();
  tail_slots_.shrink_to_fit();
}

std::size_t SparsePostings::memory_bytes() const noexcept {
  return packed_.capacity() + offsets_.capacity() * sizeof(std::size_t) +
         skips_.capacity() * sizeof(SparseBlockSkip) + values_.capacity() * sizeof(float) +
         tail_slots_.capacity() * sizeof(std::uint32_t);
}

}  // namespace omendb::text
