#include "text/sparse_index.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>

namespace omendb::text {
namespace {

Status corrupt(const std::string& what) {
  return {StatusCode::kCorruption, "sparse index check: " + what};
}

Status disagrees(std::uint32_t slot) {
  return Status::invalid_argument("the sparse vector given for slot " + std::to_string(slot) +
                                  " is not the one it was added with");
}

std::string dimension_name(std::uint32_t index) { return "dimension " + std::to_string(index); }

}  // namespace

Status validate_sparse(std::span<const SparseEntry> entries) {
  if (entries.size() > std::numeric_limits<std::uint32_t>::max()) {
    return Status::invalid_argument("sparse vector: more than 2^32 - 1 entries");
  }
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (i > 0 && entries[i].index <= entries[i - 1].index) {
      return Status::invalid_argument("sparse vector: indices must strictly increase (index " +
                                      std::to_string(entries[i].index) + " after " +
                                      std::to_string(entries[i - 1].index) + ")");
    }
    if (!std::isfinite(entries[i].value)) {
      return Status::invalid_argument("sparse vector: value of index " +
                                      std::to_string(entries[i].index) + " is not finite");
    }
  }
  return Status::ok();
}

std::uint32_t SparseIndex::id_of(std::uint32_t index) const noexcept {
  if (index < kDenseIndices) return index < dense_ids_.size() ? dense_ids_[index] : kNoDimension;
  const auto it = sparse_ids_.find(index);
  return it == sparse_ids_.end() ? kNoDimension : it->second;
}

const SparseIndex::Dimension* SparseIndex::find(std::uint32_t index) const noexcept {
  const std::uint32_t id = id_of(index);
  return id == kNoDimension ? nullptr : &dimensions_[id];
}

std::uint32_t SparseIndex::dimension_of(std::uint32_t index) {
  const auto next = static_cast<std::uint32_t>(dimensions_.size());
  std::uint32_t* id = nullptr;
  if (index < kDenseIndices) {
    if (index >= dense_ids_.size()) dense_ids_.resize(std::size_t{index} + 1, kNoDimension);
    id = &dense_ids_[index];
    if (*id == kNoDimension) *id = next;
  } else {
    id = &sparse_ids_.try_emplace(index, next).first->second;
  }
  if (*id == next) {
    dimensions_.emplace_back();
    dimensions_.back().index = index;
  }
  return *id;
}

void SparseIndex::set_live(std::uint32_t slot, bool live) noexcept {
  const std::uint64_t bit = std::uint64_t{1} << (slot % 64);
  live_[slot / 64] = live ? (live_[slot / 64] | bit) : (live_[slot / 64] & ~bit);
}

void SparseIndex::grow_slots(std::uint64_t count) {
  entry_count_.resize(count, 0);
  live_.resize((count + 63) / 64, 0);
}

Status SparseIndex::add(std::uint32_t slot, std::span<const SparseEntry> entries) {
  if (slot < slot_count()) {
    return Status::invalid_argument("sparse slot " + std::to_string(slot) +
                                    " is not above the last slot added");
  }
  if (Status s = validate_sparse(entries); !s.is_ok()) return s;
  for (const SparseEntry& entry : entries) {
    Dimension& dimension = dimensions_[dimension_of(entry.index)];
    dimension.postings.append(slot, entry.value);
    ++dimension.live_postings;
  }
  grow_slots(std::uint64_t{slot} + 1);
  entry_count_[slot] = static_cast<std::uint32_t>(entries.size());
  set_live(slot, true);
  ++live_count_;
  return Status::ok();
}

Status SparseIndex::remove(std::uint32_t slot, std::span<const SparseEntry> entries) {
  if (!is_live(slot)) {
    return Status::invalid_argument("sparse slot " + std::to_string(slot) + " is not live");
  }
  if (Status s = validate_sparse(entries); !s.is_ok()) return s;
  if (entries.size() != entry_count_[slot]) return disagrees(slot);
  // Distinct indices (they strictly increase), as many as the slot has postings, each found
  // with its value: exactly the slot's postings.
  for (const SparseEntry& entry : entries) {
    const Dimension* dimension = find(entry.index);
    if (dimension == nullptr || dimension->postings.value_of(slot) != entry.value) {
      return disagrees(slot);
    }
  }
  for (const SparseEntry& entry : entries) --dimensions_[id_of(entry.index)].live_postings;
  set_live(slot, false);
  --live_count_;
  return Status::ok();
}

