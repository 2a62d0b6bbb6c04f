#include "filter/payload_index.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <iterator>
#include <string_view>
#include <utility>
#include <variant>

#include "filter/payload_index_parts.h"

namespace omendb {
namespace {

using payload_internal::checked;
using payload_internal::kChunkWords;
using payload_internal::kMaxArrayCardinality;
using payload_internal::kNoRunContainerCookie;
using payload_internal::raw;

// Small or sparse input is sorted and added; large dense input (slots spanning at most
// kDenseSpan times its size) is set in a plain bit array, which is then written out in CRoaring's
// portable serialization format (without run containers) and read back: 4-5x faster than
// inserting sorted slots.
constexpr std::size_t kSortBelow = 1024;
constexpr std::size_t kDenseSpan = 256;

template <class T>
char* put(char* out, T value) {
  std::memcpy(out, &value, sizeof value);
  return out + sizeof value;
}

// The bitmap of the set bits of `words` (bit i of word w is slot 64 w + i).
roaring_bitmap_t* from_words(std::span<const std::uint64_t> words) {
  struct Chunk {
    std::uint16_t key;
    std::uint32_t cardinality;
  };
  std::vector<Chunk> chunks;
  std::size_t bytes = 8;
  for (std::size_t begin = 0; begin < words.size(); begin += kChunkWords) {
    const auto chunk = words.subspan(begin, std::min(kChunkWords, words.size() - begin));
    std::uint32_t cardinality = 0;
    for (const std::uint64_t word : chunk) cardinality += std::popcount(word);
    if (cardinality == 0) continue;
    chunks.push_back({static_cast<std::uint16_t>(begin / kChunkWords), cardinality});
    bytes += 8 + (cardinality > kMaxArrayCardinality ? kChunkWords * 8 : 2 * cardinality);
  }
  std::vector<char> buffer(bytes);
  char* out = put(buffer.data(), kNoRunContainerCookie);
  out = put(out, static_cast<std::uint32_t>(chunks.size()));
  for (const Chunk& chunk : chunks) {
    out = put(out, chunk.key);
    out = put(out, static_cast<std::uint16_t>(chunk.cardinality - 1));
  }
  std::size_t offset = 8 + 8 * chunks.size();
  for (const Chunk& chunk : chunks) {
    out = put(out, static_cast<std::uint32_t>(offset));
    offset += chunk.cardinality > kMaxArrayCardinality ? kChunkWords * 8 : 2 * chunk.cardinality;
  }
  for (const Chunk& chunk : chunks) {
    const std::size_t begin = std::size_t{chunk.key} * kChunkWords;
    const auto span = words.subspan(begin, std::min(kChunkWords, words.size() - begin));
    if (chunk.cardinality > kMaxArrayCardinality) {
      std::memcpy(out, span.data(), span.size_bytes());  // the rest of the bitset stays zero
      out += kChunkWords * 8;
      continue;
    }
    for (std::size_t w = 0; w < span.size(); ++w) {
      for (std::uint64_t word = span[w]; word != 0; word &= word - 1) {
        out = put(out, static_cast<std::uint16_t>(w * 64 + std::countr_zero(word)));
      }
    }
  }
  return roaring_bitmap_portable_deserialize_safe(buffer.data(), buffer.size());
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Bitmap

Bitmap::~Bitmap() {
  if (bits_ != nullptr) roaring_bitmap_free(raw(bits_));
}

Bitmap::Bitmap(const Bitmap& other)
    : bits_(other.bits_ != nullptr ? checked(roaring_bitmap_copy(raw(other.bits_))) : nullptr) {}

Bitmap& Bitmap::operator=(const Bitmap& other) {
  if (this != &other) {
    Bitmap copy(other);
    std::swap(bits_, copy.bits_);
  }
  return *this;
}

Bitmap::Bitmap(Bitmap&& other) noexcept : bits_(std::exchange(other.bits_, nullptr)) {}

Bitmap& Bitmap::operator=(Bitmap&& other) noexcept {
  if (this != &other) {
    Bitmap old(std::move(*this));
    bits_ = std::exchange(other.bits_, nullptr);
  }
  return *this;
}

Bitmap Bitmap::of(std::span<const std::uint32_t> slots) {
  Bitmap out;
  if (slots.empty()) return out;
  if (slots.size() > kSortBelow) {
    const std::size_t words = std::size_t{*std::max_element(slots.begin(), slots.end())} / 64 + 1;
    if (words <= kDenseSpan / 64 * slots.size()) {
      std::vector<std::uint64_t> bits(words);
      for (const std::uint32_t slot : slots) bits[slot / 64] |= std::uint64_t{1} << (slot % 64);
      out.bits_ = checked(from_words(bits));
      return out;
    }
  }
  if (std::is_sorted(slots.begin(), slots.end())) {
    out.bits_ = checked(roaring_bitmap_of_ptr(slots.size(), slots.data()));
    return out;
  }
  std::vector<std::uint32_t> sorted(slots.begin(), slots.end());
  std::sort(sorted.begin(), sorted.end());
  out.bits_ = checked(roaring_bitmap_of_ptr(sorted.size(), sorted.data()));
  return out;
}

void Bitmap::add(std::uint32_t slot) {
  if (bits_ == nullptr) bits_ = checked(roaring_bitmap_create());
  roaring_bitmap_add(raw(bits_), slot);
}

void Bitmap::remove(std::uint32_t slot) {
  if (bits_ != nullptr) roaring_bitmap_remove(raw(bits_), slot);
}

bool Bitmap::contains(std::uint32_t slot) const noexcept {
  return bits_ != nullptr && roaring_bitmap_contains(raw(bits_), slot);
}

std::uint64_t Bitmap::size() const noexcept {
  return bits_ == nullptr ? 0 : roaring_bitmap_get_cardinality(raw(bits_));
}

bool Bitmap::empty() const noexcept {
  return bits_ == nullptr || roaring_bitmap_is_empty(raw(bits_));
}

Bitmap& Bitmap::operator&=(const Bitmap& other) {
  if (bits_ == nullptr || this == &other) return *this;
  if (other.bits_ == nullptr) {
    roaring_bitmap_clear(raw(bits_));
  } else {
    roaring_bitmap_and_inplace(raw(bits_), raw(other.bits_));
  }
  return *this;
}

Bitmap& Bitmap::operator|=(const Bitmap& other) {
  if (other.bits_ == nullptr || this == &other) return *this;
  if (bits_ == nullptr) {
    bits_ = checked(roaring_bitmap_copy(raw(other.bits_)));
  } else {
    roaring_bitmap_or_inplace(raw(bits_), raw(other.bits_));
  }
  return *this;
}

Bitmap& Bitmap::operator-=(const Bitmap& other) {
  if (bits_ == nullptr || other.bits_ == nullptr) return *this;
  if (this == &other) {
    roaring_bitmap_clear(raw(bits_));
  } else {
    roaring_bitmap_andnot_inplace(raw(bits_), raw(other.bits_));
  }
  return *this;
}

bool operator==(const Bitmap& a, const Bitmap& b) noexcept {
  if (a.bits_ == nullptr || b.bits_ == nullptr) return a.empty() && b.empty();
  return roaring_bitmap_equals(raw(a.bits_), raw(b.bits_));
}

bool Bitmap::is_subset_of(const Bitmap& other) const noexcept {
  if (empty()) return true;
  return other.bits_ != nullptr && roaring_bitmap_is_subset(raw(bits_), raw(other.bits_));
}

std::vector<std::uint32_t> Bitmap::to_vector() const {
  std::vector<std::uint32_t> slots(size());
  if (!slots.empty()) roaring_bitmap_to_uint32_array(raw(bits_), slots.data());
  return slots;
}

Bitmap::Iterator Bitmap::begin() const { return Iterator(this); }

std::size_t Bitmap::read(std::uint32_t from, std::span<std::uint32_t> out) const {
  if (bits_ == nullptr) return 0;
  roaring_uint32_iterator_t it;
  roaring_init_iterator(raw(bits_), &it);
  if (!roaring_move_uint32_iterator_equalorlarger(&it, from)) return 0;
  return roaring_read_uint32_iterator(&it, out.data(), static_cast<std::uint32_t>(out.size()));
}

void Bitmap::Iterator::refill() {
  position_ = 0;
  count_ = 0;
  if (exhausted_ || bitmap_ == nullptr) return;
  count_ = bitmap_->read(next_, batch_);
  if (count_ < batch_.size() || batch_[count_ - 1] == UINT32_MAX) {
    exhausted_ = true;
  } else {
    next_ = batch_[count_ - 1] + 1;
  }
}

namespace payload_internal {
namespace {

const Posting& posting_of(const PostingMap& map, std::string_view key) {
  static const Posting kEmpty;
  const auto it = map.find(key);
  return it == map.end() ? kEmpty : it->second;
}

void set_posting(PostingMap& map, std::string_view key, std::uint32_t slot, bool insert) {
  auto it = map.find(key);
  if (insert) {
    if (it == map.end()) it = map.emplace(std::string(key), Posting()).first;
    it->second.add(slot);
  } else if (it != map.end()) {
    it->second.remove(slot);
    if (it->second.empty()) map.erase(it);
  }
}

// A list of strings as one map key: each element prefixed by its length, so distinct lists give
// distinct keys.
std::string list_key(const std::vector<std::string>& list) {
  std::string key;
  for (const std::string& element : list) {
    key += std::to_string(element.size());
    key += ':';
    key += element;
  }
  return key;
}

// Whether d is a whole number within int64's range: such a double is stored as an int.
bool fits_int(double d) { return d == std::trunc(d) && d >= -0x1p63 && d < 0x1p63; }

// Precondition: d is not NaN and not an integral value within int64's range.
int compare_int_double(std::int64_t i, double d) {
  if (d >= 0x1p63) return -1;
  if (d < -0x1p63) return 1;
  return i <= static_cast<std::int64_t>(std::floor(d)) ? -1 : 1;  // d is fractional
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Numbers on one exact scale.

std::optional<NumKey> number_key(const Value& value) {
  if (const auto* integer = std::get_if<std::int64_t>(&value)) {
    return NumKey{std::bit_cast<std::uint64_t>(*integer), true};
  }
  const auto* real = std::get_if<double>(&value);
  if (real == nullptr || std::isnan(*real)) return std::nullopt;
  const double d = *real;
  if (fits_int(d)) return NumKey{std::bit_cast<std::uint64_t>(static_cast<std::int64_t>(d)), true};
  return NumKey{std::bit_cast<std::uint64_t>(d), false};
}

bool is_canonical(NumKey key) {
  return key.is_int || (!std::isnan(key.as_double()) && !fits_int(key.as_double()));
}

int compare(NumKey a, NumKey b) {
  if (a.is_int && b.is_int) return a.as_int() < b.as_int() ? -1 : (a.as_int() > b.as_int() ? 1 : 0);
  if (!a.is_int && !b.is_int) {
    return a.as_double() < b.as_double() ? -1 : (a.as_double() > b.as_double() ? 1 : 0);
  }
  return a.is_int ? compare_int_double(a.as_int(), b.as_double())
                  : -compare_int_double(b.as_int(), a.as_double());
}

// The numbers a comparison accepts: [low, high], each end optional and inclusive or not.
struct Interval {
  std::optional<NumKey> low;
  std::optional<NumKey> high;
  bool low_inclusive = true;
  bool high_inclusive = true;

  static Interval of(FilterOp op, NumKey key) {
    switch (op) {
      case FilterOp::kGt:
        return {key, std::nullopt, false, true};
      case FilterOp::kGte:
        return {key, std::nullopt, true, true};
      case FilterOp::kLt:
        return {std::nullopt, key, true, false};
      case FilterOp::kLte:
        return {std::nullopt, key, true, true};
      default:
        return {key, key, true, true};  // kEq, kIn
    }
  }

  // Narrows this to the numbers both accept.
  void intersect(const Interval& other) {
    if (other.low) {
      const int c = low ? compare(*other.low, *low) : 1;
      if (c > 0) low = other.low, low_inclusive = other.low_inclusive;
      if (c == 0) low_inclusive = low_inclusive && other.low_inclusive;
    }
    if (other.high) {
      const int c = high ? compare(*other.high, *high) : -1;
      if (c < 0) high = other.high, high_inclusive = other.high_inclusive;
      if (c == 0) high_inclusive = high_inclusive && other.high_inclusive;
    }
  }

  bool holds(NumKey key) const {
    if (low) {
      const int c = compare(key, *low);
      if (c < 0 || (c == 0 && !low_inclusive)) return false;
    }
    if (high) {
      const int c = compare(key, *high);
      if (c > 0 || (c == 0 && !high_inclusive)) return false;
    }
    return true;
  }
};

// ---------------------------------------------------------------------------------------------
// NumericColumn

NumericColumn NumericColumn::of_sorted(std::vector<Entry> entries, Posting slots) {
  NumericColumn column;
  if (entries.empty()) return column;
  // The level a binary counter would have carried this many entries to.
  std::size_t level = 0;
  while ((kBufferMax << level) < entries.size()) ++level;
  column.levels_.resize(level + 1);
  column.entries_ = entries.size();
  column.levels_.back().entries = std::move(entries);
  column.slots_ = std::move(slots);
  return column;
}

void NumericColumn::remove(NumKey key, std::uint32_t slot) {
  slots_.remove(slot);
  const Entry target{key.bits, slot, key.is_int, false};
  const auto buffered =
      std::find_if(buffer_.begin(), buffer_.end(), [&](const Entry& e) { return same(e, target); });
  if (buffered != buffer_.end()) {
    *buffered = buffer_.back();
    buffer_.pop_back();
    return;
  }
  for (Level& level : levels_) {
    const auto it = std::lower_bound(level.entries.begin(), level.entries.end(), target, less);
    if (it != level.entries.end() && same(*it, target) && !it->dead) {
      it->dead = true;
      ++level.dead;
      ++dead_;
      break;
    }
  }
  if (2 * dead_ > entries_) merge_all();
}

void NumericColumn::add_matches(const Interval& interval, SlotUnion& out) const {
  std::vector<Run> runs(levels_.size());
  std::size_t in_runs = 0;
  for (std::size_t i = 0; i < levels_.size(); ++i) {
    runs[i] = run(levels_[i].entries, interval);
    in_runs += static_cast<std::size_t>(runs[i].second - runs[i].first);
  }
  const bool complement = 2 * in_runs > entries_ + buffer_.size();
  std::vector<std::uint32_t> outside;
  std::vector<std::uint32_t>& slots = complement ? outside : out.loose;
  const auto take = [&slots](Iterator begin, Iterator end) {
    for (Iterator it = begin; it != end; ++it) {
      if (!it->dead) slots.push_back(it->slot);
    }
  };
  for (std::size_t i = 0; i < levels_.size(); ++i) {
    if (complement) {
      take(levels_[i].entries.begin(), runs[i].first);
      take(runs[i].second, levels_[i].entries.end());
    } else {
      take(runs[i].first, runs[i].second);
    }
  }
  for (const Entry& e : buffer_) {
    if (interval.holds(e.key()) != complement) slots.push_back(e.slot);
  }
  if (complement) out.bits |= slots_.to_bitmap() - Bitmap::of(outside);
}

std::uint64_t NumericColumn::count(const Interval& interval) const {
  std::uint64_t n = 0;
  for (const Level& level : levels_) {
    const auto [first, last] = run(level.entries, interval);
    n += level.dead == 0 ? static_cast<std::uint64_t>(last - first)
                         : static_cast<std::uint64_t>(
                               std::count_if(first, last, [](const Entry& e) { return !e.dead; }));
  }
  for (const Entry& e : buffer_) n += interval.holds(e.key()) ? 1 : 0;
  return n;
}

std::vector<NumericColumn::Entry> NumericColumn::sorted_entries() const {
  std::vector<Entry> out = buffer_;
  std::sort(out.begin(), out.end(), less);
  std::vector<Entry> live;
  std::vector<Entry> merged;
  for (const Level& level : levels_) {  // smallest first: each merge at most doubles the next level
    live.clear();
    std::copy_if(level.entries.begin(), level.entries.end(), std::back_inserter(live),
                 [](const Entry& e) { return !e.dead; });
    merged.resize(out.size() + live.size());
    std::merge(out.begin(), out.end(), live.begin(), live.end(), merged.begin(), less);
    std::swap(out, merged);
  }
  return out;
}

NumericColumn::Run NumericColumn::run(const std::vector<Entry>& entries, const Interval& interval) {
  const auto below = [](const Entry& e, NumKey key) { return compare(e.key(), key) < 0; };
  const auto above = [](NumKey key, const Entry& e) { return compare(key, e.key()) < 0; };
  Iterator first = entries.begin();
  Iterator last = entries.end();
  if (interval.low) {
    first = interval.low_inclusive
                ? std::lower_bound(entries.begin(), entries.end(), *interval.low, below)
                : std::upper_bound(entries.begin(), entries.end(), *interval.low, above);
  }
  if (interval.high) {
    last = interval.high_inclusive ? std::upper_bound(first, entries.end(), *interval.high, above)
                                   : std::lower_bound(first, entries.end(), *interval.high, below);
  }
  return {first, std::max(first, last)};
}

std::vector<NumericColumn::Entry> NumericColumn::merge(Level& level,
                                                       const std::vector<Entry>& sorted) {
  if (level.dead > 0) {
    std::erase_if(level.entries, [](const Entry& e) { return e.dead; });
    entries_ -= level.dead;
    dead_ -= level.dead;
  }
  std::vector<Entry> out(level.entries.size() + sorted.size());
  std::merge(level.entries.begin(), level.entries.end(), sorted.begin(), sorted.end(), out.begin(),
             less);
  level = Level();
  return out;
}

void NumericColumn::flush() {
  std::sort(buffer_.begin(), buffer_.end(), less);
  entries_ += buffer_.size();
  std::vector<Entry> carry = std::exchange(buffer_, {});
  buffer_.reserve(kBufferMax);
  for (Level& level : levels_) {
    if (level.entries.empty()) {
      level.entries = std::move(carry);
      return;
    }
    carry = merge(level, carry);
  }
  levels_.push_back(Level{std::move(carry), 0});
}

void NumericColumn::merge_all() {
  std::vector<Entry> all;
  for (Level& level : levels_) all = merge(level, all);
  levels_.back().entries = std::move(all);
}

// ---------------------------------------------------------------------------------------------
// FieldIndex

void FieldIndex::update(std::uint32_t slot, const Value& value, bool insert) {
  present.set(slot, insert);
  if (const bool* flag = std::get_if<bool>(&value)) {
    (*flag ? trues : falses).set(slot, insert);
  } else if (const std::optional<NumKey> key = number_key(value)) {
    insert ? numbers.add(*key, slot) : numbers.remove(*key, slot);
  } else if (const auto* text = std::get_if<std::string>(&value)) {
    string_slots.set(slot, insert);
    set_posting(strings, *text, slot, insert);
  } else if (const auto* list = std::get_if<std::vector<std::string>>(&value)) {
    set_posting(lists, list_key(*list), slot, insert);
    for (const std::string& element : *list) set_posting(elements, element, slot, insert);
  }
}

void FieldIndex::add_equal(const Value& operand, SlotUnion& out) const {
  if (const bool* flag = std::get_if<bool>(&operand)) {
    (*flag ? trues : falses).add_to(out);
  } else if (const std::optional<NumKey> key = number_key(operand)) {
    numbers.add_matches(Interval::of(FilterOp::kEq, *key), out);
  } else if (const auto* text = std::get_if<std::string>(&operand)) {
    posting_of(strings, *text).add_to(out);
    posting_of(elements, *text).add_to(out);
  } else if (const auto* list = std::get_if<std::vector<std::string>>(&operand)) {
    posting_of(lists, list_key(*list)).add_to(out);
  }
}

std::uint64_t FieldIndex::count_equal(const Value& operand) const {
  if (const bool* flag = std::get_if<bool>(&operand)) return (*flag ? trues : falses).size();
  if (const std::optional<NumKey> key = number_key(operand)) {
    return numbers.count(Interval::of(FilterOp::kEq, *key));
  }
  if (const auto* text = std::get_if<std::string>(&operand)) {
    return posting_of(strings, *text).size() + posting_of(elements, *text).size();
  }
  if (const auto* list = std::get_if<std::vector<std::string>>(&operand)) {
    return posting_of(lists, list_key(*list)).size();
  }
  return 0;
}

Bitmap FieldIndex::numbers_in(const Interval& interval) const {
  SlotUnion out;
  numbers.add_matches(interval, out);
  return std::move(out).finish();
}

}  // namespace payload_internal

// ---------------------------------------------------------------------------------------------
// PayloadIndex

using payload_internal::Interval;
using payload_internal::number_key;
using payload_internal::NumKey;
using payload_internal::posting_of;
using payload_internal::PostingMap;
using payload_internal::SlotUnion;

// What the index knows of a filter's matches: lower ⊆ matches ⊆ upper. `lower` is kept only
// while !exact (when exact, the matches are `upper`).
struct PayloadIndex::Bounds {
  Bitmap upper;
  Bitmap lower;
  bool exact = true;

  static Bounds of(Bitmap matches) { return {std::move(matches), Bitmap(), true}; }
  // Precondition: lower ⊆ upper, so equal sizes mean equal sets.
  static Bounds between(Bitmap lower, Bitmap upper) {
    if (lower.size() == upper.size()) return of(std::move(upper));
    return {std::move(upper), std::move(lower), false};
  }
  const Bitmap& sure() const { return exact ? upper : lower; }

  // This becomes the bounds of (this AND other), or of (this OR other).
  void combine(const Bounds& other, bool is_and) {
    if (exact && other.exact) {
      is_and ? upper &= other.upper : upper |= other.upper;
      return;
    }
    Bitmap sure_both = is_and ? sure() & other.sure() : sure() | other.sure();
    is_and ? upper &= other.upper : upper |= other.upper;
    *this = between(std::move(sure_both), std::move(upper));
  }
};

namespace {

// The interval of a comparison of a field with a number; nullopt for every other filter.
std::optional<Interval> numeric_range(const FilterExpr& filter) {
  if (filter.op != FilterOp::kGt && filter.op != FilterOp::kGte && filter.op != FilterOp::kLt &&
      filter.op != FilterOp::kLte) {
    return std::nullopt;
  }
  const std::optional<NumKey> key = number_key(filter.operand);
  if (!key) return std::nullopt;
  return Interval::of(filter.op, *key);
}

}  // namespace

PayloadIndex::PayloadIndex() = default;
PayloadIndex::~PayloadIndex() = default;
PayloadIndex::PayloadIndex(PayloadIndex&&) noexcept = default;
PayloadIndex& PayloadIndex::operator=(PayloadIndex&&) noexcept = default;

void PayloadIndex::add(std::uint32_t slot, const Metadata& metadata) {
  ++version_;
  live_.add(slot);
  for (const auto& [key, value] : metadata) {
    auto it = fields_.find(key);
    if (it == fields_.end()) it = fields_.emplace(key, std::make_unique<Field>()).first;
    it->second->update(slot, value, true);
  }
}

void PayloadIndex::remove(std::uint32_t slot, const Metadata& metadata) {
  ++version_;
  live_.remove(slot);
  for (const auto& [key, value] : metadata) {
    const auto it = fields_.find(key);
    if (it == fields_.end()) continue;
    it->second->update(slot, value, false);
    if (it->second->present.empty()) fields_.erase(it);
  }
}

std::optional<Bitmap> PayloadIndex::exact(const FilterExpr& filter) const {
  Superset result = superset(filter);
  if (!result.exact) return std::nullopt;
  return std::move(result.slots);
}

PayloadIndex::Superset PayloadIndex::superset(const FilterExpr& filter) const {
  Bounds result = bounds(filter);
  return {std::move(result.upper), result.exact};
}

std::uint64_t PayloadIndex::estimate(const FilterExpr& filter) const {
  const Field& field = find(filter.field);
  switch (filter.op) {
    case FilterOp::kEq:
      return field.count_equal(filter.operand);
    case FilterOp::kNe:
      return live_.size() - field.count_equal(filter.operand);
    case FilterOp::kExists:
      return filter.exists ? field.present.size() : live_.size() - field.present.size();
    default:
      if (const std::optional<Interval> interval = numeric_range(filter)) {
        return field.numbers.count(*interval);
      }
      return superset(filter).slots.size();
  }
}

const PayloadIndex::Field& PayloadIndex::find(const std::string& key) const {
  static const Field kAbsent;
  const auto it = fields_.find(key);
  return it == fields_.end() ? kAbsent : *it->second;
}

PayloadIndex::Bounds PayloadIndex::bounds(const FilterExpr& filter) const {
  switch (filter.op) {
    case FilterOp::kAnd:
      return and_bounds(filter);
    case FilterOp::kOr: {
      Bounds result = Bounds::of(Bitmap());
      for (const FilterExpr& child : filter.children) result.combine(bounds(child), false);
      return result;
    }
    case FilterOp::kNot: {
      if (filter.children.size() != 1) return Bounds::between(Bitmap(), live_);  // malformed
      const Bounds child = bounds(filter.children.front());
      if (child.exact) return Bounds::of(live_ - child.upper);
      return Bounds::between(live_ - child.upper, live_ - child.lower);
    }
    default:
      return leaf_bounds(filter);
  }
}

PayloadIndex::Bounds PayloadIndex::and_bounds(const FilterExpr& filter) const {
  // Numeric comparisons of one field are read as one interval: "x >= a AND x < b" is one run of
  // the column, not two half-columns intersected.
  std::vector<std::pair<const std::string*, Interval>> ranges;
  std::vector<const FilterExpr*> others;
  for (const FilterExpr& child : filter.children) {
    const std::optional<Interval> interval = numeric_range(child);
    if (!interval) {
      others.push_back(&child);
      continue;
    }
    const auto same_field = std::find_if(ranges.begin(), ranges.end(), [&](const auto& range) {
      return *range.first == child.field;
    });
    if (same_field == ranges.end()) {
      ranges.emplace_back(&child.field, *interval);
    } else {
      same_field->second.intersect(*interval);
    }
  }
  std::optional<Bounds> result;
  const auto add = [&result](Bounds part) {
    if (result) {
      result->combine(part, true);
    } else {
      result = std::move(part);
    }
  };
  for (const auto& [field, interval] : ranges) add(Bounds::of(find(*field).numbers_in(interval)));
  for (const FilterExpr* child : others) {
    if (result && result->upper.empty()) return Bounds::of(Bitmap());  // nothing can match
    add(bounds(*child));
  }
  return result ? std::move(*result) : Bounds::of(live_);
}

PayloadIndex::Bounds PayloadIndex::leaf_bounds(const FilterExpr& filter) const {
  const Field& field = find(filter.field);
  switch (filter.op) {
    case FilterOp::kEq:
    case FilterOp::kNe:
    case FilterOp::kIn:
    case FilterOp::kNin: {
      const bool single = filter.op == FilterOp::kEq || filter.op == FilterOp::kNe;
      SlotUnion matches;
      for (const Value& operand :
           single ? std::span(&filter.operand, 1) : std::span(filter.operands)) {
        field.add_equal(operand, matches);
      }
      Bitmap equal = std::move(matches).finish();
      const bool negated = filter.op == FilterOp::kNe || filter.op == FilterOp::kNin;
      return Bounds::of(negated ? live_ - equal : std::move(equal));
    }
    case FilterOp::kGt:
    case FilterOp::kGte:
    case FilterOp::kLt:
    case FilterOp::kLte:
      return range_bounds(filter, field);
    case FilterOp::kExists: {
      Bitmap present = field.present.to_bitmap();
      return Bounds::of(filter.exists ? std::move(present) : live_ - present);
    }
    case FilterOp::kContains:
      return contains_bounds(filter, field);
    default:
      return Bounds::between(Bitmap(), live_);  // kAnd/kOr/kNot go to bounds()
  }
}

PayloadIndex::Bounds PayloadIndex::range_bounds(const FilterExpr& filter,
                                                const Field& field) const {
  if (const std::optional<Interval> interval = numeric_range(filter)) {
    return Bounds::of(field.numbers_in(*interval));
  }
  const auto* text = std::get_if<std::string>(&filter.operand);
  if (text == nullptr) return Bounds::of(Bitmap());  // bools, lists, null and NaN have no order
  // Strings order bytewise, as the map does: the matches are one run of the map.
  const PostingMap& strings = field.strings;
  auto first = strings.begin();
  auto last = strings.end();
  switch (filter.op) {
    case FilterOp::kGt:
      first = strings.upper_bound(*text);
      break;
    case FilterOp::kGte:
      first = strings.lower_bound(*text);
      break;
    case FilterOp::kLt:
      last = strings.lower_bound(*text);
      break;
    default:  // kLte
      last = strings.upper_bound(*text);
      break;
  }
  SlotUnion matches;
  for (auto it = first; it != last; ++it) it->second.add_to(matches);
  return Bounds::of(std::move(matches).finish());
}

PayloadIndex::Bounds PayloadIndex::contains_bounds(const FilterExpr& filter,
                                                   const Field& field) const {
  const auto* needle = std::get_if<std::string>(&filter.operand);
  if (needle == nullptr) return Bounds::of(Bitmap());
  SlotUnion matches;
  posting_of(field.elements, *needle).add_to(matches);
  if (field.strings.size() > kMaxSubstringScanValues) {
    Bitmap in_lists = std::move(matches).finish();
    Bitmap upper = in_lists | field.string_slots.to_bitmap();
    return Bounds::between(std::move(in_lists), std::move(upper));
  }
  for (const auto& [text, posting] : field.strings) {
    if (text.find(*needle) != std::string::npos) posting.add_to(matches);
  }
  return Bounds::of(std::move(matches).finish());
}

}  // namespace omendb
