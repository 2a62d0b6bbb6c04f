#include "storage/record_codec.h"

#include <gtest/gtest.h>

#include <atomic>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <new>
#include <random>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "omendb/collection.h"
#include "storage/byte_io.h"

namespace omendb::storage {
namespace {

// The largest single operator-new request made while `g_tracking` is set (see the replacement
// operator new at the end of this file).
std::atomic<bool> g_tracking{false};
std::atomic<std::size_t> g_largest_allocation{0};

using namespace std::string_literals;

using Bytes = std::vector<std::byte>;

constexpr double kDoubleMin = std::numeric_limits<double>::lowest();
constexpr double kDoubleMax = std::numeric_limits<double>::max();
constexpr float kFloatMin = std::numeric_limits<float>::lowest();
constexpr float kFloatMax = std::numeric_limits<float>::max();

// The views encode_write_batch() takes, over a decoded (owning) batch. `ids` holds the id views.
WriteBatch view_of(const DecodedBatch& batch, std::vector<std::string_view>& ids) {
  ids.assign(batch.ids.begin(), batch.ids.end());
  return WriteBatch{batch.kind, batch.dim, ids, batch.vectors, batch.metadata};
}

Bytes encode(const DecodedBatch& batch) {
  std::vector<std::string_view> ids;
  Bytes out;
  const Status status = encode_write_batch(view_of(batch, ids), out);
  EXPECT_TRUE(status.is_ok()) << status.message();
  return out;
}

Bytes encode(const Metadata& fields) {
  Bytes out;
  const Status status = encode_metadata(fields, out);
  EXPECT_TRUE(status.is_ok()) << status.message();
  return out;
}

// Values equal bit for bit: -0.0 differs from 0.0.
bool same_value(const Value& a, const Value& b) {
  if (a.index() != b.index()) return false;
  if (const double* x = std::get_if<double>(&a)) {
    return std::bit_cast<std::uint64_t>(*x) == std::bit_cast<std::uint64_t>(std::get<double>(b));
  }
  return a == b;
}

void expect_same_metadata(const Metadata& a, const Metadata& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].key, b[i].key);
    EXPECT_TRUE(same_value(a[i].value, b[i].value)) << "field " << a[i].key;
  }
}

void expect_same_batch(const DecodedBatch& a, const DecodedBatch& b) {
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.dim, b.dim);
  EXPECT_EQ(a.ids, b.ids);
  ASSERT_EQ(a.vectors.size(), b.vectors.size());
  for (std::size_t i = 0; i < a.vectors.size(); ++i) {
    ASSERT_EQ(std::bit_cast<std::uint32_t>(a.vectors[i]),
              std::bit_cast<std::uint32_t>(b.vectors[i]))
        << "float " << i;
  }
  ASSERT_EQ(a.metadata.size(), b.metadata.size());
  for (std::size_t i = 0; i < a.metadata.size(); ++i)
    expect_same_metadata(a.metadata[i], b.metadata[i]);
}

DecodedBatch decode_ok(std::span<const std::byte> payload, std::uint32_t dim) {
  Result<DecodedBatch> decoded = decode_write_batch(payload, dim);
  EXPECT_TRUE(decoded.is_ok()) << decoded.status().message();
  return decoded.is_ok() ? std::move(decoded).value() : DecodedBatch{};
}

void expect_round_trip(const DecodedBatch& batch) {
  const Bytes bytes = encode(batch);
  expect_same_batch(decode_ok(bytes, batch.dim), batch);
}

// Expects kCorruption whose message contains each of `parts`.
template <class T>
void expect_corruption(const Result<T>& result, std::initializer_list<std::string_view> parts) {
  ASSERT_FALSE(result.is_ok());
  const Status status = result.status();
  EXPECT_EQ(status.code(), StatusCode::kCorruption) << status.message();
  for (std::string_view part : parts) {
    EXPECT_NE(status.message().find(part), std::string::npos)
        << "'" << status.message() << "' lacks '" << part << "'";
  }
}

