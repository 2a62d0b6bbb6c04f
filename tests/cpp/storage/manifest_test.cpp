// The manifest: its encoding round trips and rejects every damaged file, and write_manifest
// switches atomically under injected faults and simulated crashes at every step.
#include "storage/manifest.h"

#include <gtest/gtest.h>

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "storage/byte_io.h"
#include "storage/crc32c.h"
#include "storage/fault_injection_env.h"
#include "test_files.h"

namespace omendb::storage {
namespace {

using testing::read_bytes;
using testing::TempDir;
using testing::write_bytes;
using Bytes = std::vector<std::byte>;

constexpr std::uint32_t kMaxU32 = std::numeric_limits<std::uint32_t>::max();
constexpr std::uint64_t kMaxU64 = std::numeric_limits<std::uint64_t>::max();

// A manifest of `collections` collections whose every field depends on `seed`.
Manifest sample(std::size_t collections, std::uint64_t seed) {
  Manifest manifest;
  manifest.checkpoint_lsn = seed * 1000 + collections;
  manifest.next_file_number = seed * 7 + 3;
  manifest.log_file = "wal-" + std::to_string(seed);
  const std::array<Metric, 3> metrics = {Metric::kL2, Metric::kCosine, Metric::kIp};
  for (std::size_t i = 0; i < collections; ++i) {
    ManifestCollection collection;
    collection.name = "c" + std::to_string(seed) + "_" + std::to_string(i);
    collection.options.dim = 1 + (i * 37 + seed) % CollectionOptions::kMaxDim;
    collection.options.metric = metrics[(i + seed) % metrics.size()];
    collection.options.m = static_cast<std::uint32_t>(2 + i % (CollectionOptions::kMaxM - 1));
    collection.options.ef_construction = static_cast<std::uint32_t>(1 + i * 13);
    collection.options.seed = seed ^ (i * 0x9e3779b97f4a7c15ULL);
    if (i % 3 == 1) collection.options.vector_name = std::string("v").append(std::to_string(i));
    if (i % 4 == 3) {
      collection.options.text = {.enabled = true,
                                 .stemmer = i % 8 == 3 ? "english" : "",
                                 .stop_words = {"the", std::string("w").append(std::to_string(i))},
                                 .k1 = 0.9f,
                                 .b = 0.5f};
    }
    for (std::size_t f = 0; f < i % 4; ++f) {
      collection.options.more_vectors.push_back(
          {.name = std::string("f").append(std::to_string(f)),
           .dim = 1 + (i + f * 11) % 2048,
           .metric = metrics[(i + f) % metrics.size()],
           .m = static_cast<std::uint32_t>(2 + f),
           .ef_construction = static_cast<std::uint32_t>(10 + f),
           .quantization = f % 2 == 0 ? Quantization::kSq8 : Quantization::kNone});
    }
    for (std::size_t j = 0; j < i % 5; ++j) {
      collection.snapshot_files.push_back({std::to_string(seed * 100 + i * 10 + j) + ".snap",
                                           i * 4096 + j, static_cast<std::uint32_t>(seed + i + j)});
    }
    manifest.collections.push_back(std::move(collection));
  }
  return manifest;
}

// The first difference between two manifests, field by field; "" when they are equal.
std::string difference(const Manifest& a, const Manifest& b) {
  if (a.format_version != b.format_version) return "format_version";
  if (a.checkpoint_lsn != b.checkpoint_lsn) return "checkpoint_lsn";
  if (a.next_file_number != b.next_file_number) return "next_file_number";
  if (a.log_file != b.log_file) return "log_file";
  if (a.collections.size() != b.collections.size()) return "collection count";
  for (std::size_t i = 0; i < a.collections.size(); ++i) {
    const ManifestCollection& x = a.collections[i];
    const ManifestCollection& y = b.collections[i];
    const CollectionOptions& p = x.options;
    const CollectionOptions& q = y.options;
    const std::string at = "collection " + std::to_string(i) + " ";
    if (x.name != y.name) return at + "name";
    if (p.dim != q.dim || p.metric != q.metric || p.m != q.m ||
        p.ef_construction != q.ef_construction || p.seed != q.seed ||
        p.quantization != q.quantization || p.vector_name != q.vector_name ||
        p.more_vectors.size() != q.more_vectors.size() || p.text.enabled != q.text.enabled ||
        p.text.stemmer != q.text.stemmer || p.text.stop_words != q.text.stop_words ||
        p.text.k1 != q.text.k1 || p.text.b != q.text.b) {
      return at + "options";
    }
    for (std::size_t f = 0; f < p.more_vectors.size(); ++f) {
      const VectorFieldOptions& u = p.more_vectors[f];
      const VectorFieldOptions& v = q.more_vectors[f];
      if (u.name != v.name || u.dim != v.dim || u.metric != v.metric || u.m != v.m ||
          u.ef_construction != v.ef_construction || u.quantization != v.quantization) {
        return at + "vector field " + std::to_string(f + 1);
      }
    }
    if (x.snapshot_files != y.snapshot_files) return at + "snapshot files";
  }
  return "";
}

Bytes encode(const Manifest& manifest) {
  Result<Bytes> bytes = encode_manifest(manifest);
  EXPECT_TRUE(bytes.is_ok()) << bytes.status().message();
  return bytes.is_ok() ? std::move(bytes.value()) : Bytes{};
}

// `body` framed as a manifest of `version` with a correct length and checksum: bodies no encoder
// would write, checked only by the body decoder.
Bytes frame(const Bytes& body, std::uint32_t version = manifest::kFormatVersion) {
  Bytes file = testing::to_bytes(manifest::kMagic);
  ByteWriter writer(file);
  writer.put_u32(version);
  writer.put_u32(static_cast<std::uint32_t>(body.size()));
  file.insert(file.end(), body.begin(), body.end());
  writer.put_u32(crc32c_mask(crc32c(file)));
  return file;
}

// The body `write_body` writes, framed.
Bytes framed(const std::function<void(ByteWriter&)>& write_body,
             std::uint32_t version = manifest::kFormatVersion) {
  Bytes body;
  ByteWriter writer(body);
  write_body(writer);
  return frame(body, version);
}

// The fields of one collection, as put_collection writes them.
struct RawCollection {
  std::string name = "c";
  std::uint32_t dim = 4;
  std::uint32_t metric = manifest::kMetricL2;
  std::uint32_t m = 16;
  std::uint32_t ef_construction = 200;
  std::uint64_t seed = 1;
  std::uint32_t quantization = manifest::kQuantizationNone;
  std::string vector_name = "default";  // the first vector field's (format 3 on)
  std::uint32_t more_fields = 0;        // further vector fields stored; none follow
  std::uint32_t text_flags = 0;         // text settings (format 4 on): 0, no text index
  std::uint32_t sparse_fields = 0;      // sparse fields stored (format 5 on); none follow
  std::uint32_t file_count = 0;         // the count stored; no files follow
};
// Bytes of RawCollection's vector fields, text flags and sparse fields as the default writes
// them: name "default", field count, text flags, sparse field count.
constexpr std::size_t kDefaultFieldsBytes = 4 + 7 + 4 + 4 + 4;

// Bytes of a body before its collections: checkpoint lsn, next file number, log "wal".
constexpr std::size_t kCollectionCountOffset = manifest::kHeaderSize + 8 + 8 + 4 + 3;
constexpr std::size_t kFirstCollectionOffset = kCollectionCountOffset + 4;

void put_prefix(ByteWriter& out, std::uint32_t collection_count) {
  out.put_u64(1);
  out.put_u64(2);
  out.put_string("wal");
  out.put_u32(collection_count);
}

void put_collection(ByteWriter& out, const RawCollection& c) {
  out.put_string(c.name);
  for (std::uint32_t value : {c.dim, c.metric, c.m, c.ef_construction}) out.put_u32(value);
  out.put_u64(c.seed);
  out.put_u32(c.quantization);
  out.put_string(c.vector_name);
  out.put_u32(c.more_fields);
  out.put_u32(c.text_flags);
  out.put_u32(c.sparse_fields);
  out.put_u32(c.file_count);
}

// The prefix of a body with one collection, "c", and that collection up to its first vector
// field's name ("default"), which tests then follow with the rest by hand.
void put_one_collection_up_to_its_fields(ByteWriter& out) {
  put_prefix(out, 1);
  out.put_string("c");
  for (std::uint32_t value : {4u, manifest::kMetricL2, 16u, 200u}) out.put_u32(value);
  out.put_u64(1);
  out.put_u32(manifest::kQuantizationNone);
  out.put_string("default");
}

// A framed file of the prefix and `collections`.
Bytes framed_collections(const std::vector<RawCollection>& collections) {
  return framed([&](ByteWriter& out) {
    put_prefix(out, static_cast<std::uint32_t>(collections.size()));
    for (const RawCollection& c : collections) put_collection(out, c);
  });
}

// Decoding `bytes` fails with kCorruption whose message holds `expected`.
void expect_corruption(std::span<const std::byte> bytes, const std::string& expected = "") {
  Result<Manifest> decoded = decode_manifest(bytes);
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kCorruption) << decoded.status().message();
  EXPECT_NE(decoded.status().message().find(expected), std::string::npos)
      << decoded.status().message() << "\nexpected: " << expected;
}

// ---- Encoding ----------------------------------------------------------------------------------

TEST(ManifestCodec, EmptyManifestRoundTrips) {
  Manifest manifest;
  manifest.log_file = "wal-1";
  const Bytes bytes = encode(manifest);
  EXPECT_EQ(bytes.size(), manifest::kHeaderSize + 8 + 8 + 4 + 5 + 4 + manifest::kTrailerSize);
  Result<Manifest> decoded = decode_manifest(bytes);
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().message();
  EXPECT_EQ(difference(decoded.value(), manifest), "");
}

TEST(ManifestCodec, ManyCollectionsRoundTrip) {
  Manifest manifest = sample(300, 5);
  manifest.checkpoint_lsn = kMaxU64;
  manifest.next_file_number = kMaxU64 - 1;
  manifest.log_file = std::string(manifest::kMaxNameBytes, 'w');
  manifest.collections[0].name = std::string(manifest::kMaxNameBytes, 'n');
  manifest.collections[1].options.dim = CollectionOptions::kMaxDim;
  manifest.collections[1].options.m = CollectionOptions::kMaxM;
  manifest.collections[1].options.ef_construction = SearchOptions::kMaxEf;
  manifest.collections[1].options.seed = kMaxU64;
  manifest.collections[2].snapshot_files.push_back({"a.-_Z9", kMaxU64, kMaxU32});
  Result<Manifest> decoded = decode_manifest(encode(manifest));
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().message();
  EXPECT_EQ(difference(decoded.value(), manifest), "");
}

// The example of docs/format.md, byte for byte: a change here is a format change.
TEST(ManifestCodec, EncodingMatchesTheDocumentedLayout) {
  Manifest manifest;
  manifest.checkpoint_lsn = 7;
  manifest.next_file_number = 9;
  manifest.log_file = "wal-8";
  ManifestCollection docs{"docs", {}, {{"5.vec", 48, 0x01020304}}};
  docs.options.dim = 3;
  docs.options.metric = Metric::kCosine;
  docs.options.quantization = Quantization::kSq8;
  docs.options.ef_construction = 200;  // the documented example predates the default of 100
  manifest.collections.push_back(docs);
  const std::vector<std::uint8_t> expected = {
      0x4f, 0x4d, 0x45, 0x4e, 0x44, 0x42, 0x4d, 0x46,        // "OMENDBMF"
      0x05, 0x00, 0x00, 0x00,                                // version 5
      0x71, 0x00, 0x00, 0x00,                                // body length 113
      0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,        // checkpoint lsn 7
      0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,        // next file number 9
      0x05, 0x00, 0x00, 0x00, 0x77, 0x61, 0x6c, 0x2d, 0x38,  // log file "wal-8"
      0x01, 0x00, 0x00, 0x00,                                // 1 collection
      0x04, 0x00, 0x00, 0x00, 0x64, 0x6f, 0x63, 0x73,        // name "docs"
      0x03, 0x00, 0x00, 0x00,                                // dim 3
      0x02, 0x00, 0x00, 0x00,                                // metric 2: cosine
      0x10, 0x00, 0x00, 0x00,                                // m 16
      0xc8, 0x00, 0x00, 0x00,                                // ef_construction 200
      0x2a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,        // seed 42
      0x02, 0x00, 0x00, 0x00,                                // quantization 2: sq8
      0x07, 0x00, 0x00, 0x00, 0x64, 0x65, 0x66, 0x61, 0x75,  // first vector field's name,
      0x6c, 0x74,                                            //   "default"
      0x00, 0x00, 0x00, 0x00,                                // no further vector fields
      0x00, 0x00, 0x00, 0x00,                                // text flags 0: no text index
      0x00, 0x00, 0x00, 0x00,                                // no sparse fields
      0x01, 0x00, 0x00, 0x00,                                // 1 snapshot file
      0x05, 0x00, 0x00, 0x00, 0x35, 0x2e, 0x76, 0x65, 0x63,  // name "5.vec"
      0x30, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,        // size 48
      0xdc, 0xec, 0x8a, 0xa8,                                // masked crc 0x01020304
      0xda, 0xee, 0xb6, 0x3e,                                // masked crc32c of all above
  };
  Bytes expected_bytes;
  for (const std::uint8_t byte : expected) expected_bytes.push_back(std::byte{byte});
  EXPECT_EQ(encode(manifest), expected_bytes);
}

TEST(ManifestCodec, EveryTruncationAndEveryChangedByteIsCorruption) {
  const Bytes bytes = encode(sample(6, 3));
  for (std::size_t size = 0; size < bytes.size(); ++size) {
    SCOPED_TRACE("prefix of " + std::to_string(size) + " bytes");
    expect_corruption(std::span(bytes).first(size));
  }
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    for (const std::uint8_t flip : {0x01, 0x10, 0x80, 0xff}) {
      SCOPED_TRACE("byte " + std::to_string(i) + " xor " + std::to_string(flip));
      Bytes changed = bytes;
      changed[i] ^= std::byte{flip};
      expect_corruption(changed);
    }
  }
  Bytes longer = bytes;
  longer.push_back(std::byte{0});
  expect_corruption(longer, "body length");
}

