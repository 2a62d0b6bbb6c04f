// A database: a set of named collections that share a pool of worker threads, kept in memory
// (":memory:") or in a folder on disk (docs/format.md).
//
// On disk, every write is logged before it is applied and returns once it is durable in the
// chosen sync mode; checkpoints write snapshot files and switch a manifest atomically. One process
// writes a folder at a time (a second writer gets kLocked); any number of read-only handles see
// the last committed state and catch up with refresh().
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "omendb/collection.h"
#include "omendb/options.h"
#include "omendb/status.h"

namespace omendb {

class Database {
 public:
  static constexpr std::size_t kMaxCollectionNameBytes = 128;

  // Opens a database: ":memory:" keeps everything in memory; any other path is a folder, created
  // (with its parent folders) when missing unless options.read_only. A writer takes the folder's
  // lock (kLocked when another handle, in this or another process, writes it), loads the
  // snapshots, replays the log and cuts off a torn tail. A reader needs an existing database
  // (kNotFound) and takes no lock. Damaged files give kCorruption. Cost: reading the snapshots
  // (bulk copies, no graph rebuild) and replaying the log written since the last checkpoint.
  static Result<std::unique_ptr<Database>> open(std::string_view path,
                                                const DatabaseOptions& options);

  // Closes the database (see close()); errors there are lost: call close() to see them.
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // The path given to open().
  const std::string& path() const noexcept;
  bool read_only() const noexcept;

  // The collection called `name`, created with `options` if it does not exist (kReadOnly then,
  // on a read-only database). An existing one must have been created with the same dim and
  // metric (else kInvalidArgument); its other stored options win. Names: 1 to
  // kMaxCollectionNameBytes bytes of letters, digits, '_', '-' and '.', not starting with '.'.
  Result<std::shared_ptr<Collection>> create_collection(std::string_view name,
                                                        const CollectionOptions& options);
  // The existing collection called `name`, or kNotFound.
  Result<std::shared_ptr<Collection>> get_collection(std::string_view name) const;
  // Names of all collections, sorted.
  Result<std::vector<std::string>> collection_names() const;
  // Removes a collection with its records; handles to it fail with kClosed afterwards. kNotFound
  // if absent.
  Status drop_collection(std::string_view name);

  // On disk: writes the collections changed since the last checkpoint to new snapshot files,
  // switches the manifest to them and starts a new, empty log. Writes wait meanwhile; searches
  // go on. Runs by itself when the log outgrows options.checkpoint_log_bytes, and on close().
  // In memory: does nothing. kReadOnly on a read-only database. Cost: writing every changed
  // collection whole, and a few disk flushes.
  Status checkpoint();

  // Read-only databases: catches up with what the writer has committed since open() or the last
  // refresh() (its log records, or its new checkpoint). Handles to collections stay valid and see
  // the new state; collections dropped by the writer are closed. Searches go on meanwhile.
  // Elsewhere: does nothing. Cost: reading the writer's log (and, after a checkpoint, the new
  // snapshots).
  Status refresh();

  // Writes a consistent copy of the database to the folder `path`, which omendb opens like any
  // database, while writes and searches go on. `path` must not exist or be an empty folder, and
  // must lie outside this database's folder (kInvalidArgument otherwise). The copy holds the state
  // at one moment during the call: every write acknowledged before the call, none begun after it
  // returned. On disk, that is the live checkpoint's files and the log as far as it went, copied
  // with no lock held; a read-only handle copies what the writer had committed at that moment. In
  // memory, the collections are written out as a checkpoint writes them (writes wait meanwhile).
  // The copy is built in "<path>.omendb-partial" and renamed to `path` once all of it is durable:
  // after an error or a crash `path` does not exist, and the next backup to `path` removes the
  // partial folder. Cost: reading and writing the database's files once, a disk flush per file.
  Status backup(std::string_view path);

  // Checkpoints (on disk, when anything changed), closes every collection and releases the lock;
  // later calls fail with kClosed. Returns the checkpoint's error, if any (the log still holds
  // every acknowledged write then). Idempotent.
  Status close();
  bool closed() const;

  struct State;  // shared with the collections' checkpoint trigger (src/db/database_state.h)

 private:
  explicit Database(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

// Ok when `name` is a valid collection name, else kInvalidArgument saying why.
Status validate_collection_name(std::string_view name);

}  // namespace omendb
