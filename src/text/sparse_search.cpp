// SparseIndex::search: block-max WAND (block_max_wand.h) over one cursor per query entry whose
// dimension has live postings, scoring inner products.
//
// A posting contributes q * v for the query's weight q and its value v, each of either sign.
// Over values in [min, max] (a block's, or the whole list's), q * v is at most
// max(q * max, q * min), and the bound used is max(0, q * max, q * min). The clipping at 0 is
// what WAND's sums need: the pivot test sums the bounds of a prefix of the cursors, while a
// document holds only some of those lists and scores at most the sum of the bounds of those: a
// list it lacks adds 0 to its score, not that list's bound. With a negative bound in the prefix,
// the prefix's sum could be below what such a document scores, and the document would be skipped
// although it belongs in the top k; with none, every prefix sum is monotone and bounds the score
// of every document among its lists. (Nor does the clipping cost pruning: a document may lack
// any of the lists, so a bound over documents must allow a contribution of 0 anyway.)
//
// Rounding: a product of two floats is exact in double, and a document's score sums its n
// products in increasing index order; by the standard bound on recursive summation that sum is,
// to first order, at most (1 + n * 2^-53) times P, the exact sum of its positive products, and P
// is at most the exact sum of the bounds of its lists. The bounds, each multiplied by
// kBoundSlack (1 + 1e-9), are summed with a relative error of at most m * 2^-53 for m cursors.
// So while n + m stays below about 9 million, a document whose computed score exceeds theta
// always has a computed bound sum above theta, and is never skipped.
#include <algorithm>
#include <span>
#include <vector>

#include "text/block_max_wand.h"
#include "text/sparse_index.h"
#include "text/top_hits.h"

namespace omendb::text {
namespace {

// A position in one dimension's postings; its values are the stored weights.
using Cursor = BlockCursor<SparsePostings, float>;

// At least weight * v for every v in [min_value, max_value], and at least 0, slack included.
double bound(double weight, float max_value, float min_value) noexcept {
  return std::max({0.0, weight * max_value, weight * min_value}) * kBoundSlack;
}

// The block-max WAND loop. `accept(slot)` filters live slots; it is inlined for the unfiltered
// search.
template <class Accept>
void wand(std::vector<Cursor>& cursors, const SparseIndex& index, const Accept& accept,
          TopHits& top, SearchStats& stats) {
  const auto block_bound = [](const Cursor& c, const SparseBlockSkip& skip) {
    return bound(c.weight, skip.max_value, skip.min_value);
  };
  const auto evaluate = [&](std::uint32_t slot, std::span<Cursor* const> at_slot) {
    if (!index.is_live(slot) || !accept(slot)) return;
    // In the cursors' order, increasing index: a slot's score does not depend on the traversal.
    double sum = 0;
    for (const Cursor* c : at_slot) sum += c->weight * c->value();
    stats.postings_scored += at_slot.size();
    ++stats.documents_scored;
    top.push(sum, slot);
  };
  block_max_wand(cursors, block_bound, evaluate, top, stats);
}

}  // namespace

Status SparseIndex::search(std::span<const SparseEntry> query, std::size_t k,
                           const SlotFilter& accept, std::vector<TextHit>& hits,
                           SearchStats* stats) const {
  hits.clear();
  SearchStats local;
  SearchStats& counts = stats != nullptr ? *stats : local;
  counts = SearchStats();
  if (Status s = validate_sparse(query); !s.is_ok()) return s;
  if (k == 0 || live_count_ == 0) return Status::ok();

  // The query's dimensions with live postings, in increasing index order.
  std::vector<const Dimension*> dimensions;
  std::vector<double> weights;
  for (const SparseEntry& entry : query) {
    const Dimension* dimension = find(entry.index);
    if (dimension == nullptr || dimension->live_postings == 0) continue;
    dimensions.push_back(dimension);
    weights.push_back(entry.value);
  }
  if (dimensions.empty()) return Status::ok();

  std::vector<Cursor> cursors(dimensions.size());
  for (std::size_t i = 0; i < cursors.size(); ++i) {
    Cursor& c = cursors[i];
    c.list = &dimensions[i]->postings;
    c.weight = weights[i];
    c.bound = bound(c.weight, c.list->max_value(), c.list->min_value());
    c.load(0, counts);
  }
  TopHits top(std::min<std::size_t>(k, live_count_));  // no more hits than live slots
  if (accept) {
    wand(cursors, *this, accept, top, counts);
  } else {
    wand(cursors, *this, [](std::uint32_t) { return true; }, top, counts);
  }
  top.write(hits);
  return Status::ok();
}

}  // namespace omendb::text
