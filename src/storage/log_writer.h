// Appends records to a write-ahead log file (layout: log_format.h, docs/format.md).
//
// One record per call, so a batch is all or nothing: after a crash its record is in the file
// whole, or it is a torn tail that LogReader discards (it was never acknowledged), or in kNormal
// and kOff mode it may be missing (see SyncMode).
//
// Errors leave the log as it was before the call: a failed append cuts the file back to its
// size before the call, and the writer goes on. If that cut fails too, or a sync fails, the
// writer is broken: the failed call returns its error and every later call the same kIoError;
// the caller reopens the log (reading it again with LogReader). A failed sync breaks the writer
// because the OS may have dropped the unsynced pages it could not write while still reporting
// them as present: only a fresh read after reopening shows what the disk holds.
//
// Not thread-safe: the caller serialises calls (the database has one writer at a time).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <vector>

#include "omendb/status.h"
#include "storage/env.h"

namespace omendb::storage {

// How much an append waits for the disk.
enum class SyncMode {
  kFull,    // fdatasync before append returns: an acknowledged record survives a power failure.
  kNormal,  // No sync: the record survives a crash of the process (it is in the OS's cache),
            // but an OS crash or power failure loses the records appended since the last
            // sync() (the kernel writes dirty pages back within about 30 s by default) and may
            // persist them out of order, leaving a hole that LogReader reports as corruption.
  kOff,     // As kNormal for the log; the database syncs nothing at all in this mode (its
            // kNormal syncs the log at checkpoints and on close).
};

class LogWriter {
 public:
  // Creates a log at `path` (replacing any file there) holding only the file header, and makes
  // it and its directory entry durable. Cost: two disk flushes. On failure the file is removed
  // as far as the Env allows.
  static Result<LogWriter> create(Env& env, std::filesystem::path path);

  // Opens the existing log at `path` to append after its last good record, as LogReader found
  // them: the file is cut to `valid_end` bytes (dropping a torn tail, then synced) and the next
  // LSN must exceed `last_lsn`. A `valid_end` below the file header's size (a crash while the log
  // was being created) creates the log afresh.
  static Result<LogWriter> open(Env& env, std::filesystem::path path, std::uint64_t valid_end,
                                std::uint64_t last_lsn);

  LogWriter(LogWriter&&) noexcept = default;
  LogWriter& operator=(LogWriter&&) noexcept = default;
  // Closes the file without syncing it.
  ~LogWriter() = default;

  // Appends one record. Preconditions, else kInvalidArgument (and nothing written): `lsn` >
  // last_lsn() (so LSNs start at 1), payload.size() <= log::kMaxPayloadSize. Returns once the
  // record is written and, with SyncMode::kFull, durable. Cost: one CRC pass over the payload,
  // one write (two for payloads over 64 KiB, which are not copied), and a flush for kFull.
  Status append(std::uint64_t lsn, std::uint32_t type, std::span<const std::byte> payload,
                SyncMode mode);

  // Makes every record appended so far durable (fdatasync). Cost: a disk flush.
  Status sync();

  // Closes the file without syncing it (call sync() first for kNormal records). Later appends
  // return kClosed. Idempotent.
  Status close();

  // Bytes of the file header and the acknowledged records: where the next record goes.
  std::uint64_t size() const noexcept { return size_; }
  // The LSN of the last acknowledged record; 0 if none.
  std::uint64_t last_lsn() const noexcept { return last_lsn_; }
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  LogWriter(Env& env, std::filesystem::path path, std::unique_ptr<WritableFile> file,
            std::uint64_t size, std::uint64_t last_lsn);

  // Writes one record, header and payload, to the file.
  Status write_record(std::uint64_t lsn, std::uint32_t type, std::span<const std::byte> payload);
  // Cuts the file back to size_ bytes and reopens it after an append that failed with `cause`;
  // breaks the writer if it cannot.
  void cut_back(const Status& cause);
  // The error a call returns once the writer is closed or broken; ok otherwise.
  Status usable() const;

  Env* env_;
  std::filesystem::path path_;
  std::unique_ptr<WritableFile> file_;  // null once closed, or broken by a failed cut_back
  std::uint64_t size_;
  std::uint64_t last_lsn_;
  Status broken_;                   // why the writer is broken; ok while it is not
  std::vector<std::byte> scratch_;  // header and payload of small records, written at once
};

}  // namespace omendb::storage
