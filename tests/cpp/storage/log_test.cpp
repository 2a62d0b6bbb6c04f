// The write-ahead log on the real file system: round trips, torn tails, corruption, bad headers.
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "storage/crc32c.h"
#include "storage/env.h"
#include "storage/log_format.h"
#include "storage/log_reader.h"
#include "storage/log_writer.h"
#include "test_files.h"

namespace omendb::storage {
namespace {

using testing::read_bytes;
using testing::TempDir;
using testing::write_bytes;

struct Entry {
  std::uint64_t lsn = 0;
  std::uint32_t type = 0;
  std::vector<std::byte> payload;
  bool operator==(const Entry&) const = default;
};

// What reading a whole log gave.
struct ReadBack {
  Status open_status;  // not ok: the reader did not open, the rest is empty
  std::vector<Entry> entries;
  std::vector<std::uint64_t> offsets;  // of each entry
  Status end_status;                   // ok: the good records ended (clean end or torn tail)
  std::uint64_t valid_end = 0;
  std::uint64_t torn_bytes = 0;
  std::uint64_t last_lsn = 0;
};

ReadBack read_log(const std::filesystem::path& path) {
  ReadBack back;
  Result<LogReader> reader = LogReader::open(Env::posix(), path);
  if (!reader.is_ok()) {
    back.open_status = reader.status();
    return back;
  }
  LogRecord record;
  while (true) {
    Result<bool> more = reader.value().next(record);
    if (!more.is_ok()) {
      back.end_status = more.status();
      break;
    }
    if (!more.value()) break;
    back.entries.push_back({record.lsn, record.type, record.payload});
    back.offsets.push_back(record.offset);
  }
  back.valid_end = reader.value().valid_end();
  back.torn_bytes = reader.value().torn_bytes();
  back.last_lsn = reader.value().last_lsn();
  return back;
}

// Stores `value` little-endian at out[offset, offset + sizeof value).
template <class T>
void put_le(std::span<std::byte> out, std::size_t offset, T value) {
  for (std::size_t i = 0; i < sizeof value; ++i) {
    out[offset + i] = static_cast<std::byte>(value >> (8 * i));
  }
}

std::vector<std::byte> random_payload(std::size_t size, std::mt19937_64& rng) {
  std::vector<std::byte> payload(size);
  for (std::byte& b : payload) b = static_cast<std::byte>(rng());
  return payload;
}

// `count` entries with LSNs 1, 2, ... and payloads of the given sizes (cycled).
std::vector<Entry> make_entries(const std::vector<std::size_t>& sizes, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Entry> entries;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    entries.push_back(
        {i + 1, static_cast<std::uint32_t>(i % 3 + 1), random_payload(sizes[i], rng)});
  }
  return entries;
}

// Creates a log at `path` holding `entries`; returns the offset where each record starts.
std::vector<std::uint64_t> write_log(const std::filesystem::path& path,
                                     const std::vector<Entry>& entries,
                                     SyncMode mode = SyncMode::kOff) {
  std::vector<std::uint64_t> offsets;
  Result<LogWriter> writer = LogWriter::create(Env::posix(), path);
  EXPECT_TRUE(writer.is_ok()) << writer.status().message();
  if (!writer.is_ok()) return offsets;
  for (const Entry& entry : entries) {
    offsets.push_back(writer.value().size());
    Status status = writer.value().append(entry.lsn, entry.type, entry.payload, mode);
    EXPECT_TRUE(status.is_ok()) << status.message();
  }
  EXPECT_TRUE(writer.value().close().is_ok());
  return offsets;
}

std::vector<Entry> first(const std::vector<Entry>& entries, std::size_t n) {
  return {entries.begin(), entries.begin() + static_cast<std::ptrdiff_t>(n)};
}

TEST(Log, RoundTripOfManyRecordsOfRandomSizes) {
  TempDir dir;
  std::mt19937_64 rng(1);
  std::vector<Entry> entries;
  std::uint64_t lsn = 0;
  for (std::size_t i = 0; i < 150; ++i) {
    // Sizes spread evenly over the orders of magnitude of [0, 1 MiB], both ends included.
    std::size_t size =
        static_cast<std::size_t>(std::exp2(std::uniform_real_distribution<>(0, 20)(rng)));
    if (i == 0) size = 0;
    if (i == 1) size = 1 << 20;
    lsn += 1 + rng() % 5;
    entries.push_back({lsn, static_cast<std::uint32_t>(rng()), random_payload(size, rng)});
  }
  const auto path = dir / "wal";
  Result<LogWriter> writer = LogWriter::create(Env::posix(), path);
  ASSERT_TRUE(writer.is_ok());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const SyncMode mode = i % 50 == 0 ? SyncMode::kFull
                          : i % 2     ? SyncMode::kNormal
                                      : SyncMode::kOff;
    ASSERT_TRUE(
        writer.value().append(entries[i].lsn, entries[i].type, entries[i].payload, mode).is_ok());
  }
  ASSERT_TRUE(writer.value().sync().is_ok());
  EXPECT_EQ(writer.value().last_lsn(), lsn);
  const std::uint64_t size = writer.value().size();
  ASSERT_TRUE(writer.value().close().is_ok());
  EXPECT_EQ(Env::posix().file_size(path).value(), size);

