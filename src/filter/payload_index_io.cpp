// Saving a payload index to bytes and restoring it from untrusted bytes: the portable format of
// its bitmaps checked before CRoaring reads them, then postings, fields and numeric columns.
// Layout: docs/format.md, "Payload file".
#include <algorithm>
#include <bit>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include "filter/payload_index.h"
#include "filter/payload_index_parts.h"
#include "storage/byte_io.h"

namespace omendb {
namespace {

using payload_internal::FieldIndex;
using payload_internal::NumericColumn;
using payload_internal::NumKey;
using payload_internal::Posting;
using payload_internal::PostingMap;
using storage::ByteReader;
using storage::ByteWriter;

Status corrupt(std::string what) { return {StatusCode::kCorruption, std::move(what)}; }

// `status` with "<context>: " in front of its message.
Status in_context(std::string_view context, const Status& status) {
  std::string message(context);
  message += ": ";
  message += status.message();
  return {status.code(), std::move(message)};
}

// "<what> '<text>'", the text cut to its first 64 bytes: a name for messages.
std::string named(std::string_view what, std::string_view text) {
  constexpr std::size_t kShown = 64;
  std::string out(what);
  out += " '";
  out += text.substr(0, kShown);
  out += text.size() > kShown ? "...'" : "'";
  return out;
}

// "<what> <n>" for messages.
std::string numbered(std::string_view what, std::uint64_t n) {
  std::string out(what);
  out += ' ';
  out += std::to_string(n);
  return out;
}

// ---------------------------------------------------------------------------------------------
// The portable format, checked (constants and layout: payload_index_parts.h).

template <class T>
T load(std::span<const std::byte> bytes, std::size_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof value);
  return value;
}

// Checks the container at `offset` of `bytes`, of cardinality `cardinality` (run or not as
// `is_run` says), and returns its size in bytes; 0 with `problem` set when it is not well formed.
std::size_t check_container(std::span<const std::byte> bytes, std::size_t offset,
                            std::uint32_t cardinality, bool is_run, std::string& problem) {
  const std::size_t left = bytes.size() - offset;
  if (is_run) {
    if (left < 2) return problem = "cut short", 0;
    const auto runs = load<std::uint16_t>(bytes, offset);
    if (left < 2 + 4 * std::size_t{runs}) return problem = "cut short", 0;
    std::uint32_t total = 0;
    std::uint32_t next = 0;  // the least value the next run may start at
    for (std::size_t r = 0; r < runs; ++r) {
      const std::uint32_t start = load<std::uint16_t>(bytes, offset + 2 + 4 * r);
      const std::uint32_t extra = load<std::uint16_t>(bytes, offset + 4 + 4 * r);
      if (start < next) return problem = "runs overlap or are out of order", 0;
      if (start + extra > 0xFFFF) return problem = "a run passes the container's end", 0;
      total += extra + 1;
      next = start + extra + 1;
    }
    if (total != cardinality) return problem = "runs disagree with the cardinality", 0;
    return 2 + 4 * std::size_t{runs};
  }
  if (cardinality > payload_internal::kMaxArrayCardinality) {
    const std::size_t size = payload_internal::kChunkWords * sizeof(std::uint64_t);
    if (left < size) return problem = "cut short", 0;
    std::uint32_t total = 0;
    for (std::size_t w = 0; w < payload_internal::kChunkWords; ++w) {
      total += std::popcount(load<std::uint64_t>(bytes, offset + 8 * w));
    }
    if (total != cardinality) return problem = "bitset disagrees with the cardinality", 0;
    return size;
  }
  if (left < 2 * std::size_t{cardinality}) return problem = "cut short", 0;
  for (std::size_t i = 1; i < cardinality; ++i) {
    if (load<std::uint16_t>(bytes, offset + 2 * i) <=
        load<std::uint16_t>(bytes, offset + 2 * i - 2))
      return problem = "array values not increasing", 0;
  }
  return 2 * std::size_t{cardinality};
}

// What is wrong with `bytes` as one portable serialization, all of `bytes` used; "" when nothing
// is. Every value CRoaring would trust is checked: keys increasing, arrays sorted and unique,
// runs ordered and inside their container, cardinalities equal to the contents, offsets equal to
// where the containers lie.
std::string portable_problem(std::span<const std::byte> bytes) {
  if (bytes.size() < 4) return "cut short";
  const auto cookie = load<std::uint32_t>(bytes, 0);
  const bool has_runs = (cookie & 0xFFFF) == payload_internal::kRunContainerCookie;
  std::size_t count = (cookie >> 16) + 1;
  std::size_t offset = 4;
  if (!has_runs) {
    if (cookie != payload_internal::kNoRunContainerCookie) return numbered("cookie", cookie);
    if (bytes.size() < 8) return "cut short";
    count = load<std::uint32_t>(bytes, 4);
    offset = 8;
    if (count > payload_internal::kMaxContainers) return numbered("container count", count);
  }
  const std::size_t run_flags = offset;
  if (has_runs) offset += (count + 7) / 8;
  const std::size_t keys = offset;
  offset += 4 * count;
  const bool has_offsets = !has_runs || count >= payload_internal::kNoOffsetThreshold;
  const std::size_t offsets = offset;
  if (has_offsets) offset += 4 * count;
  if (offset > bytes.size()) return "cut short";
  if (has_runs && count % 8 != 0 &&
      (std::to_integer<unsigned>(bytes[keys - 1]) >> (count % 8)) != 0) {
    return "run flags set past the last container";
  }
  for (std::size_t i = 0; i < count; ++i) {
    const auto key = load<std::uint16_t>(bytes, keys + 4 * i);
    const std::uint32_t cardinality = load<std::uint16_t>(bytes, keys + 4 * i + 2) + 1u;
    const bool is_run =
        has_runs && ((std::to_integer<unsigned>(bytes[run_flags + i / 8]) >> (i % 8)) & 1) != 0;
    const std::string where = numbered("container", i);
    if (i > 0 && key <= load<std::uint16_t>(bytes, keys + 4 * i - 4)) {
      return where + ": keys not increasing";
    }
    if (has_offsets && load<std::uint32_t>(bytes, offsets + 4 * i) != offset) {
      return where + ": offset disagrees with where it lies";
    }
    std::string problem;
    const std::size_t size = check_container(bytes, offset, cardinality, is_run, problem);
    if (size == 0) return where + ": " + problem;
    offset += size;
  }
  return offset == bytes.size() ? "" : "trailing bytes";
}

// ---------------------------------------------------------------------------------------------
// Writing

// Bytes collected for a sink and handed to it in pieces of about kPieceBytes.
class Output {
 public:
  static constexpr std::size_t kPieceBytes = std::size_t{1} << 20;

