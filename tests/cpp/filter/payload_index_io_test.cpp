// Saving and restoring a payload index: bitmaps in CRoaring's portable format checked before
// CRoaring reads them (arrays, bitsets, runs, offsets); an index built by hand in the layout of
// docs/format.md ("Payload file") restores and answers as documented; every damaged, cut or
// crafted input (counts, slots, orders, kinds, subsets) is kCorruption naming the problem, never
// a crash. Round trips of random indexes against the reference evaluator: payload_index_test.cpp.
#include <gtest/gtest.h>
#include <roaring/roaring.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "filter/payload_index.h"
#include "storage/byte_io.h"

namespace omendb {
namespace {

using Bytes = std::vector<std::byte>;
using Slots = std::vector<std::uint32_t>;
using storage::ByteWriter;

Bytes portable(const Bitmap& bits) {
  Bytes bytes;
  bits.append_portable(bytes);
  return bytes;
}

Bytes saved(const PayloadIndex& index) {
  Bytes bytes;
  index.save([&](std::span<const std::byte> piece) {
    bytes.insert(bytes.end(), piece.begin(), piece.end());
  });
  return bytes;
}

// Expects kCorruption whose message holds `needle`.
template <class T>
void expect_corruption(const Result<T>& result, const std::string& needle) {
  ASSERT_FALSE(result.is_ok()) << "expecting " << needle;
  EXPECT_EQ(result.status().code(), StatusCode::kCorruption) << result.status().message();
  EXPECT_NE(result.status().message().find(needle), std::string::npos) << result.status().message();
}

void put_u16(Bytes& bytes, std::size_t offset, std::uint16_t value) {
  std::memcpy(bytes.data() + offset, &value, sizeof value);
}
void put_u32(Bytes& bytes, std::size_t offset, std::uint32_t value) {
  std::memcpy(bytes.data() + offset, &value, sizeof value);
}

FilterExpr leaf(FilterOp op, std::string field, Value operand) {
  FilterExpr e;
  e.op = op;
  e.field = std::move(field);
  e.operand = std::move(operand);
  return e;
}

// ---------------------------------------------------------------------------------------------
// Bitmaps in the portable format

TEST(BitmapPortable, RoundTripsArraysBitsetsAndEmptySets) {
  std::mt19937 rng(5);
  std::vector<Slots> cases = {{}, {0}, {UINT32_MAX}, {1, 70000, 5000000}};
  Slots dense;  // bitset containers, a partial one, and a full one
  for (std::uint32_t i = 0; i < 200000; ++i) {
    if (i < 65536 || rng() % 3 == 0) dense.push_back(i);
  }
  cases.push_back(dense);
  Slots array_4096;  // exactly 4096 in one container is still an array
  for (std::uint32_t i = 0; i < 4096; ++i) array_4096.push_back(3 * i);
  cases.push_back(array_4096);
  for (const Slots& slots : cases) {
    const Bitmap bits = Bitmap::of(slots);
    Result<Bitmap> back = Bitmap::from_portable(portable(bits), std::uint64_t{1} << 32);
    ASSERT_TRUE(back.is_ok()) << back.status().message();
    EXPECT_EQ(back.value(), bits) << slots.size();
  }
}

TEST(BitmapPortable, ReadsRunContainersWithAndWithoutOffsets) {
  for (const std::uint32_t containers : {1u, 3u, 4u, 9u}) {
    roaring_bitmap_t* runs = roaring_bitmap_create();
    Slots expected;
    for (std::uint32_t c = 0; c < containers; ++c) {
      const std::uint32_t base = c * 65536;
      roaring_bitmap_add_range(runs, base + 10, base + 5000);  // [10, 5000)
      roaring_bitmap_add(runs, base + 7000);
      for (std::uint32_t s = base + 10; s < base + 5000; ++s) expected.push_back(s);
      expected.push_back(base + 7000);
    }
    ASSERT_TRUE(roaring_bitmap_run_optimize(runs));
    Bytes bytes(roaring_bitmap_portable_size_in_bytes(runs));
    roaring_bitmap_portable_serialize(runs, reinterpret_cast<char*>(bytes.data()));
    roaring_bitmap_free(runs);
    ASSERT_EQ(std::to_integer<int>(bytes[0]) | std::to_integer<int>(bytes[1]) << 8, 12347);

    Result<Bitmap> back = Bitmap::from_portable(bytes, containers * 65536);
    ASSERT_TRUE(back.is_ok()) << back.status().message();
    EXPECT_EQ(back.value().to_vector(), expected);

    // The last run made to pass the container's end, then to overlap the one before.
    Bytes damaged = bytes;
    put_u16(damaged, damaged.size() - 2, 60000);
    expect_corruption(Bitmap::from_portable(damaged, containers * 65536), "passes the container");
    damaged = bytes;
    put_u16(damaged, damaged.size() - 4, 4000);
    expect_corruption(Bitmap::from_portable(damaged, containers * 65536), "runs overlap");
    damaged = bytes;
    put_u16(damaged, damaged.size() - 2, 1);  // the last run one longer: cardinality disagrees
    expect_corruption(Bitmap::from_portable(damaged, containers * 65536),
                      "runs disagree with the cardinality");
  }
}

// A portable serialization of two array containers (keys 0 and 1, values 1, 2, 3 and 5) and of
// one bitset container: the layout the crafted cases below damage.
struct TwoArrays {
  Bytes bytes = portable(Bitmap::of(Slots{1, 2, 3, 65536 + 5}));
  // cookie, count, (key, card - 1) x 2, offsets x 2, then the values: 8 + 8 + 8 = 24.
  static constexpr std::size_t kKeys = 8;
  static constexpr std::size_t kOffsets = 16;
  static constexpr std::size_t kValues = 24;
};

TEST(BitmapPortable, CraftedBytesAreCorruptionNamingTheProblem) {
  const TwoArrays valid;
  ASSERT_TRUE(Bitmap::from_portable(valid.bytes, 1000000).is_ok());
  ASSERT_EQ(valid.bytes.size(), TwoArrays::kValues + 8u);
  const auto damaged = [&](std::size_t offset, std::uint32_t value, bool wide) {
    Bytes bytes = valid.bytes;
    wide ? put_u32(bytes, offset, value)
         : put_u16(bytes, offset, static_cast<std::uint16_t>(value));
    return Bitmap::from_portable(bytes, 1000000);
  };
  expect_corruption(Bitmap::from_portable({}, 10), "bitmap: cut short");
  expect_corruption(damaged(0, 12345, true), "bitmap: cookie 12345");
  expect_corruption(damaged(4, 65537, true), "container count 65537");
  expect_corruption(damaged(4, 4, true), "cut short");  // headers of 4 containers do not fit
  expect_corruption(damaged(TwoArrays::kKeys + 4, 0, false), "container 1: keys not increasing");
  expect_corruption(damaged(TwoArrays::kOffsets + 4, 33, true), "container 1: offset disagrees");
  expect_corruption(damaged(TwoArrays::kValues + 2, 1, false), "container 0: array values not");
  expect_corruption(damaged(TwoArrays::kKeys + 6, 1, false), "container 1: cut short");
  expect_corruption(damaged(TwoArrays::kKeys + 2, 3, false), "container 1: offset disagrees");
  Bytes trailing = valid.bytes;
  trailing.push_back(std::byte{0});
  expect_corruption(Bitmap::from_portable(trailing, 1000000), "trailing bytes");
  expect_corruption(Bitmap::from_portable(valid.bytes, 65536 + 5), "slot 65541 is not below 65541");

  // A bitset container whose cardinality disagrees with its bits.
  Slots dense;
  for (std::uint32_t i = 0; i < 5000; ++i) dense.push_back(2 * i);
  Bytes bitset = portable(Bitmap::of(dense));
  put_u16(bitset, 10, 5000);  // cardinality - 1 says 5001
  expect_corruption(Bitmap::from_portable(bitset, 1000000), "bitset disagrees");
}

// Random bytes written over bitmaps of every container kind: each read is a set below the limit
// or kCorruption (under the sanitizers: never a read out of bounds, never a broken set).
TEST(BitmapPortable, RandomlyChangedBytesReadOrAreCorruption) {
  roaring_bitmap_t* mixed = roaring_bitmap_create();
  roaring_bitmap_add_range(mixed, 100, 3000);  // a run container
  for (std::uint32_t i = 0; i < 9000; ++i) roaring_bitmap_add(mixed, 65536 + 7 * i);    // bitset
  for (std::uint32_t i = 0; i < 50; ++i) roaring_bitmap_add(mixed, 5 * 65536 + 3 * i);  // array
  roaring_bitmap_add_range(mixed, 7 * 65536, 7 * 65536 + 10);
  ASSERT_TRUE(roaring_bitmap_run_optimize(mixed));
  Bytes with_runs(roaring_bitmap_portable_size_in_bytes(mixed));
  roaring_bitmap_portable_serialize(mixed, reinterpret_cast<char*>(with_runs.data()));
  roaring_bitmap_free(mixed);
  Slots dense;
  for (std::uint32_t i = 0; i < 100000; i += 2) dense.push_back(i);
  dense.push_back(300000);
  constexpr std::uint64_t kLimit = 8 * 65536;
  std::mt19937 rng(11);
  int read = 0;
  for (const Bytes& original : {with_runs, portable(Bitmap::of(dense))}) {
    ASSERT_TRUE(Bitmap::from_portable(original, kLimit).is_ok());
    for (int round = 0; round < 2000; ++round) {
      Bytes changed = original;
      // Mostly the headers, where a change is rarely harmless; sometimes anywhere.
      const std::size_t span =
          round % 4 == 0 ? changed.size() : std::min<std::size_t>(64, changed.size());
      for (int i = 0; i <= round % 3; ++i) {
        changed[rng() % span] = static_cast<std::byte>(rng() & 0xff);
      }
      if (round % 5 == 0) changed.resize(rng() % changed.size());
      Result<Bitmap> result = Bitmap::from_portable(changed, kLimit);
      if (!result.is_ok()) {
        EXPECT_EQ(result.status().code(), StatusCode::kCorruption);
        continue;
      }
      ++read;
      const Slots slots = result.value().to_vector();
      ASSERT_EQ(slots.size(), result.value().size());
      ASSERT_TRUE(std::is_sorted(slots.begin(), slots.end()));
      ASSERT_TRUE(slots.empty() || slots.back() < kLimit);
      ASSERT_EQ(
          (result.value() | Bitmap::of(dense)).size() + (result.value() & Bitmap::of(dense)).size(),
          slots.size() + dense.size());
    }
  }
  EXPECT_GT(read, 0);
}

// A saved index of 3,000 records (bitmaps, lists, columns of both forms) with random bytes
// changed or cut: each restore is an index that answers queries, or kCorruption.
TEST(PayloadIndexRestore, RandomlyDamagedBytesRestoreOrAreCorruption) {
  constexpr std::uint32_t kSlots = 3000;
  std::mt19937 rng(23);
  PayloadIndex index;
  for (std::uint32_t slot = 0; slot < kSlots; ++slot) {
    Metadata record = {{"flag", rng() % 2 == 0},
                       {"price", static_cast<std::int64_t>(rng() % 100000)},
                       {"score", static_cast<double>(rng() % 1000) / 8.0},
                       {"tag", std::string(1, static_cast<char>('a' + rng() % 4))},
                       {"tags", std::vector<std::string>{"x", std::to_string(rng() % 50)}}};
    if (slot % 7 == 0) record.pop_back();
    index.add(slot, record);
  }
  const Bytes original = saved(index);
  const std::vector<FilterExpr> queries = {
      leaf(FilterOp::kGt, "price", std::int64_t{500}), leaf(FilterOp::kEq, "tag", std::string("b")),
      leaf(FilterOp::kLte, "score", 10.5), leaf(FilterOp::kEq, "tags", std::string("7"))};
  int restored = 0;
  for (int round = 0; round < 600; ++round) {
    Bytes changed = original;
    for (int i = 0; i <= round % 4; ++i) {
      changed[rng() % changed.size()] = static_cast<std::byte>(rng() & 0xff);
    }
    if (round % 6 == 0) changed.resize(rng() % changed.size());
    Result<PayloadIndex> result = PayloadIndex::restore(changed, kSlots);
    if (!result.is_ok()) {
      EXPECT_EQ(result.status().code(), StatusCode::kCorruption) << result.status().message();
      continue;
    }
    ++restored;
    for (const FilterExpr& query : queries) {
      const PayloadIndex::Superset superset = result.value().superset(query);
      ASSERT_TRUE(superset.slots.is_subset_of(result.value().live()));
      (void)result.value().estimate(query);
    }
  }
  EXPECT_GT(restored, 0);  // changed numbers or slots that still fit every check
}

// ---------------------------------------------------------------------------------------------
// An index built by hand in the documented layout

// Bytes written field by field, with the offsets of the parts the crafted cases change.
class Layout {
 public:
  void u8(std::uint8_t value) { writer_.put_u8(value); }
  void u32(std::uint32_t value) { writer_.put_u32(value); }
  void u64(std::uint64_t value) { writer_.put_u64(value); }
  void text(std::string_view value) { writer_.put_string(value); }
  // A posting in list form: count, then the slots.
  void list(const Slots& slots) {
    u32(static_cast<std::uint32_t>(slots.size()));
    for (const std::uint32_t slot : slots) u32(slot);
  }
  // Remembers the offset of what comes next as `name`.
  void mark(const std::string& name) { marks_[name] = bytes_.size(); }