// A manifest of format `version` (1 or 2) with one collection "old" (dim 8, ip, m 12,
// ef_construction 100, seed 5; from format 2 on, sq8) and no snapshot files.
Bytes old_format(std::uint32_t version) {
  return framed(
      [version](ByteWriter& out) {
        put_prefix(out, 1);
        out.put_string("old");
        for (std::uint32_t value : {8u, manifest::kMetricIp, 12u, 100u}) out.put_u32(value);
        out.put_u64(5);
        if (version >= 2) out.put_u32(manifest::kQuantizationSq8);
        out.put_u32(0);  // no snapshot files
      },
      version);
}

// Format 1 (before quantization) has no quantization field: its collections read as none, and
// encoding writes them in the current format.
TEST(ManifestCodec, VersionOneDecodesWithoutQuantization) {
  const Bytes version1 = old_format(1);
  Result<Manifest> decoded = decode_manifest(version1);
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().message();
  EXPECT_EQ(decoded.value().format_version, 1u);
  const CollectionOptions& options = decoded.value().collections.at(0).options;
  EXPECT_EQ(options.quantization, Quantization::kNone);
  EXPECT_EQ(options.dim, 8u);
  EXPECT_EQ(options.m, 12u);
  Manifest upgraded = decoded.value();
  upgraded.format_version = manifest::kFormatVersion;
  Result<Manifest> again = decode_manifest(encode(upgraded));
  ASSERT_TRUE(again.is_ok()) << again.status().message();
  EXPECT_EQ(difference(again.value(), upgraded), "");
}

