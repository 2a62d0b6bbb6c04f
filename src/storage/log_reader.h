// Reads a write-ahead log front to back, checking every record (layout: log_format.h).
//
// The good records end in one of three ways:
//  - Clean end: the file ends right after a record.
//  - Torn tail: the bytes after the last good record are not a whole valid record (too short,
//    a length running past the end of the file, or a checksum mismatch), and no valid record
//    follows them. A write cut short by a crash leaves this; it was never acknowledged. next()
//    returns false, torn_bytes() says how many bytes to drop, and the caller cuts the file at
//    valid_end() (LogWriter::open does).
//  - Corruption: a bad record with a valid record after it, or an LSN that does not increase.
//    Acknowledged data is damaged, so next() returns kCorruption naming the offset of the bad
//    record (also valid_end()); the records before it were good.
// A record is "valid" when its header checksum, its length (within the file) and its payload
// checksum all check out and its LSN exceeds the last good one. The reader never allocates more
// than the bytes left in the file, whatever a damaged length field says.
//
// Not thread-safe; one reader per thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "omendb/status.h"
#include "storage/env.h"

namespace omendb::storage {

// One record as read back.
struct LogRecord {
  std::uint64_t lsn = 0;           // its log sequence number
  std::uint32_t type = 0;          // what the payload is, as the writer said
  std::uint64_t offset = 0;        // where the record starts in the file
  std::vector<std::byte> payload;  // its capacity is reused from record to record
};

class LogReader {
 public:
  // Opens the log at `path` and checks its file header: kCorruption for a bad magic, version or
  // header checksum. A file shorter than a file header whose bytes are the start of one (a crash
  // while the log was being created) reads as a torn tail with valid_end() == 0.
  static Result<LogReader> open(Env& env, const std::filesystem::path& path);

  LogReader(LogReader&&) noexcept = default;
  LogReader& operator=(LogReader&&) noexcept = default;
  ~LogReader() = default;

  // Reads the next good record into `record`: true if there is one, false once the good records
  // have ended (clean end or torn tail), kCorruption or kIoError (see the top of this file);
  // after false or an error, every later call answers the same. Cost: the record's bytes and
  // their checksum (reads go through a 256 KiB read-ahead buffer); after a bad record, one pass
  // over the rest of the file looking for a valid record.
  Result<bool> next(LogRecord& record);

  // Offset just past the last good record (the file header's size before the first record, 0
  // when the file header is torn); after kCorruption, the offset of the bad record.
  std::uint64_t valid_end() const noexcept { return valid_end_; }
  // Bytes after valid_end() that make up a torn tail: set when next() returns false.
  std::uint64_t torn_bytes() const noexcept { return torn_bytes_; }
  // The LSN of the last good record; 0 before the first.
  std::uint64_t last_lsn() const noexcept { return last_lsn_; }
  // The file's size when it was opened: the reader reads no further.
  std::uint64_t file_size() const noexcept { return file_size_; }

 private:
  LogReader(std::filesystem::path path, std::unique_ptr<RandomAccessFile> file);

  // Checks the file header; sets valid_end_, or marks a torn one.
  Status check_file_header();
  // Fills `out` with the bytes at `offset`, through the read-ahead buffer when `out` is small.
  // Precondition: offset + out.size() <= file_size_.
  Status read(std::uint64_t offset, std::span<std::byte> out);
  // Fills `out` with the bytes at `offset` straight from the file.
  Status read_exact(std::uint64_t offset, std::span<std::byte> out);
  // Ends the good records at valid_end_ with a torn tail; returns false.
  Result<bool> end_torn();
  // Handles a bad record at valid_end_ (`problem` says what is wrong with it): kCorruption if a
  // valid record starts at or after `search_from`, else the end of a torn tail.
  Result<bool> bad_record(std::uint64_t search_from, const std::string& problem);
  // The offset of the first valid record starting at or after `from`, if any.
  Result<std::optional<std::uint64_t>> find_valid_record(std::uint64_t from);
  // Whether a valid record starts at `offset`, given its header bytes.
  Result<bool> is_valid_record(std::uint64_t offset, std::span<const std::byte> header);
  // Records `status` as the answer of this and every later next().
  Status fail(Status status);

  std::filesystem::path path_;
  std::unique_ptr<RandomAccessFile> file_;
  std::uint64_t file_size_ = 0;
  std::uint64_t valid_end_ = 0;
  std::uint64_t torn_bytes_ = 0;
  std::uint64_t last_lsn_ = 0;
  bool ended_ = false;             // next() returned false
  Status failure_;                 // what next() returned when it failed; ok while it has not
  std::vector<std::byte> buffer_;  // read-ahead: the file's bytes from buffer_offset_ on
  std::uint64_t buffer_offset_ = 0;
};

}  // namespace omendb::storage
