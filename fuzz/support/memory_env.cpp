#include "support/memory_env.h"

#include <algorithm>
#include <cstring>
#include <string_view>
#include <utility>

namespace omendb::fuzz {
namespace {

namespace fs = std::filesystem;

// The one spelling of `path` the file map uses.
std::string key(const fs::path& path) { return path.lexically_normal().string(); }

// kNotSupported for an operation that would change the file system.
Status read_only(std::string_view operation, const fs::path& path) {
  return {StatusCode::kNotSupported,
          "MemoryEnv is read-only: " + std::string(operation) + " " + path.string()};
}

// A random-access view of a file's bytes, which it keeps alive.
class MemoryRandomAccessFile final : public storage::RandomAccessFile {
 public:
  explicit MemoryRandomAccessFile(std::shared_ptr<const std::vector<std::byte>> bytes)
      : bytes_(std::move(bytes)) {}

  // Copies what the file holds of [offset, offset + out.size()); short only at the end.
  Status read(std::uint64_t offset, std::span<std::byte> out,
              std::size_t& bytes_read) const override {
    const std::uint64_t start = std::min<std::uint64_t>(offset, bytes_->size());
    bytes_read =
        static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), bytes_->size() - start));
    if (bytes_read != 0) std::memcpy(out.data(), bytes_->data() + start, bytes_read);
    return Status::ok();
  }

  // The file's size in bytes.
  std::uint64_t size() const override { return bytes_->size(); }

 private:
  std::shared_ptr<const std::vector<std::byte>> bytes_;
};

// A "mapping" of a file: its bytes, kept alive.
class MemoryMappedFile final : public storage::MappedFile {
 public:
  explicit MemoryMappedFile(std::shared_ptr<const std::vector<std::byte>> bytes)
      : bytes_(std::move(bytes)) {}

  // All of the file's bytes.
  std::span<const std::byte> bytes() const override { return *bytes_; }

 private:
  std::shared_ptr<const std::vector<std::byte>> bytes_;
};

}  // namespace

void MemoryEnv::put(const fs::path& path, std::span<const std::byte> bytes) {
  files_[key(path)] = std::make_shared<const std::vector<std::byte>>(bytes.begin(), bytes.end());
}

Result<MemoryEnv::Bytes> MemoryEnv::find(const fs::path& path) const {
  const auto it = files_.find(key(path));
  if (it == files_.end()) return Status(StatusCode::kIoError, "no such file: " + path.string());
  return it->second;
}

Result<std::unique_ptr<storage::WritableFile>> MemoryEnv::new_writable_file(const fs::path& path) {
  return read_only("create", path);
}

Result<std::unique_ptr<storage::WritableFile>> MemoryEnv::new_appendable_file(
    const fs::path& path) {
  return read_only("append to", path);
}

Result<std::unique_ptr<storage::RandomAccessFile>> MemoryEnv::new_random_access_file(
    const fs::path& path) {
  Result<Bytes> bytes = find(path);
  if (!bytes.is_ok()) return bytes.status();
  return std::unique_ptr<storage::RandomAccessFile>(
      std::make_unique<MemoryRandomAccessFile>(std::move(bytes).value()));
}

Result<std::unique_ptr<storage::MappedFile>> MemoryEnv::map_file(const fs::path& path) {
  Result<Bytes> bytes = find(path);
  if (!bytes.is_ok()) return bytes.status();
  return std::unique_ptr<storage::MappedFile>(
      std::make_unique<MemoryMappedFile>(std::move(bytes).value()));
}

Result<bool> MemoryEnv::file_exists(const fs::path& path) { return files_.contains(key(path)); }

Result<std::uint64_t> MemoryEnv::file_size(const fs::path& path) {
  Result<Bytes> bytes = find(path);
  if (!bytes.is_ok()) return bytes.status();
  return std::uint64_t{bytes.value()->size()};
}

Result<std::vector<std::string>> MemoryEnv::list_dir(const fs::path& dir) {
  return Status(StatusCode::kNotSupported, "MemoryEnv has no directories: " + dir.string());
}

Status MemoryEnv::create_dir(const fs::path& dir) { return read_only("create directory", dir); }

Status MemoryEnv::remove_file(const fs::path& path) { return read_only("remove", path); }

Status MemoryEnv::remove_dir(const fs::path& dir) { return read_only("remove directory", dir); }

Status MemoryEnv::rename_file(const fs::path& from, const fs::path&) {
  return read_only("rename", from);
}

Status MemoryEnv::truncate_file(const fs::path& path, std::uint64_t) {
  return read_only("truncate", path);
}

Status MemoryEnv::sync_dir(const fs::path& dir) { return read_only("sync directory", dir); }

Result<std::unique_ptr<storage::FileLock>> MemoryEnv::lock_file(const fs::path& path,
                                                                storage::LockMode) {
  return read_only("lock", path);
}

}  // namespace omendb::fuzz