  explicit Output(const PayloadIndex::ByteSink& sink) : sink_(sink) {}

  ByteWriter& put() { return writer_; }
  std::vector<std::byte>& buffer() { return buffer_; }
  // Hands the bytes to the sink once a piece is full (`all`: whatever there is).
  void settle(bool all = false) {
    if (buffer_.size() >= kPieceBytes || (all && !buffer_.empty())) {
      sink_(buffer_);
      buffer_.clear();
    }
  }

 private:
  const PayloadIndex::ByteSink& sink_;
  std::vector<std::byte> buffer_;
  ByteWriter writer_{buffer_};
};

void write_list(Output& out, std::span<const std::uint32_t> slots) {
  out.put().put_u32(static_cast<std::uint32_t>(slots.size()));
  for (const std::uint32_t slot : slots) out.put().put_u32(slot);
}

// A posting: its slots listed when there are at most Posting::kSmallMax, else as a bitmap.
void write_posting(Output& out, const Bitmap& bits) {
  if (bits.size() <= Posting::kSmallMax) return write_list(out, bits.to_vector());
  out.put().put_u32(static_cast<std::uint32_t>(bits.size()));
  const std::size_t length_at = out.buffer().size();
  out.put().put_u32(0);
  bits.append_portable(out.buffer());
  const auto length = static_cast<std::uint32_t>(out.buffer().size() - length_at - 4);
  std::memcpy(out.buffer().data() + length_at, &length, sizeof length);
}

void write_posting(Output& out, const Posting& posting) {
  if (const Bitmap* bits = posting.bitmap()) return write_posting(out, *bits);
  write_list(out, posting.to_vector());
}

void write_postings(Output& out, const PostingMap& map) {
  out.put().put_u32(static_cast<std::uint32_t>(map.size()));
  for (const auto& [value, posting] : map) {
    out.put().put_string(value);
    write_posting(out, posting);
    out.settle();
  }
}

// The column's live entries as one sorted run, grouped by number: the numbers, their kinds, then
// either one slot per number (all distinct) or one posting per number.
void write_column(Output& out, const NumericColumn& column) {
  const std::vector<NumericColumn::Entry> entries = column.sorted_entries();
  std::vector<std::size_t> starts;  // index of each number's first entry
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (i == 0 || entries[i].bits != entries[i - 1].bits ||
        entries[i].is_int != entries[i - 1].is_int) {
      starts.push_back(i);
    }
  }
  out.put().put_u32(static_cast<std::uint32_t>(entries.size()));
  out.put().put_u32(static_cast<std::uint32_t>(starts.size()));
  for (const std::size_t start : starts) out.put().put_u64(entries[start].bits);
  std::vector<std::uint8_t> kinds((starts.size() + 7) / 8);
  for (std::size_t k = 0; k < starts.size(); ++k) {
    if (!entries[starts[k]].is_int) kinds[k / 8] |= static_cast<std::uint8_t>(1u << (k % 8));
  }
  for (const std::uint8_t byte : kinds) out.put().put_u8(byte);
  if (starts.size() == entries.size()) {
    for (const NumericColumn::Entry& e : entries) out.put().put_u32(e.slot);
    return out.settle();
  }
  starts.push_back(entries.size());
  std::vector<std::uint32_t> slots;
  for (std::size_t k = 0; k + 1 < starts.size(); ++k) {
    slots.clear();
    for (std::size_t i = starts[k]; i < starts[k + 1]; ++i) slots.push_back(entries[i].slot);
    if (slots.size() <= Posting::kSmallMax) {
      write_list(out, slots);
    } else {
      write_posting(out, Bitmap::of(slots));
    }
    out.settle();
  }
}

