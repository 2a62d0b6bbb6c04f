// A set of slots [0, n) as a bitset (n / 8 bytes, so a graph walk's marks stay in the nearest
// caches: 12.5 KiB at 100,000 slots, where a 16-bit epoch per slot took 200 KiB and its lookups
// missed). It remembers which 64-bit words it set, so clearing costs what was inserted, not n.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace omendb {

class VisitedSet {
 public:
  // Empties the set and makes room for slots [0, slots). Cost: O(words inserted into since the
  // last clear), or one memset of the bitset when that is cheaper. Allocates only when `slots`
  // exceeds every earlier call's.
  void clear(std::size_t slots) {
    if (touched_count_ * kWipeRatio > words_.size()) {
      std::fill(words_.begin(), words_.end(), std::uint64_t{0});
    } else {
      for (std::size_t i = 0; i < touched_count_; ++i) words_[touched_[i]] = 0;
    }
    touched_count_ = 0;
    const std::size_t words = (slots + 63) / 64;
    if (words_.size() < words) {
      const std::size_t grown = std::max(words, words_.size() * 3 / 2);
      words_.resize(grown, 0);
      touched_.resize(grown);  // a word is recorded once, when its first bit is set
    }
  }

  // Marks `slot` and says whether it was not marked before. Precondition: slot < the last
  // clear()'s `slots`.
  bool insert(std::uint32_t slot) noexcept {
    std::uint64_t& word = words_[slot >> 6];
    const std::uint64_t bit = std::uint64_t{1} << (slot & 63);
    if (word & bit) return false;
    if (word == 0) touched_[touched_count_++] = slot >> 6;
    word |= bit;
    return true;
  }

  bool contains(std::uint32_t slot) const noexcept {
    return (words_[slot >> 6] >> (slot & 63)) & 1;
  }

 private:
  // Clearing wipes the whole bitset once more than 1 word in kWipeRatio was touched.
  static constexpr std::size_t kWipeRatio = 16;

  std::vector<std::uint64_t> words_;
  std::vector<std::uint32_t> touched_;  // indexes of the words set since the last clear
  std::size_t touched_count_ = 0;
};

}  // namespace omendb