  const ReadBack back = read_log(path);
  ASSERT_TRUE(back.open_status.is_ok()) << back.open_status.message();
  ASSERT_TRUE(back.end_status.is_ok()) << back.end_status.message();
  EXPECT_TRUE(back.entries == entries);
  EXPECT_EQ(back.valid_end, size);
  EXPECT_EQ(back.torn_bytes, 0u);
  EXPECT_EQ(back.last_lsn, lsn);
}

// The example of docs/format.md, byte for byte: a change here is a format change.
TEST(Log, FileMatchesTheDocumentedLayout) {
  TempDir dir;
  write_log(dir / "wal", {{1, 7, testing::to_bytes("abc")}});
  const std::vector<std::uint8_t> expected = {
      0x4f, 0x4d, 0x45, 0x4e, 0x44, 0x42, 0x57, 0x4c,  // "OMENDBWL"
      0x01, 0x00, 0x00, 0x00,                          // version 1
      0xf5, 0x8a, 0x1c, 0xc3,                          // masked crc32c of the 12 bytes above
      0xb6, 0x2b, 0xcf, 0xa0,                          // masked crc32c of the 20 bytes below
      0x6e, 0x57, 0xf1, 0x21,                          // masked crc32c of "abc"
      0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // lsn 1
      0x03, 0x00, 0x00, 0x00,                          // length 3
      0x07, 0x00, 0x00, 0x00,                          // type 7
      0x61, 0x62, 0x63,                                // "abc"
  };
  std::vector<std::byte> expected_bytes;
  for (const std::uint8_t byte : expected) expected_bytes.push_back(std::byte{byte});
  EXPECT_EQ(read_bytes(dir / "wal"), expected_bytes);
  EXPECT_EQ(crc32c_unmask(0x21f1576eu), crc32c(testing::to_bytes("abc")));
}

TEST(Log, NewLogHoldsOnlyItsHeader) {
  TempDir dir;
  write_log(dir / "wal", {});
  EXPECT_EQ(read_bytes(dir / "wal").size(), log::kFileHeaderSize);
  const ReadBack back = read_log(dir / "wal");
  EXPECT_TRUE(back.open_status.is_ok() && back.end_status.is_ok());
  EXPECT_TRUE(back.entries.empty());
  EXPECT_EQ(back.valid_end, log::kFileHeaderSize);
  EXPECT_EQ(back.torn_bytes, 0u);
}

