// Snapshots that must not load: every flipped byte, cut or missing file and wrong set of files is
// caught by the size and crc check; crafted files with a correct crc (counts that disagree,
// options of another collection, graph lists out of range, bad levels and entry points, deleted
// flags, non-finite vectors, repeated, empty or NUL-holding ids, bad metadata, a payload index
// that is damaged or disagrees with the graph) are each kCorruption naming the file and the
// problem, never a crash.
#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "db/snapshot.h"
#include "db/snapshot_test_util.h"
#include "storage/byte_io.h"
#include "storage/crc32c.h"
#include "support/test_data.h"

namespace omendb::snapshot_test {
namespace {

namespace fs = std::filesystem;
using storage::testing::read_bytes;
using storage::testing::write_bytes;
using Bytes = std::vector<std::byte>;

// A small written collection (m = 16, 500 slots, some deleted, metadata) to damage. Slot 0 and
// every ninth slot are deleted; slots 470..479 were replaced by slots 480..489.
class SnapshotDamage : public ::testing::Test {
 protected:
  void SetUp() override {
    options = options_for(Metric::kL2);
    ThreadPool pool(2);
    const auto rows = testing::clustered_vectors(520, kDim, 8, 3);
    Records records(options, pool);
    records.upsert(rows, 0, 480, true);
    records.remove(0, 480, 9);
    records.upsert(rows, 470, 20, true);  // replaces 470..479 (slot 477 was deleted), adds 10
    g = records.g;
    ASSERT_EQ(g->index->size(), kSlots);
    files = write(dir, 5, *g, options);
    ASSERT_EQ(files.size(), 5u);
  }

  fs::path path(std::size_t kind) const { return dir / files[kind].name; }
  Bytes bytes(std::size_t kind) const { return read_bytes(path(kind)); }

  // Replaces file `kind` with `content` and updates its entry, as if a writer had made it.
  void rewrite(std::size_t kind, const Bytes& content) {
    write_bytes(path(kind), content);
    files[kind].size = content.size();
    files[kind].crc = storage::crc32c(content);
  }
  // Rewrites one u32 of file `kind` at `offset`, with a correct size and crc.
  void rewrite_u32(std::size_t kind, std::size_t offset, std::uint32_t value) {
    Bytes content = bytes(kind);
    std::memcpy(content.data() + offset, &value, sizeof value);
    rewrite(kind, content);
  }
  std::uint32_t u32_at(std::size_t kind, std::size_t offset) const {
    std::uint32_t value = 0;
    std::memcpy(&value, bytes(kind).data() + offset, sizeof value);
    return value;
  }

  // Expects loading to fail with kCorruption "<path of kind>: snapshot: ...<needle>...".
  void expect_corruption(std::size_t kind, const std::string& needle,
                         const CollectionOptions* with = nullptr) const {
    auto loaded =
        load_snapshot(storage::Env::posix(), dir.path(), files, with != nullptr ? *with : options);
    ASSERT_FALSE(loaded.is_ok()) << "kind " << kind << ", expecting " << needle;
    EXPECT_EQ(loaded.status().code(), StatusCode::kCorruption) << loaded.status().message();
    const std::string message = loaded.status().message();
    EXPECT_EQ(message.rfind(path(kind).string() + ": snapshot: ", 0), 0u) << message;
    EXPECT_NE(message.find(needle), std::string::npos) << message;
  }

  // Byte offset of slot's id (its length field) in the ids file.
  std::size_t id_offset(std::uint32_t slot) const {
    const Bytes content = bytes(kIds);
    std::size_t offset = snapshot::kIdsHeaderBytes;
    for (std::uint32_t s = 0; s < slot; ++s) {
      std::uint32_t length = 0;
      std::memcpy(&length, content.data() + offset, sizeof length);
      offset += 4 + length;
    }
    return offset;
  }

  static constexpr std::size_t kVectors = 0;
  static constexpr std::size_t kGraph = 1;
  static constexpr std::size_t kIds = 2;
  static constexpr std::size_t kMeta = 3;
  static constexpr std::size_t kPayload = 4;
  static constexpr std::uint32_t kSlots = 500;
  static constexpr std::size_t kLevel0RecordBytes = (1 + 2 * 16) * 4;

