// TextIndex::search: block-max WAND (Ding and Suel, SIGIR 2011) over one cursor per distinct
// query term.
//
// Each round sorts the cursors by their current slot and finds the pivot: the first cursor at
// which the sum of the list-wide score bounds exceeds the k-th best score so far (theta); slots
// before the pivot's cannot make the top k. The bounds of the blocks holding the pivot's slot
// (from their skip data, scored at the current avgdl) then either allow it (every cursor is
// moved to it and the document is scored) or rule out every slot up to the end of the nearest
// block, which all the cursors up to the pivot then skip without decoding.
//
// A posting scores weight / (1 + a / tf + c * length / tf); a block's bound puts its largest tf
// and its smallest length / tf into that (posting_list.h). Bound and score are each a few
// operations on non-negative values, so their rounding errors are a few ulps; the factor
// kBoundSlack on every bound covers them and those of summing terms in another order, so a
// document is never skipped whose computed score would have entered the top k.
#include <algorithm>
#include <array>
#include <limits>
#include <map>

#include "text/text_index.h"

namespace omendb::text {
namespace {

constexpr std::uint64_t kEnd = std::uint64_t{1} << 32;  // past every slot
constexpr double kBoundSlack = 1 + 1e-9;

// BM25's term score as a function of tf and document length, for one query.
struct Scorer {
  double a;  // k1 * (1 - b)
  double c;  // k1 * b / avgdl

  double operator()(double weight, std::uint32_t tf, std::uint32_t length) const noexcept {
    const double saturation = a + c * static_cast<double>(length);
    return weight / (1.0 + saturation / static_cast<double>(tf));
  }

  // At least the score of any posting in a block with this skip data, slack included.
  double bound(double weight, const BlockSkip& skip) const noexcept {
    const double saturation = a / static_cast<double>(skip.max_tf) +
                              c * static_cast<double>(skip.ratio_length) /
                                  static_cast<double>(skip.ratio_tf);
    return weight / (1.0 + saturation) * kBoundSlack;
  }
};

// A position in one term's postings: the decoded current block and an index into it.
struct Cursor {
  const PostingList* list = nullptr;
  double weight = 0;     // occurrences in the query x idf
  double bound = 0;      // of any score in the list, slack included
  std::size_t block = 0;
  std::size_t count = 0;  // postings decoded from `block`
  std::size_t position = 0;
  std::uint64_t slot = kEnd;  // the current posting's slot; kEnd when exhausted
  std::array<std::uint32_t, kBlockPostings> slots;
  std::array<std::uint32_t, kBlockPostings> tfs;

  void load(std::size_t b, SearchStats& stats) {
    block = b;
    position = 0;
    count = b < list->block_count() ? list->decode(b, slots.data(), tfs.data()) : 0;
    stats.blocks_decoded += count != 0;
    slot = count != 0 ? slots[0] : kEnd;
  }

  std::uint32_t tf() const noexcept { return tfs[position]; }

  void next(SearchStats& stats) {
    if (++position < count) {
      slot = slots[position];
    } else {
      load(block + 1, stats);
    }
  }

  // Moves to the first posting at or after `target`.
  void advance(std::uint64_t target, SearchStats& stats) {
    if (slot >= target) return;
    if (target > list->skip(block).last_slot) {
      if (target >= kEnd) {
        slot = kEnd;
        return;
      }
      load(list->find_block(block + 1, static_cast<std::uint32_t>(target)), stats);
      if (slot >= target) return;
    }
    position = static_cast<std::size_t>(
        std::lower_bound(slots.begin() + position, slots.begin() + count, target) - slots.begin());
    slot = slots[position];
  }
};

// The k best (score, slot) pairs seen, as a heap whose top is the worst kept.
class TopHits {
 public:
  explicit TopHits(std::size_t k) : k_(k) { heap_.reserve(k); }

  // The score a new, larger slot must exceed to be kept.
  double threshold() const noexcept {
    return heap_.size() < k_ ? -std::numeric_limits<double>::infinity() : heap_.front().score;
  }

  void push(double score, std::uint32_t slot) {
    if (heap_.size() < k_) {
      heap_.push_back({score, slot});
      std::push_heap(heap_.begin(), heap_.end(), better);
    } else if (better({score, slot}, heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), better);
      heap_.back() = {score, slot};
      std::push_heap(heap_.begin(), heap_.end(), better);
    }
  }