TEST(Log, TornTailAtEveryByteOfTheLastRecordLeavesTheRecordsBeforeIt) {
  TempDir dir;
  const std::vector<Entry> entries = make_entries({10, 0, 300, 57}, 2);
  const auto path = dir / "wal";
  const std::vector<std::uint64_t> offsets = write_log(path, entries);
  const std::vector<std::byte> bytes = read_bytes(path);
  const std::uint64_t last = offsets.back();
  for (std::uint64_t cut = last; cut < bytes.size(); ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    write_bytes(path, {bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(cut)});
    const ReadBack back = read_log(path);
    ASSERT_TRUE(back.open_status.is_ok() && back.end_status.is_ok()) << back.end_status.message();
    EXPECT_TRUE(back.entries == first(entries, 3));
    EXPECT_EQ(back.valid_end, last);
    EXPECT_EQ(back.torn_bytes, cut - last);

    // Reopening cuts the torn tail off, and the next record follows the good ones.
    Result<LogWriter> writer = LogWriter::open(Env::posix(), path, back.valid_end, back.last_lsn);
    ASSERT_TRUE(writer.is_ok()) << writer.status().message();
    const Entry next{back.last_lsn + 1, 9, std::vector<std::byte>(5, std::byte{7})};
    ASSERT_TRUE(writer.value().append(next.lsn, next.type, next.payload, SyncMode::kOff).is_ok());
    ASSERT_TRUE(writer.value().close().is_ok());
    std::vector<Entry> expected = first(entries, 3);
    expected.push_back(next);
    const ReadBack again = read_log(path);
    EXPECT_TRUE(again.end_status.is_ok());
    EXPECT_TRUE(again.entries == expected);
    EXPECT_EQ(again.torn_bytes, 0u);
  }
}

TEST(Log, TornFileHeaderReadsAsAnEmptyTornLogAndIsCreatedAfresh) {
  TempDir dir;
  const auto path = dir / "wal";
  write_log(path, make_entries({4}, 3));
  const std::vector<std::byte> bytes = read_bytes(path);
  for (std::size_t cut = 0; cut < log::kFileHeaderSize; ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    write_bytes(path, {bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(cut)});
    const ReadBack back = read_log(path);
    ASSERT_TRUE(back.open_status.is_ok()) << back.open_status.message();
    EXPECT_TRUE(back.end_status.is_ok());
    EXPECT_TRUE(back.entries.empty());
    EXPECT_EQ(back.valid_end, 0u);
    EXPECT_EQ(back.torn_bytes, cut);
    Result<LogWriter> writer = LogWriter::open(Env::posix(), path, back.valid_end, back.last_lsn);
    ASSERT_TRUE(writer.is_ok());
    ASSERT_TRUE(writer.value().append(1, 1, {}, SyncMode::kOff).is_ok());
    ASSERT_TRUE(writer.value().close().is_ok());
    EXPECT_EQ(read_log(path).entries.size(), 1u);
  }
}

// Which record of a log holds byte `position`: -1 for the file header.
int record_at(std::uint64_t position, const std::vector<std::uint64_t>& offsets) {
  int index = -1;
  for (std::size_t i = 0; i < offsets.size(); ++i) {
    if (offsets[i] <= position) index = static_cast<int>(i);
  }
  return index;
}

