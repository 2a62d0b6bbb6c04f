// Payload indexes: for every metadata field, which slots hold which value, so that a filter can be
// answered as a set of slots without reading a record. The planner uses the set's size to choose
// between an exact scan of the matches (few) and a graph walk that keeps only matches (many).
//
// Per field the index keeps:
// - postings (value -> slots) for strings (in a map ordered bytewise, so string ranges are one
//   run of it), bools, each element of a list of strings, and whole lists (for $eq with a list);
// - a numeric column: (number, slot) entries sorted by number (in a few sorted levels, the
//   logarithmic method, so writes stay cheap), ints and floats on one exact scale, so 2020 and
//   2020.0 are one key. It answers $eq/$in on numbers as well as $gt/$gte/$lt/$lte: a binary
//   search per level, then sequential runs, whatever the number of distinct values (a posting
//   per distinct float would cost ~100 bytes a record for a timestamp field). Comparisons of one
//   field under one $and ("x >= a AND x < b") are read as one interval;
// - the slots where the field is present (null included), for $exists, and the slots holding a
//   string, which bound what the index cannot answer exactly.
// The live slots are tracked too: $ne, $nin, $not and $exists:false are complements against them.
//
// Answers follow the semantics in filter/expression.h (filter/evaluate.h's matches() is the
// reference). They are exact for every operator but one: $contains with a string operand on a
// field holding more than kMaxSubstringScanValues distinct strings (substrings are found by
// scanning the field's distinct strings, never the records), which is bounded by the field's
// string slots plus the lists holding the operand. (A $not without exactly one child, which
// expression.h rules out, is bounded by the live slots.) Above such a subtree, superset()
// returns a superset and says so; $not turns a subtree's lower bound into its upper bound.
//
// A snapshot stores the whole index (save(), restore(): payload_index_io.cpp; layout:
// docs/format.md, "Payload file"), so opening a collection does not re-index its metadata. The
// parts (postings, columns, a field's index) are in payload_index_parts.h.
//
// Thread safety: none inside. Const methods (save() included) change nothing, so any number of
// threads may call them at once; add() and remove() need exclusive access. The collection
// guarantees both with its records lock (writers exclusive, readers shared); single writer with
// concurrent readers is not supported here.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "filter/expression.h"
#include "omendb/metadata.h"
#include "omendb/status.h"

namespace omendb {

namespace payload_internal {
struct FieldIndex;
}  // namespace payload_internal

// A set of uint32 slots, compressed (a CRoaring bitmap behind this wrapper, so callers need no
// CRoaring headers). A value type: copies are deep; moves and an empty set allocate nothing.
class Bitmap {
 public:
  class Iterator;

  Bitmap() noexcept = default;
  ~Bitmap();
  Bitmap(const Bitmap& other);
  Bitmap& operator=(const Bitmap& other);
  Bitmap(Bitmap&& other) noexcept;
  Bitmap& operator=(Bitmap&& other) noexcept;

  // The set of `slots`, given in any order, duplicates allowed. Cost: O(n + max slot / 64) for
  // more than 1024 slots spread no thinner than 1 in 256; otherwise O(n) when sorted, else
  // O(n log n).
  static Bitmap of(std::span<const std::uint32_t> slots);

  void add(std::uint32_t slot);
  void remove(std::uint32_t slot);
  // Cost: O(log n) at worst, a bit test for dense sets.
  bool contains(std::uint32_t slot) const noexcept;
  // Cost: O(n / 65536).
  std::uint64_t size() const noexcept;
  bool empty() const noexcept;

  // In-place intersection, union and difference. Cost: O(size of both), word-parallel when dense.
  Bitmap& operator&=(const Bitmap& other);
  Bitmap& operator|=(const Bitmap& other);
  Bitmap& operator-=(const Bitmap& other);
  friend Bitmap operator&(Bitmap a, const Bitmap& b) { return a &= b; }
  friend Bitmap operator|(Bitmap a, const Bitmap& b) { return a |= b; }
  friend Bitmap operator-(Bitmap a, const Bitmap& b) { return a -= b; }
  friend bool operator==(const Bitmap& a, const Bitmap& b) noexcept;
  // Whether every slot of this set is in `other`. Cost: O(size of both), word-parallel when
  // dense; allocates nothing.
  bool is_subset_of(const Bitmap& other) const noexcept;

  // The slots in ascending order, e.g. for HnswIndex::search_slots.
  std::vector<std::uint32_t> to_vector() const;

  // Appends the set to `out` in CRoaring's portable serialization format
  // (github.com/RoaringBitmap/RoaringFormatSpec): about 2 bytes a slot for sparse sets, 1 bit a
  // slot for dense ones. Cost: O(size in bytes).
  void append_portable(std::vector<std::byte>& out) const;

  // The set that `bytes`, all of them, serialize in the portable format, read as untrusted
  // input: the structure (cookie, container count and keys, offsets, lengths) and every
  // container's content (sorted unique values, run bounds, cardinalities that match) are checked
  // before CRoaring sees the bytes, as is every slot being below `limit`. kCorruption naming the
  // first problem otherwise; never reads past `bytes`, allocates at most a small multiple of its
  // size. Cost: one pass over the bytes to check, one to copy.
  static Result<Bitmap> from_portable(std::span<const std::byte> bytes, std::uint64_t limit);

  // Ascending iteration: `for (std::uint32_t slot : bitmap)`. The bitmap must outlive the loop
  // and not change during it.
  Iterator begin() const;
  std::default_sentinel_t end() const noexcept { return {}; }