  // Writes the kept hits best first by their float scores (distinct doubles may round to one
  // float), ties by smaller slot.
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

// The block-max WAND loop. `accept(slot)` filters live slots; it is inlined for the unfiltered
// search.
template <class Accept>
void wand(std::vector<Cursor>& cursors, const Scorer& score, const TextIndex& index,
          const Accept& accept, TopHits& top, SearchStats& stats) {
  std::vector<Cursor*> order;
  for (Cursor& cursor : cursors) order.push_back(&cursor);
  const auto by_slot = [](const Cursor* x, const Cursor* y) { return x->slot < y->slot; };
  const std::size_t m = order.size();
  while (true) {
    // Insertion sort: the order changes little between rounds.
    for (std::size_t i = 1; i < m; ++i) {
      for (std::size_t j = i; j > 0 && by_slot(order[j], order[j - 1]); --j) {
        std::swap(order[j], order[j - 1]);
      }
    }
    const double theta = top.threshold();
    double bound = 0;
    std::size_t pivot = m;
    for (std::size_t i = 0; i < m && order[i]->slot != kEnd; ++i) {
      bound += order[i]->bound;
      if (bound > theta) {
        pivot = i;
        break;
      }
    }
    if (pivot == m) return;
    const std::uint64_t pivot_slot = order[pivot]->slot;
    while (pivot + 1 < m && order[pivot + 1]->slot == pivot_slot) ++pivot;

    // Block bounds at the pivot slot, and the first slot past the blocks they cover.
    double block_bound = 0;
    std::uint64_t skip_to = pivot + 1 < m ? order[pivot + 1]->slot : kEnd;
    for (std::size_t i = 0; i <= pivot; ++i) {
      const Cursor& c = *order[i];
      const std::size_t b = pivot_slot <= c.list->skip(c.block).last_slot
                                ? c.block
                                : c.list->find_block(c.block + 1,
                                                     static_cast<std::uint32_t>(pivot_slot));
      if (b == c.list->block_count()) continue;  // nothing at or after the pivot
      const BlockSkip& skip = c.list->skip(b);
      block_bound += score.bound(c.weight, skip);
      skip_to = std::min(skip_to, std::uint64_t{skip.last_slot} + 1);
    }
    if (!(block_bound > theta)) {
      for (std::size_t i = 0; i <= pivot; ++i) order[i]->advance(skip_to, stats);
      continue;
    }
    if (order[0]->slot != pivot_slot) {
      for (std::size_t i = 0; i < pivot && order[i]->slot < pivot_slot; ++i) {
        order[i]->advance(pivot_slot, stats);
      }
      continue;
    }
    const auto slot = static_cast<std::uint32_t>(pivot_slot);
    if (index.is_live(slot) && accept(slot)) {
      const std::uint32_t length = index.document_length(slot);
      double sum = 0;
      for (std::size_t i = 0; i <= pivot; ++i) {
        sum += score(order[i]->weight, order[i]->tf(), length);
      }
      stats.postings_scored += pivot + 1;
      ++stats.documents_scored;
      top.push(sum, slot);
    }
    for (std::size_t i = 0; i <= pivot; ++i) order[i]->next(stats);
  }
}

}  // namespace

Status TextIndex::search(std::span<const std::string> query_terms, std::size_t k,
                         const Bm25Params& params, std::vector<TextHit>& hits,
                         SearchStats* stats) const {
  return search(query_terms, k, params, SlotFilter(), hits, stats);
}

Status TextIndex::search(std::span<const std::string> query_terms, std::size_t k,
                         const Bm25Params& params, const SlotFilter& accept,
                         std::vector<TextHit>& hits, SearchStats* stats) const {
  hits.clear();
  SearchStats local;
  SearchStats& counts = stats != nullptr ? *stats : local;
  counts = SearchStats();
  if (Status s = params.validate(); !s.is_ok()) return s;
  if (k == 0 || live_count_ == 0 || total_length_ == 0) return Status::ok();

  // Distinct known terms with live documents, each with its number of occurrences.
  std::map<std::uint32_t, std::uint32_t> occurrences;
  for (const std::string& text : query_terms) {
    const auto it = ids_.find(text);
    if (it != ids_.end() && terms_[it->second].live_documents != 0) ++occurrences[it->second];
  }
  if (occurrences.empty()) return Status::ok();

  const double avgdl = static_cast<double>(total_length_) / live_count_;
  const double k1 = params.k1;
  const double b = params.b;
  const Scorer score{k1 * (1 - b), k1 * b / avgdl};
  std::vector<Cursor> cursors(occurrences.size());
  std::size_t i = 0;
  for (const auto& [id, count] : occurrences) {
    Cursor& c = cursors[i++];
    c.list = &terms_[id].postings;
    c.weight = count * bm25_idf(live_count_, terms_[id].live_documents);
    for (std::size_t block = 0; block < c.list->block_count(); ++block) {
      c.bound = std::max(c.bound, score.bound(c.weight, c.list->skip(block)));
    }
    c.load(0, counts);
  }
  TopHits top(std::min<std::size_t>(k, live_count_));  // no more hits than live documents
  if (accept) {
    wand(cursors, score, *this, accept, top, counts);
  } else {
    wand(cursors, score, *this, [](std::uint32_t) { return true; }, top, counts);
  }
  top.write(hits);
  return Status::ok();
}

}  // namespace omendb::text
