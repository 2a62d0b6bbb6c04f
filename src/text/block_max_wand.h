// Block-max WAND (Ding and Suel, SIGIR 2011) over one cursor per distinct query term, shared by
// TextIndex::search (BM25 over PostingList) and SparseIndex::search (inner product over
// SparsePostings). What differs between them, a block's score bound and a document's score, is
// passed in; the traversal is here.
//
// The cursors are kept sorted by their current slot. Each round finds the pivot: the first
// cursor at which the sum of the list-wide score bounds exceeds the k-th best score so far
// (theta); slots before the pivot's cannot make the top k. The bounds of the blocks holding the
// pivot's slot (from their skip data) then either allow it (every cursor is moved to it and the
// document is scored) or rule out every slot up to the end of the nearest block, which all the
// cursors up to the pivot then skip without decoding. Only the cursors up to the pivot move in a
// round, so only they are re-sorted, each moved past the cursors it overtook: a round costs
// O(pivot + the distance moved), not O(query terms), which matters for long sparse queries.
//
// Both tests compare a sum of bounds with theta, so every bound must be >= 0: a document holds
// only some of the lists a prefix of cursors covers, and its score is at most the sum of the
// bounds of those it holds, which is at most the prefix's sum only when no bound is negative.
// Callers make bounds at least the computed score of any posting, rounding included (they
// multiply by kBoundSlack), so a document is never skipped whose computed score would have
// entered the top k.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "text/bm25.h"
#include "text/posting_block.h"
#include "text/top_hits.h"

namespace omendb::text {

// A cursor's slot once its list is exhausted: past every slot.
inline constexpr std::uint64_t kEndSlot = std::uint64_t{1} << 32;
// Relative slack on score bounds: covers the few ulps by which a computed score may exceed the
// exact one, and those of summing terms in another order.
inline constexpr double kBoundSlack = 1 + 1e-9;

// A position in one term's postings: the decoded current block and an index into it. `List`
// provides block_count(), skip(block).last_slot, find_block(from, slot) and
// decode(block, slots, values) -> count, as PostingList (values: tfs) and SparsePostings
// (values: weights) do.
template <class List, class Value>
struct BlockCursor {
  const List* list = nullptr;
  double weight = 0;  // the query's weight of the term
  double bound = 0;   // >= 0, at least any score in the list, slack included
  std::size_t block = 0;
  std::size_t count = 0;  // postings decoded from `block`
  std::size_t position = 0;
  std::uint64_t slot = kEndSlot;  // the current posting's slot; kEndSlot when exhausted
  std::array<std::uint32_t, kBlockPostings> slots;
  std::array<Value, kBlockPostings> values;

  // Decodes block `b` (none past the last) and moves to its first posting.
  void load(std::size_t b, SearchStats& stats) {
    block = b;
    position = 0;
    count = b < list->block_count() ? list->decode(b, slots.data(), values.data()) : 0;
    stats.blocks_decoded += count != 0;
    slot = count != 0 ? slots[0] : kEndSlot;
  }

  // The current posting's value. Precondition: slot != kEndSlot.
  Value value() const noexcept { return values[position]; }

  void next(SearchStats& stats) {
    if (++position < count) {
      slot = slots[position];
    } else {
      load(block + 1, stats);
    }
  }

  // Moves to the first posting at or after `target`, decoding only the block that holds it.
  void advance(std::uint64_t target, SearchStats& stats) {
    if (slot >= target) return;
    if (target > list->skip(block).last_slot) {
      if (target >= kEndSlot) {
        slot = kEndSlot;
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

// Runs block-max WAND over `cursors`, each loaded at its first block with its list-wide bound
// set. block_bound(cursor, skip) -> double >= 0 bounds, slack included, the score of any posting
// of the block with that skip data. evaluate(slot, at_slot) is called once per candidate slot,
// in increasing slot order, with the cursors positioned on it (at_slot: those cursors, in their
// order in `cursors`, so that a caller summing over them sums in a fixed order); it scores the
// slot if it wishes and pushes it to `top`, whose threshold() is theta.
template <class Cursor, class BlockBound, class Evaluate>
void block_max_wand(std::vector<Cursor>& cursors, const BlockBound& block_bound,
                    const Evaluate& evaluate, const TopHits& top, SearchStats& stats) {
  std::vector<Cursor*> order;
  order.reserve(cursors.size());
  for (Cursor& cursor : cursors) order.push_back(&cursor);
  const std::size_t m = order.size();
  // Restores the slot order after the cursors order[0, moved) advanced, given order[moved, m)
  // is still sorted: from the last moved one down, each is moved right past the cursors it
  // overtook, which leaves order[i, m) sorted.
  const auto resort = [&order, m](std::size_t moved) {
    for (std::size_t i = moved; i-- > 0;) {
      Cursor* const cursor = order[i];
      std::size_t j = i;
      for (; j + 1 < m && order[j + 1]->slot < cursor->slot; ++j) order[j] = order[j + 1];
      order[j] = cursor;
    }
  };
  resort(m);
  while (true) {
    const double theta = top.threshold();
    double bound = 0;
    std::size_t pivot = m;
    for (std::size_t i = 0; i < m && order[i]->slot != kEndSlot; ++i) {
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
    double block_sum = 0;
    std::uint64_t skip_to = pivot + 1 < m ? order[pivot + 1]->slot : kEndSlot;
    for (std::size_t i = 0; i <= pivot; ++i) {
      const Cursor& c = *order[i];
      const std::size_t b = pivot_slot <= c.list->skip(c.block).last_slot
                                ? c.block
                                : c.list->find_block(c.block + 1,
                                                     static_cast<std::uint32_t>(pivot_slot));
      if (b == c.list->block_count()) continue;  // nothing at or after the pivot
      const auto& skip = c.list->skip(b);
      block_sum += block_bound(c, skip);
      skip_to = std::min(skip_to, std::uint64_t{skip.last_slot} + 1);
    }
    if (!(block_sum > theta)) {
      for (std::size_t i = 0; i <= pivot; ++i) order[i]->advance(skip_to, stats);
      resort(pivot + 1);
      continue;
    }
    if (order[0]->slot != pivot_slot) {
      std::size_t moved = 0;
      for (; moved < pivot && order[moved]->slot < pivot_slot; ++moved) {
        order[moved]->advance(pivot_slot, stats);
      }
      resort(moved);
      continue;
    }
    // Every cursor on the slot is in order[0, pivot]; in their order in `cursors` for evaluate.
    std::sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(pivot + 1),
              std::less<Cursor*>());
    evaluate(static_cast<std::uint32_t>(pivot_slot),
             std::span<Cursor* const>(order.data(), pivot + 1));
    for (std::size_t i = 0; i <= pivot; ++i) order[i]->next(stats);
    resort(pivot + 1);
  }
}

}  // namespace omendb::text