// A small batch using every value type: the subject of the exhaustive corruption tests.
DecodedBatch small_batch() {
  DecodedBatch batch;
  batch.kind = WriteKind::kUpsert;
  batch.dim = 2;
  batch.ids = {"a", "bc"};
  batch.vectors = {1.0f, -0.0f, 3.5f, 1e-40f};
  batch.metadata = {
      {{"f", 2.5}, {"i", std::int64_t{-7}}, {"n", std::monostate{}}, {"t", true}},
      {{"l", std::vector<std::string>{"x", ""}}, {"s", "yz"s}, {"u", false}},
  };
  return batch;
}

Metadata every_value_type() {
  return {
      {"bool_false", false},
      {"bool_true", true},
      {"float_denormal", std::numeric_limits<double>::denorm_min()},
      {"float_lowest", kDoubleMin},
      {"float_max", kDoubleMax},
      {"float_neg_zero", -0.0},
      {"int_max", std::numeric_limits<std::int64_t>::max()},
      {"int_min", std::numeric_limits<std::int64_t>::min()},
      {"list_empty", std::vector<std::string>{}},
      {"list_mixed", std::vector<std::string>{"", "a", "日本語", std::string(300, 'z')}},
      {"null", std::monostate{}},
      {"string_empty", ""s},
      {"string_nul", "a\0b"s},
      {"string_unicode", "héllo wörld ✓ 🚀"s},
      {"ключ", "κλειδί"s},
  };
}

// ---- Round trips -------------------------------------------------------------------------------

TEST(RecordCodecTest, MetadataRoundTripsEveryValueType) {
  const Metadata fields = every_value_type();
  Result<Metadata> decoded = decode_metadata(encode(fields));
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().message();
  expect_same_metadata(decoded.value(), fields);
  EXPECT_TRUE(std::signbit(std::get<double>(decoded.value()[5].value)));
}

TEST(RecordCodecTest, EmptyMetadataIsFourZeroBytes) {
  const Bytes bytes = encode(Metadata{});
  EXPECT_EQ(bytes, Bytes(4, std::byte{0}));
  Result<Metadata> decoded = decode_metadata(bytes);
  ASSERT_TRUE(decoded.is_ok());
  EXPECT_TRUE(decoded.value().empty());
}

// Metadata encodings back to back read one at a time, as the snapshot's metadata file does.
TEST(RecordCodecTest, MetadataDecodesOneAfterAnother) {
  const std::vector<Metadata> records = {every_value_type(), {}, {{"k", "v"s}}};
  Bytes bytes;
  for (const Metadata& fields : records) ASSERT_TRUE(encode_metadata(fields, bytes).is_ok());
  ByteReader in(bytes);
  for (const Metadata& fields : records) {
    Metadata decoded = {{"stale", true}};
    ASSERT_TRUE(decode_metadata(in, decoded).is_ok());
    expect_same_metadata(decoded, fields);
  }
  EXPECT_EQ(in.remaining(), 0u);
}

TEST(RecordCodecTest, EachKindRoundTrips) {
  DecodedBatch add = small_batch();
  add.kind = WriteKind::kAdd;
  expect_round_trip(add);
  expect_round_trip(small_batch());  // kUpsert

  DecodedBatch without_metadata = small_batch();
  without_metadata.metadata.clear();
  expect_round_trip(without_metadata);

  DecodedBatch empty_metadata = small_batch();
  empty_metadata.metadata.assign(2, Metadata{});
  expect_round_trip(empty_metadata);

  DecodedBatch remove;
  remove.kind = WriteKind::kDelete;
  remove.ids = {"a", "b", std::string(Collection::kMaxIdBytes, 'x')};
  const Bytes bytes = encode(remove);
  expect_same_batch(decode_ok(bytes, 7), remove);  // a delete ignores the expected dim

  DecodedBatch empty;
  empty.dim = 3;
  expect_round_trip(empty);
}

TEST(RecordCodecTest, SpecialFloatsRoundTripBitForBit) {
  DecodedBatch batch;
  batch.dim = 8;
  batch.ids = {"x"};
  batch.vectors = {-0.0f,     0.0f,      std::numeric_limits<float>::denorm_min(), -1e-45f,
                   kFloatMax, kFloatMin, std::numeric_limits<float>::min(),        1.0f};
  expect_round_trip(batch);
}

