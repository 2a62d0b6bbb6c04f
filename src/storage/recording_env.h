// A test Env over another Env that records every operation changing the file system, in the order
// the base Env carried them out: what a crash-state explorer needs to rebuild each state a power
// cut could leave (tests/cpp/db/crash_states_test.cpp).
//
// Recorded: file creations (new_writable_file, new_appendable_file and lock_file of a missing
// file), truncations (truncate_file, and new_writable_file of an existing file, to size 0),
// appends with their bytes and the offset they were written at, WritableFile::sync, directory
// creations, removals of files and directories, renames and sync_dir. Reads, size queries,
// listings, closes and locks of existing files change nothing and are not recorded. A failed call
// is recorded only as far as it changed the files: a failed append as the bytes it wrote (if any),
// any other failure not at all. Paths are recorded as they were given; appends and syncs name the
// path their file was opened with.
//
// Ownership: the base Env outlives this one, and this one outlives its files.
// Thread safety: like every Env; one mutex serialises all calls, I/O included, so the record's
// order is the order the base Env saw.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <vector>

#include "storage/env.h"
#include "storage/forwarding_env.h"

namespace omendb::storage {

// One recorded operation.
struct FileOp {
  enum class Kind {
    kCreateFile,  // `path`: a new, empty file
    kTruncate,    // `path` cut (or extended with zeros) to `size` bytes
    kAppend,      // `data` written at offset `size` of `path`, its end before the call
    kSync,        // `path`'s bytes made durable (fdatasync)
    kCreateDir,   // `path`: a new, empty directory
    kRemoveFile,  // `path` unlinked
    kRemoveDir,   // the empty directory `path` removed
    kRename,      // `path` renamed to `target`, replacing any file there
    kSyncDir,     // the entries of the directory `path` made durable
  };
  Kind kind = Kind::kCreateFile;
  std::filesystem::path path;
  std::filesystem::path target;  // kRename only
  std::uint64_t size = 0;        // kTruncate: the new size; kAppend: the offset written at
  std::vector<std::byte> data;   // kAppend only
};

class RecordingEnv final : public ForwardingEnv {
 public:
  // Wraps `base`, which must outlive this Env. Records nothing before this call.
  explicit RecordingEnv(Env& base);
  ~RecordingEnv() override;
  RecordingEnv(const RecordingEnv&) = delete;
  RecordingEnv& operator=(const RecordingEnv&) = delete;

  // Operations recorded so far (since the last take_operations()). Cost: O(1).
  std::size_t operation_count() const;
  // The operations recorded since the last call, oldest first, moved out; recording goes on into
  // an empty list. Cost: O(1).
  std::vector<FileOp> take_operations();

  Result<std::unique_ptr<WritableFile>> new_writable_file(
      const std::filesystem::path& path) override;
  Result<std::unique_ptr<WritableFile>> new_appendable_file(
      const std::filesystem::path& path) override;
  Status create_dir(const std::filesystem::path& dir) override;
  Status remove_file(const std::filesystem::path& path) override;
  Status remove_dir(const std::filesystem::path& dir) override;
  Status rename_file(const std::filesystem::path& from, const std::filesystem::path& to) override;
  Status truncate_file(const std::filesystem::path& path, std::uint64_t size) override;
  Status sync_dir(const std::filesystem::path& dir) override;
  Result<std::unique_ptr<FileLock>> lock_file(const std::filesystem::path& path,
                                              LockMode mode) override;

 private:
  class File;  // the WritableFile handed out

  // Opens `path` through `open` (the base Env's new_writable_file or new_appendable_file) and
  // records what that did to the file system; `truncates` tells which of the two it is.
  template <class Open>
  Result<std::unique_ptr<WritableFile>> open_writable(const std::filesystem::path& path,
                                                      bool truncates, Open open);
  // Appends one operation to the record. Caller holds mutex_.
  void record(FileOp op);

  std::vector<FileOp> operations_;  // oldest first
};

}  // namespace omendb::storage