  std::size_t at(const std::string& name) const { return marks_.at(name); }
  const Bytes& bytes() const { return bytes_; }

 private:
  Bytes bytes_;
  ByteWriter writer_{bytes_};
  std::map<std::string, std::size_t> marks_;
};

// Ten slots, 0..7 live. Field "n": 1 in slots 0 and 1, 2.5 in slot 2, 7 in slots 3 and 4, "x" in
// slot 5. Field "t": true in slot 6, false in slot 7.
Layout hand_built() {
  Layout b;
  b.mark("live");
  b.list({0, 1, 2, 3, 4, 5, 6, 7});
  b.mark("fields");
  b.u32(2);
  b.mark("n");
  b.text("n");
  b.mark("n.present");
  b.list({0, 1, 2, 3, 4, 5});
  b.list({});  // true
  b.list({});  // false
  b.mark("n.string_slots");
  b.list({5});
  b.mark("n.strings");
  b.u32(1);
  b.text("x");
  b.mark("n.strings.x");
  b.list({5});
  b.u32(0);  // elements
  b.u32(0);  // lists
  b.mark("n.entries");
  b.u32(5);
  b.mark("n.numbers");
  b.u32(3);
  b.mark("n.number0");
  b.u64(1);
  b.mark("n.number1");
  b.u64(std::bit_cast<std::uint64_t>(2.5));
  b.u64(7);
  b.mark("n.kinds");
  b.u8(0b010);  // the second number is a double
  b.list({0, 1});
  b.list({2});
  b.mark("n.number2.slots");
  b.list({3, 4});
  b.mark("t");
  b.text("t");
  b.list({6, 7});  // present
  b.list({6});     // true
  b.list({7});     // false
  b.list({});      // string slots
  b.u32(0);
  b.u32(0);
  b.u32(0);
  b.u32(0);  // entries
  b.u32(0);  // numbers
  return b;
}

constexpr std::uint32_t kHandSlots = 10;

Slots matching(const PayloadIndex& index, const FilterExpr& filter) {
  const std::optional<Bitmap> slots = index.exact(filter);
  EXPECT_TRUE(slots.has_value());
  return slots ? slots->to_vector() : Slots{};
}

TEST(PayloadIndexLayout, HandBuiltBytesRestoreAndAreWhatSaveWrites) {
  const Layout layout = hand_built();
  Result<PayloadIndex> restored = PayloadIndex::restore(layout.bytes(), kHandSlots);
  ASSERT_TRUE(restored.is_ok()) << restored.status().message();
  const PayloadIndex& index = restored.value();
  EXPECT_EQ(index.live().to_vector(), (Slots{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(matching(index, leaf(FilterOp::kEq, "n", 1.0)), (Slots{0, 1}));
  EXPECT_EQ(matching(index, leaf(FilterOp::kGt, "n", std::int64_t{2})), (Slots{2, 3, 4}));
  EXPECT_EQ(matching(index, leaf(FilterOp::kNe, "n", std::int64_t{7})), (Slots{0, 1, 2, 5, 6, 7}));
  EXPECT_EQ(matching(index, leaf(FilterOp::kEq, "n", std::string("x"))), (Slots{5}));
  EXPECT_EQ(matching(index, leaf(FilterOp::kEq, "t", false)), (Slots{7}));
  EXPECT_EQ(index.estimate(leaf(FilterOp::kLte, "n", 2.5)), 3u);

  // The same index built through add() saves to exactly these bytes.
  const std::vector<Metadata> records = {{{"n", std::int64_t{1}}},
                                         {{"n", 1.0}},
                                         {{"n", 2.5}},
                                         {{"n", std::int64_t{7}}},
                                         {{"n", std::int64_t{7}}},
                                         {{"n", std::string("x")}},
                                         {{"t", true}},
                                         {{"t", false}}};
  PayloadIndex built;
  for (std::uint32_t slot = 0; slot < records.size(); ++slot) built.add(slot, records[slot]);
  EXPECT_EQ(saved(built), layout.bytes());
}

// The hand-built bytes with the u32 (or u64, u8) at `name` + `delta` replaced by `value`.
Result<PayloadIndex> with_u32(const std::string& name, std::size_t delta, std::uint32_t value,
                              std::uint32_t slots = kHandSlots) {
  const Layout layout = hand_built();
  Bytes bytes = layout.bytes();
  put_u32(bytes, layout.at(name) + delta, value);
  return PayloadIndex::restore(bytes, slots);
}
Result<PayloadIndex> with_u64(const std::string& name, std::uint64_t value) {
  const Layout layout = hand_built();
  Bytes bytes = layout.bytes();
  std::memcpy(bytes.data() + layout.at(name), &value, sizeof value);
  return PayloadIndex::restore(bytes, kHandSlots);
}
Result<PayloadIndex> with_u8(const std::string& name, std::uint8_t value) {
  const Layout layout = hand_built();
  Bytes bytes = layout.bytes();
  bytes[layout.at(name)] = std::byte{value};
  return PayloadIndex::restore(bytes, kHandSlots);
}

TEST(PayloadIndexLayout, CraftedCountsSlotsAndOrdersAreCorruption) {
  expect_corruption(with_u32("live", 4, 10), "live set: slot 10 is not below 10 slots");
  expect_corruption(with_u32("live", 8, 0), "live set: slots not increasing");
  expect_corruption(with_u32("live", 0, 0xFFFFFFFF), "live set: bitmap: cut short");
  expect_corruption(with_u32("fields", 0, 0xFFFFFFFF), "field 2: cut short");
  expect_corruption(with_u32("fields", 0, 1), "trailing bytes");
  expect_corruption(with_u32("t", 4, 'a'), "field 'a': keys not increasing");
  expect_corruption(with_u32("n.present", 4 + 5 * 4, 8),
                    "field 'n': present: holds a slot that is not live");
  expect_corruption(with_u32("n.present", 0, 0), "field 'n': present: empty");
  expect_corruption(with_u32("n.string_slots", 4, 6),
                    "field 'n': string slots: holds a slot where the field is not present");
  expect_corruption(with_u32("n.strings.x", 0, 0), "field 'n': strings: value 'x': empty");
  expect_corruption(with_u32("n.strings", 0, 0xFFFFFFFF), "field 'n': strings: value 1");
  expect_corruption(with_u32("n.entries", 0, 0xFFFFFFFF),
                    "field 'n': numbers: entries: 4294967295, more than 10 slots");
  expect_corruption(with_u32("n.entries", 0, 0xFFFFFFF0, UINT32_MAX),
                    "field 'n': numbers: cut short");
  expect_corruption(with_u32("n.numbers", 0, 6), "entries: 5 with 6 numbers");
  expect_corruption(with_u32("n.numbers", 0, 0), "entries: 5 with 0 numbers");
  expect_corruption(with_u32("n.entries", 0, 4), "number 2 holds 2 slots, too many or none");
  expect_corruption(with_u32("n.entries", 0, 6), "numbers hold 5 slots, not 6");
  expect_corruption(with_u32("n.number2.slots", 4, 1),
                    "field 'n': numbers: a slot holds two numbers");
  expect_corruption(with_u32("n.number2.slots", 8, 9),
                    "field 'n': numbers: holds a slot where the field is not present");
  expect_corruption(with_u32("n.number2.slots", 8, 3), "number 2: slots not increasing");
  expect_corruption(with_u64("n.number1", std::bit_cast<std::uint64_t>(3.0)),
                    "number 1 is NaN or a whole double that fits an int");
  expect_corruption(
      with_u64("n.number1", std::bit_cast<std::uint64_t>(std::numeric_limits<double>::quiet_NaN())),
      "number 1 is NaN");
  expect_corruption(with_u64("n.number0", 3), "number 1 is not above the one before");
  expect_corruption(with_u8("n.kinds", 0), "number 2 is not above the one before");
  expect_corruption(with_u8("n.kinds", 0b1010), "kind bits past the last number");
}

// Every prefix of the bytes is cut short; every byte changed is a valid index or kCorruption.
TEST(PayloadIndexLayout, CutOrChangedBytesNeverCrash) {
  const Bytes bytes = hand_built().bytes();
  for (std::size_t size = 0; size < bytes.size(); ++size) {
    const Result<PayloadIndex> cut =
        PayloadIndex::restore(std::span(bytes).first(size), kHandSlots);
    ASSERT_FALSE(cut.is_ok()) << size;
    EXPECT_EQ(cut.status().code(), StatusCode::kCorruption);
  }
  int loaded = 0;
  for (std::size_t offset = 0; offset < bytes.size(); ++offset) {
    for (const std::uint8_t mask : {0x01, 0x10, 0x80, 0xFF}) {
      Bytes changed = bytes;
      changed[offset] ^= std::byte{mask};
      Result<PayloadIndex> result = PayloadIndex::restore(changed, kHandSlots);
      if (!result.is_ok()) {
        EXPECT_EQ(result.status().code(), StatusCode::kCorruption) << result.status().message();
        continue;
      }
      ++loaded;  // e.g. another number or string value: the index must still work
      EXPECT_TRUE(
          result.value().live().is_subset_of(Bitmap::of(Slots{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})));
      (void)result.value().superset(leaf(FilterOp::kGte, "n", std::int64_t{0}));
    }
  }
  EXPECT_GT(loaded, 0);
}

}  // namespace
}  // namespace omendb
