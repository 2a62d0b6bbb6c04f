// Database::backup: a consistent copy of a database in another folder, taken while writes go on
// (docs/format.md, "Backups").
//
// On disk, the copy is the state a crash would have left at one moment: the files of the live
// checkpoint (snapshot files never change once written) and the log up to its last whole record
// at that moment. The moment is the capture: with the database's lock held (no checkpoint can
// switch or remove files meanwhile), every source file is opened and the log's length noted. The
// bytes are copied afterwards, with no lock held: an open file stays readable after a later
// checkpoint unlinks it, and the log only grows. A read-only handle captures the manifest on disk
// (again when a checkpoint removed a file before it was opened) and cuts the copied log after its
// last whole record. In memory, the collections are written as a checkpoint writes them.
//
// The copy is built in "<path>.omendb-partial" and renamed to `path` once every file and folder in
// it is durable, so `path` appears complete or not at all, after an error or a crash alike.
#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "db/collection_state.h"
#include "db/database_state.h"
#include "db/folder_layout.h"
#include "db/snapshot.h"
#include "storage/log_reader.h"
#include "storage/log_writer.h"

namespace omendb {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kPartialSuffix = ".omendb-partial";
constexpr std::size_t kCopyChunkBytes = std::size_t{1} << 20;

// A file of the source, open since the capture, and how many of its bytes the copy takes.
struct SourceFile {
  fs::path relative;  // inside the database folder
  std::unique_ptr<storage::RandomAccessFile> file;
  std::uint64_t bytes = 0;
};

// What an on-disk backup copies: a manifest and its files as they were at the capture.
struct Capture {
  storage::Manifest manifest;
  std::vector<SourceFile> files;  // the snapshot files, then the log
  bool log_may_be_torn = false;   // a reader's copy of a log the writer was appending to
};

Status backup_error(const fs::path& path, const std::string& what) {
  return Status::invalid_argument("backup to '" + path.string() + "': " + what);
}

// Opens the files `manifest` names in `dir`; the log's length is `log_bytes`, or its size now.
Result<Capture> open_files(storage::Env& env, const fs::path& dir,
                           const storage::Manifest& manifest,
                           std::optional<std::uint64_t> log_bytes) {
  Capture capture{.manifest = manifest, .files = {}, .log_may_be_torn = !log_bytes.has_value()};
  const auto open = [&](fs::path relative, std::optional<std::uint64_t> bytes) -> Status {
    Result<std::unique_ptr<storage::RandomAccessFile>> file =
        env.new_random_access_file(dir / relative);
    if (!file.is_ok()) return file.status();
    const std::uint64_t size = bytes.value_or(file.value()->size());
    capture.files.push_back({std::move(relative), std::move(file).value(), size});
    return Status::ok();
  };
  for (const storage::ManifestCollection& stored : manifest.collections) {
    for (const storage::SnapshotFile& file : stored.snapshot_files) {
      const fs::path relative = fs::path(folder::kCollectionsDir) / stored.name / file.name;
      if (Status status = open(relative, file.size); !status.is_ok()) return status;
    }
  }
  if (Status status = open(manifest.log_file, log_bytes); !status.is_ok()) return status;
  return capture;
}

// The writer's capture. Caller holds db.mutex.
Result<Capture> capture_writer(Database::State& db) {
  if (!db.broken.is_ok()) return db.broken;
  return open_files(*db.env, db.dir, db.manifest, db.journal->log_bytes());
}

// A reader's capture: the checkpoint on disk now, with the log as far as it goes.
Result<Capture> capture_reader(Database::State& db) {
  return db.with_latest_manifest([&](const storage::Manifest& manifest) {
    return open_files(*db.env, db.dir, manifest, std::nullopt);
  });
}

// Removes `path` and everything under it, as far as the Env allows. Nothing there: ok.
Status remove_tree(storage::Env& env, const fs::path& path) {
  Result<bool> exists = env.file_exists(path);
  if (!exists.is_ok() || !exists.value()) return exists.status();
  Result<std::vector<std::string>> names = env.list_dir(path);
  if (!names.is_ok()) return env.remove_file(path);  // not a folder
  for (const std::string& name : names.value()) {
    if (Status status = remove_tree(env, path / name); !status.is_ok()) return status;
  }
  return env.remove_dir(path);
}

// kInvalidArgument unless `to` is missing or an empty folder outside the database folder `from`
// (empty in memory).
Status check_destination(storage::Env& env, const fs::path& from, const fs::path& to) {
  if (to.empty()) return Status::invalid_argument("backup path must not be empty");
  if (to == ":memory:") return backup_error(to, "a backup needs a folder, not \":memory:\"");
  if (!from.empty()) {
    std::error_code error;
    const fs::path source = fs::weakly_canonical(from, error);
    const fs::path target = fs::weakly_canonical(to, error);
    if (error) return {StatusCode::kIoError, "backup to '" + to.string() + "': " + error.message()};
    const auto [end, rest] =
        std::mismatch(source.begin(), source.end(), target.begin(), target.end());
    if (end == source.end()) return backup_error(to, "the folder is inside the database's own");
  }
  Result<bool> exists = env.file_exists(to);
  if (!exists.is_ok()) return exists.status();
  if (!exists.value()) return Status::ok();
  Result<std::vector<std::string>> names = env.list_dir(to);
  if (!names.is_ok()) return backup_error(to, "a file of that name exists");
  if (!names.value().empty()) return backup_error(to, "the folder exists and is not empty");
  return Status::ok();
}

// Copies `source.bytes` bytes of `source` to the new file `to` and syncs it.
Status copy_file(storage::Env& env, const SourceFile& source, const fs::path& to) {
  Result<std::unique_ptr<storage::WritableFile>> out = env.new_writable_file(to);
  if (!out.is_ok()) return out.status();
  std::vector<std::byte> buffer(std::min<std::uint64_t>(kCopyChunkBytes, source.bytes));
  for (std::uint64_t offset = 0; offset < source.bytes;) {
    const std::size_t want = std::min<std::uint64_t>(buffer.size(), source.bytes - offset);
    std::size_t got = 0;
    if (Status status = source.file->read(offset, std::span(buffer).first(want), got);
        !status.is_ok()) {
      return status;
    }
    if (got == 0) {
      return {StatusCode::kCorruption, source.relative.string() + ": the file ends at byte " +
                                           std::to_string(offset) + ", before the " +
                                           std::to_string(source.bytes) + " bytes it must hold"};
    }
    if (Status status = out.value()->append(std::span(buffer).first(got)); !status.is_ok()) {
      return status;
    }
    offset += got;
  }
  if (Status status = out.value()->sync(); !status.is_ok()) return status;
  return out.value()->close();
}

// Cuts the copied log `path` after its last whole record (a reader copied it while the writer
// appended) and syncs the cut. kCorruption when a record before that is damaged.
Status cut_torn_tail(storage::Env& env, const fs::path& path) {
  Result<storage::LogReader> reader = storage::LogReader::open(env, path);
  if (!reader.is_ok()) return reader.status();
  storage::LogRecord record;
  while (true) {
    Result<bool> more = reader.value().next(record);
    if (!more.is_ok()) return more.status();
    if (!more.value()) break;
  }
  if (reader.value().torn_bytes() == 0) return Status::ok();
  if (Status status = env.truncate_file(path, reader.value().valid_end()); !status.is_ok()) {
    return status;
  }
  Result<std::unique_ptr<storage::WritableFile>> file = env.new_appendable_file(path);
  if (!file.is_ok()) return file.status();
  if (Status status = file.value()->sync(); !status.is_ok()) return status;
  return file.value()->close();
}

// Copies the captured files into the folder `to` (which exists and is empty) and writes its
// manifest; everything durable on return, `to`'s own entry aside.
Status write_copy(storage::Env& env, const Capture& capture, const fs::path& to) {
  if (Status status = env.create_dir(folder::collections_dir(to)); !status.is_ok()) return status;
  for (const storage::ManifestCollection& stored : capture.manifest.collections) {
    const fs::path dir = folder::collection_dir(to, stored.name);
    if (Status status = env.create_dir(dir); !status.is_ok()) return status;
  }
  for (const SourceFile& source : capture.files) {
    Status status = copy_file(env, source, to / source.relative);
    if (!status.is_ok()) return status;
  }
  if (capture.log_may_be_torn) {
    if (Status status = cut_torn_tail(env, to / capture.manifest.log_file); !status.is_ok()) {
      return status;
    }
  }
  for (const storage::ManifestCollection& stored : capture.manifest.collections) {
    const fs::path dir = folder::collection_dir(to, stored.name);
    if (Status status = env.sync_dir(dir); !status.is_ok()) return status;
  }
  if (Status status = env.sync_dir(folder::collections_dir(to)); !status.is_ok()) return status;
  return storage::write_manifest(env, to, capture.manifest);
}

// Writes every collection of an in-memory database into the folder `to` (which exists and is
// empty) as a checkpoint would, with an empty log and a manifest; everything durable on return,
// `to`'s own entry aside. Caller holds db.mutex; writes wait meanwhile.
Status write_memory_copy(Database::State& db, storage::Env& env, const fs::path& to) {
  std::vector<std::unique_lock<std::mutex>> writers;  // one moment for every collection
  for (auto& [name, collection] : db.collections) {
    writers.emplace_back(CollectionAccess::state(*collection).write_mutex);
  }
  if (Status status = env.create_dir(folder::collections_dir(to)); !status.is_ok()) return status;
  storage::Manifest manifest;
  for (auto& [name, collection] : db.collections) {
    const CollectionState& state = CollectionAccess::state(*collection);
    const fs::path dir = folder::collection_dir(to, name);
    if (Status status = env.create_dir(dir); !status.is_ok()) return status;
    Result<std::vector<storage::SnapshotFile>> files =
        write_snapshot(env, dir, manifest.next_file_number++, *state.current, state.options);
    if (!files.is_ok()) return files.status();
    if (Status status = env.sync_dir(dir); !status.is_ok()) return status;
    manifest.collections.push_back({name, state.options, std::move(files).value()});
  }
  writers.clear();
  if (Status status = env.sync_dir(folder::collections_dir(to)); !status.is_ok()) return status;
  manifest.log_file = folder::log_file_name(manifest.next_file_number++);
  Result<storage::LogWriter> log = storage::LogWriter::create(env, to / manifest.log_file);
  if (!log.is_ok()) return log.status();
  if (Status status = log.value().close(); !status.is_ok()) return status;
  return storage::write_manifest(env, to, manifest);
}

}  // namespace

