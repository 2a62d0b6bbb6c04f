// The k best (score, slot) pairs of a search that visits slots in increasing order, as a heap
// whose top is the worst kept. Shared by TextIndex (BM25) and SparseIndex (inner product).
//
// Scores are kept in double and ranked by it, higher first, ties by the smaller slot; write()
// reports them as float. A slot pushed after the heap is full enters only with a score above
// threshold(): as slots come in increasing order, a later slot never wins a tie.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "text/bm25.h"

namespace omendb::text {

class TopHits {
 public:
  // Keeps at most `k` hits. Cost: memory for k entries, reserved here.
  explicit TopHits(std::size_t k) : k_(k) { heap_.reserve(k); }

  // The score a new, larger slot must exceed to be kept; -infinity while fewer than k are kept.
  double threshold() const noexcept {
    return heap_.size() < k_ ? -std::numeric_limits<double>::infinity() : heap_.front().score;
  }

  // Offers a hit; it replaces the worst kept one when better. Cost: O(log k).
  void push(double score, std::uint32_t slot) {
    if (heap_.size() < k_) {
      heap_.push_back({score, slot});
      std::push_heap(heap_.begin(), heap_.end(), better);
    } else if (k_ != 0 && better({score, slot}, heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), better);
      heap_.back() = {score, slot};
      std::push_heap(heap_.begin(), heap_.end(), better);
    }
  }

  // Writes the kept hits best first by their float scores (distinct doubles may round to one
  // float), ties by smaller slot; `hits` is replaced. Cost: O(k log k).
  void write(std::vector<TextHit>& hits) const {
    hits.clear();
    for (const Entry& e : heap_) hits.push_back({e.slot, static_cast<float>(e.score)});
    std::sort(hits.begin(), hits.end(), [](const TextHit& x, const TextHit& y) {
      return x.score > y.score || (x.score == y.score && x.slot < y.slot);
    });
  }

 private:
  struct Entry {
    double score;
    std::uint32_t slot;
  };
  // Higher score first, then smaller slot: the heap's front is the worst entry.
  static bool better(const Entry& x, const Entry& y) noexcept {
    return x.score > y.score || (x.score == y.score && x.slot < y.slot);
  }

  std::size_t k_;
  std::vector<Entry> heap_;
};

}  // namespace omendb::text
