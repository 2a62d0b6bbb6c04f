// Fuzz target: the write-ahead log reader (storage/log_reader.h) and the journal record decoder
// (db/journal.h), on the input as a log file.
//
// Each input is read twice: as it is, and with its checksums recomputed (the file header's, then
// each record's payload and header crc, walking the records by their length fields), since the
// fuzzer cannot forge CRC-32C by itself. The first read exercises the framing and the torn-tail
// and corruption logic, the second the LSN checks and the journal payloads behind the checksums.
// Every record read is decoded as a journal record; whatever decodes is checked against the
// encoder (round trip) and the rules the decoder promises (names, options).
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>
#include <vector>

#include "db/journal.h"
#include "omendb/database.h"
#include "storage/crc32c.h"
#include "storage/log_format.h"
#include "storage/log_reader.h"
#include "support/check.h"
#include "support/memory_env.h"
#include "support/round_trip.h"

namespace omendb::fuzz {
namespace {

namespace log = storage::log;

const std::filesystem::path kPath = "wal.log";
// Every collection has a first vector field of this dimension and a second of kMoreDim, but for
// kMissingCollection, which does not exist.
constexpr std::size_t kDim = 4;
constexpr std::uint32_t kMoreDim = 3;
constexpr std::string_view kMissingCollection = "gone";

// The dimensions callback of the decoder: fixed, with one unknown collection.
std::optional<FieldShapes> shapes_of(std::string_view name) {
  if (name == kMissingCollection) return std::nullopt;
  return FieldShapes{.dims = {kDim, kMoreDim}, .sparse_fields = 2};
}

// Stores `value` little-endian at bytes[offset, offset + 4).
void store_u32(std::span<std::byte> bytes, std::size_t offset, std::uint32_t value) {
  std::memcpy(bytes.data() + offset, &value, sizeof value);
}

// The little-endian u32 at bytes[offset, offset + 4).
std::uint32_t load_u32(std::span<const std::byte> bytes, std::size_t offset) {
  std::uint32_t value = 0;
  std::memcpy(&value, bytes.data() + offset, sizeof value);
  return value;
}

// `file` with every checksum recomputed as log_format.h lays them out, up to the first record
// whose length runs past the end of the file.
std::vector<std::byte> with_fixed_checksums(std::span<const std::byte> file) {
  std::vector<std::byte> out(file.begin(), file.end());
  const std::span<std::byte> bytes(out);
  if (bytes.size() < log::kFileHeaderSize) return out;
  store_u32(bytes, log::kFileHeaderCrcOffset,
            storage::crc32c_mask(storage::crc32c(bytes.first(log::kFileHeaderCrcOffset))));
  std::size_t offset = log::kFileHeaderSize;
  while (bytes.size() - offset >= log::kRecordHeaderSize) {
    const std::span<std::byte> header = bytes.subspan(offset, log::kRecordHeaderSize);
    const std::size_t payload_at = offset + log::kRecordHeaderSize;
    const std::uint32_t length = load_u32(header, log::kLengthOffset);
    if (length > bytes.size() - payload_at) break;
    store_u32(header, log::kPayloadCrcOffset,
              storage::crc32c_mask(storage::crc32c(bytes.subspan(payload_at, length))));
    store_u32(header, log::kHeaderCrcOffset,
              storage::crc32c_mask(storage::crc32c(header.subspan(log::kPayloadCrcOffset))));
    offset = payload_at + length;
  }
  return out;
}

// Decodes `record` as a journal record and checks what decodes.
void decode(const storage::LogRecord& record) {
  Result<JournalEntry> entry = decode_journal_record(record, shapes_of);
  if (!entry.is_ok()) {
    require(entry.status().code() == StatusCode::kCorruption, "a bad record is not kCorruption");
    return;
  }
  const JournalEntry& decoded = entry.value();
  require(decoded.lsn == record.lsn, "a decoded record lost its lsn");
  require(validate_collection_name(decoded.collection).is_ok(), "a bad collection name decoded");
  switch (decoded.type) {
    case JournalRecordType::kWrite:
      require(decoded.collection != kMissingCollection, "a write to a missing collection decoded");
      require(decoded.batch.kind == storage::WriteKind::kDelete || decoded.batch.dim == kDim,
              "a write of the wrong dimension decoded");
      check_batch_round_trip(decoded.batch, std::vector<std::uint32_t>{kMoreDim});
      break;
    case JournalRecordType::kCreateCollection:
      require(decoded.options.validate().is_ok(), "invalid collection options decoded");
      break;
    case JournalRecordType::kDropCollection:
      break;
  }
}

// Reads every record of the log `file` and decodes it, checking the reader's promises: LSNs
// increase, records lie back to back, and the end is a clean end, a torn tail that accounts for
// the rest of the file, or an error that every later call repeats.
void read_log(MemoryEnv& env, std::span<const std::byte> file) {
  env.put(kPath, file);
  Result<storage::LogReader> opened = storage::LogReader::open(env, kPath);
  if (!opened.is_ok()) return;
  storage::LogReader& reader = opened.value();
  storage::LogRecord record;
  std::uint64_t end = reader.valid_end();
  std::uint64_t previous_lsn = 0;
  for (;;) {
    Result<bool> more = reader.next(record);
    if (!more.is_ok()) {
      require(more.status().code() == StatusCode::kCorruption, "a bad log is not kCorruption");
      require(reader.valid_end() == end, "after an error, valid_end moved");
      require(!reader.next(record).is_ok(), "an error was not repeated");
      return;
    }
    if (!more.value()) {
      require(reader.valid_end() == end, "at the end, valid_end moved");
      require(end + reader.torn_bytes() == file.size(), "the torn tail misses bytes");
      Result<bool> again = reader.next(record);
      require(again.is_ok() && !again.value(), "the end was not repeated");
      return;
    }
    require(record.offset == end && record.lsn > previous_lsn && record.lsn == reader.last_lsn(),
            "records are not in order");
    previous_lsn = record.lsn;
    end = reader.valid_end();
    require(
        end == record.offset + log::kRecordHeaderSize + record.payload.size() && end <= file.size(),
        "a record's extent is wrong");
    decode(record);
  }
}

}  // namespace
}  // namespace omendb::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace omendb::fuzz;
  static MemoryEnv env;
  const std::span<const std::byte> file = input_bytes(data, size);
  read_log(env, file);
  read_log(env, with_fixed_checksums(file));
  return 0;
}