TEST(Log, FlippedByteIsCorruptionBeforeTheTailAndATornTailInIt) {
  TempDir dir;
  const std::vector<Entry> entries = make_entries({5, 0, 17, 8, 12}, 4);
  const auto path = dir / "wal";
  const std::vector<std::uint64_t> offsets = write_log(path, entries);
  const std::vector<std::byte> bytes = read_bytes(path);
  const int tail = static_cast<int>(entries.size()) - 1;
  for (std::size_t position = 0; position < bytes.size(); ++position) {
    for (const std::uint8_t flip : {0x01, 0x80, 0xff}) {
      SCOPED_TRACE("byte " + std::to_string(position) + " xor " + std::to_string(flip));
      std::vector<std::byte> damaged = bytes;
      damaged[position] ^= std::byte{flip};
      write_bytes(path, damaged);
      const ReadBack back = read_log(path);
      const int record = record_at(position, offsets);
      if (record < 0) {
        EXPECT_EQ(back.open_status.code(), StatusCode::kCorruption);
        continue;
      }
      ASSERT_TRUE(back.open_status.is_ok());
      EXPECT_TRUE(back.entries == first(entries, static_cast<std::size_t>(record)));
      EXPECT_EQ(back.valid_end, offsets[static_cast<std::size_t>(record)]);
      if (record < tail) {
        EXPECT_EQ(back.end_status.code(), StatusCode::kCorruption);
        const std::string offset =
            "offset " + std::to_string(offsets[static_cast<std::size_t>(record)]);
        EXPECT_NE(back.end_status.message().find(offset), std::string::npos)
            << back.end_status.message();
      } else {
        EXPECT_TRUE(back.end_status.is_ok()) << back.end_status.message();
        EXPECT_EQ(back.torn_bytes, bytes.size() - offsets.back());
      }
    }
  }
}

TEST(Log, NonIncreasingLsnIsCorruption) {
  TempDir dir;
  std::mt19937_64 rng(5);
  write_log(dir / "a", {{5, 1, random_payload(9, rng)}, {7, 1, random_payload(3, rng)}});
  const std::vector<std::uint64_t> b_offsets =
      write_log(dir / "b", {{6, 1, random_payload(4, rng)}, {7, 1, random_payload(4, rng)}});
  const std::vector<std::byte> a = read_bytes(dir / "a");
  const std::vector<std::byte> b = read_bytes(dir / "b");
  for (const std::size_t b_record : {0u, 1u}) {  // LSN 6 after 7, then 7 after 7
    std::vector<std::byte> spliced = a;
    const auto begin = b.begin() + static_cast<std::ptrdiff_t>(b_offsets[b_record]);
    const auto end = b_record + 1 < b_offsets.size()
                         ? b.begin() + static_cast<std::ptrdiff_t>(b_offsets[b_record + 1])
                         : b.end();
    spliced.insert(spliced.end(), begin, end);
    write_bytes(dir / "wal", spliced);
    const ReadBack back = read_log(dir / "wal");
    EXPECT_EQ(back.entries.size(), 2u);
    EXPECT_EQ(back.end_status.code(), StatusCode::kCorruption);
    EXPECT_NE(back.end_status.message().find("LSN"), std::string::npos);
    EXPECT_EQ(back.valid_end, a.size());
  }
}

TEST(Log, HugeLengthInAValidHeaderAtTheTailIsATornTail) {
  TempDir dir;
  const auto path = dir / "wal";
  write_log(path, make_entries({3}, 6));
  std::vector<std::byte> bytes = read_bytes(path);
  const std::size_t good = bytes.size();
  // A record header with a correct checksum and a length far past the end of the file.
  std::vector<std::byte> header(log::kRecordHeaderSize);
  put_le<std::uint64_t>(header, log::kLsnOffset, 2);
  put_le<std::uint32_t>(header, log::kLengthOffset, 0xfffffff0u);
  put_le<std::uint32_t>(header, log::kTypeOffset, 1);
  const std::uint32_t crc = crc32c(std::span(header).subspan(log::kPayloadCrcOffset));
  put_le(header, log::kHeaderCrcOffset, crc32c_mask(crc));
  bytes.insert(bytes.end(), header.begin(), header.end());
  bytes.resize(bytes.size() + 100, std::byte{0x5a});
  write_bytes(path, bytes);
  const ReadBack back = read_log(path);
  EXPECT_TRUE(back.end_status.is_ok());
  EXPECT_EQ(back.entries.size(), 1u);
  EXPECT_EQ(back.valid_end, good);
  EXPECT_EQ(back.torn_bytes, log::kRecordHeaderSize + 100);
}

