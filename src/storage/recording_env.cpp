#include "storage/recording_env.h"

#include <mutex>
#include <utility>

namespace omendb::storage {

namespace fs = std::filesystem;

namespace {

// An operation of `kind` on `path`; the other fields empty.
FileOp operation(FileOp::Kind kind, const fs::path& path) {
  FileOp op;
  op.kind = kind;
  op.path = path;
  return op;
}

}  // namespace

class RecordingEnv::File final : public WritableFile {
 public:
  File(RecordingEnv& env, std::unique_ptr<WritableFile> base, fs::path path)
      : env_(env), base_(std::move(base)), path_(std::move(path)) {}

  Status append(std::span<const std::byte> data) override {
    std::lock_guard lock(env_.mutex_);
    const std::uint64_t offset = base_->size();
    Status status = base_->append(data);
    const std::uint64_t written = base_->size() - offset;
    if (written > 0) {
      const std::span<const std::byte> done = data.first(static_cast<std::size_t>(written));
      FileOp op = operation(FileOp::Kind::kAppend, path_);
      op.size = offset;
      op.data.assign(done.begin(), done.end());
      env_.record(std::move(op));
    }
    return status;
  }

  Status sync() override {
    std::lock_guard lock(env_.mutex_);
    Status status = base_->sync();
    if (status.is_ok()) env_.record(operation(FileOp::Kind::kSync, path_));
    return status;
  }

  Status close() override {
    std::lock_guard lock(env_.mutex_);
    return base_->close();
  }

  std::uint64_t size() const override { return base_->size(); }

 private:
  RecordingEnv& env_;
  std::unique_ptr<WritableFile> base_;
  fs::path path_;
};

RecordingEnv::RecordingEnv(Env& base) : ForwardingEnv(base) {}

RecordingEnv::~RecordingEnv() = default;

std::size_t RecordingEnv::operation_count() const {
  std::lock_guard lock(mutex_);
  return operations_.size();
}

std::vector<FileOp> RecordingEnv::take_operations() {
  std::lock_guard lock(mutex_);
  return std::exchange(operations_, {});
}

void RecordingEnv::record(FileOp op) { operations_.push_back(std::move(op)); }

template <class Open>
Result<std::unique_ptr<WritableFile>> RecordingEnv::open_writable(const fs::path& path,
                                                                  bool truncates, Open open) {
  std::lock_guard lock(mutex_);
  Result<bool> existed = base_.file_exists(path);
  if (!existed.is_ok()) return existed.status();
  Result<std::unique_ptr<WritableFile>> file = open(path);
  if (!file.is_ok()) return file.status();
  if (!existed.value()) {
    record(operation(FileOp::Kind::kCreateFile, path));
  } else if (truncates) {
    record(operation(FileOp::Kind::kTruncate, path));
  }
  return std::unique_ptr<WritableFile>(
      std::make_unique<File>(*this, std::move(file.value()), path));
}

Result<std::unique_ptr<WritableFile>> RecordingEnv::new_writable_file(const fs::path& path) {
  return open_writable(path, true,
                       [this](const fs::path& p) { return base_.new_writable_file(p); });
}

Result<std::unique_ptr<WritableFile>> RecordingEnv::new_appendable_file(const fs::path& path) {
  return open_writable(path, false,
                       [this](const fs::path& p) { return base_.new_appendable_file(p); });
}

Status RecordingEnv::create_dir(const fs::path& dir) {
  std::lock_guard lock(mutex_);
  Result<bool> existed = base_.file_exists(dir);
  if (!existed.is_ok()) return existed.status();
  Status status = base_.create_dir(dir);
  if (status.is_ok() && !existed.value()) record(operation(FileOp::Kind::kCreateDir, dir));
  return status;
}

Status RecordingEnv::remove_file(const fs::path& path) {
  std::lock_guard lock(mutex_);
  Status status = base_.remove_file(path);
  if (status.is_ok()) record(operation(FileOp::Kind::kRemoveFile, path));
  return status;
}

Status RecordingEnv::remove_dir(const fs::path& dir) {
  std::lock_guard lock(mutex_);
  Status status = base_.remove_dir(dir);
  if (status.is_ok()) record(operation(FileOp::Kind::kRemoveDir, dir));
  return status;
}

Status RecordingEnv::rename_file(const fs::path& from, const fs::path& to) {
  std::lock_guard lock(mutex_);
  Status status = base_.rename_file(from, to);
  if (status.is_ok()) {
    FileOp op = operation(FileOp::Kind::kRename, from);
    op.target = to;
    record(std::move(op));
  }
  return status;
}

Status RecordingEnv::truncate_file(const fs::path& path, std::uint64_t size) {
  std::lock_guard lock(mutex_);
  Status status = base_.truncate_file(path, size);
  if (status.is_ok()) {
    FileOp op = operation(FileOp::Kind::kTruncate, path);
    op.size = size;
    record(std::move(op));
  }
  return status;
}

Status RecordingEnv::sync_dir(const fs::path& dir) {
  std::lock_guard lock(mutex_);
  Status status = base_.sync_dir(dir);
  if (status.is_ok()) record(operation(FileOp::Kind::kSyncDir, dir));
  return status;
}

Result<std::unique_ptr<FileLock>> RecordingEnv::lock_file(const fs::path& path, LockMode mode) {
  std::lock_guard lock(mutex_);
  Result<bool> existed = base_.file_exists(path);
  if (!existed.is_ok()) return existed.status();
  Result<std::unique_ptr<FileLock>> locked = base_.lock_file(path, mode);
  // lock_file creates a missing file even when the lock itself is refused.
  Result<bool> exists = base_.file_exists(path);
  if (!existed.value() && exists.is_ok() && exists.value()) {
    record(operation(FileOp::Kind::kCreateFile, path));
  }
  return locked;
}

}  // namespace omendb::storage