TEST(ManifestCodec, QuantizationRoundTripsAndUnknownCodesAreCorruption) {
  Manifest manifest = sample(2, 1);
  manifest.collections[0].options.quantization = Quantization::kNone;
  manifest.collections[1].options.quantization = Quantization::kSq8;
  Result<Manifest> decoded = decode_manifest(encode(manifest));
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().message();
  EXPECT_EQ(decoded.value().collections[0].options.quantization, Quantization::kNone);
  EXPECT_EQ(decoded.value().collections[1].options.quantization, Quantization::kSq8);
  RawCollection unknown;
  unknown.quantization = 7;
  expect_corruption(framed_collections({unknown}),
                    "collection 0 quantization has unknown code 7 at byte " +
                        std::to_string(kFirstCollectionOffset + 4 + 1 + 4 * 4 + 8));
}

// Format 2 (before named vector fields) ends a collection's options at quantization: one field,
// "default". Format 3's vector fields round trip, and bad ones are corruption at their offset.
TEST(ManifestCodec, VectorFieldsRoundTripAndVersionTwoHasOne) {
  const Bytes version2 = old_format(2);
  Result<Manifest> decoded = decode_manifest(version2);
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().message();
  const CollectionOptions& options = decoded.value().collections.at(0).options;
  EXPECT_EQ(options.vector_name, "default");
  EXPECT_TRUE(options.more_vectors.empty());
  EXPECT_EQ(options.quantization, Quantization::kSq8);

  Manifest manifest = sample(8, 2);
  ASSERT_FALSE(manifest.collections[2].options.more_vectors.empty());
  Result<Manifest> again = decode_manifest(encode(manifest));
  ASSERT_TRUE(again.is_ok()) << again.status().message();
  EXPECT_EQ(difference(again.value(), manifest), "");

  const std::size_t fields_at = kFirstCollectionOffset + 5 + 4 * 4 + 8 + 4;
  expect_corruption(framed_collections({RawCollection{.more_fields = kMaxU32}}),
                    "collection 0 4294967295 vector fields do not fit in the 12 bytes left at byte " +
                        std::to_string(fields_at));
  const auto one_field = [](const std::string& name, std::uint32_t dim, std::uint32_t metric) {
    return framed([&](ByteWriter& out) {
      put_one_collection_up_to_its_fields(out);
      out.put_u32(1);
      out.put_string(name);
      for (std::uint32_t value : {dim, metric, 16u, 100u, manifest::kQuantizationNone}) {
        out.put_u32(value);
      }
      out.put_u32(0);  // no text index
      out.put_u32(0);  // no sparse fields
      out.put_u32(0);  // no snapshot files
    });
  };
  ASSERT_TRUE(decode_manifest(one_field("caption", 384, manifest::kMetricCosine)).is_ok());
  expect_corruption(one_field("caption", 384, 9),
                    "vector field 'caption' has unknown metric code 9 at byte " +
                        std::to_string(fields_at));
  expect_corruption(one_field("default", 384, manifest::kMetricL2), "declared twice");
  expect_corruption(one_field("a b", 384, manifest::kMetricL2), "may hold only letters");
  expect_corruption(one_field("caption", 0, manifest::kMetricL2),
                    "vector field 'caption': dim must be between 1 and 65536, got 0");
}

