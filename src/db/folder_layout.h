// The names inside a database folder (docs/format.md, "Database folder"), shared by the code that
// opens, checkpoints and backs up a database:
//
//   LOCK                          flock'ed by the one writer
//   MANIFEST                      names the live log and snapshot files; switched atomically
//   wal-<n>                       the write-ahead log since the last checkpoint
//   collections/<name>/<n>.<kind> snapshot files of each collection
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "omendb/status.h"
#include "storage/env.h"

namespace omendb::folder {

inline constexpr std::string_view kLockFileName = "LOCK";
inline constexpr std::string_view kCollectionsDir = "collections";
inline constexpr std::string_view kLogPrefix = "wal-";

// The name of the log file numbered `number`: "wal-<number>".
std::string log_file_name(std::uint64_t number);

// The folder of every collection's snapshot files, and that of the collection `name`.
std::filesystem::path collections_dir(const std::filesystem::path& dir);
std::filesystem::path collection_dir(const std::filesystem::path& dir, std::string_view name);

// Creates `dir` and its missing parents. The entry of each parent created is made durable (synced
// in its own parent), or a power cut could take the database folder with it; `dir`'s own entry is
// the caller's to sync. Cost: a stat and a mkdir per path component, a directory sync per parent
// created.
Status create_dirs(storage::Env& env, const std::filesystem::path& dir);

// Makes the entry of `path` durable: syncs the folder that holds it.
Status sync_parent(storage::Env& env, const std::filesystem::path& path);

}  // namespace omendb::folder