void write_field(Output& out, const std::string& key, const FieldIndex& field) {
  out.put().put_string(key);
  for (const Posting* posting :
       {&field.present, &field.trues, &field.falses, &field.string_slots}) {
    write_posting(out, *posting);
  }
  out.settle();
  for (const PostingMap* map : {&field.strings, &field.elements, &field.lists}) {
    write_postings(out, *map);
  }
  write_column(out, field.numbers);
}

// ---------------------------------------------------------------------------------------------
// Reading

// Reads `count` listed slots, each below `limit` and above the one before, passing each to
// `take`.
template <class Take>
Status read_list(ByteReader& in, std::uint32_t count, std::uint32_t limit, Take take) {
  if (in.remaining() / 4 < count) return corrupt("cut short");
  std::uint32_t previous = 0;
  for (std::uint32_t i = 0; i < count; ++i) {
    std::uint32_t slot = 0;
    (void)in.get_u32(slot);  // the bytes are there
    if (slot >= limit) {
      std::string what = numbered("slot", slot);
      what += numbered(" is not below", limit);
      return corrupt(what + " slots");
    }
    if (i > 0 && slot <= previous) return corrupt("slots not increasing");
    take(slot);
    previous = slot;
  }
  return Status::ok();
}

// Reads a posting's bitmap (after its count), which must hold `count` slots, all below `limit`.
Result<Bitmap> read_bitmap(ByteReader& in, std::uint32_t count, std::uint32_t limit) {
  std::string_view bytes;  // the u32 length and the bytes it counts, as a view
  if (!in.get_string(bytes)) return corrupt("cut short");
  Result<Bitmap> bits = Bitmap::from_portable(std::as_bytes(std::span(bytes)), limit);
  if (bits.is_ok() && bits.value().size() != count) {
    std::string what = numbered("bitmap holds", bits.value().size());
    what += numbered(" slots, its count says", count);
    return corrupt(std::move(what));
  }
  return bits;
}

// Reads a posting of slots below `limit`; `nonempty`: it must hold a slot.
Result<Posting> read_posting(ByteReader& in, std::uint32_t limit, bool nonempty) {
  std::uint32_t count = 0;
  if (!in.get_u32(count)) return corrupt("cut short");
  if (nonempty && count == 0) return corrupt("empty");
  if (count > Posting::kSmallMax) {
    Result<Bitmap> bits = read_bitmap(in, count, limit);
    if (!bits.is_ok()) return bits.status();
    return Posting::of(std::move(bits).value());
  }
  std::vector<std::uint32_t> slots;
  slots.reserve(count);
  Status status = read_list(in, count, limit, [&](std::uint32_t slot) { slots.push_back(slot); });
  if (!status.is_ok()) return status;
  return Posting::of_sorted(std::move(slots));
}

// Whether every slot of `posting` is in `set`.
bool is_within(const Posting& posting, const Bitmap& set) {
  if (const Bitmap* bits = posting.bitmap()) return bits->is_subset_of(set);
  const std::vector<std::uint32_t> slots = posting.to_vector();
  return std::all_of(slots.begin(), slots.end(),
                     [&](std::uint32_t slot) { return set.contains(slot); });
}