// Format 4's text settings round trip; a damaged text section is corruption at its offset.
TEST(ManifestCodec, TextSettingsRoundTripAndBadOnesAreCorruption) {
  Manifest manifest = sample(8, 3);
  ASSERT_TRUE(manifest.collections[3].options.text.enabled);
  ASSERT_EQ(manifest.collections[3].options.text.stemmer, "english");
  Result<Manifest> decoded = decode_manifest(encode(manifest));
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().message();
  EXPECT_EQ(difference(decoded.value(), manifest), "");
  const std::size_t text_at = kFirstCollectionOffset + 5 + 4 * 4 + 8 + 4 + 4 + 7 + 4;
  expect_corruption(framed_collections({RawCollection{.text_flags = 2}}),
                    "collection 0 the text flags hold unknown bits at byte " +
                        std::to_string(text_at));
  expect_corruption(framed_collections({RawCollection{.text_flags = 1}}),
                    "collection 0 the BM25 parameters are truncated");
  const auto with_text = [](std::string stemmer, float b) {
    return framed([=](ByteWriter& out) {
      put_one_collection_up_to_its_fields(out);
      out.put_u32(0);
      out.put_u32(1);  // text enabled
      out.put_string(stemmer);
      out.put_u32(1);
      out.put_string("the");
      out.put_u32(std::bit_cast<std::uint32_t>(1.2f));
      out.put_u32(std::bit_cast<std::uint32_t>(b));
      out.put_u32(0);  // no sparse fields
      out.put_u32(0);  // no snapshot files
    });
  };
  ASSERT_TRUE(decode_manifest(with_text("porter", 0.75f)).is_ok());
  expect_corruption(with_text("klingon", 0.75f), "klingon");
  expect_corruption(with_text("", 1.5f), "bm25 b must be in [0, 1]");
}

