// The full-text index of a collection: for every term, the slots whose document holds it and how
// often (a PostingList), plus each slot's document length, so that a query's top k documents by
// BM25 (bm25.h) are found with block-max WAND without scoring every match.
//
// Documents are the analyzer's terms (analyzer.h), identified by the collection's slots, which
// are added in strictly increasing order. A removed slot stays in the postings, skipped by
// searches, until compacted() drops it; the statistics (N, document frequencies, the average
// length) always count live documents only, exactly as if removed ones had never been added.
//
// Image (save(), restore()); integers little-endian:
//   image   := magic "OMENDBTX" | version u32 (1) | slots u64 | terms u32
//              | slots x length u32              (a live slot's term count; 0 for the others)
//              | ceil(slots / 64) x live u64     (bit s % 64 of word s / 64: slot s is live;
//                                                 bits at or past `slots` zero)
//              | terms x term                    (bytewise increasing term text)
//   term    := text length u32 (1..255) | text bytes | postings u32 (>= 1)
//              | postings / 128 x block          (posting_block.h)
//              | postings % 128 x (slot u32, tf u32)
// Only live slots have postings (save() leaves removed ones out); each live slot's length is the
// sum of its tfs; `slots` is one past the highest slot ever added (at most 2^32).
//
// Thread safety: none inside. Const methods (search, save) change nothing, so any number of
// threads may call them at once; add() and remove() need exclusive access (the collection holds
// its records lock exclusively when writing).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "omendb/status.h"
#include "text/bm25.h"
#include "text/posting_list.h"
#include "text/slot_map.h"

namespace omendb::text {

inline constexpr std::string_view kTextIndexMagic = "OMENDBTX";
inline constexpr std::uint32_t kTextIndexFormatVersion = 1;
// Magic, version, slots, terms.
inline constexpr std::size_t kTextIndexHeaderBytes = 8 + 4 + 8 + 4;

class TextIndex {
 public:
  // compacted(): the new slot of a slot that is dropped.
  static constexpr std::uint32_t kDropped = kDroppedSlot;

  using ByteSink = std::function<void(std::span<const std::byte>)>;
  // A search filter: whether a live slot may be returned.
  using SlotFilter = std::function<bool(std::uint32_t)>;

  // Indexes `terms` (repeats count) as the document of `slot`, which becomes live.
  // kInvalidArgument, changing nothing, unless slot >= slot_count() (slots only grow), every term
  // has 1 to kMaxTermBytes bytes and there are fewer than 2^32 terms. An empty list is a live
  // document of length 0. Cost: a dictionary lookup per term, a sort of the term ids, an append
  // per distinct term; memory 4 bytes plus 1 bit per slot up to `slot`.
  Status add(std::uint32_t slot, std::span<const std::string> terms);

  // Makes `slot` dead: N, the document frequencies and the total length are afterwards as if it
  // had never been added. `terms` must be what add() got for it (in any order);
  // kInvalidArgument, changing nothing, when the slot is not live or the terms disagree with its
  // postings. Cost: per distinct term a lookup and one block decoded.
  Status remove(std::uint32_t slot, std::span<const std::string> terms);

  // The top `k` live slots for `query_terms` by BM25 under `params`, best first, ties broken by
  // the smaller slot; terms not in the index score nothing, a repeated term counts per
  // occurrence (bm25.h). `hits` is replaced. kInvalidArgument when params are invalid. Cost:
  // block-max WAND: blocks whose score bound cannot reach the current k-th score are skipped
  // unread; O(k) memory plus 1 KiB per distinct query term. `stats`, when given, is replaced.
  Status search(std::span<const std::string> query_terms, std::size_t k, const Bm25Params& params,
                std::vector<TextHit>& hits, SearchStats* stats = nullptr) const;

  // As search(), among the slots `accept` says yes to; `accept` is asked only about live slots
  // that could enter the top k, each at most once, in increasing slot order.
  Status search(std::span<const std::string> query_terms, std::size_t k, const Bm25Params& params,
                const SlotFilter& accept, std::vector<TextHit>& hits,
                SearchStats* stats = nullptr) const;

  // A new index with slot s renumbered to new_slot_of_old[s], or dropped where that is kDropped;
  // dead slots' postings are dropped physically. kInvalidArgument unless new_slot_of_old covers
  // slot_count() slots and its kept entries strictly increase (relative order is kept). Cost:
  // one pass over the postings; the result's memory.
  Result<TextIndex> compacted(std::span<const std::uint32_t> new_slot_of_old) const;

  // Writes the image (this file's header) to `sink`, in pieces of about 1 MiB, live postings
  // only. Cost: one pass over the postings (lists holding dead postings re-packed), the terms
  // sorted.
  void save(const ByteSink& sink) const;

  // The index that save() wrote as `bytes`, read as hostile input: every count and length is
  // checked against the bytes left before it is used or reserved, every block decoded and every
  // rule of the image (orders, live slots, lengths equal to the tf sums) checked; kCorruption
  // ("text index: <what> at byte <offset>") otherwise, never a crash or a read out of bounds.
  // Cost: O(bytes); memory at most about 20 times the image (measured worst case: many terms of
  // two bytes, each one full block packed to its 2 header bytes).
  static Result<TextIndex> restore(std::span<const std::byte> bytes);

  // Recomputes every statistic and block skip from the postings and checks them, with the
  // orders, against what the index keeps; kCorruption naming the first difference. For tests
  // and fuzzing. Cost: one pass over the postings.
  Status check() const;

  // One past the highest slot added, or as compacted() or restore() set it.
  std::uint64_t slot_count() const noexcept { return doc_length_.size(); }
  // Live documents (N).
  std::uint32_t live_count() const noexcept { return live_count_; }
  bool is_live(std::uint32_t slot) const noexcept {
    return slot < doc_length_.size() && ((live_[slot / 64] >> (slot % 64)) & 1) != 0;
  }
  // The term count of a live slot's document.
  std::uint32_t document_length(std::uint32_t slot) const noexcept { return doc_length_[slot]; }
  // Live documents holding `term` (n); 0 for an unknown term.
  std::uint32_t document_frequency(const std::string& term) const;
  // Terms of the dictionary, including any whose documents are all removed (until compacted).
  std::size_t term_count() const noexcept { return terms_.size(); }
  // Sum of the live documents' lengths.
  std::uint64_t total_length() const noexcept { return total_length_; }

  // Heap bytes held, about. Cost: O(terms).
  std::size_t memory_bytes() const noexcept;

 private:
  struct Term {
    PostingList postings;
    std::uint32_t live_documents = 0;  // n: live slots among the postings
  };

  // Sets whether `slot` < slot_count() is live.
  void set_live(std::uint32_t slot, bool live) noexcept;
  // Grows the slot arrays to `count` slots.
  void grow_slots(std::uint64_t count);
  // The dictionary's texts by term id.
  std::vector<const std::string*> texts_by_id() const;

  std::unordered_map<std::string, std::uint32_t> ids_;  // term text -> index in terms_
  std::vector<Term> terms_;
  std::vector<std::uint32_t> doc_length_;  // by slot; kept for dead slots until compacted
  std::vector<std::uint64_t> live_;        // bit per slot
  std::uint32_t live_count_ = 0;
  std::uint64_t total_length_ = 0;         // over live slots
};

}  // namespace omendb::text