 private:
  // Writes up to out.size() slots >= `from` in ascending order to `out`; returns how many.
  std::size_t read(std::uint32_t from, std::span<std::uint32_t> out) const;

  void* bits_ = nullptr;  // a roaring_bitmap_t*, null while the set was never written to
};

// An input iterator over a Bitmap's slots; reads them 64 at a time.
class Bitmap::Iterator {
 public:
  using value_type = std::uint32_t;
  using difference_type = std::ptrdiff_t;

  Iterator() = default;
  std::uint32_t operator*() const noexcept { return batch_[position_]; }
  Iterator& operator++() {
    if (++position_ == count_) refill();
    return *this;
  }
  void operator++(int) { ++*this; }
  friend bool operator==(const Iterator& it, std::default_sentinel_t) noexcept {
    return it.position_ == it.count_;
  }

 private:
  friend class Bitmap;
  explicit Iterator(const Bitmap* bitmap) : bitmap_(bitmap) { refill(); }
  void refill();

  const Bitmap* bitmap_ = nullptr;
  std::array<std::uint32_t, 64> batch_{};
  std::size_t position_ = 0;
  std::size_t count_ = 0;
  std::uint32_t next_ = 0;  // the smallest slot not read yet
  bool exhausted_ = false;  // no slot at or after next_
};

class PayloadIndex {
 public:
  // $contains on a string field scans the field's distinct strings when there are at most this
  // many; past it the index gives a bound instead of the exact set.
  static constexpr std::size_t kMaxSubstringScanValues = 1024;

  // A set of slots that holds every match of a filter, and whether it holds nothing else.
  struct Superset {
    Bitmap slots;
    bool exact = false;
  };

  PayloadIndex();
  ~PayloadIndex();
  PayloadIndex(PayloadIndex&&) noexcept;
  PayloadIndex& operator=(PayloadIndex&&) noexcept;

  // Indexes `slot`, with its metadata, and counts it live. Precondition: slot is not live.
  // Cost: O(log) per field and list element; a number is buffered, then merged into its column
  // in batches (amortised O(log n) entry moves).
  void add(std::uint32_t slot, const Metadata& metadata);

  // Removes `slot`, which add() got with `metadata`, from every posting and from the live set.
  // Cost: O(log) per field and list element, O(log^2 n) per number (marked dead in place; the
  // column is rewritten once half of it is dead).
  void remove(std::uint32_t slot, const Metadata& metadata);

  // The live slots: added and not removed since.
  const Bitmap& live() const noexcept { return live_; }

  // Changes with every add() and remove(): answers computed at one version hold until it changes.
  std::uint64_t version() const noexcept { return version_; }

  // The slots that match `filter` when the index can tell exactly, nullopt otherwise.
  // Cost: as superset().
  std::optional<Bitmap> exact(const FilterExpr& filter) const;

  // A set holding every slot that matches `filter`, exact when `exact` says so (always, but for
  // the cases in this file's header). Cost: set operations proportional to the postings touched;
  // a numeric interval costs O(log^2 n) plus its entries (or the entries outside it, when they
  // are fewer).
  Superset superset(const FilterExpr& filter) const;

  // How many slots match `filter`: the exact count whenever exact() answers, else the size of
  // superset(), an upper bound. Cost: O(log^2 n) for a lone $eq, $ne, $exists or numeric range,
  // without building a set; otherwise as superset().
  std::uint64_t estimate(const FilterExpr& filter) const;

  using ByteSink = std::function<void(std::span<const std::byte>)>;

  // Writes the whole index to `sink`, in pieces of up to about 1 MiB, in the layout of
  // docs/format.md ("Payload file"): the live set, then per field its postings and its numeric
  // column as one sorted run of its live entries. restore() of the bytes gives an index that
  // answers every query as this one does. Cost: one pass over the postings and the columns (each
  // column's levels merged: O(n) entry moves), memory for one column's live entries.
  void save(const ByteSink& sink) const;

  // The index that save() wrote as `bytes`, for a collection of `slots` slots, read as untrusted
  // input: every count and length is checked against the bytes left, every slot against
  // `slots`, every posting against the present set of its field (and that against the live set),
  // every order (field keys, values, numbers, slots) and tag as save() writes them; kCorruption
  // naming the first problem (and the field and value it lies in) otherwise, never a crash.
  // Memory: at most what the restored index holds (16 bytes per column entry, a column holding
  // at most `slots` entries) plus a small multiple of `bytes`. Cost: one pass over the bytes;
  // postings are read whole (CRoaring containers copied), columns without sorting.
  static Result<PayloadIndex> restore(std::span<const std::byte> bytes, std::uint32_t slots);

 private:
  using Field = payload_internal::FieldIndex;
  struct Bounds;

  // The field's index; an empty one for a field no live slot has.
  const Field& find(const std::string& key) const;
  Bounds bounds(const FilterExpr& filter) const;
  Bounds and_bounds(const FilterExpr& filter) const;
  Bounds leaf_bounds(const FilterExpr& filter) const;
  Bounds range_bounds(const FilterExpr& filter, const Field& field) const;
  Bounds contains_bounds(const FilterExpr& filter, const Field& field) const;

  std::map<std::string, std::unique_ptr<Field>, std::less<>> fields_;
  std::uint64_t version_ = 0;
  Bitmap live_;
};

}  // namespace omendb