TEST(ManifestCodec, BadFramesAreCorruption) {
  const Bytes good = framed_collections({RawCollection{}});
  ASSERT_TRUE(decode_manifest(good).is_ok());
  expect_corruption({}, "ends before its header and checksum at byte 0");
  Bytes magic = good;
  magic[7] = std::byte{'X'};
  expect_corruption(magic, "bad magic at byte 0");
  expect_corruption(framed([](ByteWriter& out) { put_prefix(out, 0); }, 6),
                    "unsupported format version 6 (this build reads 1 to 5) at byte 8");
  expect_corruption(framed([](ByteWriter& out) { put_prefix(out, 0); }, 0),
                    "unsupported format version 0 (this build reads 1 to 5) at byte 8");
  Bytes crc = good;
  crc.back() ^= std::byte{1};
  expect_corruption(crc, "checksum mismatch at byte " + std::to_string(crc.size() - 4));
}

TEST(ManifestCodec, BadBodiesWithCorrectChecksumsAreCorruptionNamingFieldAndOffset) {
  const std::string first = "at byte " + std::to_string(kFirstCollectionOffset);
  const auto with = [](auto change) {
    RawCollection c;
    change(c);
    return framed_collections({c});
  };
  // Offsets within a collection named "c": name 0, dim 5, metric 9.
  const std::string metric_at = "at byte " + std::to_string(kFirstCollectionOffset + 9);
  expect_corruption(with([](RawCollection& c) { c.metric = 4; }),
                    "collection 0 metric has unknown code 4 " + metric_at);
  expect_corruption(with([](RawCollection& c) { c.metric = 0; }),
                    "collection 0 metric has unknown code 0 " + metric_at);
  const std::string options_at = "at byte " + std::to_string(kFirstCollectionOffset + 5);
  expect_corruption(with([](RawCollection& c) { c.dim = 0; }),
                    "collection 0 options: dim must be between 1 and 65536, got 0 " + options_at);
  expect_corruption(with([](RawCollection& c) { c.dim = 65537; }), "options: dim");
  expect_corruption(with([](RawCollection& c) { c.m = 1; }), "options: m must be");
  expect_corruption(with([](RawCollection& c) { c.m = 129; }), "options: m must be");
  expect_corruption(with([](RawCollection& c) { c.ef_construction = 0; }), "ef_construction");
  expect_corruption(with([](RawCollection& c) { c.ef_construction = 100001; }), "ef_construction");
  expect_corruption(framed([](ByteWriter& out) {
                      put_prefix(out, 1);
                      put_collection(out, RawCollection{.name = ""});
                      out.put_u8(0);  // an empty name is one byte short of the smallest collection
                    }),
                    "collection 0 name is 0 bytes, not 1 to 128 " + first);
  expect_corruption(with([](RawCollection& c) { c.name = std::string(129, 'a'); }),
                    "collection 0 name is 129 bytes");
  for (const char* name : {"..", ".hidden", "a/b", "a b", "a\n"}) {
    expect_corruption(with([&](RawCollection& c) { c.name = name; }), "collection 0 name");
  }
  expect_corruption(with([](RawCollection& c) { c.name = std::string("a\0b", 3); }), "name holds");
  // The second collection starts after the first's quantization and file count.
  const std::size_t second_at = kFirstCollectionOffset + 5 + 4 * 4 + 8 + 4 + kDefaultFieldsBytes + 4;
  expect_corruption(
      framed_collections({RawCollection{}, RawCollection{}}),
      "collection 1 name repeats an earlier one at byte " + std::to_string(second_at));
  expect_corruption(framed([](ByteWriter& out) {
                      out.put_u64(1);
                      out.put_u64(2);
                      out.put_string("");
                      out.put_u32(0);
                    }),
                    "log file name is 0 bytes");
  expect_corruption(framed([](ByteWriter& out) {
                      put_prefix(out, 0);
                      out.put_u8(0);
                    }),
                    "1 trailing bytes at byte " + std::to_string(kFirstCollectionOffset));
  expect_corruption(framed([](ByteWriter& out) { out.put_u64(1); }),
                    "next file number is cut short at byte 24");
  expect_corruption(framed([](ByteWriter& out) {
                      put_prefix(out, 1);
                      put_collection(out, RawCollection{.file_count = 1});
                      out.put_string("a/b");
                      out.put_u64(1);
                      out.put_u32(0);
                    }),
                    "collection 0 snapshot file 0 name holds a byte other than");
}

