#include "storage/log_reader.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <string>
#include <utility>

#include "storage/crc32c.h"
#include "storage/log_format.h"

namespace omendb::storage {
namespace {

// Reads ahead this much for small records, so a log of many small records costs few reads.
constexpr std::size_t kReadAhead = 256 * 1024;
// A search for a valid record after a bad one reads this much at a time.
constexpr std::size_t kSearchChunk = 64 * 1024;

// A decoded record header. Its fields mean something only when checksum_ok.
struct RecordHeader {
  bool checksum_ok = false;
  std::uint32_t payload_crc = 0;  // unmasked
  std::uint64_t lsn = 0;
  std::uint32_t length = 0;
  std::uint32_t type = 0;
};

// The little-endian T at in[offset, offset + sizeof(T)).
template <class T>
T get_le(std::span<const std::byte> in, std::size_t offset) {
  T value = 0;
  for (std::size_t i = 0; i < sizeof value; ++i) {
    value |= static_cast<T>(std::to_integer<T>(in[offset + i]) << (8 * i));
  }
  return value;
}

// Decodes and checks the kRecordHeaderSize bytes of a record header.
RecordHeader decode_header(std::span<const std::byte> bytes) {
  const std::uint32_t stored_crc =
      crc32c_unmask(get_le<std::uint32_t>(bytes, log::kHeaderCrcOffset));
  RecordHeader header;
  header.checksum_ok =
      stored_crc == crc32c(bytes.subspan(log::kPayloadCrcOffset,
                                         log::kRecordHeaderSize - log::kPayloadCrcOffset));
  header.payload_crc = crc32c_unmask(get_le<std::uint32_t>(bytes, log::kPayloadCrcOffset));
  header.lsn = get_le<std::uint64_t>(bytes, log::kLsnOffset);
  header.length = get_le<std::uint32_t>(bytes, log::kLengthOffset);
  header.type = get_le<std::uint32_t>(bytes, log::kTypeOffset);
  return header;
}

}  // namespace

LogReader::LogReader(std::filesystem::path path, std::unique_ptr<RandomAccessFile> file)
    : path_(std::move(path)), file_(std::move(file)), file_size_(file_->size()) {}

Result<LogReader> LogReader::open(Env& env, const std::filesystem::path& path) {
  Result<std::unique_ptr<RandomAccessFile>> file = env.new_random_access_file(path);
  if (!file.is_ok()) return file.status();
  LogReader reader(path, std::move(file.value()));
  if (Status status = reader.check_file_header(); !status.is_ok()) return status;
  return reader;
}

Status LogReader::check_file_header() {
  const auto present =
      static_cast<std::size_t>(std::min<std::uint64_t>(file_size_, log::kFileHeaderSize));
  std::array<std::byte, log::kFileHeaderSize> bytes{};
  if (Status status = read(0, std::span(bytes).first(present)); !status.is_ok()) return status;
  const auto magic = std::as_bytes(std::span(log::kMagic));
  const std::size_t magic_present = std::min(present, magic.size());
  const std::string where = "log " + path_.string() + ": ";
  if (!std::equal(magic.begin(), magic.begin() + magic_present, bytes.begin())) {
    return {StatusCode::kCorruption, where + "not an OmenDB write-ahead log (bad magic)"};
  }
  if (present < log::kFileHeaderSize) {
    valid_end_ = 0;  // a file header cut short while the log was created: a torn tail
    return Status::ok();
  }
  const std::uint32_t stored_crc =
      crc32c_unmask(get_le<std::uint32_t>(bytes, log::kFileHeaderCrcOffset));
  if (stored_crc != crc32c(std::span(bytes).first(log::kFileHeaderCrcOffset))) {
    return {StatusCode::kCorruption, where + "file header checksum mismatch"};
  }
  const auto version = get_le<std::uint32_t>(bytes, log::kVersionOffset);
  if (version != log::kFormatVersion) {
    return {StatusCode::kCorruption, where + "unsupported format version " +
                                         std::to_string(version) + " (this build reads version " +
                                         std::to_string(log::kFormatVersion) + ")"};
  }
  valid_end_ = log::kFileHeaderSize;
  return Status::ok();
}

Result<bool> LogReader::next(LogRecord& record) {
  if (!failure_.is_ok()) return failure_;
  if (ended_) return false;
  if (valid_end_ < log::kFileHeaderSize) return end_torn();
  const std::uint64_t offset = valid_end_;
  const std::uint64_t left = file_size_ - offset;
  if (left == 0) {
    ended_ = true;
    return false;
  }
  if (left < log::kRecordHeaderSize) return end_torn();
  std::array<std::byte, log::kRecordHeaderSize> header_bytes{};
  if (Status status = read(offset, header_bytes); !status.is_ok()) return fail(status);
  const RecordHeader header = decode_header(header_bytes);
  if (!header.checksum_ok) return bad_record(offset + 1, "record header checksum mismatch");
  if (header.lsn <= last_lsn_) {
    return fail({StatusCode::kCorruption,
                 "log " + path_.string() + ": record at offset " + std::to_string(offset) +
                     " has LSN " + std::to_string(header.lsn) +
                     ", which does not exceed the previous LSN " + std::to_string(last_lsn_)});
  }
  if (header.length > left - log::kRecordHeaderSize) return end_torn();
  record.payload.resize(header.length);
  const std::uint64_t payload_offset = offset + log::kRecordHeaderSize;
  if (Status status = read(payload_offset, record.payload); !status.is_ok()) return fail(status);
  if (crc32c(record.payload) != header.payload_crc) {
    return bad_record(payload_offset + header.length, "payload checksum mismatch");
  }
  record.lsn = header.lsn;
  record.type = header.type;
  record.offset = offset;
  valid_end_ = payload_offset + header.length;
  last_lsn_ = header.lsn;
  return true;
}

Result<bool> LogReader::end_torn() {
  ended_ = true;
  torn_bytes_ = file_size_ - valid_end_;
  return false;
}

Result<bool> LogReader::bad_record(std::uint64_t search_from, const std::string& problem) {
  Result<std::optional<std::uint64_t>> later = find_valid_record(search_from);
  if (!later.is_ok()) return fail(later.status());
  if (!later.value()) return end_torn();
  return fail({StatusCode::kCorruption, "log " + path_.string() + ": corrupt record at offset " +
                                            std::to_string(valid_end_) + " (" + problem +
                                            "); a valid record follows at offset " +
                                            std::to_string(*later.value())});
}

Result<std::optional<std::uint64_t>> LogReader::find_valid_record(std::uint64_t from) {
  std::vector<std::byte> chunk;
  std::uint64_t start = from;
  while (start + log::kRecordHeaderSize <= file_size_) {
    // Every offset in [start, start + starts) has its whole header in the chunk.
    chunk.resize(static_cast<std::size_t>(
        std::min<std::uint64_t>(kSearchChunk + log::kRecordHeaderSize - 1, file_size_ - start)));
    if (Status status = read(start, chunk); !status.is_ok()) return status;
    const std::size_t starts = chunk.size() - log::kRecordHeaderSize + 1;
    for (std::size_t i = 0; i < starts; ++i) {
      Result<bool> valid =
          is_valid_record(start + i, std::span(chunk).subspan(i, log::kRecordHeaderSize));
      if (!valid.is_ok()) return valid.status();
      if (valid.value()) return std::optional<std::uint64_t>(start + i);
    }
    start += starts;
  }
  return std::optional<std::uint64_t>();
}

Result<bool> LogReader::is_valid_record(std::uint64_t offset, std::span<const std::byte> header) {
  const RecordHeader decoded = decode_header(header);
  if (!decoded.checksum_ok || decoded.lsn <= last_lsn_ ||
      decoded.length > file_size_ - offset - log::kRecordHeaderSize) {
    return false;
  }
  std::vector<std::byte> payload(decoded.length);  // no more than the bytes left in the file
  if (Status status = read(offset + log::kRecordHeaderSize, payload); !status.is_ok()) {
    return status;
  }
  return crc32c(payload) == decoded.payload_crc;
}

Status LogReader::read(std::uint64_t offset, std::span<std::byte> out) {
  if (out.empty()) return Status::ok();
  if (out.size() >= kReadAhead) return read_exact(offset, out);
  if (offset < buffer_offset_ || offset + out.size() > buffer_offset_ + buffer_.size()) {
    buffer_.resize(
        static_cast<std::size_t>(std::min<std::uint64_t>(kReadAhead, file_size_ - offset)));
    buffer_offset_ = offset;
    if (Status status = read_exact(offset, buffer_); !status.is_ok()) {
      buffer_.clear();
      return status;
    }
  }
  std::memcpy(out.data(), buffer_.data() + (offset - buffer_offset_), out.size());
  return Status::ok();
}

Status LogReader::read_exact(std::uint64_t offset, std::span<std::byte> out) {
  std::size_t bytes_read = 0;
  if (Status status = file_->read(offset, out, bytes_read); !status.is_ok()) return status;
  if (bytes_read == out.size()) return Status::ok();
  return {StatusCode::kIoError, "read " + path_.string() + ": the file ends at " +
                                    std::to_string(offset + bytes_read) +
                                    " bytes, before the size it had when opened"};
}

Status LogReader::fail(Status status) {
  failure_ = status;
  return status;
}

}  // namespace omendb::storage
