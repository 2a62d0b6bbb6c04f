// A test Env over another Env (usually Env::posix() on a temporary folder) that makes chosen
// operations fail and simulates crashes. Used by the storage tests and the crash tests.
//
// Faults. fail_nth() makes a later call of one kind of operation fail with kIoError before it
// touches the file system. set_space_left() models a disk that fills up: the append that crosses
// the limit writes the part that fits (a short write) and fails, as write(2) does with ENOSPC;
// later appends fail without writing. Other calls pass through to the base Env.
//
// Crashes. drop_unsynced_data() leaves the files in the worst state a power failure could leave
// for data that was never made durable:
//  - Contents: every file written through this Env is cut to its size at its last successful
//    WritableFile::sync() (0 if never synced). Files never opened for writing here are untouched.
//  - Directory entries: file and directory creations, renames and removals done through this Env
//    are undone, newest first, unless a later sync_dir() of the directory holding the entry (for
//    a rename, the target's directory) made them durable. Undoing a removal, or a rename over an
//    existing file, brings the old file back with its bytes, which this Env keeps in memory until
//    that sync_dir(): meant for test-sized files.
// Not modelled: lost writes in the middle of unsynced data (files are cut, never holed), old bytes
// coming back after new_writable_file() or truncate_file() (both take effect at once, and only
// lower a file's synced size), and an fsync of a file making its new directory entry durable too
// (ext4 does; portable code must not count on it). Paths are compared after lexical
// normalisation, so use one spelling (relative or absolute) per file.
//
// Ownership: the base Env outlives this one, and this one outlives its files. Files opened before
// drop_unsynced_data() belong to the crashed process: every later call on them fails.
// Thread safety: like every Env; one mutex serialises all calls, I/O included.
#pragma once

#include <array>
#include <cerrno>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "storage/env.h"
#include "storage/forwarding_env.h"

namespace omendb::storage {

// The kinds of operation fail_nth() can make fail.
enum class FaultOp {
  kCreate,    // new_writable_file, new_appendable_file (of existing files too), create_dir
  kAppend,    // WritableFile::append
  kSync,      // WritableFile::sync
  kSyncDir,   // sync_dir
  kRename,    // rename_file
  kRemove,    // remove_file, remove_dir
  kTruncate,  // truncate_file
};

class FaultInjectionEnv final : public ForwardingEnv {
 public:
  // Wraps `base`, which must outlive this Env. No faults, no space limit.
  explicit FaultInjectionEnv(Env& base);
  ~FaultInjectionEnv() override;
  FaultInjectionEnv(const FaultInjectionEnv&) = delete;
  FaultInjectionEnv& operator=(const FaultInjectionEnv&) = delete;

  // Makes the n-th call of `op` from now (n >= 1) fail with kIoError without doing anything, its
  // message naming `error_number` as strerror() words it (EIO: "Input/output error"; ENOSPC: "No
  // space left on device"); with `and_later`, every call after it fails too. Replaces an earlier
  // fault for `op`.
  void fail_nth(FaultOp op, std::uint64_t n, bool and_later = false, int error_number = EIO);
  // Lets appends write `bytes` more bytes in all (see the top of this file). Truncations and
  // removals give no space back.
  void set_space_left(std::uint64_t bytes);
  // Removes every fault and the space limit. Call counts go on.
  void clear_faults();
  // Calls of `op` so far, failed ones included: lets a test enumerate every point of failure.
  std::uint64_t calls(FaultOp op) const;

  // Simulates a crash as described at the top of this file; tracking starts afresh afterwards.
  // Returns the first error of the base Env while undoing (and goes on with the rest).
  Status drop_unsynced_data();

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
  struct FileState;    // sizes of a file written through this Env
  struct EntryChange;  // a directory change not yet made durable by sync_dir
  class File;          // the WritableFile handed out
  struct Fault {
    std::uint64_t at = 0;  // the call number that fails; 0 = none
    bool and_later = false;
    int error_number = 0;  // what the message says went wrong
  };

  static constexpr std::size_t kOpCount = 7;

  // Counts a call of `op` on `path`; kIoError if it is to fail.
  Status count_call(FaultOp op, const std::filesystem::path& path);
  // Opens `path` for writing through `open` (the base Env's new_writable_file or
  // new_appendable_file), tracking its state; `truncates` tells which of the two it is.
  template <class Open>
  Result<std::unique_ptr<WritableFile>> open_writable(const std::filesystem::path& path,
                                                      bool truncates, Open open);
  // Undoes one directory change; the first error it meets.
  Status undo(EntryChange& change);

  std::array<std::uint64_t, kOpCount> calls_{};
  std::array<Fault, kOpCount> faults_{};
  std::optional<std::uint64_t> space_left_;
  // Files written through this Env since the last crash, by normalised path.
  std::map<std::filesystem::path, std::shared_ptr<FileState>> files_;
  std::vector<EntryChange> pending_;  // oldest first
  std::uint64_t crash_count_ = 0;     // drop_unsynced_data() calls so far
};

}  // namespace omendb::storage