// Reads a posting of slots that must all lie in `present`.
Result<Posting> read_part(ByteReader& in, std::uint32_t limit, const Bitmap& present,
                          bool nonempty) {
  Result<Posting> posting = read_posting(in, limit, nonempty);
  if (posting.is_ok() && !is_within(posting.value(), present)) {
    return corrupt("holds a slot where the field is not present");
  }
  return posting;
}

// Reads a value -> posting map: values strictly increasing bytewise, postings non-empty and
// within `present`.
Status read_postings(ByteReader& in, std::uint32_t limit, const Bitmap& present, PostingMap& map) {
  std::uint32_t count = 0;
  if (!in.get_u32(count)) return corrupt("cut short");
  std::string_view previous;
  for (std::uint32_t i = 0; i < count; ++i) {
    std::string_view value;
    if (!in.get_string(value)) return corrupt(numbered("value", i) + ": cut short");
    if (i > 0 && value <= previous) {
      return corrupt(named(numbered("value", i), value) + ": values not increasing");
    }
    Result<Posting> posting = read_part(in, limit, present, true);
    if (!posting.is_ok()) return in_context(named("value", value), posting.status());
    map.emplace_hint(map.end(), std::string(value), std::move(posting).value());
    previous = value;
  }
  return Status::ok();
}

// The numbers of a column as its header lists them: checked canonical and strictly increasing.
Result<std::vector<NumKey>> read_numbers(ByteReader& in, std::uint32_t count) {
  if (in.remaining() / 8 < count || in.remaining() - 8 * std::size_t{count} < (count + 7) / 8) {
    return corrupt("cut short");
  }
  std::vector<NumKey> numbers(count);
  for (NumKey& number : numbers) (void)in.get_u64(number.bits);  // the bytes are there
  std::uint8_t kinds = 0;
  for (std::uint32_t i = 0; i < count; ++i) {
    if (i % 8 == 0) (void)in.get_u8(kinds);
    numbers[i].is_int = ((kinds >> (i % 8)) & 1) == 0;
    if (!payload_internal::is_canonical(numbers[i])) {
      return corrupt(numbered("number", i) + " is NaN or a whole double that fits an int");
    }
    if (i > 0 && payload_internal::compare(numbers[i - 1], numbers[i]) >= 0) {
      return corrupt(numbered("number", i) + " is not above the one before");
    }
  }
  if (count % 8 != 0 && (kinds >> (count % 8)) != 0)
    return corrupt("kind bits past the last number");
  return numbers;
}

// Reads a numeric column of slots that must lie in `present`, each slot at most once.
Result<NumericColumn> read_column(ByteReader& in, std::uint32_t limit, const Bitmap& present) {
  std::uint32_t count = 0;
  std::uint32_t distinct = 0;
  if (!in.get_u32(count) || !in.get_u32(distinct)) return corrupt("cut short");
  // Each entry holds its own slot and takes at least one bit (a bitset's); check both before
  // reserving 16 bytes an entry.
  if (count > limit)
    return corrupt(numbered("entries:", count) + numbered(", more than", limit) + " slots");
  if (count / 8 > in.remaining()) return corrupt("cut short");
  if (distinct > count || (distinct == 0) != (count == 0)) {
    return corrupt(numbered("entries:", count) + numbered(" with", distinct) + " numbers");
  }
  Result<std::vector<NumKey>> numbers = read_numbers(in, distinct);
  if (!numbers.is_ok()) return numbers.status();
  std::vector<NumericColumn::Entry> entries;
  entries.reserve(count);
  std::vector<std::uint32_t> slots;
  slots.reserve(count);
  for (std::uint32_t k = 0; k < distinct; ++k) {
    const NumKey number = numbers.value()[k];
    const auto take = [&](std::uint32_t slot) {
      entries.push_back({number.bits, slot, number.is_int, false});
      slots.push_back(slot);
    };
    std::uint32_t held = 1;  // all distinct: one slot per number, no count
    if (distinct < count && !in.get_u32(held)) return corrupt("cut short");
    if (held == 0 || held > count - entries.size()) {
      return corrupt(numbered("number", k) + numbered(" holds", held) + " slots, too many or none");
    }
    Status status;
    if (held <= Posting::kSmallMax) {
      status = read_list(in, held, limit, take);
    } else {
      Result<Bitmap> bits = read_bitmap(in, held, limit);
      status = bits.status();
      if (bits.is_ok()) {
        for (const std::uint32_t slot : bits.value()) take(slot);
      }
    }
    if (!status.is_ok()) return in_context(numbered("number", k), status);
  }
  if (entries.size() != count)
    return corrupt(numbered("numbers hold", entries.size()) + numbered(" slots, not", count));
  Bitmap column_slots = Bitmap::of(slots);
  if (column_slots.size() != count) return corrupt("a slot holds two numbers");
  if (!column_slots.is_subset_of(present))
    return corrupt("holds a slot where the field is not present");
  return NumericColumn::of_sorted(std::move(entries), Posting::of(std::move(column_slots)));
}

