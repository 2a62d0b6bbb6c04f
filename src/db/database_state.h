// The state of a Database, shared by database.cpp (the collection catalogue, common to memory and
// disk) and durable_database.cpp (the folder: lock, manifest, log, replay, checkpoints, refresh).
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "db/journal.h"
#include "omendb/database.h"
#include "storage/env.h"
#include "storage/manifest.h"
#include "util/thread_pool.h"

namespace omendb {

using CollectionMap = std::map<std::string, std::shared_ptr<Collection>, std::less<>>;

struct Database::State : std::enable_shared_from_this<Database::State> {
  State(std::string path_, const DatabaseOptions& options_)
      : path(std::move(path_)),
        options(options_),
        pool(std::make_shared<ThreadPool>(options.threads)) {}

  const std::string path;
  const DatabaseOptions options;
  const std::shared_ptr<ThreadPool> pool;

  mutable std::mutex mutex;  // guards everything below; taken before any collection's locks
  CollectionMap collections;
  bool closed = false;

  // On disk only (env == nullptr in memory).
  storage::Env* env = nullptr;
  std::filesystem::path dir;
  std::unique_ptr<storage::FileLock> lock;  // the writer's
  storage::Manifest manifest;               // the live one, as this handle last wrote or read it
  std::shared_ptr<Journal> journal;         // the writer's
  std::uint64_t applied_lsn = 0;            // the last log record applied (where refresh resumes)
  Status broken;  // why writes are refused (the disk's state became unknown); ok while they are not

  bool on_disk() const noexcept { return env != nullptr; }
  Status closed_error() const { return {StatusCode::kClosed, "database '" + path + "' is closed"}; }
  Status read_only_error() const {
    return {StatusCode::kReadOnly, "database '" + path + "' was opened read-only"};
  }

  // A new, empty collection that uses this database's threads (and journal, when writing).
  std::shared_ptr<Collection> new_collection(const std::string& name,
                                             const CollectionOptions& options);
  // Gives `collection` the journal and the checkpoint trigger (writers) or marks it read-only.
  void attach(Collection& collection);

  // --- durable_database.cpp
  // Opens the folder: lock, manifest (created for a new database), snapshots, log replay; a
  // reader loads the same without the lock and without cutting the log.
  Status open_folder();
  Status open_reader();
  // Writes the first manifest and an empty log into the folder.
  Status create_database();
  // A writer that opened a manifest of an older format rewrites it, unchanged otherwise, in the
  // current one (atomically: write_manifest's guarantee) before it logs anything. Cost: nothing
  // when it is current; else one manifest write and two disk flushes.
  Status upgrade_manifest();
  // kCorruption when a folder without a manifest holds log records or snapshot files: a lost
  // MANIFEST must not turn a database into a new, empty one (whose first checkpoint would remove
  // the old files).
  Status check_no_data_without_manifest();
  // Whether the folder's manifest names another checkpoint than `seen`.
  bool manifest_changed_since(const storage::Manifest& seen);
  // Readers: `use(manifest)` (returning a Result) on the manifest on disk. A checkpoint of the
  // writer may remove the files a manifest names before `use` opens them: when `use` fails and the
  // manifest has changed since, it runs again on the new one, kReaderManifestAttempts times at
  // most. Returns use's last result, or the manifest's read error.
  template <class Use>
  auto with_latest_manifest(Use use) -> decltype(use(std::declval<const storage::Manifest&>()));
  static constexpr int kReaderManifestAttempts = 5;
  // Removes the logs and snapshot files the live manifest does not name (leftovers of failed or
  // superseded checkpoints). Best effort. Writer only.
  void remove_unreferenced_files();
  // Readers: makes `loaded` the collections, keeping the handles of those that still exist.
  void adopt(CollectionMap loaded);
  // Logs the creation or drop of a collection. Caller holds `mutex`.
  Status log_create(const std::string& name, const CollectionOptions& options);
  Status drop_durably(const std::string& name, Collection& collection);
  // Checkpoints when anything changed since the last one (and, with `only_if_log_full`, the log
  // has outgrown options.checkpoint_log_bytes). Caller holds `mutex`.
  Status checkpoint_locked(bool only_if_log_full);
  // The writer's auto checkpoint, called after a logged write.
  void checkpoint_if_log_full();
  Status refresh_locked();
  // Syncs and closes the log and releases the lock. Caller holds `mutex`.
  Status close_folder();
};

template <class Use>
auto Database::State::with_latest_manifest(Use use)
    -> decltype(use(std::declval<const storage::Manifest&>())) {
  for (int attempt = 1;; ++attempt) {
    Result<storage::Manifest> manifest = storage::read_manifest(*env, dir);
    if (!manifest.is_ok()) return manifest.status();
    auto result = use(manifest.value());
    if (result.is_ok() || attempt == kReaderManifestAttempts ||
        !manifest_changed_since(manifest.value())) {
      return result;
    }
  }
}

}  // namespace omendb
