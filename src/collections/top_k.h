// The k nearest of the candidates pushed so far: a max-heap on distance whose capacity is fixed
// per use, so the worst kept candidate is at the top and a closer one replaces it in O(log k).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

namespace omendb {

struct Neighbor {
  float distance;
  std::uint32_t slot;
  // Orders by distance, then slot, so sorted results are deterministic.
  friend bool operator<(const Neighbor& a, const Neighbor& b) noexcept {
    return a.distance < b.distance || (a.distance == b.distance && a.slot < b.slot);
  }
};

class TopK {
 public:
  // Empties the heap and sets how many neighbours it keeps. Allocates only when `capacity`
  // exceeds every earlier call's.
  void reset(std::size_t capacity) {
    heap_.clear();
    heap_.reserve(capacity);
    capacity_ = capacity;
  }

  std::size_t size() const noexcept { return heap_.size(); }
  bool empty() const noexcept { return heap_.empty(); }
  bool full() const noexcept { return heap_.size() >= capacity_; }

  // Distance a candidate must beat to be kept: the worst kept one when full, +infinity when not
  // full, and -infinity when the capacity is 0 (nothing is ever kept).
  float threshold() const noexcept {
    if (!full()) return std::numeric_limits<float>::infinity();
    return heap_.empty() ? -std::numeric_limits<float>::infinity() : heap_.front().distance;
  }

  // Keeps `candidate` if it is among the `capacity` nearest so far. Cost: O(log k).
  // Returns whether it was kept.
  bool push(Neighbor candidate) {
    if (!full()) {
      heap_.push_back(candidate);
      std::push_heap(heap_.begin(), heap_.end());
      return true;
    }
    if (capacity_ == 0 || !(candidate < heap_.front())) return false;
    std::pop_heap(heap_.begin(), heap_.end());
    heap_.back() = candidate;
    std::push_heap(heap_.begin(), heap_.end());
    return true;
  }

  // Removes the worst kept neighbour. Precondition: !empty().
  void pop_worst() {
    std::pop_heap(heap_.begin(), heap_.end());
    heap_.pop_back();
  }

  // The kept neighbours in heap order (not sorted).
  std::span<const Neighbor> unordered() const noexcept { return heap_; }

  // Sorts the kept neighbours nearest first, in place, and returns them. The heap is empty for
  // push() afterwards only after reset(). Cost: O(k log k).
  std::span<const Neighbor> sort() {
    std::sort_heap(heap_.begin(), heap_.end());
    return heap_;
  }

 private:
  std::vector<Neighbor> heap_;
  std::size_t capacity_ = 0;
};

}  // namespace omendb
