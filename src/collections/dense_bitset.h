// A set of slots as one bit per slot of a fixed universe: membership is a load, a shift and a
// mask. For sets asked about many times, such as the matches of a filter during a graph walk,
// where a compressed set's lookup (a search within a container) would dominate.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace omendb {

class DenseBitset {
 public:
  DenseBitset() = default;
  // The empty set over slots [0, universe). Cost: universe / 8 bytes, zeroed.
  explicit DenseBitset(std::size_t universe) : words_((universe + 63) / 64, 0) {}

  // Precondition: slot < the universe.
  void insert(std::uint32_t slot) noexcept { words_[slot >> 6] |= std::uint64_t{1} << (slot & 63); }

  // False for slots outside the universe.
  bool contains(std::uint32_t slot) const noexcept {
    const std::size_t word = slot >> 6;
    return word < words_.size() && ((words_[word] >> (slot & 63)) & 1) != 0;
  }

 private:
  std::vector<std::uint64_t> words_;
};

}  // namespace omendb