TEST(RecordCodecTest, ManyRecordsRoundTrip) {
  DecodedBatch batch;
  batch.dim = 32;
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  for (int i = 0; i < 20000; ++i) {
    batch.ids.push_back("record-" + std::to_string(i));
    for (std::uint32_t j = 0; j < batch.dim; ++j) batch.vectors.push_back(normal(rng));
    batch.metadata.push_back({{"i", std::int64_t{i}}, {"tag", i % 2 ? "odd"s : "even"s}});
  }
  expect_round_trip(batch);
}

// The layout of docs/format.md, byte for byte: a change here is a format change.
TEST(RecordCodecTest, EncodingMatchesTheDocumentedLayout) {
  DecodedBatch batch;
  batch.dim = 2;
  batch.ids = {"a"};
  batch.vectors = {1.0f, -2.0f};
  batch.metadata = {{{"k", std::int64_t{7}}}};
  const std::vector<int> expected = {
      0x01, 0x01, 0x00, 0x00,                          // kind add, flags: metadata, reserved
      0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00,  // count 1, dim 2
      0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0,  // 1.0f, -2.0f
      0x01, 0x00, 0x00, 0x00, 'a',                     // id "a"
      0x01, 0x00, 0x00, 0x00,                          // 1 field
      0x01, 0x00, 0x00, 0x00, 'k',  0x03,              // key "k", tag int
      0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // 7
  };
  const Bytes bytes = encode(batch);
  ASSERT_EQ(bytes.size(), expected.size());
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    EXPECT_EQ(std::to_integer<int>(bytes[i]), expected[i]) << "byte " << i;
  }
}

TEST(RecordCodecTest, EncodeAppendsAfterExistingBytes) {
  Bytes out = {std::byte{0xAB}, std::byte{0xCD}};
  std::vector<std::string_view> ids;
  ASSERT_TRUE(encode_write_batch(view_of(small_batch(), ids), out).is_ok());
  EXPECT_EQ(out[0], std::byte{0xAB});
  EXPECT_EQ(out[1], std::byte{0xCD});
  expect_same_batch(decode_ok(std::span(out).subspan(2), 2), small_batch());
}

// ---- Encode rejects what decode would reject ---------------------------------------------------