TEST(Log, ZeroFilledTailIsATornTail) {
  TempDir dir;
  const auto path = dir / "wal";
  write_log(path, make_entries({3, 40}, 7));
  std::vector<std::byte> bytes = read_bytes(path);
  const std::size_t good = bytes.size();
  bytes.resize(good + 4096);  // what some file systems show after a crash mid-append
  write_bytes(path, bytes);
  const ReadBack back = read_log(path);
  EXPECT_TRUE(back.end_status.is_ok());
  EXPECT_EQ(back.entries.size(), 2u);
  EXPECT_EQ(back.valid_end, good);
  EXPECT_EQ(back.torn_bytes, 4096u);
}

TEST(Log, BadFileHeadersAreCorruption) {
  TempDir dir;
  const auto path = dir / "wal";
  write_log(path, {});
  const std::vector<std::byte> header = read_bytes(path);

  std::vector<std::byte> bad_magic = header;
  bad_magic[0] = std::byte{'X'};
  write_bytes(path, bad_magic);
  EXPECT_EQ(read_log(path).open_status.code(), StatusCode::kCorruption);
  bad_magic.resize(5);  // too short to be a header, and not the start of one
  write_bytes(path, bad_magic);
  EXPECT_EQ(read_log(path).open_status.code(), StatusCode::kCorruption);

  // Version 2 with a correct checksum: a newer format this build does not read.
  std::vector<std::byte> newer = header;
  newer[8] = std::byte{2};
  const std::uint32_t crc = crc32c(std::span(newer).first(log::kFileHeaderCrcOffset));
  put_le(newer, log::kFileHeaderCrcOffset, crc32c_mask(crc));
  write_bytes(path, newer);
  const ReadBack back = read_log(path);
  EXPECT_EQ(back.open_status.code(), StatusCode::kCorruption);
  EXPECT_NE(back.open_status.message().find("version 2"), std::string::npos)
      << back.open_status.message();
}

TEST(Log, WriterRejectsNonIncreasingLsnsAndWritesNothing) {
  TempDir dir;
  Result<LogWriter> writer = LogWriter::create(Env::posix(), dir / "wal");
  ASSERT_TRUE(writer.is_ok());
  LogWriter& log = writer.value();
  EXPECT_EQ(log.append(0, 1, {}, SyncMode::kOff).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(log.append(5, 1, {}, SyncMode::kOff).is_ok());
  const std::uint64_t size = log.size();
  EXPECT_EQ(log.append(5, 1, {}, SyncMode::kOff).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(log.append(4, 1, {}, SyncMode::kOff).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(log.size(), size);
  EXPECT_EQ(Env::posix().file_size(dir / "wal").value(), size);
  ASSERT_TRUE(log.close().is_ok());
  EXPECT_EQ(log.append(6, 1, {}, SyncMode::kOff).code(), StatusCode::kClosed);
}

TEST(Log, ReaderRepeatsItsEnding) {
  TempDir dir;
  const auto path = dir / "wal";
  const std::vector<std::uint64_t> offsets = write_log(path, make_entries({3, 3, 3}, 8));
  Result<LogReader> reader = LogReader::open(Env::posix(), path);
  ASSERT_TRUE(reader.is_ok());
  LogRecord record;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(reader.value().next(record).value());
  EXPECT_FALSE(reader.value().next(record).value());
  EXPECT_FALSE(reader.value().next(record).value());

  std::vector<std::byte> bytes = read_bytes(path);
  bytes[offsets[1] + 2] ^= std::byte{1};
  write_bytes(path, bytes);
  Result<LogReader> damaged = LogReader::open(Env::posix(), path);
  ASSERT_TRUE(damaged.is_ok());
  ASSERT_TRUE(damaged.value().next(record).value());
  const Result<bool> first_error = damaged.value().next(record);
  EXPECT_EQ(first_error.status().code(), StatusCode::kCorruption);
  EXPECT_EQ(damaged.value().next(record).status().message(), first_error.status().message());
}

}  // namespace
}  // namespace omendb::storage