Status Database::backup(std::string_view path) {
  State& s = *state_;
  const fs::path to = fs::path(path).lexically_normal();
  const fs::path target = to.has_filename() ? to : to.parent_path();  // "copy/" is "copy"
  const fs::path partial = fs::path(target).concat(kPartialSuffix);
  storage::Env& env =
      s.on_disk() ? *s.env : (s.options.env != nullptr ? *s.options.env : storage::Env::posix());

  std::unique_lock lock(s.mutex);
  if (s.closed) return s.closed_error();
  if (Status status = check_destination(env, s.dir, target); !status.is_ok()) return status;
  Result<Capture> capture = Capture{};
  if (s.on_disk()) {
    capture = s.options.read_only ? capture_reader(s) : capture_writer(s);
    if (!capture.is_ok()) return capture.status();
    lock.unlock();  // the open files are all the copy needs
  }

  // The partial folder: a leftover of a failed backup to `path` goes first.
  if (Status status = remove_tree(env, partial); !status.is_ok()) return status;
  if (Status status = folder::create_dirs(env, partial); !status.is_ok()) return status;
  Status status = s.on_disk() ? write_copy(env, capture.value(), partial)
                              : write_memory_copy(s, env, partial);
  bool renamed = false;
  if (status.is_ok()) renamed = (status = env.rename_file(partial, target)).is_ok();
  if (status.is_ok()) status = folder::sync_parent(env, target);
  if (!status.is_ok()) {
    // The call failed, so it leaves no copy: as far as the Env allows (the next backup to `path`
    // removes a partial folder anyway).
    (void)remove_tree(env, renamed ? target : partial);
  }
  return status;
}

}  // namespace omendb
