// An in-memory Env for the fuzz targets: files are byte vectors the harness puts in, and the
// storage code reads and maps them as it would real files, without touching the disk.
//
// It only reads: every call that would change the file system through the Env (creating, writing,
// renaming, removing, locking) answers kNotSupported, so a decoder that unexpectedly writes shows
// up as an error instead of silently succeeding.
// Thread safety: none; the fuzz targets are single-threaded.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "storage/env.h"

namespace omendb::fuzz {

class MemoryEnv final : public storage::Env {
 public:
  // Makes `path` a file holding a copy of `bytes`, replacing any file there. Files opened or
  // mapped earlier keep the old bytes.
  void put(const std::filesystem::path& path, std::span<const std::byte> bytes);

  // The Env interface (storage/env.h): new_random_access_file, map_file, file_exists and
  // file_size see the files put() made (kIoError for a missing one); every other call fails with
  // kNotSupported and changes nothing.
  Result<std::unique_ptr<storage::WritableFile>> new_writable_file(
      const std::filesystem::path& path) override;
  Result<std::unique_ptr<storage::WritableFile>> new_appendable_file(
      const std::filesystem::path& path) override;
  Result<std::unique_ptr<storage::RandomAccessFile>> new_random_access_file(
      const std::filesystem::path& path) override;
  Result<std::unique_ptr<storage::MappedFile>> map_file(const std::filesystem::path& path) override;
  Result<bool> file_exists(const std::filesystem::path& path) override;
  Result<std::uint64_t> file_size(const std::filesystem::path& path) override;
  Result<std::vector<std::string>> list_dir(const std::filesystem::path& dir) override;
  Status create_dir(const std::filesystem::path& dir) override;
  Status remove_file(const std::filesystem::path& path) override;
  Status remove_dir(const std::filesystem::path& dir) override;
  Status rename_file(const std::filesystem::path& from, const std::filesystem::path& to) override;
  Status truncate_file(const std::filesystem::path& path, std::uint64_t size) override;
  Status sync_dir(const std::filesystem::path& dir) override;
  Result<std::unique_ptr<storage::FileLock>> lock_file(const std::filesystem::path& path,
                                                       storage::LockMode mode) override;

 private:
  using Bytes = std::shared_ptr<const std::vector<std::byte>>;

  // The bytes of the file at `path`, or kIoError naming it when there is none.
  Result<Bytes> find(const std::filesystem::path& path) const;

  std::map<std::string, Bytes> files_;  // by path.lexically_normal().string()
};

}  // namespace omendb::fuzz
