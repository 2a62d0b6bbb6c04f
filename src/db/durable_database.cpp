// A database in a folder (the names: db/folder_layout.h; docs/format.md, "Database folder").
//
// Open: read the manifest, load the snapshots, replay the log after the checkpoint's lsn.
// Checkpoint: with every collection's writer lock held, write the changed collections' snapshots
// and a new empty log, switch the manifest, then remove the files only the old one named.
#include <algorithm>
#include <set>
#include <string>

#include "db/collection_state.h"
#include "db/database_state.h"
#include "db/folder_layout.h"
#include "db/snapshot.h"
#include "storage/log_format.h"
#include "storage/log_reader.h"

namespace omendb {
namespace {

namespace fs = std::filesystem;

using folder::collection_dir;
using folder::collections_dir;
using folder::kLogPrefix;
using folder::log_file_name;

storage::SyncMode log_sync_mode(SyncMode mode) {
  switch (mode) {
    case SyncMode::kFull:
      return storage::SyncMode::kFull;
    case SyncMode::kNormal:
      return storage::SyncMode::kNormal;
    case SyncMode::kOff:
      return storage::SyncMode::kOff;
  }
  return storage::SyncMode::kFull;
}

CollectionState& state_of(const std::shared_ptr<Collection>& collection) {
  return CollectionAccess::state(*collection);
}

// Where a replay of the log ended.
struct LogEnd {
  std::uint64_t valid_end = 0;  // bytes of good records (LogWriter::open cuts the file there)
  std::uint64_t last_lsn = 0;   // the last record applied or skipped; 0 if none
};

// The collections and log position a manifest and its log describe.
struct LoadedState {
  CollectionMap collections;
  LogEnd log;
};

// A record the log holds but the state cannot take (a duplicate id, an unknown collection): the
// log or the snapshots are damaged.
Status replay_error(const JournalEntry& entry, const Status& status) {
  return {StatusCode::kCorruption,
          "log record at lsn " + std::to_string(entry.lsn) + " cannot be replayed: " + status.message()};
}

// Applies one logged change to `collections`.
Status apply(Database::State& db, const JournalEntry& entry, CollectionMap& collections) {
  switch (entry.type) {
    case JournalRecordType::kCreateCollection:
      if (collections.contains(entry.collection)) {
        return replay_error(entry, {StatusCode::kCorruption, "the collection exists"});
      }
      collections.emplace(entry.collection, db.new_collection(entry.collection, entry.options));
      return Status::ok();
    case JournalRecordType::kDropCollection: {
      auto found = collections.find(entry.collection);
      if (found == collections.end()) {
        return replay_error(entry, {StatusCode::kCorruption, "no such collection"});
      }
      found->second->close();
      collections.erase(found);
      return Status::ok();
    }
    case JournalRecordType::kWrite:
      break;
  }
  CollectionState& collection = state_of(collections.at(entry.collection));
  const storage::DecodedBatch& batch = entry.batch;
  const std::vector<std::string_view> ids(batch.ids.begin(), batch.ids.end());
  if (batch.kind == storage::WriteKind::kDelete) {
    Result<std::size_t> removed = collection.remove_ids(ids, CollectionState::Origin::kLog);
    return removed.is_ok() ? Status::ok() : replay_error(entry, removed.status());
  }
  std::vector<FieldRows> more_vectors;
  more_vectors.reserve(batch.more_vectors.size());
  for (const storage::DecodedFieldBlock& block : batch.more_vectors) {
    more_vectors.push_back(
        {.field = block.field, .present = block.present, .vectors = block.vectors});
  }
  const std::vector<std::string_view> documents(batch.documents.begin(), batch.documents.end());
  std::vector<SparseRows> sparse;
  for (const storage::DecodedSparseBlock& block : batch.sparse) sparse.push_back(block.rows());
  const RecordBatch records{.ids = ids,
                            .vectors = batch.vectors,
                            .metadata = batch.metadata,
                            .more_vectors = more_vectors,
                            .documents = documents,
                            .has_document = batch.has_document,
                            .sparse = sparse};
  const bool replace = batch.kind == storage::WriteKind::kUpsert;
  Status status = collection.write(records, replace, CollectionState::Origin::kLog);
  return status.is_ok() ? status : replay_error(entry, status);
}

// Whether `a` and `b` name the same checkpoint.
bool same_checkpoint(const storage::Manifest& a, const storage::Manifest& b) {
  return a.checkpoint_lsn == b.checkpoint_lsn && a.log_file == b.log_file;
}

}  // namespace

// --- helpers of Database::State that need the folder layout

namespace {

// Applies the records of the log at `path` with lsn > after_lsn to `collections`, in order.
// `applied` follows the last record applied, so a failure part way leaves it exact.
Result<LogEnd> replay_log(Database::State& db, const fs::path& path, std::uint64_t after_lsn,
                          CollectionMap& collections, std::uint64_t& applied) {
  Result<bool> exists = db.env->file_exists(path);
  if (!exists.is_ok()) return exists.status();
  if (!exists.value()) {
    return Status(StatusCode::kCorruption,
                  path.string() + ": the write-ahead log the manifest names is missing");
  }
  Result<storage::LogReader> opened = storage::LogReader::open(*db.env, path);
  if (!opened.is_ok()) return opened.status();
  storage::LogReader reader = std::move(opened).value();
  const FieldShapesOf shapes_of = [&collections](std::string_view name) {
    auto found = collections.find(name);
    return found == collections.end()
               ? std::nullopt
               : std::optional<FieldShapes>(field_shapes(found->second->options()));
  };
  storage::LogRecord record;
  while (true) {
    Result<bool> more = reader.next(record);
    if (!more.is_ok()) return more.status();
    if (!more.value()) break;
    if (record.lsn <= after_lsn) continue;
    Result<JournalEntry> entry = decode_journal_record(record, shapes_of);
    if (!entry.is_ok()) return Status(entry.status().code(), path.string() + ": " + entry.status().message());
    if (Status status = apply(db, entry.value(), collections); !status.is_ok()) {
      return Status(status.code(), path.string() + ": " + status.message());
    }
    applied = record.lsn;
  }
  return LogEnd{reader.valid_end(), reader.last_lsn()};
}

// The collections `manifest` names, loaded from their snapshots, and the log replayed over them.
Result<LoadedState> load_state(Database::State& db, const storage::Manifest& manifest) {
  LoadedState loaded;
  for (const storage::ManifestCollection& stored : manifest.collections) {
    std::shared_ptr<Collection> collection = db.new_collection(stored.name, stored.options);
    Result<std::shared_ptr<Generation>> generation =
        load_snapshot(*db.env, collection_dir(db.dir, stored.name), stored.snapshot_files,
                      stored.options, db.options.map_floats);
    if (!generation.is_ok()) return generation.status();
    CollectionState& state = state_of(collection);
    state.current = std::move(generation).value();
    state.live.store(state.current->index->live_size());
    state.snapshot_files = stored.snapshot_files;
    loaded.collections.emplace(stored.name, std::move(collection));
  }
  std::uint64_t applied = manifest.checkpoint_lsn;
  Result<LogEnd> end = replay_log(db, db.dir / manifest.log_file, manifest.checkpoint_lsn,
                                  loaded.collections, applied);
  if (!end.is_ok()) return end.status();
  loaded.log = end.value();
  loaded.log.last_lsn = std::max(loaded.log.last_lsn, manifest.checkpoint_lsn);
  return loaded;
}

// The checkpoint the folder's manifest names now, loaded, with its log replayed.
struct LatestState {
  storage::Manifest manifest;
  LoadedState loaded;
};

// Readers' load of the latest checkpoint (again from a newer manifest when a checkpoint of the
// writer removes files under it). kNotFound when the folder holds no manifest.
Result<LatestState> load_latest(Database::State& db) {
  return db.with_latest_manifest([&](const storage::Manifest& manifest) -> Result<LatestState> {
    Result<LoadedState> loaded = load_state(db, manifest);
    if (!loaded.is_ok()) return loaded.status();
    return LatestState{manifest, std::move(loaded).value()};
  });
}

}  // namespace

void Database::State::attach(Collection& collection) {
  CollectionState& state = CollectionAccess::state(collection);
  state.read_only = options.read_only;
  if (journal == nullptr) return;
  state.journal = journal;
  state.on_logged = [weak = weak_from_this()] {
    if (const std::shared_ptr<State> db = weak.lock()) db->checkpoint_if_log_full();
  };
}

Status Database::State::open_folder() {
  env = options.env != nullptr ? options.env : &storage::Env::posix();
  dir = fs::path(path).lexically_normal();
  if (!dir.has_filename()) dir = dir.parent_path();  // "db/" is the folder "db"
  if (options.read_only) return open_reader();
  if (Status status = folder::create_dirs(*env, dir); !status.is_ok()) return status;
  Result<std::unique_ptr<storage::FileLock>> locked =
      env->lock_file(dir / folder::kLockFileName, storage::LockMode::kExclusive);
  if (!locked.is_ok()) {
    if (locked.status().code() != StatusCode::kLocked) return locked.status();
    return {StatusCode::kLocked, "database '" + path +
                                     "' is already open for writing (by this or another "
                                     "process); open it with read_only=True to read it meanwhile"};
  }
  lock = std::move(locked).value();
  Result<storage::Manifest> read = storage::read_manifest(*env, dir);
  if (read.status().code() == StatusCode::kNotFound) {
    if (Status status = check_no_data_without_manifest(); !status.is_ok()) return status;
    if (Status status = create_database(); !status.is_ok()) return status;
  } else if (!read.is_ok()) {
    return read.status();
  } else {
    manifest = std::move(read).value();
    if (Status status = upgrade_manifest(); !status.is_ok()) return status;
  }
  Result<LoadedState> loaded = load_state(*this, manifest);
  if (!loaded.is_ok()) return loaded.status();
  Result<storage::LogWriter> log = storage::LogWriter::open(
      *env, dir / manifest.log_file, loaded.value().log.valid_end, loaded.value().log.last_lsn);
  if (!log.is_ok()) return log.status();
  applied_lsn = loaded.value().log.last_lsn;
  journal = std::make_shared<Journal>(std::move(log).value(), log_sync_mode(options.sync),
                                      applied_lsn + 1);
  collections = std::move(loaded.value().collections);
  for (auto& [name, collection] : collections) attach(*collection);
  remove_unreferenced_files();
  return Status::ok();
}

Status Database::State::upgrade_manifest() {
  if (manifest.format_version == storage::manifest::kFormatVersion) return Status::ok();
  // The same contents in the current format, switched atomically: from here on the log may hold
  // records only this format describes, and older builds refuse the folder by its version.
  manifest.format_version = storage::manifest::kFormatVersion;
  return storage::write_manifest(*env, dir, manifest);
}

Status Database::State::check_no_data_without_manifest() {
  const auto refuse = [this](const std::string& file) {
    return Status(StatusCode::kCorruption,
                  "'" + path + "' has no MANIFEST but holds database files (" + file +
                      "); refusing to treat it as a new database");
  };
  Result<std::vector<std::string>> names = env->list_dir(dir);
  if (!names.is_ok()) return names.status();
  for (const std::string& name : names.value()) {
    if (!name.starts_with(kLogPrefix)) continue;
    // A log holding only its header is a first open that crashed before its manifest: no data.
    Result<std::uint64_t> size = env->file_size(dir / name);
    if (!size.is_ok()) return size.status();
    if (size.value() > storage::log::kFileHeaderSize) return refuse(name);
  }
  Result<std::vector<std::string>> folders = env->list_dir(collections_dir(dir));
  if (!folders.is_ok()) return Status::ok();  // no collections folder: nothing was ever stored
  for (const std::string& folder : folders.value()) {
    Result<std::vector<std::string>> files = env->list_dir(collection_dir(dir, folder));
    if (files.is_ok() && !files.value().empty()) return refuse("collections/" + folder);
  }
  return Status::ok();
}

Status Database::State::create_database() {
  if (Status status = env->create_dir(collections_dir(dir)); !status.is_ok()) return status;
  // The folder's own entry must be durable before anything in it counts.
  if (Status status = folder::sync_parent(*env, dir); !status.is_ok()) return status;
  manifest = storage::Manifest{};
  manifest.log_file = log_file_name(manifest.next_file_number++);
  Result<storage::LogWriter> log = storage::LogWriter::create(*env, dir / manifest.log_file);
  if (!log.is_ok()) return log.status();
  if (Status status = log.value().close(); !status.is_ok()) return status;
  return storage::write_manifest(*env, dir, manifest);
}

Status Database::State::open_reader() {
  Result<LatestState> latest = load_latest(*this);
  if (latest.status().code() == StatusCode::kNotFound) {
    return {StatusCode::kNotFound,
            "no database at '" + path + "' (read_only=True opens an existing database)"};
  }
  if (!latest.is_ok()) return latest.status();
  manifest = std::move(latest.value().manifest);
  collections = std::move(latest.value().loaded.collections);
  applied_lsn = latest.value().loaded.log.last_lsn;
  return Status::ok();
}

bool Database::State::manifest_changed_since(const storage::Manifest& seen) {
  Result<storage::Manifest> now = storage::read_manifest(*env, dir);
  return now.is_ok() && !same_checkpoint(now.value(), seen);
}

Status Database::State::log_create(const std::string& name, const CollectionOptions& options) {
  if (journal == nullptr) return Status::ok();
  return journal->log_create(name, options);
}

Status Database::State::drop_durably(const std::string& name, Collection& collection) {
  if (journal == nullptr) return Status::ok();
  CollectionState& state = CollectionAccess::state(collection);
  std::lock_guard writer(state.write_mutex);
  if (Status status = journal->log_drop(name); !status.is_ok()) return status;
  state.closed.store(true);  // under the writer lock: no write can follow the drop in the log
  return Status::ok();
}

Status Database::State::checkpoint_locked(bool only_if_log_full) {
  if (journal == nullptr || closed) return Status::ok();
  if (!broken.is_ok()) return broken;
  if (only_if_log_full && journal->log_bytes() < options.checkpoint_log_bytes) return Status::ok();
  std::vector<std::unique_lock<std::mutex>> writers;  // no collection changes until we are done
  for (auto& [name, collection] : collections) writers.emplace_back(state_of(collection).write_mutex);

  storage::Manifest next;
  next.checkpoint_lsn = journal->last_lsn();
  next.next_file_number = manifest.next_file_number;
  bool changed = next.checkpoint_lsn != manifest.checkpoint_lsn ||
                 collections.size() != manifest.collections.size();
  std::vector<fs::path> written;  // removed again if the checkpoint fails before the switch
  const auto fail = [&](const Status& status) {
    for (const fs::path& file : written) (void)env->remove_file(file);
    return status;
  };
  for (auto& [name, collection] : collections) {
    CollectionState& state = state_of(collection);
    storage::ManifestCollection& stored = next.collections.emplace_back();
    stored.name = name;
    stored.options = state.options;
    stored.snapshot_files = state.snapshot_files;
    if (!state.snapshot_files.empty() && state.changes == state.checkpointed_changes) continue;
    changed = true;
    const fs::path folder = collection_dir(dir, name);
    if (Status status = env->create_dir(folder); !status.is_ok()) return fail(status);
    Result<std::vector<storage::SnapshotFile>> files =
        write_snapshot(*env, folder, next.next_file_number++, *state.current, state.options);
    if (!files.is_ok()) return fail(files.status());
    for (const storage::SnapshotFile& file : files.value()) written.push_back(folder / file.name);
    if (Status status = env->sync_dir(folder); !status.is_ok()) return fail(status);
    stored.snapshot_files = std::move(files).value();
  }
  if (!changed) return Status::ok();
  if (Status status = env->sync_dir(collections_dir(dir)); !status.is_ok()) return fail(status);
  next.log_file = log_file_name(next.next_file_number++);
  Result<storage::LogWriter> log = storage::LogWriter::create(*env, dir / next.log_file);
  if (!log.is_ok()) return fail(log.status());
  written.push_back(dir / next.log_file);

  bool renamed = false;
  if (Status status = storage::write_manifest(*env, dir, next, &renamed); !status.is_ok()) {
    // Not renamed (a full disk, a failed rename): the old manifest is live, as if the checkpoint
    // had failed before the switch, and writes go on.
    if (!renamed) return fail(status);
    // Either manifest may be live now: keep every file and stop writing until a reopen reads
    // what the disk holds.
    broken = Status(status.code(), "checkpoint failed, so writes are refused until the database "
                                   "is reopened: " + status.message());
    journal->refuse_writes(broken);
    return status;
  }
  journal->switch_to(std::move(log).value());
  manifest = std::move(next);
  applied_lsn = manifest.checkpoint_lsn;
  for (std::size_t i = 0; auto& [name, collection] : collections) {
    CollectionState& state = state_of(collection);
    state.snapshot_files = manifest.collections[i++].snapshot_files;
    state.checkpointed_changes = state.changes;
  }
  writers.clear();
  remove_unreferenced_files();
  return Status::ok();
}

void Database::State::checkpoint_if_log_full() {
  if (journal->log_bytes() < options.checkpoint_log_bytes) return;
  std::lock_guard guard(mutex);
  (void)checkpoint_locked(/*only_if_log_full=*/true);  // a failure here leaves the log in charge
}

void Database::State::remove_unreferenced_files() {
  Result<std::vector<std::string>> names = env->list_dir(dir);
  if (names.is_ok()) {
    for (const std::string& name : names.value()) {
      const bool old_log = name.starts_with(kLogPrefix) && name != manifest.log_file;
      if (old_log || name == storage::manifest::kTempFileName) (void)env->remove_file(dir / name);
    }
  }
  Result<std::vector<std::string>> folders = env->list_dir(collections_dir(dir));
  if (!folders.is_ok()) return;
  for (const std::string& folder : folders.value()) {
    std::set<std::string, std::less<>> keep;
    for (const storage::ManifestCollection& stored : manifest.collections) {
      if (stored.name != folder) continue;
      for (const storage::SnapshotFile& file : stored.snapshot_files) keep.insert(file.name);
    }
    const fs::path path = collection_dir(dir, folder);
    Result<std::vector<std::string>> files = env->list_dir(path);
    if (!files.is_ok()) continue;
    for (const std::string& file : files.value()) {
      if (!keep.contains(file)) (void)env->remove_file(path / file);
    }
    if (keep.empty()) (void)env->remove_dir(path);
  }
}

Status Database::State::refresh_locked() {
  if (!on_disk() || !options.read_only) return Status::ok();
  Result<storage::Manifest> read = storage::read_manifest(*env, dir);
  if (!read.is_ok()) return read.status();
  if (same_checkpoint(read.value(), manifest)) {
    Result<LogEnd> end = replay_log(*this, dir / manifest.log_file, applied_lsn, collections,
                                    applied_lsn);
    // The writer may have checkpointed (and removed this log) since: then load its checkpoint.
    if (end.is_ok() || !manifest_changed_since(manifest)) return end.status();
  }
  Result<LatestState> latest = load_latest(*this);
  if (!latest.is_ok()) return latest.status();
  adopt(std::move(latest.value().loaded.collections));
  manifest = std::move(latest.value().manifest);
  applied_lsn = latest.value().loaded.log.last_lsn;
  return Status::ok();
}

void Database::State::adopt(CollectionMap loaded) {
  for (auto& [name, fresh] : loaded) {
    auto found = collections.find(name);
    if (found == collections.end()) continue;
    const CollectionOptions& old_options = found->second->options();
    if (old_options.dim != fresh->options().dim || old_options.metric != fresh->options().metric) {
      continue;  // a new collection of the same name: the old handle is closed below
    }
    // Keep the handle users hold; give it the loaded records.
    CollectionState& kept = state_of(found->second);
    CollectionState& source = state_of(fresh);
    std::lock_guard writer(kept.write_mutex);
    std::unique_lock records(kept.records_mutex);
    kept.current = source.current;
    kept.live.store(source.live.load());
    fresh = found->second;
  }
  for (auto& [name, collection] : collections) {
    auto found = loaded.find(name);
    if (found == loaded.end() || found->second != collection) collection->close();
  }
  collections = std::move(loaded);
}

Status Database::State::close_folder() {
  Status status;
  if (journal != nullptr) {
    if (options.sync != SyncMode::kOff && broken.is_ok()) status = journal->sync();
    (void)journal->close();
    journal.reset();
  }
  lock.reset();
  return status;
}

}  // namespace omendb