TEST(RecordCodecTest, EncodeRejectsInvalidBatchesAndLeavesOutputAlone) {
  const auto expect_rejected = [](const DecodedBatch& batch, std::string_view why) {
    Bytes out = {std::byte{1}, std::byte{2}};
    std::vector<std::string_view> ids;
    const Status status = encode_write_batch(view_of(batch, ids), out);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << why;
    EXPECT_EQ(out, (Bytes{std::byte{1}, std::byte{2}})) << why;
  };
  const auto changed = [](auto change) {
    DecodedBatch batch = small_batch();
    change(batch);
    return batch;
  };
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  expect_rejected(changed([&](DecodedBatch& b) { b.vectors[3] = nan; }), "NaN vector");
  expect_rejected(changed([&](DecodedBatch& b) { b.vectors[0] = -inf; }), "infinite vector");
  expect_rejected(changed([](DecodedBatch& b) { b.vectors.pop_back(); }), "short vectors");
  expect_rejected(changed([](DecodedBatch& b) { b.dim = 0; }), "dim 0");
  expect_rejected(changed([](DecodedBatch& b) { b.metadata.pop_back(); }), "metadata count");
  expect_rejected(changed([](DecodedBatch& b) { b.kind = static_cast<WriteKind>(9); }), "kind");
  expect_rejected(changed([](DecodedBatch& b) { b.kind = WriteKind::kDelete; }), "delete+vectors");
  expect_rejected(changed([](DecodedBatch& b) { b.ids[0] = ""; }), "empty id");
  expect_rejected(changed([](DecodedBatch& b) { b.ids[0] = "a\0b"s; }), "NUL in id");
  expect_rejected(
      changed([](DecodedBatch& b) { b.ids[0].assign(Collection::kMaxIdBytes + 1, 'x'); }),
      "long id");
  expect_rejected(changed([](DecodedBatch& b) { std::swap(b.metadata[0][0], b.metadata[0][1]); }),
                  "unsorted keys");
  expect_rejected(changed([](DecodedBatch& b) { b.metadata[1][1].key = "l"; }), "duplicate keys");
  expect_rejected(changed([](DecodedBatch& b) { b.metadata[0][0].key = ""; }), "empty key");
  expect_rejected(changed([](DecodedBatch& b) {
                    b.metadata[1][1].value = std::numeric_limits<double>::infinity();
                  }),
                  "infinite metadata float");

  Bytes out = {std::byte{9}};
  EXPECT_EQ(encode_metadata({{"b", 1.0}, {"a", 2.0}}, out).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(out, Bytes{std::byte{9}});
}

// ---- Decode rejects each kind of damage, naming it and its offset ------------------------------

// `bytes` with the u32 at `offset` replaced by `value`.
Bytes with_u32(Bytes bytes, std::size_t offset, std::uint32_t value) {
  std::memcpy(bytes.data() + offset, &value, sizeof value);
  return bytes;
}

Bytes with_byte(Bytes bytes, std::size_t offset, std::uint8_t value) {
  bytes[offset] = std::byte{value};
  return bytes;
}

TEST(RecordCodecTest, DecodeNamesEachCorruption) {
  const Bytes good = encode(small_batch());
  // Layout of small_batch(): header 0-11, vectors 12-27, ids 28-32 and 33-38, metadata from 39.
  const std::size_t ids_at = 12 + 16;
  const std::size_t metadata_at = ids_at + 5 + 6;
  expect_corruption(decode_write_batch(with_byte(good, 0, 0), 2), {"operation kind 0", "byte 0"});
  expect_corruption(decode_write_batch(with_byte(good, 0, 4), 2), {"operation kind 4", "byte 0"});
  expect_corruption(decode_write_batch(with_byte(good, 1, 5), 2), {"flags", "byte 1"});
  expect_corruption(decode_write_batch(with_byte(good, 3, 1), 2), {"reserved", "byte 2"});
  expect_corruption(decode_write_batch(good, 3), {"dim is 2, expected 3", "byte 8"});
  expect_corruption(decode_write_batch(with_byte(good, 0, 3), 2), {"delete", "byte 1"});
  expect_corruption(decode_write_batch(with_u32(good, 12 + 8, 0x7fc00000), 2),
                    {"component 0 of the vector of record 1 is not finite", "byte 20"});
  expect_corruption(decode_write_batch(with_u32(good, 12 + 4, 0xff800000), 2),
                    {"component 1 of the vector of record 0", "byte 16"});
  expect_corruption(decode_write_batch(with_u32(good, 4, 1000), 2), {"1000 vectors", "byte 12"});
  expect_corruption(decode_write_batch(with_u32(good, ids_at, 0), 2),
                    {"id of record 0 is empty", "byte 28"});
  expect_corruption(decode_write_batch(with_u32(good, ids_at, 1u << 30), 2),
                    {"id of record 0 runs past the end", "byte 28"});
  expect_corruption(decode_write_batch(with_byte(good, ids_at + 4 + 5, 0), 2),
                    {"id of record 1 contains a NUL", "byte 33"});
  expect_corruption(decode_write_batch(with_u32(good, metadata_at, 1u << 31), 2),
                    {"record 0 metadata", "fields do not fit", "byte 39"});
  // Field 0 of record 0 is key "f" (at 43), tag float (at 48), 2.5 (at 49).
  expect_corruption(decode_write_batch(with_byte(good, 48, 42), 2),
                    {"value of key 'f' has unknown tag 42", "byte 48"});
  expect_corruption(decode_write_batch(with_byte(good, 48, 0xff), 2), {"unknown tag 255"});
  expect_corruption(decode_write_batch(with_byte(good, 47, 'i'), 2),
                    {"key 'i' does not sort after 'i'", "byte 57"});
  expect_corruption(decode_write_batch(with_byte(good, 47, 'z'), 2),
                    {"key 'i' does not sort after 'z'", "byte 57"});
  Bytes nan_metadata = good;
  const std::uint64_t nan_bits = 0x7ff8000000000000;
  std::memcpy(nan_metadata.data() + 49, &nan_bits, sizeof nan_bits);
  expect_corruption(decode_write_batch(nan_metadata, 2),
                    {"is a float that is not finite", "byte 48"});
  Bytes trailing = good;
  trailing.push_back(std::byte{0});
  expect_corruption(decode_write_batch(trailing, 2),
                    {"1 bytes follow", "byte " + std::to_string(good.size())});
  expect_corruption(decode_write_batch({}, 2), {"header needs 12 bytes, payload has 0"});

  Bytes metadata = encode(Metadata{{"k", "value"s}});
  metadata.push_back(std::byte{0});
  expect_corruption(decode_metadata(metadata), {"metadata: 1 bytes follow", "byte 19"});
  expect_corruption(decode_metadata(with_u32(encode(Metadata{{"k", "value"s}}), 10, 6)),
                    {"value of key 'k' runs past the end", "byte 9"});
  expect_corruption(decode_metadata(with_u32(encode(Metadata{{"k", "v"s}}), 4, 0)),
                    {"key of field 0 is empty", "byte 4"});
}

// ---- Hostile inputs: truncation, byte flips, huge counts, random batches -----------------------

// Decoding `bytes` must succeed or fail with kCorruption. On success, the batch must be one that
// encodes again, to bytes that decode to the same batch.
void expect_clean_outcome(std::span<const std::byte> bytes, std::uint32_t dim) {
  Result<DecodedBatch> decoded = decode_write_batch(bytes, dim);
  if (!decoded.is_ok()) {
    ASSERT_EQ(decoded.status().code(), StatusCode::kCorruption) << decoded.status().message();
    return;
  }
  const Bytes again = encode(decoded.value());
  expect_same_batch(decode_ok(again, dim), decoded.value());
}

// Further vector fields: blocks round trip; every damaged count, dim, flag, row and order is
// corruption at its byte; every truncation fails.
TEST(RecordCodecTest, FieldBlocksRoundTripAndDamageIsCorruption) {
  const std::vector<std::string_view> ids = {"a", "b", "c"};
  const std::vector<float> rows = {1, 2, 3, 4, 5, 6};  // a: 1..3; c: 4..6 (b lacks field 1)
  const std::vector<std::uint8_t> present1 = {1, 0, 1};
  const std::vector<float> rows2 = {7, 8, 9};
  const std::vector<std::uint8_t> present2 = {1, 1, 1};
  const std::vector<FieldBlock> blocks = {{1, 2, present1, {rows.data() + 0, 4}},
                                          {3, 1, present2, rows2}};
  const std::vector<float> vectors = {0.5f, 1.5f, 2.5f};
  const WriteBatch batch{WriteKind::kAdd, 1, ids, vectors, {}, blocks};
  Bytes good;
  ASSERT_TRUE(encode_write_batch(batch, good).is_ok());
  const std::vector<std::uint32_t> dims = {2, 5, 1};  // fields 1, 2, 3
  Result<DecodedBatch> decoded = decode_write_batch(good, 1, dims);
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().message();
  ASSERT_EQ(decoded.value().more_vectors.size(), 2u);
  const DecodedFieldBlock& first = decoded.value().more_vectors[0];
  EXPECT_EQ(first.field, 1u);
  EXPECT_EQ(first.dim, 2u);
  EXPECT_EQ(first.present, present1);
  EXPECT_EQ(first.vectors, (std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(decoded.value().more_vectors[1].vectors, rows2);

  // Layout: header 12, vectors 12, ids 3 x 5 = 15, then the blocks from byte 39.
  const std::size_t blocks_at = 12 + 12 + 15;
  const std::size_t block1_at = blocks_at + 4;
  const std::size_t block2_at = block1_at + 12 + 3 + 16;
  expect_corruption(decode_write_batch(good, 1), {"field block count is 2", "0 further"});
  expect_corruption(decode_write_batch(good, 1, std::vector<std::uint32_t>{2, 5}),
                    {"vector field 3 is out of order or unknown", std::to_string(block2_at)});
  expect_corruption(decode_write_batch(good, 1, std::vector<std::uint32_t>{3, 5, 1}),
                    {"vector field 1 has dim 2, expected 3", std::to_string(block1_at + 4)});
  expect_corruption(decode_write_batch(with_u32(good, block2_at, 1), 1, dims),
                    {"vector field 1 is out of order"});
  expect_corruption(decode_write_batch(with_byte(good, block1_at + 13, 2), 1, dims),
                    {"flag other than 0/1"});
  expect_corruption(decode_write_batch(with_byte(good, block1_at + 13, 1), 1, dims),
                    {"declares 2 rows but flags 3"});
  expect_corruption(decode_write_batch(with_u32(good, block1_at + 8, 0xffffffffu), 1, dims),
                    {"do not fit"});
  expect_corruption(decode_write_batch(with_u32(good, block1_at + 15, 0x7f800000), 1, dims),
                    {"vector field 1 has a non-finite value", std::to_string(block1_at + 15)});
  expect_corruption(decode_write_batch(with_u32(good, blocks_at, 0), 1, dims),
                    {"field block count is 0"});
  for (std::size_t size = 0; size < good.size(); ++size) {
    EXPECT_FALSE(decode_write_batch(std::span(good).first(size), 1, dims).is_ok()) << size;
  }
  // What would not decode does not encode.
  const std::vector<FieldBlock> unordered = {blocks[1], blocks[0]};
  Bytes out;
  EXPECT_FALSE(
      encode_write_batch(WriteBatch{WriteKind::kAdd, 1, ids, vectors, {}, unordered}, out).is_ok());
  const std::vector<std::uint8_t> wrong_flags = {1, 1, 1};
  const std::vector<FieldBlock> short_rows = {{1, 2, wrong_flags, {rows.data(), 4}}};
  EXPECT_FALSE(
      encode_write_batch(WriteBatch{WriteKind::kAdd, 1, ids, vectors, {}, short_rows}, out).is_ok());
  EXPECT_TRUE(out.empty());
}

// Documents: flags and texts round trip (absent ones decode as ""), every truncation fails, and
// damaged flags are corruption.
TEST(RecordCodecTest, DocumentsRoundTripAndDamageIsCorruption) {
  const std::vector<std::string_view> ids = {"a", "b", "c"};
  const std::vector<float> vectors = {1, 2, 3};
  const std::vector<std::string_view> documents = {"first text", "ignored", "\xc3\xa9t\xc3\xa9"};
  const std::vector<std::uint8_t> has_document = {1, 0, 1};
  Bytes good;
  ASSERT_TRUE(encode_write_batch(WriteBatch{.kind = WriteKind::kAdd,
                                            .dim = 1,
                                            .ids = ids,
                                            .vectors = vectors,
                                            .metadata = {},
                                            .documents = documents,
                                            .has_document = has_document},
                                 good)
                  .is_ok());
  Result<DecodedBatch> decoded = decode_write_batch(good, 1);
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().message();
  EXPECT_EQ(decoded.value().has_document, has_document);
  EXPECT_EQ(decoded.value().documents, (std::vector<std::string>{"first text", "", "\xc3\xa9t\xc3\xa9"}));
  // Layout: header 12, vectors 12, ids 15, then the flags at 39 and the texts.
  const std::size_t flags_at = 12 + 12 + 15;
  expect_corruption(decode_write_batch(with_byte(good, flags_at + 1, 2), 1),
                    {"a document flag other than 0/1", std::to_string(flags_at)});
  expect_corruption(decode_write_batch(with_byte(good, flags_at + 1, 1), 1), {"runs past the end"});
  for (std::size_t size = 0; size < good.size(); ++size) {
    EXPECT_FALSE(decode_write_batch(std::span(good).first(size), 1).is_ok()) << size;
  }
  Bytes out;
  const std::vector<std::string_view> one = {"x"};
  EXPECT_FALSE(encode_write_batch(WriteBatch{.kind = WriteKind::kAdd,
                                             .dim = 1,
                                             .ids = ids,
                                             .vectors = vectors,
                                             .metadata = {},
                                             .documents = one},
                                  out)
                   .is_ok());
  EXPECT_TRUE(out.empty());
}

TEST(RecordCodecTest, EveryTruncationFails) {
  std::vector<Bytes> encodings = {encode(small_batch())};
  DecodedBatch remove;
  remove.kind = WriteKind::kDelete;
  remove.ids = {"first", "second"};
  encodings.push_back(encode(remove));
  for (const Bytes& bytes : encodings) {
    for (std::size_t size = 0; size < bytes.size(); ++size) {
      const Result<DecodedBatch> decoded = decode_write_batch(std::span(bytes).first(size), 2);
      ASSERT_FALSE(decoded.is_ok()) << "prefix of " << size << " bytes";
      ASSERT_EQ(decoded.status().code(), StatusCode::kCorruption);
    }
  }
  const Bytes metadata = encode(every_value_type());
  for (std::size_t size = 0; size < metadata.size(); ++size) {
    const Result<Metadata> decoded = decode_metadata(std::span(metadata).first(size));
    ASSERT_FALSE(decoded.is_ok()) << "prefix of " << size << " bytes";
    ASSERT_EQ(decoded.status().code(), StatusCode::kCorruption);
  }
}

TEST(RecordCodecTest, EverySingleByteChangeDecodesOrFailsCleanly) {
  const Bytes good = encode(small_batch());
  int decoded_ok = 0;
  for (std::size_t position = 0; position < good.size(); ++position) {
    for (int value = 0; value < 256; ++value) {
      if (std::byte(value) == good[position]) continue;
      SCOPED_TRACE("byte " + std::to_string(position) + " set to " + std::to_string(value));
      const Bytes changed = with_byte(good, position, static_cast<std::uint8_t>(value));
      expect_clean_outcome(changed, 2);
      decoded_ok += decode_write_batch(changed, 2).is_ok() ? 1 : 0;
      if (HasFatalFailure()) return;
    }
  }
  // Changes inside vectors, ids and strings decode; changes to counts and tags do not.
  EXPECT_GT(decoded_ok, 0);

  const Bytes metadata = encode(every_value_type());
  for (std::size_t position = 0; position < metadata.size(); ++position) {
    for (int value = 0; value < 256; value += 17) {
      const Result<Metadata> decoded =
          decode_metadata(with_byte(metadata, position, static_cast<std::uint8_t>(value)));
      if (!decoded.is_ok()) {
        ASSERT_EQ(decoded.status().code(), StatusCode::kCorruption);
      }
    }
  }
}

// A header, then `tail` zero bytes.
Bytes crafted_header(WriteKind kind, std::uint8_t flags, std::uint32_t count, std::uint32_t dim,
                     std::size_t tail) {
  Bytes bytes;
  ByteWriter out(bytes);
  out.put_u8(static_cast<std::uint8_t>(kind));
  out.put_u8(flags);
  out.put_u16(0);
  out.put_u32(count);
  out.put_u32(dim);
  bytes.resize(bytes.size() + tail);
  return bytes;
}

// Huge declared counts and lengths over a few bytes fail before any allocation larger than a
// small multiple of the input.
TEST(RecordCodecTest, HugeDeclaredCountsFailWithoutLargeAllocations) {
  constexpr std::uint32_t kHuge = 0xffffffff;
  std::vector<Bytes> batches = {
      crafted_header(WriteKind::kAdd, kBatchHasMetadata, kHuge, 4, 64),
      crafted_header(WriteKind::kAdd, 0, kHuge, 1, 64),
      crafted_header(WriteKind::kAdd, 0, kHuge, kHuge, 64),
      crafted_header(WriteKind::kUpsert, kBatchHasMetadata, 10, 1, 40 + 64),  // ids do not fit
      crafted_header(WriteKind::kDelete, 0, kHuge, 0, 1000),
  };
  Bytes huge_id = crafted_header(WriteKind::kDelete, 0, 1, 0, 0);
  ByteWriter(huge_id).put_u32(kHuge);
  huge_id.resize(huge_id.size() + 8);
  batches.push_back(huge_id);

  std::vector<Bytes> metadata;
  for (const ValueTag tag : {ValueTag::kString, ValueTag::kStringList}) {
    Bytes bytes;
    ByteWriter out(bytes);
    out.put_u32(1);
    out.put_string("k");
    out.put_u8(static_cast<std::uint8_t>(tag));
    out.put_u32(kHuge);
    bytes.resize(bytes.size() + 64);
    metadata.push_back(bytes);
  }
  metadata.push_back(with_u32(Bytes(64), 0, kHuge));

  g_largest_allocation = 0;
  g_tracking = true;
  std::vector<StatusCode> codes;
  for (const Bytes& bytes : batches) codes.push_back(decode_write_batch(bytes, 4).status().code());
  for (const Bytes& bytes : metadata) codes.push_back(decode_metadata(bytes).status().code());
  g_tracking = false;

  for (const StatusCode code : codes) EXPECT_EQ(code, StatusCode::kCorruption);
  EXPECT_LT(g_largest_allocation.load(), 4096u);
}

// A random Metadata: up to 6 fields of random types, keys sorted and unique.
Metadata random_metadata(std::mt19937_64& rng) {
  const auto random_string = [&](std::size_t max_size) {
    std::string text(rng() % (max_size + 1), '\0');
    for (char& c : text) c = static_cast<char>(rng());
    return text;
  };
  std::map<std::string, Value> fields;
  const std::size_t count = rng() % 7;
  for (std::size_t i = 0; i < count; ++i) {
    std::string key = random_string(8);
    if (key.empty()) key = "k";
    Value value;
    switch (rng() % 7) {
      case 0:
        value = std::monostate{};
        break;
      case 1:
        value = (rng() % 2) == 0;
        break;
      case 2:
        value = static_cast<std::int64_t>(rng());
        break;
      case 3: {
        double number = std::bit_cast<double>(rng());
        value = std::isfinite(number) ? number : -0.0;
        break;
      }
      case 4:
        value = random_string(20);
        break;
      default: {
        std::vector<std::string> list(rng() % 4);
        for (std::string& text : list) text = random_string(6);
        value = std::move(list);
      }
    }
    fields[std::move(key)] = std::move(value);
  }
  Metadata out;
  for (auto& [key, value] : fields) out.push_back({key, std::move(value)});
  return out;
}

DecodedBatch random_batch(std::mt19937_64& rng) {
  DecodedBatch batch;
  batch.kind = static_cast<WriteKind>(1 + rng() % 3);
  batch.dim = batch.kind == WriteKind::kDelete ? 0 : static_cast<std::uint32_t>(1 + rng() % 16);
  const std::size_t count = rng() % 21;
  for (std::size_t i = 0; i < count; ++i) {
    std::string id(1 + rng() % 30, 'x');
    for (char& c : id) c = static_cast<char>(1 + rng() % 255);  // any byte but NUL
    batch.ids.push_back(std::move(id));
  }
  for (std::size_t i = 0; i < count * batch.dim; ++i) {
    const float value = std::bit_cast<float>(static_cast<std::uint32_t>(rng()));
    batch.vectors.push_back(std::isfinite(value) ? value : -0.0f);
  }
  if (batch.kind != WriteKind::kDelete && rng() % 2 == 0) {
    for (std::size_t i = 0; i < count; ++i) batch.metadata.push_back(random_metadata(rng));
  }
  return batch;
}

TEST(RecordCodecTest, RandomBatchesRoundTripAndSurviveDamage) {
  std::mt19937_64 rng(20240601);
  for (int round = 0; round < 1000; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const DecodedBatch batch = random_batch(rng);
    const Bytes bytes = encode(batch);
    const std::uint32_t dim = batch.dim == 0 ? 5 : batch.dim;
    expect_same_batch(decode_ok(bytes, dim), batch);
    // A few random damages of each: a byte changed, a prefix, random bytes appended.
    Bytes changed = bytes;
    changed[rng() % changed.size()] = static_cast<std::byte>(rng());
    expect_clean_outcome(changed, dim);
    expect_clean_outcome(std::span(bytes).first(rng() % bytes.size()), dim);
    Bytes longer = bytes;
    longer.push_back(static_cast<std::byte>(rng()));
    EXPECT_FALSE(decode_write_batch(longer, dim).is_ok());
    if (HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace omendb::storage

// Replaces the global allocation functions for this test binary only, to record the largest request
// made while omendb::storage::g_tracking is set. Forwards to malloc/free otherwise unchanged.
[[gnu::noinline]] void* operator new(std::size_t size) {
  if (omendb::storage::g_tracking.load(std::memory_order_relaxed)) {
    std::size_t largest = omendb::storage::g_largest_allocation.load(std::memory_order_relaxed);
    while (size > largest &&
           !omendb::storage::g_largest_allocation.compare_exchange_weak(largest, size)) {
    }
  }
  if (void* memory = std::malloc(size == 0 ? 1 : size)) return memory;
  throw std::bad_alloc();
}
[[gnu::noinline]] void operator delete(void* memory) noexcept { std::free(memory); }
[[gnu::noinline]] void operator delete(void* memory, std::size_t) noexcept { std::free(memory); }
