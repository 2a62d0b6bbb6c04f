// TextIndex::search: block-max WAND (block_max_wand.h) over one cursor per distinct query term,
// scoring BM25.
//
// A posting scores weight / (1 + a / tf + c * length / tf); a block's bound puts its largest tf
// and its smallest length / tf into that (posting_list.h). Bound and score are each a few
// operations on non-negative values, so their rounding errors are a few ulps; the factor
// kBoundSlack on every bound covers them and those of summing terms in another order, so a
// document is never skipped whose computed score would have entered the top k.
#include <algorithm>
#include <map>
#include <span>
#include <vector>

#include "text/block_max_wand.h"
#include "text/text_index.h"
#include "text/top_hits.h"

namespace omendb::text {
namespace {

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

// A position in one term's postings; its values are tfs.
using Cursor = BlockCursor<PostingList, std::uint32_t>;

// The block-max WAND loop. `accept(slot)` filters live slots; it is inlined for the unfiltered
// search.
template <class Accept>
void wand(std::vector<Cursor>& cursors, const Scorer& score, const TextIndex& index,
          const Accept& accept, TopHits& top, SearchStats& stats) {
  const auto block_bound = [&score](const Cursor& c, const BlockSkip& skip) {
    return score.bound(c.weight, skip);
  };
  const auto evaluate = [&](std::uint32_t slot, std::span<Cursor* const> at_slot) {
    if (!index.is_live(slot) || !accept(slot)) return;
    const std::uint32_t length = index.document_length(slot);
    double sum = 0;
    for (const Cursor* c : at_slot) sum += score(c->weight, c->value(), length);
    stats.postings_scored += at_slot.size();
    ++stats.documents_scored;
    top.push(sum, slot);
  };
  block_max_wand(cursors, block_bound, evaluate, top, stats);
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
