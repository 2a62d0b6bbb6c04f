// The parts a PayloadIndex is made of: postings, numbers on one exact scale, numeric columns and
// the index of one field. Internal to the payload index: shared by payload_index.cpp (writes and
// queries) and payload_index_io.cpp (save and restore); nothing else includes this.
#pragma once

#include <roaring/roaring.h>

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <map>
#include <new>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "filter/payload_index.h"

namespace omendb::payload_internal {

// ---------------------------------------------------------------------------------------------
// CRoaring, behind Bitmap.

inline roaring_bitmap_t* raw(void* bits) { return static_cast<roaring_bitmap_t*>(bits); }

// `bits`, or std::bad_alloc when CRoaring returned null (it does only when out of memory).
inline roaring_bitmap_t* checked(roaring_bitmap_t* bits) {
  if (bits == nullptr) throw std::bad_alloc();
  return bits;
}

// CRoaring's portable format (github.com/RoaringBitmap/RoaringFormatSpec), little-endian: a
// cookie; without run containers the container count follows, with them the count - 1 is the
// cookie's high 16 bits and a bit per container (set: a run container) follows; then per
// container (key, cardinality - 1) as two u16; then per container its u32 byte offset (omitted
// with run containers when there are fewer than kNoOffsetThreshold); then each container: a run
// container as a u16 run count and (start, length - 1) u16 pairs, else by cardinality up to 4096
// sorted u16 values, or a bitset of 1024 u64 words.
static_assert(std::endian::native == std::endian::little, "the portable format is little-endian");
inline constexpr std::uint32_t kNoRunContainerCookie = 12346;
inline constexpr std::uint32_t kRunContainerCookie = 12347;  // the low 16 bits of the cookie
inline constexpr std::size_t kNoOffsetThreshold = 4;
inline constexpr std::size_t kMaxContainers = 65536;
inline constexpr std::size_t kChunkWords = 1024;  // one container: 65536 slots
inline constexpr std::uint32_t kMaxArrayCardinality = 4096;

// ---------------------------------------------------------------------------------------------
// Postings, numbers, columns, fields.

// A union of slot sets being built: bitmaps are OR-ed in as they come, loose slots (small
// postings, column runs) are gathered and made into one bitmap at the end, so that an $in over
// many small postings costs one bitmap construction, not one per value.
struct SlotUnion {
  Bitmap bits;
  std::vector<std::uint32_t> loose;

  Bitmap finish() && {
    if (loose.empty()) return std::move(bits);
    if (bits.empty()) return Bitmap::of(loose);
    return std::move(bits) | Bitmap::of(loose);
  }
};

// The slots holding one value: a sorted vector while small (4 bytes a slot, where a bitmap costs
// ~150 bytes even for one slot: fields with a distinct value per record stay cheap), a Bitmap past
// kSmallMax slots. It stays a Bitmap when it shrinks again.
class Posting {
 public:
  static constexpr std::size_t kSmallMax = 64;

  Posting() = default;
  // The posting of `slots` (sorted, no duplicates), in the form add() would have reached.
  static Posting of_sorted(std::vector<std::uint32_t> slots) {
    Posting posting;
    if (slots.size() > kSmallMax) return of(Bitmap::of(slots));
    posting.small_ = std::move(slots);
    return posting;
  }
  // The posting of `bits`: a sorted vector when it holds at most kSmallMax slots.
  static Posting of(Bitmap bits) {
    if (bits.size() <= kSmallMax) return of_sorted(bits.to_vector());
    Posting posting;
    posting.bits_ = std::move(bits);
    posting.large_ = true;
    return posting;
  }

  bool empty() const noexcept { return large_ ? bits_.empty() : small_.empty(); }
  std::uint64_t size() const noexcept { return large_ ? bits_.size() : small_.size(); }

  void add(std::uint32_t slot) {
    if (large_) {
      bits_.add(slot);
      return;
    }
    const auto it = std::lower_bound(small_.begin(), small_.end(), slot);
    if (it != small_.end() && *it == slot) return;
    small_.insert(it, slot);
    if (small_.size() > kSmallMax) {
      bits_ = Bitmap::of(small_);
      std::vector<std::uint32_t>().swap(small_);
      large_ = true;
    }
  }

  void remove(std::uint32_t slot) {
    if (large_) {
      bits_.remove(slot);
      return;
    }
    const auto it = std::lower_bound(small_.begin(), small_.end(), slot);
    if (it != small_.end() && *it == slot) small_.erase(it);
  }

  void set(std::uint32_t slot, bool insert) { insert ? add(slot) : remove(slot); }

  void add_to(SlotUnion& out) const {
    if (large_) {
      out.bits |= bits_;
    } else {
      out.loose.insert(out.loose.end(), small_.begin(), small_.end());
    }
  }

  Bitmap to_bitmap() const { return large_ ? bits_ : Bitmap::of(small_); }
  // The slots in ascending order.
  std::vector<std::uint32_t> to_vector() const { return large_ ? bits_.to_vector() : small_; }
  // The Bitmap, while the posting is one (nullptr while it is a sorted vector).
  const Bitmap* bitmap() const noexcept { return large_ ? &bits_ : nullptr; }