// A huge count fails at the count, before anything is reserved for it: a decoder that reserved
// first would ask for hundreds of gigabytes (std::bad_alloc, or an abort under AddressSanitizer).
TEST(ManifestCodec, HugeCountsAndLengthsFailFastAtTheirField) {
  expect_corruption(framed([](ByteWriter& out) { put_prefix(out, kMaxU32); }),
                    "collection count 4294967295 is more than the 0 bytes left can hold at byte " +
                        std::to_string(kCollectionCountOffset));
  // One more collection than the bytes left can hold, even were each the smallest possible.
  expect_corruption(framed([](ByteWriter& out) {
                      put_prefix(out, 2);
                      put_collection(out, RawCollection{});
                    }),
                    "collection count 2 is more than");
  const std::size_t file_count_at = kFirstCollectionOffset + 5 + 4 * 4 + 8 + 4 + kDefaultFieldsBytes;
  expect_corruption(framed_collections({RawCollection{.file_count = kMaxU32}}),
                    "collection 0 snapshot file count 4294967295 is more than the 0 bytes left "
                    "can hold at byte " +
                        std::to_string(file_count_at));
  expect_corruption(framed([](ByteWriter& out) {
                      out.put_u64(1);
                      out.put_u64(2);
                      out.put_u32(kMaxU32);  // log file name length
                    }),
                    "log file name is cut short at byte 32");
}