// Reads one field's index (after its key) for a collection of `limit` slots of which `live` are
// live.
Status read_field(ByteReader& in, std::uint32_t limit, const Bitmap& live, FieldIndex& field) {
  Result<Posting> present = read_posting(in, limit, true);
  if (!present.is_ok()) return in_context("present", present.status());
  field.present = std::move(present).value();
  if (!is_within(field.present, live)) return corrupt("present: holds a slot that is not live");
  const Bitmap present_set = field.present.to_bitmap();
  const std::pair<const char*, Posting*> parts[] = {
      {"true", &field.trues}, {"false", &field.falses}, {"string slots", &field.string_slots}};
  for (const auto& [name, part] : parts) {
    Result<Posting> posting = read_part(in, limit, present_set, false);
    if (!posting.is_ok()) return in_context(name, posting.status());
    *part = std::move(posting).value();
  }
  const std::pair<const char*, PostingMap*> maps[] = {
      {"strings", &field.strings}, {"elements", &field.elements}, {"lists", &field.lists}};
  for (const auto& [name, map] : maps) {
    if (Status status = read_postings(in, limit, present_set, *map); !status.is_ok()) {
      return in_context(name, status);
    }
  }
  Result<NumericColumn> numbers = read_column(in, limit, present_set);
  if (!numbers.is_ok()) return in_context("numbers", numbers.status());
  field.numbers = std::move(numbers).value();
  return Status::ok();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Bitmap

void Bitmap::append_portable(std::vector<std::byte>& out) const {
  if (bits_ == nullptr) {
    ByteWriter writer(out);
    writer.put_u32(payload_internal::kNoRunContainerCookie);
    writer.put_u32(0);  // no containers
    return;
  }
  const roaring_bitmap_t* bits = payload_internal::raw(bits_);
  const std::size_t start = out.size();
  out.resize(start + roaring_bitmap_portable_size_in_bytes(bits));
  roaring_bitmap_portable_serialize(bits, reinterpret_cast<char*>(out.data() + start));
}

Result<Bitmap> Bitmap::from_portable(std::span<const std::byte> bytes, std::uint64_t limit) {
  if (const std::string problem = portable_problem(bytes); !problem.empty()) {
    return corrupt("bitmap: " + problem);
  }
  Bitmap out;
  out.bits_ = payload_internal::checked(roaring_bitmap_portable_deserialize_safe(
      reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  if (!out.empty() && roaring_bitmap_maximum(payload_internal::raw(out.bits_)) >= limit) {
    std::string what =
        numbered("bitmap: slot", roaring_bitmap_maximum(payload_internal::raw(out.bits_)));
    what += numbered(" is not below", limit);
    return corrupt(what + " slots");
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// PayloadIndex

void PayloadIndex::save(const ByteSink& sink) const {
  Output out(sink);
  write_posting(out, live_);
  out.put().put_u32(static_cast<std::uint32_t>(fields_.size()));
  for (const auto& [key, field] : fields_) write_field(out, key, *field);
  out.settle(true);
}

Result<PayloadIndex> PayloadIndex::restore(std::span<const std::byte> bytes, std::uint32_t slots) {
  ByteReader in(bytes);
  PayloadIndex index;
  Result<Posting> live = read_posting(in, slots, false);
  if (!live.is_ok()) return in_context("live set", live.status());
  index.live_ = live.value().to_bitmap();
  std::uint32_t count = 0;
  if (!in.get_u32(count)) return corrupt("field count: cut short");
  std::string_view previous;
  for (std::uint32_t i = 0; i < count; ++i) {
    std::string_view key;
    if (!in.get_string(key)) return corrupt(numbered("field", i) + ": cut short");
    if (i > 0 && key <= previous) return corrupt(named("field", key) + ": keys not increasing");
    auto field = std::make_unique<Field>();
    if (Status status = read_field(in, slots, index.live_, *field); !status.is_ok()) {
      return in_context(named("field", key), status);
    }
    index.fields_.emplace_hint(index.fields_.end(), std::string(key), std::move(field));
    previous = key;
  }
  if (in.remaining() != 0) return corrupt("trailing bytes");
  return index;
}

}  // namespace omendb