  TempDir dir;
  CollectionOptions options;
  std::shared_ptr<Generation> g;
  std::vector<SnapshotFile> files;
};

TEST_F(SnapshotDamage, UntouchedFilesLoad) {
  EXPECT_TRUE(load_snapshot(storage::Env::posix(), dir.path(), files, options).is_ok());
}

TEST_F(SnapshotDamage, AFlippedByteAnywhereIsAChecksumMismatch) {
  for (std::size_t kind = 0; kind < files.size(); ++kind) {
    const Bytes original = bytes(kind);
    for (const std::size_t offset : {std::size_t{0}, std::size_t{9}, std::size_t{13},
                                     std::size_t{20}, original.size() / 2, original.size() - 1}) {
      Bytes damaged = original;
      damaged[offset] ^= std::byte{0x10};
      write_bytes(path(kind), damaged);
      expect_corruption(kind, "checksum mismatch");
    }
    write_bytes(path(kind), original);
  }
}

TEST_F(SnapshotDamage, ACutOrMissingFileIsCorruption) {
  for (std::size_t kind = 0; kind < files.size(); ++kind) {
    const Bytes original = bytes(kind);
    for (const std::size_t size : {original.size() - 1, std::size_t{10}, std::size_t{0}}) {
      write_bytes(path(kind),
                  Bytes(original.begin(), original.begin() + static_cast<std::ptrdiff_t>(size)));
      expect_corruption(kind, "bytes, the manifest says " + std::to_string(original.size()));
    }
    fs::remove(path(kind));
    expect_corruption(kind, "the file is missing");
    write_bytes(path(kind), original);
  }
}

TEST_F(SnapshotDamage, TheFileSetMustHoldEachKindOnce) {
  const std::vector<SnapshotFile> all = files;
  for (std::size_t kind = 0; kind < all.size(); ++kind) {
    files = all;
    files.erase(files.begin() + static_cast<std::ptrdiff_t>(kind));
    auto loaded = load_snapshot(storage::Env::posix(), dir.path(), files, options);
    ASSERT_FALSE(loaded.is_ok());
    const std::string missing = "no " + std::string(snapshot::kFileKinds[kind].suffix) + " file";
    EXPECT_NE(loaded.status().message().find(missing), std::string::npos);
  }
  files = all;
  files.push_back(all[1]);
  expect_corruption(kGraph, "a second graph file");
  files = all;
  files[3].name = "5.metadata";
  expect_corruption(kMeta, "unknown kind of file");
}

TEST_F(SnapshotDamage, BadMagicOrVersion) {
  Bytes content = bytes(kGraph);
  content[0] = std::byte{'X'};
  rewrite(kGraph, content);
  expect_corruption(kGraph, "bad magic");
  content[0] = std::byte{'O'};
  content[8] = std::byte{2};
  rewrite(kGraph, content);
  expect_corruption(kGraph, "format version 2, not 1");
}

TEST_F(SnapshotDamage, CountsThatDisagree) {
  rewrite_u32(kVectors, 16, 0xFFFFFFF0u);  // slots
  expect_corruption(kVectors, "bytes of vectors, not 4294967280 rows of 12 floats");
  rewrite_u32(kVectors, 16, kSlots);
  rewrite_u32(kGraph, 16, 7);
  expect_corruption(kGraph, "7 slots, the vectors file holds 500");
  rewrite_u32(kGraph, 16, kSlots);
  rewrite_u32(kIds, 12, kSlots + 1);
  expect_corruption(kIds, "501 slots, the vectors file holds 500");
  rewrite_u32(kIds, 12, kSlots);
  rewrite_u32(kIds, 16, 0x7FFFFFFF);  // id bytes
  expect_corruption(kIds, "bytes of ids, not 500 lengths and 2147483647 bytes");
  rewrite_u32(kIds, 16, kSlots * 8);
  rewrite_u32(kMeta, 12, 0xFFFFFFFFu);
  expect_corruption(kMeta, "4294967295 slots, the vectors file holds 500");
  rewrite_u32(kMeta, 12, kSlots);
  rewrite_u32(kPayload, 12, kSlots - 1);
  expect_corruption(kPayload, "499 slots, the vectors file holds 500");
  rewrite_u32(kPayload, 12, kSlots);
  EXPECT_TRUE(load_snapshot(storage::Env::posix(), dir.path(), files, options).is_ok());
}

TEST_F(SnapshotDamage, OptionsThatDisagree) {
  rewrite_u32(kVectors, 12, kDim + 1);
  expect_corruption(kVectors, "dimension 13, the collection's is 12");
  rewrite_u32(kVectors, 12, kDim);
  CollectionOptions other = options;
  other.m = 8;
  expect_corruption(kGraph, "m 16, the collection's is 8", &other);
  other = options;
  other.dim = 24;
  expect_corruption(kVectors, "dimension 12, the collection's is 24", &other);
}

TEST_F(SnapshotDamage, GraphNeighbourOutOfRange) {
  const std::size_t record = snapshot::kGraphHeaderBytes + 3 * kLevel0RecordBytes;  // slot 3
  ASSERT_GT(u32_at(kGraph, record), 0u);
  rewrite_u32(kGraph, record + 4, kSlots);
  expect_corruption(kGraph, "slot 3 level 0 links to slot 500, not below 500 slots");
  rewrite_u32(kGraph, record + 4, 0xFFFFFFFFu);
  expect_corruption(kGraph, "links to slot 4294967295");
}

TEST_F(SnapshotDamage, GraphListCountTooLarge) {
  const std::size_t record = snapshot::kGraphHeaderBytes;  // slot 0
  rewrite_u32(kGraph, record, 33);
  expect_corruption(kGraph, "holds 33 neighbours, more than 32");
  rewrite_u32(kGraph, record, 0xFFFFFFFFu);
  expect_corruption(kGraph, "more than 32");
}

TEST_F(SnapshotDamage, GraphBadLevel) {
  const std::size_t upper = snapshot::kGraphHeaderBytes + kSlots * kLevel0RecordBytes;
  ASSERT_LT(upper + 8, files[kGraph].size - kSlots) << "no node above level 0";
  rewrite_u32(kGraph, upper + 4, 31);
  expect_corruption(kGraph, "has level 31, not in [1, 30]");
  rewrite_u32(kGraph, upper + 4, 0);
  expect_corruption(kGraph, "has level 0");
}

TEST_F(SnapshotDamage, GraphBadEntryPointOrDeletedFlag) {
  const Bytes original = bytes(kGraph);
  const std::uint32_t entry_level = u32_at(kGraph, 24);
  rewrite_u32(kGraph, 24, entry_level + 1);
  expect_corruption(kGraph, "entry point");
  rewrite(kGraph, original);
  rewrite_u32(kGraph, 20, kSlots);  // entry slot
  expect_corruption(kGraph, "entry point (slot 500");
  Bytes content = original;
  content[content.size() - kSlots + 4] = std::byte{7};  // slot 4's deleted flag
  rewrite(kGraph, content);
  expect_corruption(kGraph, "deleted flag of slot 4 is 7");
}

TEST_F(SnapshotDamage, NonFiniteVector) {
  Bytes content = bytes(kVectors);
  const float infinity = std::numeric_limits<float>::infinity();
  std::memcpy(content.data() + snapshot::kVectorsHeaderBytes + (6 * kDim + 1) * 4, &infinity, 4);
  rewrite(kVectors, content);
  expect_corruption(kVectors, "row 6 is not finite");
}

TEST_F(SnapshotDamage, DuplicateLiveId) {
  // Slots 1 and 2 are live: give slot 2 the id of slot 1.
  ASSERT_FALSE(g->index->is_deleted(1));
  ASSERT_FALSE(g->index->is_deleted(2));
  Bytes content = bytes(kIds);
  std::memcpy(content.data() + id_offset(2) + 4, content.data() + id_offset(1) + 4, 8);
  rewrite(kIds, content);
  expect_corruption(kIds, "id of slot 2 is also the id of live slot 1");
}

TEST_F(SnapshotDamage, DeletedSlotWhoseIdIsLiveEarlier) {
  // The live record of an id is its newest slot. Give deleted slot 470 the id of live slot 1.
  ASSERT_TRUE(g->index->is_deleted(470));
  Bytes content = bytes(kIds);
  std::memcpy(content.data() + id_offset(470) + 4, content.data() + id_offset(1) + 4, 8);
  rewrite(kIds, content);
  expect_corruption(kIds, "id of slot 470 is also the id of live slot 1");
}

TEST_F(SnapshotDamage, BadIds) {
  const Bytes original = bytes(kIds);
  Bytes content = original;
  content[id_offset(5) + 4 + 3] = std::byte{0};
  rewrite(kIds, content);
  expect_corruption(kIds, "id of slot 5 holds a NUL byte");
  // Slot 0's id made empty, its 8 bytes moved to the end: trailing bytes, same total size.
  content.assign(original.begin(), original.begin() + static_cast<std::ptrdiff_t>(id_offset(0)));
  content.insert(content.end(), 4, std::byte{0});
  content.insert(content.end(), original.begin() + static_cast<std::ptrdiff_t>(id_offset(1)),
                 original.end());
  content.insert(content.end(), 8, std::byte{'x'});
  rewrite(kIds, content);
  expect_corruption(kIds, "id of slot 0 is empty");
  // The last id's length running past the end.
  rewrite(kIds, original);
  rewrite_u32(kIds, id_offset(kSlots - 1), 9);
  expect_corruption(kIds, "id of slot 499 runs past the end");
}

TEST_F(SnapshotDamage, BadMetadata) {
  // Slot 0 holds the empty encoding (4 bytes); slot 1 holds record 1's two fields, the first
  // being key "tag": field count, key length, "tag", then the value's tag byte.
  const std::size_t slot1 = snapshot::kMetaHeaderBytes + 4;
  ASSERT_EQ(u32_at(kMeta, slot1), 2u);
  const Bytes original = bytes(kMeta);
  Bytes content = original;
  content[slot1 + 4 + 4 + 3] = std::byte{9};
  rewrite(kMeta, content);
  expect_corruption(kMeta, "slot 1 metadata: value of key 'tag' has unknown tag 9 at byte 35");
  rewrite(kMeta, original);
  rewrite_u32(kMeta, 16, 3);  // flags
  expect_corruption(kMeta, "unknown flags");
  rewrite_u32(kMeta, 16, 0);  // "no metadata", but encodings follow
  expect_corruption(kMeta, "trailing bytes");
}

// The payload file as write_snapshot writes it, for `payload`.
Bytes payload_file(const PayloadIndex& payload, std::uint32_t slots) {
  std::uint64_t magic = 0;
  std::memcpy(&magic, snapshot::kPayload.magic.data(), sizeof magic);
  Bytes bytes;
  storage::ByteWriter writer(bytes);
  writer.put_u64(magic);
  writer.put_u32(snapshot::kFormatVersion);
  writer.put_u32(slots);
  payload.save([&](std::span<const std::byte> piece) {
    bytes.insert(bytes.end(), piece.begin(), piece.end());
  });
  return bytes;
}

TEST_F(SnapshotDamage, PayloadIndexThatDisagreesWithTheGraph) {
  ASSERT_EQ(payload_file(g->payload, kSlots), bytes(kPayload));
  // Live slot 1 missing from the payload index; deleted slot 0 in it.
  g->payload.remove(1, g->metadata[1]);
  rewrite(kPayload, payload_file(g->payload, kSlots));
  expect_corruption(kPayload, "the live set is not the graph's live slots");
  g->payload.add(1, g->metadata[1]);
  g->payload.add(0, {});
  rewrite(kPayload, payload_file(g->payload, kSlots));
  expect_corruption(kPayload, "the live set is not the graph's live slots");
}

TEST_F(SnapshotDamage, BadPayloadIndex) {
  // The body starts with the live set: more than 64 slots, so its count, then a bitmap.
  const std::size_t live = snapshot::kPayloadHeaderBytes;
  const Bytes original = bytes(kPayload);
  rewrite_u32(kPayload, live, 0xFFFFFFFFu);
  expect_corruption(kPayload, "live set: bitmap holds");
  rewrite(kPayload, original);
  rewrite_u32(kPayload, live + 4, 0x7FFFFFFFu);  // the bitmap's length
  expect_corruption(kPayload, "live set: cut short");
  rewrite(kPayload, Bytes(original.begin(), original.end() - 1));
  expect_corruption(kPayload, "cut short");
  Bytes extended = original;
  extended.push_back(std::byte{0});
  rewrite(kPayload, extended);
  expect_corruption(kPayload, "trailing bytes");
}

// Random bytes written into the files with a correct size and crc: each load either succeeds (a
// changed vector value, say) or is kCorruption; under the sanitizers, never an out-of-bounds read.
TEST_F(SnapshotDamage, RandomCraftedBytesLoadOrAreCorruption) {
  std::mt19937 rng(17);
  for (std::size_t kind = 0; kind < files.size(); ++kind) {
    const Bytes original = bytes(kind);
    std::uniform_int_distribution<std::size_t> position(0, original.size() - 1);
    for (int round = 0; round < 40; ++round) {
      Bytes content = original;
      for (int i = 0; i < 1 + round % 4; ++i) {
        content[position(rng)] = static_cast<std::byte>(rng() & 0xff);
      }
      rewrite(kind, content);
      auto loaded = load_snapshot(storage::Env::posix(), dir.path(), files, options);
      if (!loaded.is_ok()) {
        EXPECT_EQ(loaded.status().code(), StatusCode::kCorruption) << loaded.status().message();
      }
    }
    rewrite(kind, original);
  }
}

}  // namespace
}  // namespace omendb::snapshot_test
