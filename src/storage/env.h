// Every file operation of the storage layer goes through an Env, so tests can inject failures
// (a failing fsync, a full disk, a short write) and simulate crashes that lose unsynced data.
// Env::posix() is the real file system.
//
// Errors: kIoError with the path, the operation and strerror(errno) in the message; kLocked from
// lock_file when another process holds the lock. No method throws (std::bad_alloc aside).
// Thread safety: an Env may be used from many threads; a file object from one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "omendb/status.h"

namespace omendb::storage {

// A file written front to back: a new snapshot or manifest, or the write-ahead log.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Appends `data` at the end. On failure the file may hold a prefix of `data`; the caller
  // treats the file as unusable (the log truncates back to its last good size on recovery).
  virtual Status append(std::span<const std::byte> data) = 0;
  // Makes everything appended so far durable (fdatasync). Cost: a disk flush.
  virtual Status sync() = 0;
  // Closes the file; later calls fail. Does not sync. Idempotent.
  virtual Status close() = 0;
  // Bytes in the file: its size when opened plus everything appended since.
  virtual std::uint64_t size() const = 0;
};

// A file read at arbitrary offsets.
class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  // Reads up to out.size() bytes at `offset` into `out`; `bytes_read` < out.size() only at the end
  // of the file.
  virtual Status read(std::uint64_t offset, std::span<std::byte> out, std::size_t& bytes_read) const = 0;
  virtual std::uint64_t size() const = 0;
};

// A whole file mapped read-only into memory. The bytes stay valid until the object is destroyed.
class MappedFile {
 public:
  virtual ~MappedFile() = default;
  virtual std::span<const std::byte> bytes() const = 0;
  // Lets the OS drop the mapped pages from this process's resident memory: they stay in the page
  // cache (as long as memory allows), and a later read faults them back in, without readahead
  // (later reads are taken to be random); the bytes stay valid. Cost: two system calls. Default:
  // nothing (a file held in memory has no pages to give back).
  virtual void release_resident_pages() const noexcept {}
  // Copies bytes [offset, offset + out.size()) of the file into `out`; precondition: that range
  // lies inside bytes(). A file with a descriptor reads them with a system call, so they come
  // from the page cache without being mapped into this process (its resident memory does not
  // grow; the kernel maps whole folios, 64 KiB or more, around each page a read of the mapping
  // touches); it copies them from the mapping if that read fails. Cost: about 1.5 us per call
  // for a few KiB in the page cache. Default: a copy from bytes().
  virtual void copy_out(std::uint64_t offset, std::span<std::byte> out) const noexcept {
    std::memcpy(out.data(), bytes().data() + offset, out.size());
  }
};

// An advisory lock (flock) on a file, released when the object is destroyed or the process dies.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

enum class LockMode {
  kExclusive,  // one holder: the writer
  kShared,     // many holders, none exclusive: readers
};

class Env {
 public:
  virtual ~Env() = default;

  // The real file system. Lives for the whole process.
  static Env& posix();

  // Creates `path` (truncating any file there) for writing.
  virtual Result<std::unique_ptr<WritableFile>> new_writable_file(const std::filesystem::path& path) = 0;
  // Opens `path` for appending, creating it if missing.
  virtual Result<std::unique_ptr<WritableFile>> new_appendable_file(const std::filesystem::path& path) = 0;
  virtual Result<std::unique_ptr<RandomAccessFile>> new_random_access_file(const std::filesystem::path& path) = 0;
  // Maps `path` read-only. An empty file maps to an empty span.
  virtual Result<std::unique_ptr<MappedFile>> map_file(const std::filesystem::path& path) = 0;

  virtual Result<bool> file_exists(const std::filesystem::path& path) = 0;
  virtual Result<std::uint64_t> file_size(const std::filesystem::path& path) = 0;
  // Names (not paths) of the entries of a directory, sorted.
  virtual Result<std::vector<std::string>> list_dir(const std::filesystem::path& dir) = 0;
  // Creates a directory; succeeds if it exists already.
  virtual Status create_dir(const std::filesystem::path& dir) = 0;
  virtual Status remove_file(const std::filesystem::path& path) = 0;
  // Removes an empty directory.
  virtual Status remove_dir(const std::filesystem::path& dir) = 0;
  // Atomically replaces `to` with `from` (rename(2)). Durable only after sync_dir of the parent.
  virtual Status rename_file(const std::filesystem::path& from, const std::filesystem::path& to) = 0;
  // Cuts a file to `size` bytes.
  virtual Status truncate_file(const std::filesystem::path& path, std::uint64_t size) = 0;
  // Makes the directory's entries (creations, renames, removals) durable.
  virtual Status sync_dir(const std::filesystem::path& dir) = 0;
  // Takes a lock on `path` (created if missing) without waiting: kLocked when it is held in a
  // conflicting mode by another process (or another lock object of this one).
  virtual Result<std::unique_ptr<FileLock>> lock_file(const std::filesystem::path& path, LockMode mode) = 0;
};

}  // namespace omendb::storage
