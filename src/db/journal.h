// The database's write-ahead journal: every change (a batch of writes to a collection, a
// collection created or dropped) becomes one log record before it is applied, so a crash loses
// nothing that was acknowledged. Record layouts: docs/format.md, "Journal records".
//
// Thread safety: every Journal method may be called from any thread; appends are serialised by
// an internal mutex, which is held only while one record is encoded and written.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "omendb/options.h"
#include "omendb/status.h"
#include "storage/log_reader.h"
#include "storage/log_writer.h"
#include "storage/record_codec.h"

namespace omendb {

// What a log record does. Stored as the record's type: never renumber.
enum class JournalRecordType : std::uint32_t {
  kWrite = 1,             // a batch of writes to one collection
  kCreateCollection = 2,  // a collection and its options
  kDropCollection = 3,    // a collection removed with its records
};

// One log record, decoded.
struct JournalEntry {
  JournalRecordType type = JournalRecordType::kWrite;
  std::uint64_t lsn = 0;
  std::string collection;
  CollectionOptions options;    // kCreateCollection only
  storage::DecodedBatch batch;  // kWrite only
};

// What a write batch's fields must look like: the dimensions of the vector fields (the first
// field's first) and the number of sparse fields.
struct FieldShapes {
  std::vector<std::uint32_t> dims;
  std::size_t sparse_fields = 0;
};
// The field shapes of the collection called `name` at this point of the log, or nothing when no
// such collection exists (a write to it is then corruption).
using FieldShapesOf = std::function<std::optional<FieldShapes>(std::string_view name)>;
// The field shapes of a collection built with `options`.
FieldShapes field_shapes(const CollectionOptions& options);

// Decodes `record`, read as untrusted input: kCorruption ("log record at lsn <n>: <what>") on an
// unknown type, a bad name or options, a write to an unknown collection or any batch error.
// Cost: O(payload bytes).
Result<JournalEntry> decode_journal_record(const storage::LogRecord& record,
                                           const FieldShapesOf& shapes_of);

class Journal {
 public:
  // Appends to `writer` from lsn `writer.last_lsn() + 1` (or `first_lsn` if higher) on, in `mode`.
  Journal(storage::LogWriter writer, storage::SyncMode mode, std::uint64_t first_lsn);

  // Logs a batch of writes to `collection`. Returns once the record is written and, in mode
  // kFull, on disk; on error nothing was logged (the batch must not be applied). Cost: one pass
  // over the batch to encode it, a write, and a disk flush in kFull.
  Status log_write(std::string_view collection, const storage::WriteBatch& batch);
  // Logs the creation of a collection. As log_write.
  Status log_create(std::string_view collection, const CollectionOptions& options);
  // Logs the removal of a collection. As log_write.
  Status log_drop(std::string_view collection);

  // Makes every record logged so far durable, whatever the mode. Cost: a disk flush.
  Status sync();
  // Continues in `writer`, a new empty log (the checkpoint that covers the old one committed).
  void switch_to(storage::LogWriter writer);
  // Closes the log file without syncing it. Later appends fail with kClosed.
  Status close();
  // Makes every later append fail with `why` (the disk's state became unknown).
  void refuse_writes(Status why);

  // The lsn of the last record logged; 0 before the first.
  std::uint64_t last_lsn() const;
  // Bytes in the current log file.
  std::uint64_t log_bytes() const;
  // The current log file.
  std::filesystem::path path() const;

 private:
  // Appends one record of `type` whose payload `encode` writes into the scratch buffer.
  Status append(JournalRecordType type, const std::function<Status(std::vector<std::byte>&)>& encode);

  mutable std::mutex mutex_;  // guards everything below
  storage::LogWriter writer_;
  storage::SyncMode mode_;
  std::uint64_t next_lsn_;
  Status refused_;                  // why appends fail; ok while they do not
  std::vector<std::byte> scratch_;  // the payload being encoded
  static constexpr std::size_t kKeptScratchBytes = 1 << 20;
};

}  // namespace omendb