TEST(ManifestCodec, EncodeRejectsWhatDecodeWouldReject) {
  const auto expect_invalid = [](const Manifest& manifest, const std::string& expected) {
    Result<Bytes> bytes = encode_manifest(manifest);
    ASSERT_FALSE(bytes.is_ok());
    EXPECT_EQ(bytes.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(bytes.status().message().find(expected), std::string::npos)
        << bytes.status().message();
  };
  const Manifest good = sample(3, 1);
  Manifest bad = good;
  bad.format_version = 1;
  expect_invalid(bad, "format_version 1 is not 5");
  bad = good;
  bad.log_file = "";
  expect_invalid(bad, "log_file is 0 bytes");
  bad = good;
  bad.collections[2].name = bad.collections[0].name;
  expect_invalid(bad, "collection 2 name '" + bad.collections[0].name + "' repeats");
  bad = good;
  bad.collections[1].name = "../x";
  expect_invalid(bad, "collection 1 name starts with '.'");
  bad = good;
  bad.collections[1].options.dim = 0;
  expect_invalid(bad, "collection 1 options: dim must be");
  bad = good;
  bad.collections[2].snapshot_files[1].name = "a/b";
  expect_invalid(bad, "collection 2 snapshot file 1 name holds");
}

// Damage behind a correct checksum (a writer's bug rather than the disk's): random changes, cuts
// and insertions in the body of a valid encoding, framed afresh. Decoding fails cleanly or yields a
// manifest that encodes to the same bytes; it never crashes (run under the sanitizers).
TEST(ManifestCodec, RandomlyDamagedBodiesWithCorrectChecksumsDecodeCleanly) {
  std::mt19937_64 rng(20240612);
  const Bytes good = encode(sample(5, 9));
  const Bytes body(good.begin() + manifest::kHeaderSize, good.end() - manifest::kTrailerSize);
  for (int round = 0; round < 3000; ++round) {
    Bytes damaged = body;
    for (std::uint64_t n = 1 + rng() % 3; n > 0; --n) {
      const std::size_t at = rng() % damaged.size();
      switch (rng() % 3) {
        case 0:
          damaged[at] = static_cast<std::byte>(rng());
          break;
        case 1:
          damaged.resize(at + 1);
          break;
        default:
          damaged.insert(damaged.begin() + static_cast<std::ptrdiff_t>(at),
                         static_cast<std::byte>(rng()));
      }
    }
    const Bytes file = frame(damaged);
    Result<Manifest> decoded = decode_manifest(file);
    if (decoded.is_ok()) {
      EXPECT_EQ(encode(decoded.value()), file) << "round " << round;
    } else {
      EXPECT_EQ(decoded.status().code(), StatusCode::kCorruption) << "round " << round;
    }
  }
}

// ---- Writing and reading files -----------------------------------------------------------------

// Which manifest a folder holds.
enum class Found { kNone, kOld, kNew, kOther };

class ManifestFileTest : public ::testing::Test {
 protected:
  Found found() {
    Result<Manifest> manifest = read_manifest(env_, dir_.path());
    if (!manifest.is_ok()) {
      EXPECT_EQ(manifest.status().code(), StatusCode::kNotFound) << manifest.status().message();
      return Found::kNone;
    }
    if (difference(manifest.value(), old_).empty()) return Found::kOld;
    if (difference(manifest.value(), new_).empty()) return Found::kNew;
    return Found::kOther;
  }

  void write_old() {
    ASSERT_TRUE(write_manifest(env_, dir_.path(), old_).is_ok());
    ASSERT_EQ(found(), Found::kOld);
  }

  bool temp_exists() {
    return env_.file_exists(dir_ / std::string(manifest::kTempFileName)).value();
  }

  TempDir dir_;
  FaultInjectionEnv env_{Env::posix()};
  Manifest old_ = sample(3, 1);
  Manifest new_ = sample(4, 2);
};

// The operations of one write_manifest, in order; the crash tests below rely on it.
constexpr std::array<FaultOp, 5> kSteps = {FaultOp::kCreate, FaultOp::kAppend, FaultOp::kSync,
                                           FaultOp::kRename, FaultOp::kSyncDir};

TEST_F(ManifestFileTest, OneWriteIsCreateAppendSyncRenameAndDirectorySync) {
  write_old();
  std::array<std::uint64_t, kSteps.size()> before{};
  for (std::size_t i = 0; i < kSteps.size(); ++i) before[i] = env_.calls(kSteps[i]);
  const std::uint64_t removes = env_.calls(FaultOp::kRemove);
  ASSERT_TRUE(write_manifest(env_, dir_.path(), new_).is_ok());
  for (std::size_t i = 0; i < kSteps.size(); ++i) {
    EXPECT_EQ(env_.calls(kSteps[i]), before[i] + 1) << "step " << i;
  }
  EXPECT_EQ(env_.calls(FaultOp::kRemove), removes);
  EXPECT_EQ(found(), Found::kNew);
  EXPECT_EQ(env_.list_dir(dir_.path()).value(), std::vector<std::string>{"MANIFEST"});
  ASSERT_TRUE(env_.drop_unsynced_data().is_ok());
  EXPECT_EQ(found(), Found::kNew) << "an acknowledged manifest survives a crash";
}

TEST_F(ManifestFileTest, EachFailingOperationReturnsAnErrorAndLeavesTheOldManifest) {
  write_old();
  for (const FaultOp op : {FaultOp::kCreate, FaultOp::kAppend, FaultOp::kSync, FaultOp::kRename}) {
    SCOPED_TRACE("failing op " + std::to_string(static_cast<int>(op)));
    env_.fail_nth(op, 1);
    bool renamed = true;
    EXPECT_EQ(write_manifest(env_, dir_.path(), new_, &renamed).code(), StatusCode::kIoError);
    EXPECT_FALSE(renamed);
    env_.clear_faults();
    EXPECT_EQ(found(), Found::kOld);
    EXPECT_FALSE(temp_exists());
    ASSERT_TRUE(env_.drop_unsynced_data().is_ok());
    EXPECT_EQ(found(), Found::kOld);
  }
  // A full disk: the temporary file is cut short.
  const std::uint64_t size = encode(new_).size();
  for (const std::uint64_t space : {std::uint64_t{0}, std::uint64_t{1}, size / 2, size - 1}) {
    env_.set_space_left(space);
    EXPECT_EQ(write_manifest(env_, dir_.path(), new_).code(), StatusCode::kIoError);
    env_.clear_faults();
    EXPECT_EQ(found(), Found::kOld);
  }
  // The cleanup failing too leaves a temporary file, which is ignored and then overwritten.
  env_.fail_nth(FaultOp::kSync, 1);
  env_.fail_nth(FaultOp::kRemove, 1);
  EXPECT_EQ(write_manifest(env_, dir_.path(), new_).code(), StatusCode::kIoError);
  env_.clear_faults();
  EXPECT_TRUE(temp_exists());
  EXPECT_EQ(found(), Found::kOld);
  ASSERT_TRUE(write_manifest(env_, dir_.path(), new_).is_ok());
  EXPECT_EQ(found(), Found::kNew);
  EXPECT_FALSE(temp_exists());
}

// The one exception: the rename has happened when the directory sync fails, so the new manifest
// is visible, and a crash may bring back either (this Env brings back the old one).
TEST_F(ManifestFileTest, FailingDirectorySyncLeavesTheNewManifestVisibleAndEitherAfterACrash) {
  write_old();
  env_.fail_nth(FaultOp::kSyncDir, 1);
  bool renamed = false;
  EXPECT_EQ(write_manifest(env_, dir_.path(), new_, &renamed).code(), StatusCode::kIoError);
  EXPECT_TRUE(renamed);
  env_.clear_faults();
  EXPECT_EQ(found(), Found::kNew);
  ASSERT_TRUE(env_.drop_unsynced_data().is_ok());
  EXPECT_EQ(found(), Found::kOld);
}

// Makes the process "die" just before step `crash_at` of the next write_manifest: that step, every
// later one and the cleanup fail, then the unsynced data is dropped.
Status write_and_crash(FaultInjectionEnv& env, const std::filesystem::path& dir,
                       const Manifest& manifest, std::size_t crash_at) {
  for (std::size_t i = crash_at; i < kSteps.size(); ++i) env.fail_nth(kSteps[i], 1, true);
  env.fail_nth(FaultOp::kRemove, 1, true);
  const Status written = write_manifest(env, dir, manifest);
  env.clear_faults();
  if (Status status = env.drop_unsynced_data(); !status.is_ok()) return status;
  return written;
}

TEST_F(ManifestFileTest, CrashBeforeEachStepLeavesTheOldOrTheNewManifest) {
  for (std::size_t crash_at = 0; crash_at <= kSteps.size(); ++crash_at) {
    SCOPED_TRACE("crash before step " + std::to_string(crash_at));
    write_old();
    const Status written = write_and_crash(env_, dir_.path(), new_, crash_at);
    EXPECT_EQ(written.is_ok(), crash_at == kSteps.size()) << written.message();
    const Found after = found();
    EXPECT_TRUE(after == Found::kOld || after == Found::kNew);
    // What this Env leaves: the rename is durable only with the directory sync.
    EXPECT_EQ(after, crash_at == kSteps.size() ? Found::kNew : Found::kOld);
  }
}

TEST_F(ManifestFileTest, CrashDuringTheFirstWriteLeavesNoManifestOrTheNewOne) {
  for (std::size_t crash_at = 0; crash_at <= kSteps.size(); ++crash_at) {
    SCOPED_TRACE("crash before step " + std::to_string(crash_at));
    TempDir fresh;
    static_cast<void>(write_and_crash(env_, fresh.path(), new_, crash_at));
    Result<Manifest> read = read_manifest(env_, fresh.path());
    if (crash_at == kSteps.size()) {
      ASSERT_TRUE(read.is_ok()) << read.status().message();
      EXPECT_EQ(difference(read.value(), new_), "");
    } else {
      EXPECT_EQ(read.status().code(), StatusCode::kNotFound) << read.status().message();
    }
  }
}

TEST_F(ManifestFileTest, CrashMidAppendLeavesTheOldManifest) {
  const std::uint64_t size = encode(new_).size();
  for (const std::uint64_t space : {std::uint64_t{1}, size / 2, size - 1}) {
    write_old();
    env_.set_space_left(space);
    env_.fail_nth(FaultOp::kRemove, 1, true);
    EXPECT_FALSE(write_manifest(env_, dir_.path(), new_).is_ok());
    env_.clear_faults();
    ASSERT_TRUE(env_.drop_unsynced_data().is_ok());
    EXPECT_EQ(found(), Found::kOld);
  }
}

// Generation after generation, each write crashing at a random step or not at all: the folder
// always holds the last acknowledged manifest or the one being written, never neither.
TEST_F(ManifestFileTest, RandomCrashesAcrossGenerationsNeverLoseTheManifest) {
  std::mt19937_64 rng(20240611);
  Manifest acknowledged = sample(2, 100);
  ASSERT_TRUE(write_manifest(env_, dir_.path(), acknowledged).is_ok());
  for (std::uint64_t generation = 101; generation < 141; ++generation) {
    SCOPED_TRACE("generation " + std::to_string(generation));
    const Manifest next = sample(generation % 7, generation);
    const std::size_t crash_at = rng() % (kSteps.size() + 2);  // kSteps.size() + 1: no crash
    const Status written = crash_at <= kSteps.size()
                               ? write_and_crash(env_, dir_.path(), next, crash_at)
                               : write_manifest(env_, dir_.path(), next);
    Result<Manifest> read = read_manifest(env_, dir_.path());
    ASSERT_TRUE(read.is_ok()) << read.status().message();
    if (written.is_ok()) {
      EXPECT_EQ(difference(read.value(), next), "");
    } else {
      const bool old_or_new =
          difference(read.value(), acknowledged).empty() || difference(read.value(), next).empty();
      EXPECT_TRUE(old_or_new);
    }
    acknowledged = std::move(read.value());
  }
}

TEST_F(ManifestFileTest, FolderWithoutAManifestIsNotFoundEvenWithALeftoverTemporaryFile) {
  EXPECT_EQ(read_manifest(env_, dir_.path()).status().code(), StatusCode::kNotFound);
  write_bytes(dir_ / std::string(manifest::kTempFileName), encode(new_));
  EXPECT_EQ(read_manifest(env_, dir_.path()).status().code(), StatusCode::kNotFound);
  write_old();
  EXPECT_EQ(found(), Found::kOld) << "the temporary file is never read";
}

TEST_F(ManifestFileTest, DamagedManifestFileIsCorruptionNamingItsPath) {
  write_old();
  const std::filesystem::path path = dir_ / std::string(manifest::kFileName);
  Bytes bytes = read_bytes(path);
  bytes[bytes.size() / 2] ^= std::byte{0x40};
  write_bytes(path, bytes);
  Result<Manifest> read = read_manifest(env_, dir_.path());
  ASSERT_FALSE(read.is_ok());
  EXPECT_EQ(read.status().code(), StatusCode::kCorruption);
  EXPECT_EQ(read.status().message().rfind(path.string() + ": manifest: ", 0), 0u)
      << read.status().message();
  write_bytes(path, {});
  EXPECT_EQ(read_manifest(env_, dir_.path()).status().code(), StatusCode::kCorruption);
}

TEST(ManifestPosix, WritesAndReadsOnTheRealFileSystem) {
  TempDir dir;
  Env& env = Env::posix();
  EXPECT_EQ(read_manifest(env, dir.path()).status().code(), StatusCode::kNotFound);
  for (std::uint64_t generation = 1; generation <= 3; ++generation) {
    const Manifest manifest = sample(generation * 2, generation);
    ASSERT_TRUE(write_manifest(env, dir.path(), manifest).is_ok());
    Result<Manifest> read = read_manifest(env, dir.path());
    ASSERT_TRUE(read.is_ok()) << read.status().message();
    EXPECT_EQ(difference(read.value(), manifest), "");
    EXPECT_EQ(read_bytes(dir / std::string(manifest::kFileName)), encode(manifest));
  }
  EXPECT_EQ(env.list_dir(dir.path()).value(), std::vector<std::string>{"MANIFEST"});
  EXPECT_EQ(write_manifest(env, dir / "missing", sample(1, 1)).code(), StatusCode::kIoError);
}

}  // namespace
}  // namespace omendb::storage
