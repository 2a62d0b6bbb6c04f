// The slot maps that TextIndex::compacted and SparseIndex::compacted take: new_slot_of_old[s] is
// the new slot of old slot s, or kDroppedSlot where s is dropped.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "omendb/status.h"

namespace omendb::text {

// A slot map's entry for a slot that compaction drops.
inline constexpr std::uint32_t kDroppedSlot = UINT32_MAX;

// The slot count of an index of `slots` slots compacted through `new_slot_of_old`: one past its
// largest kept new slot (0 when it keeps none). kInvalidArgument unless the map covers the
// `slots` slots and its kept entries strictly increase (compaction keeps the slots' order);
// `index` names the index in messages ("text index"). Cost: O(slots).
inline Result<std::uint64_t> compacted_slot_count(std::span<const std::uint32_t> new_slot_of_old,
                                                  std::uint64_t slots, std::string_view index) {
  if (new_slot_of_old.size() < slots) {
    return Status::invalid_argument("the slot map has fewer entries than the " +
                                    std::string(index) + "'s slots");
  }
  std::uint64_t next = 0;  // one past the last kept new slot
  for (std::uint64_t slot = 0; slot < slots; ++slot) {
    const std::uint32_t target = new_slot_of_old[slot];
    if (target == kDroppedSlot) continue;
    if (target < next) return Status::invalid_argument("the slot map does not keep slot order");
    next = std::uint64_t{target} + 1;
  }
  return next;
}

}  // namespace omendb::text
