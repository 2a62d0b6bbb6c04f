// A set of slots that empties in O(1): each slot holds the epoch it was last marked in, and
// clearing starts a new epoch. The marks are wiped only once every 65,535 clears.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace omendb {

class VisitedSet {
 public:
  // Empties the set and makes room for slots [0, slots). Cost: O(1), or O(slots) when it grows or
  // once every 65,535 calls. Allocates only when `slots` exceeds every earlier call's.
  void clear(std::size_t slots) {
    if (marks_.size() < slots) marks_.resize(std::max(slots, marks_.size() * 3 / 2), 0);
    if (++epoch_ == 0) {
      std::fill(marks_.begin(), marks_.end(), std::uint16_t{0});
      epoch_ = 1;
    }
  }

  // Marks `slot` and says whether it was marked already. Precondition: slot < the last clear()'s
  // `slots`.
  bool insert(std::uint32_t slot) noexcept {
    std::uint16_t& mark = marks_[slot];
    const bool seen = mark == epoch_;
    mark = epoch_;
    return !seen;
  }

  bool contains(std::uint32_t slot) const noexcept { return marks_[slot] == epoch_; }

  // The address of slot's mark, for prefetching.
  const void* address_of(std::uint32_t slot) const noexcept { return &marks_[slot]; }

 private:
  std::vector<std::uint16_t> marks_;
  std::uint16_t epoch_ = 0;
};

}  // namespace omendb