Result<SparseIndex> SparseIndex::compacted(std::span<const std::uint32_t> new_slot_of_old) const {
  Result<std::uint64_t> new_slots =
      compacted_slot_count(new_slot_of_old, slot_count(), "sparse index");
  if (!new_slots.is_ok()) return new_slots.status();
  const auto kept = [&](std::uint32_t slot) {
    return is_live(slot) && new_slot_of_old[slot] != kDropped;
  };
  SparseIndex out;
  out.grow_slots(new_slots.value());
  for (std::uint64_t slot = 0; slot < slot_count(); ++slot) {
    const auto old_slot = static_cast<std::uint32_t>(slot);
    if (!kept(old_slot)) continue;
    const std::uint32_t target = new_slot_of_old[old_slot];
    out.entry_count_[target] = entry_count_[old_slot];
    out.set_live(target, true);
    ++out.live_count_;
  }
  std::uint32_t slots[kBlockPostings];
  float values[kBlockPostings];
  for (const Dimension& dimension : dimensions_) {
    if (dimension.live_postings == 0) continue;
    Dimension copy;
    copy.index = dimension.index;
    const SparsePostings& postings = dimension.postings;
    for (std::size_t block = 0; block < postings.block_count(); ++block) {
      const std::size_t count = postings.decode(block, slots, values);
      for (std::size_t i = 0; i < count; ++i) {
        if (!kept(slots[i])) continue;
        copy.postings.append(new_slot_of_old[slots[i]], values[i]);
        ++copy.live_postings;
      }
    }
    if (copy.live_postings == 0) continue;
    copy.postings.shrink_to_fit();
    const std::uint32_t id = out.dimension_of(dimension.index);
    out.dimensions_[id] = std::move(copy);
  }
  return out;
}

Status SparseIndex::check() const {
  if (live_.size() != (slot_count() + 63) / 64) return corrupt("live set size");
  std::uint64_t live = 0;
  for (std::uint64_t slot = 0; slot < slot_count(); ++slot) {
    live += is_live(static_cast<std::uint32_t>(slot));
  }
  if (slot_count() % 64 != 0 && !live_.empty() && (live_.back() >> (slot_count() % 64)) != 0) {
    return corrupt("live bits past the last slot");
  }
  if (live != live_count_) return corrupt("live count");

  // The lookup: every dimension found by its index, and nothing else in the table or the map.
  if (dense_ids_.size() > kDenseIndices) return corrupt("dense table size");
  std::size_t mapped = sparse_ids_.size();
  for (const std::uint32_t id : dense_ids_) {
    if (id == kNoDimension) continue;
    if (id >= dimensions_.size()) return corrupt("dense table entry");
    ++mapped;
  }
  for (const auto& [index, id] : sparse_ids_) {
    if (index < kDenseIndices || id >= dimensions_.size()) return corrupt("hash map entry");
  }
  if (mapped != dimensions_.size()) return corrupt("dimension lookup size");

  std::vector<std::uint64_t> entries(slot_count(), 0);
  std::uint32_t slots[kBlockPostings];
  float values[kBlockPostings];
  for (const Dimension& dimension : dimensions_) {
    const std::string name = dimension_name(dimension.index);
    if (find(dimension.index) != &dimension) return corrupt("lookup of " + name);
    const SparsePostings& postings = dimension.postings;
    if (postings.empty()) return corrupt(name + " has no postings");
    std::uint64_t next_slot = 0;
    std::uint64_t seen = 0;
    std::uint32_t live_postings = 0;
    float list_max = 0;
    float list_min = 0;
    for (std::size_t block = 0; block < postings.block_count(); ++block) {
      const std::size_t count = postings.decode(block, slots, values);
      if (count == 0 || (block + 1 < postings.block_count() && count != kBlockPostings)) {
        return corrupt("block size of " + name);
      }
      SparseBlockSkip skip{slots[count - 1], values[0], values[0]};
      for (std::size_t i = 0; i < count; ++i) {
        if (slots[i] < next_slot || slots[i] >= slot_count() || !std::isfinite(values[i])) {
          return corrupt("posting of " + name);
        }
        next_slot = std::uint64_t{slots[i]} + 1;
        skip.max_value = std::max(skip.max_value, values[i]);
        skip.min_value = std::min(skip.min_value, values[i]);
        list_max = seen == 0 ? values[i] : std::max(list_max, values[i]);
        list_min = seen == 0 ? values[i] : std::min(list_min, values[i]);
        ++seen;
        if (!is_live(slots[i])) continue;
        ++live_postings;
        ++entries[slots[i]];
      }
      if (!(postings.skip(block) == skip)) return corrupt("block skip data of " + name);
    }
    if (seen != postings.size()) return corrupt("posting count of " + name);
    if (list_max != postings.max_value() || list_min != postings.min_value()) {
      return corrupt("value range of " + name);
    }
    if (live_postings != dimension.live_postings) return corrupt("live postings of " + name);
  }
  for (std::uint64_t slot = 0; slot < slot_count(); ++slot) {
    if (is_live(static_cast<std::uint32_t>(slot)) && entries[slot] != entry_count_[slot]) {
      return corrupt("entry count of slot " + std::to_string(slot));
    }
  }
  return Status::ok();
}

std::size_t SparseIndex::memory_bytes() const noexcept {
  // A hash map node: the next pointer and the (index, id) pair; integer hashes are not cached.
  constexpr std::size_t kNodeBytes = sizeof(void*) + 2 * sizeof(std::uint32_t);
  std::size_t bytes = dense_ids_.capacity() * sizeof(std::uint32_t) +
                      sparse_ids_.bucket_count() * sizeof(void*) +
                      sparse_ids_.size() * kNodeBytes +
                      dimensions_.capacity() * sizeof(Dimension) +
                      entry_count_.capacity() * sizeof(std::uint32_t) +
                      live_.capacity() * sizeof(std::uint64_t);
  for (const Dimension& dimension : dimensions_) bytes += dimension.postings.memory_bytes();
  return bytes;
}

}  // namespace omendb::text
