// The sparse-vector index of a collection: for every dimension (a u32 index, such as a SPLADE
// vocabulary id), the slots whose vector has an entry there and its value (a SparsePostings:
// slots bit-packed in blocks of 128, values raw floats, per-block last slot and largest and
// smallest value), plus each slot's entry count, so that a query's top k slots by inner product
// are found with block-max WAND (block_max_wand.h) without scoring every match.
//
// Vectors are lists of (index, value) entries, indices strictly increasing, values finite (of
// any sign; zeros are kept and match). They are identified by the collection's slots, which are
// added in strictly increasing order. A removed slot stays in the postings, skipped by searches,
// until compacted() drops it.
//
// Dimensions are found by index through a table for indices below kDenseIndices (4 bytes per
// index up to the largest seen there) and a hash map above it, so any u32 index is accepted and
// a bulk rebuild, adds in slot order, does no hashing for vocabulary-sized indices.
//
// Not persisted: the database keeps the rows and rebuilds the index from them when it opens.
//
// Thread safety: none inside. Const methods (search) change nothing, so any number of threads
// may call them at once; add() and remove() need exclusive access.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <unordered_map>
#include <vector>

#include "omendb/status.h"
#include "text/bm25.h"
#include "text/slot_map.h"
#include "text/sparse_postings.h"

namespace omendb::text {

// One entry of a sparse vector.
struct SparseEntry {
  std::uint32_t index;
  float value;
  friend bool operator==(const SparseEntry&, const SparseEntry&) = default;
};

// Ok, or kInvalidArgument naming the first problem: "sparse vector: indices must strictly
// increase (index 7 after 9)" or "sparse vector: value of index 12 is not finite". An empty
// vector is valid. Cost: one pass.
Status validate_sparse(std::span<const SparseEntry> entries);

class SparseIndex {
 public:
  // compacted(): the new slot of a slot that is dropped.
  static constexpr std::uint32_t kDropped = kDroppedSlot;
  // Indices below this are found through a table, the others through a hash map.
  static constexpr std::uint32_t kDenseIndices = std::uint32_t{1} << 18;

  // A search filter: whether a live slot may be returned.
  using SlotFilter = std::function<bool(std::uint32_t)>;

  // Indexes `entries` as the vector of `slot`, which becomes live. kInvalidArgument, changing
  // nothing, unless slot >= slot_count() (slots only grow) and validate_sparse() accepts the
  // entries. An empty vector is a live slot that matches nothing. Cost: per entry a lookup and an
  // amortised O(1) append, no hashing for an index below kDenseIndices (measured on a bulk build
  // of 100,000 vectors of 91 entries over 30,000 Zipf dimensions: 38 ns an entry, 70 with every
  // index hashed). Memory per entry: the raw value (4 bytes) and the slot, bit-packed by gap in
  // full blocks (1 to 2 bytes for frequent dimensions) or plain in a list's open tail, plus the
  // lists' spare capacity (that build: 8.9 bytes an entry, 6.2 once compacted); about 160 bytes
  // per dimension; 4 bytes and 1 bit per slot up to `slot`.
  Status add(std::uint32_t slot, std::span<const SparseEntry> entries);

  // Makes `slot` dead; its postings stay, skipped, until compacted(). `entries` must be what
  // add() got for it (values compared with ==); kInvalidArgument, changing nothing, when the slot
  // is not live or the entries disagree with its postings. Cost: per entry a lookup and one block
  // decoded.
  Status remove(std::uint32_t slot, std::span<const SparseEntry> entries);

  // The top `k` live slots that share at least one index with `query` (validated like add's
  // entries; kInvalidArgument otherwise), by inner product sum(query.value * stored.value) over
  // the shared indices, best first, ties broken by the smaller slot; a slot sharing only zero
  // products scores 0 and is a match. The sum is taken in double in increasing index order (each
  // product is exact), so it equals that plain loop bit for bit; it is reported as float.
  // `accept`, when set, is asked only about live slots that could enter the top k, each at most
  // once, in increasing slot order; an empty one accepts every slot. `hits` is replaced; so is
  // `stats`, when given. Cost: block-max WAND: blocks whose bound cannot reach the current k-th
  // score are skipped unread; O(k) memory plus about 1 KiB per query entry that has postings.
  Status search(std::span<const SparseEntry> query, std::size_t k, const SlotFilter& accept,
                std::vector<TextHit>& hits, SearchStats* stats = nullptr) const;

  // A new index with slot s renumbered to new_slot_of_old[s], or dropped where that is kDropped;
  // dead slots' postings, and dimensions left without postings, are dropped physically.
  // kInvalidArgument unless new_slot_of_old covers slot_count() slots and its kept entries
  // strictly increase (relative order is kept). Cost: one pass over the postings; the result's
  // memory, without spare capacity.
  Result<SparseIndex> compacted(std::span<const std::uint32_t> new_slot_of_old) const;

  // Recomputes every count, list and block skip from the postings and checks them, with the
  // orders and the dimension lookup, against what the index keeps; kCorruption naming the first
  // difference. For tests and fuzzing. Cost: one pass over the postings.
  Status check() const;

  // One past the highest slot added, or as compacted() set it.
  std::uint64_t slot_count() const noexcept { return entry_count_.size(); }
  // Live slots.
  std::uint32_t live_count() const noexcept { return live_count_; }
  bool is_live(std::uint32_t slot) const noexcept {
    return slot < entry_count_.size() && ((live_[slot / 64] >> (slot % 64)) & 1) != 0;
  }
  // Dimensions with postings, including any whose slots are all removed (until compacted).
  std::size_t dimension_count() const noexcept { return dimensions_.size(); }

  // Heap bytes held, about. Cost: O(dimensions).
  std::size_t memory_bytes() const noexcept;

 private:
  struct Dimension {
    std::uint32_t index = 0;         // the vectors' index this dimension is
    std::uint32_t live_postings = 0; // postings of live slots
    SparsePostings postings;
  };
  // dense_ids_: no dimension for this index.
  static constexpr std::uint32_t kNoDimension = UINT32_MAX;

  // The position in dimensions_ of `index`'s dimension, kNoDimension if none.
  std::uint32_t id_of(std::uint32_t index) const noexcept;
  // The dimension of `index`, nullptr if none.
  const Dimension* find(std::uint32_t index) const noexcept;
  // The position in dimensions_ of `index`'s dimension, created empty if none.
  std::uint32_t dimension_of(std::uint32_t index);
  // Sets whether `slot` < slot_count() is live.
  void set_live(std::uint32_t slot, bool live) noexcept;
  // Grows the slot arrays to `count` slots.
  void grow_slots(std::uint64_t count);

  std::vector<std::uint32_t> dense_ids_;  // index < kDenseIndices -> position in dimensions_
  std::unordered_map<std::uint32_t, std::uint32_t> sparse_ids_;  // the other indices
  std::vector<Dimension> dimensions_;
  std::vector<std::uint32_t> entry_count_;  // by slot; kept for dead slots until compacted
  std::vector<std::uint64_t> live_;         // bit per slot
  std::uint32_t live_count_ = 0;
};

}  // namespace omendb::text