 private:
  std::vector<std::uint32_t> small_;  // sorted, while !large_
  Bitmap bits_;                       // once large_
  bool large_ = false;
};

using PostingMap = std::map<std::string, Posting, std::less<>>;

// An int64 or a double. Integral doubles within int64's range are stored as ints, so equal
// values have one key whatever their type (2020 and 2020.0, 0 and -0.0). The doubles left are
// fractional (then |d| < 2^52) or beyond int64's range (or infinite), which lets compare() be
// exact: no value goes through a rounding conversion.
struct NumKey {
  std::uint64_t bits = 0;  // the int64 or the double, by is_int
  bool is_int = true;

  std::int64_t as_int() const { return std::bit_cast<std::int64_t>(bits); }
  double as_double() const { return std::bit_cast<double>(bits); }
};

// The key of a number; nullopt for every other kind and for NaN (which equals and orders with
// nothing, so it is in no posting).
std::optional<NumKey> number_key(const Value& value);

// Whether `key` is one number_key() can return: an int, or a double that is neither NaN nor
// integral within int64's range. compare() requires it of both keys.
bool is_canonical(NumKey key);

// -1, 0 or 1 as a < b, a == b, a > b in value, exactly. Precondition: both keys canonical.
int compare(NumKey a, NumKey b);

struct Interval;

// The numbers of one field as (number, slot) entries, kept by the logarithmic method: a buffer
// of at most kBufferMax unsorted entries and levels of sorted entries, level i holding about
// kBufferMax * 2^i or none. A full buffer is sorted and carried up, merging with each occupied
// level until an empty one takes it, like a binary counter: amortised O(log n) entry moves a
// write. An interval is one binary search per level, then sequential runs. A removal marks its
// entry dead in place (O(log^2 n)); merges drop dead entries, and once half of all entries are
// dead everything is merged into one level. Const methods change nothing.
class NumericColumn {
 public:
  struct Entry {
    std::uint64_t bits;
    std::uint32_t slot;
    bool is_int;
    bool dead;

    NumKey key() const { return {bits, is_int}; }
  };

  NumericColumn() = default;
  // The column holding `entries`, which are sorted by (number, slot), none dead, each slot once,
  // and `slots`, the posting of their slots: one sorted level, placed where the logarithmic
  // method would have merged it. Cost: O(levels); the entries are moved, not copied.
  static NumericColumn of_sorted(std::vector<Entry> entries, Posting slots);

  std::uint64_t size() const noexcept { return slots_.size(); }

  void add(NumKey key, std::uint32_t slot) {
    buffer_.push_back(Entry{key.bits, slot, key.is_int, false});
    slots_.add(slot);
    if (buffer_.size() >= kBufferMax) flush();
  }

  void remove(NumKey key, std::uint32_t slot);

  // out gets the slots whose number lies in `interval`. Cost: O(levels * log n + matches); when
  // the interval covers more than half the column, O(levels * log n + non-matches) instead.
  void add_matches(const Interval& interval, SlotUnion& out) const;

  // How many slots add_matches() gives. Cost: O(levels * log n + kBufferMax), plus the runs'
  // lengths in levels holding dead entries.
  std::uint64_t count(const Interval& interval) const;

  // The live entries sorted by (number, slot): the levels and the buffer merged, dead entries
  // dropped. Cost: O(n) entry moves over the levels (each merge is at most twice the next
  // level's size), O(kBufferMax log kBufferMax) for the buffer.
  std::vector<Entry> sorted_entries() const;

 private:
  static constexpr std::size_t kBufferMax = 64;

  struct Level {
    std::vector<Entry> entries;  // by (number, slot), dead ones included
    std::size_t dead = 0;
  };
  using Iterator = std::vector<Entry>::const_iterator;
  using Run = std::pair<Iterator, Iterator>;

  static bool less(const Entry& a, const Entry& b) {
    const int c = compare(a.key(), b.key());
    return c != 0 ? c < 0 : a.slot < b.slot;
  }
  static bool same(const Entry& a, const Entry& b) {
    return a.slot == b.slot && compare(a.key(), b.key()) == 0;
  }

  // The entries of `entries` whose number lies in `interval`.
  static Run run(const std::vector<Entry>& entries, const Interval& interval);
  // The live entries of `level` and of `sorted`, merged; `level` is left empty.
  std::vector<Entry> merge(Level& level, const std::vector<Entry>& sorted);
  void flush();
  // Everything into the top level, dead entries dropped.
  void merge_all();

  std::vector<Entry> buffer_;  // newest entries, unsorted, none dead
  std::vector<Level> levels_;
  std::size_t entries_ = 0;  // in levels_, dead ones included
  std::size_t dead_ = 0;     // dead entries in levels_
  Posting slots_;            // the live slots with a number here, for complements
};

// The index of one metadata field.
struct FieldIndex {
  Posting present;       // the field is present, null included
  Posting trues;         // value true
  Posting falses;        // value false
  Posting string_slots;  // value is a string
  PostingMap strings;    // string -> the slots with that value
  PostingMap elements;   // string -> the slots whose list holds it
  PostingMap lists;      // list_key(list) -> the slots with that list
  NumericColumn numbers;

  // Adds (insert) or removes `slot` holding `value`.
  void update(std::uint32_t slot, const Value& value, bool insert);

  // out gets the slots whose value equals `operand` (filter/expression.h: across int and float;
  // a list's element equals a string operand; null equals nothing).
  void add_equal(const Value& operand, SlotUnion& out) const;

  // The size of what add_equal() gives. A slot holds a string or a list, never both, so the two
  // string postings are disjoint.
  std::uint64_t count_equal(const Value& operand) const;

  // The slots whose number lies in `interval`.
  Bitmap numbers_in(const Interval& interval) const;
};

}  // namespace omendb::payload_internal
