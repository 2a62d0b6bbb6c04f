#include "storage/fault_injection_env.h"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace omendb::storage {
namespace {

namespace fs = std::filesystem;

// The name fault messages use for `op`.
std::string_view op_name(FaultOp op) {
  switch (op) {
    case FaultOp::kCreate:
      return "create";
    case FaultOp::kAppend:
      return "append";
    case FaultOp::kSync:
      return "sync";
    case FaultOp::kSyncDir:
      return "sync_dir";
    case FaultOp::kRename:
      return "rename";
    case FaultOp::kRemove:
      return "remove";
    case FaultOp::kTruncate:
      return "truncate";
  }
  return "unknown";
}

// `path` in the one spelling the maps below use: lexically normal, no trailing separator.
fs::path key(const fs::path& path) {
  fs::path normal = path.lexically_normal();
  if (!normal.has_filename() && normal.has_parent_path()) normal = normal.parent_path();
  return normal.empty() ? fs::path(".") : normal;
}

// The key of the directory holding `path`'s entry.
fs::path parent_key(const fs::path& path) { return key(key(path).parent_path()); }

// Whether `path` is `dir` or lies under it (both keys).
bool is_within(const fs::path& path, const fs::path& dir) {
  return std::mismatch(dir.begin(), dir.end(), path.begin(), path.end()).first == dir.end();
}

Result<std::vector<std::byte>> read_all(Env& env, const fs::path& path) {
  Result<std::unique_ptr<RandomAccessFile>> file = env.new_random_access_file(path);
  if (!file.is_ok()) return file.status();
  std::vector<std::byte> bytes(file.value()->size());
  std::size_t bytes_read = 0;
  if (Status status = file.value()->read(0, bytes, bytes_read); !status.is_ok()) return status;
  bytes.resize(bytes_read);
  return bytes;
}

Status write_all(Env& env, const fs::path& path, std::span<const std::byte> bytes) {
  Result<std::unique_ptr<WritableFile>> file = env.new_writable_file(path);
  if (!file.is_ok()) return file.status();
  if (Status status = file.value()->append(bytes); !status.is_ok()) return status;
  return file.value()->close();
}

// Removes `path`, a file or a directory with everything in it.
Status remove_tree(Env& env, const fs::path& path) {
  Result<std::vector<std::string>> names = env.list_dir(path);
  if (!names.is_ok()) return env.remove_file(path);  // not a directory
  for (const std::string& name : names.value()) {
    if (Status status = remove_tree(env, path / name); !status.is_ok()) return status;
  }
  return env.remove_dir(path);
}

}  // namespace

struct FaultInjectionEnv::FileState {
  std::uint64_t size = 0;         // bytes in the file now
  std::uint64_t synced_size = 0;  // bytes at its last successful sync: what a crash keeps
};

struct FaultInjectionEnv::EntryChange {
  enum class Kind { kCreateFile, kCreateDir, kRename, kRemoveFile, kRemoveDir };
  Kind kind;
  fs::path path;                     // the entry created or removed; for a rename, the new name
  fs::path dir;                      // the directory whose sync_dir makes the change durable
  fs::path from;                     // for a rename: the old name
  std::shared_ptr<FileState> state;  // the renamed or removed file's, if tracked
  std::optional<std::vector<std::byte>> old_bytes;  // the removed (or renamed-over) file's bytes
  std::shared_ptr<FileState> old_state;             // the renamed-over file's, if tracked
};

class FaultInjectionEnv::File final : public WritableFile {
 public:
  File(FaultInjectionEnv& env, std::unique_ptr<WritableFile> base, fs::path path,
       std::shared_ptr<FileState> state)
      : env_(env),
        base_(std::move(base)),
        path_(std::move(path)),
        state_(std::move(state)),
        crash_count_(env.crash_count_) {}

  Status append(std::span<const std::byte> data) override {
    std::lock_guard lock(env_.mutex_);
    if (Status status = check_alive("append"); !status.is_ok()) return status;
    if (Status status = env_.count_call(FaultOp::kAppend, path_); !status.is_ok()) return status;
    const bool disk_fills = env_.space_left_ && *env_.space_left_ < data.size();
    const std::uint64_t size_before = base_->size();
    Status status = base_->append(disk_fills ? data.first(*env_.space_left_) : data);
    const std::uint64_t written = base_->size() - size_before;
    state_->size += written;
    if (env_.space_left_) *env_.space_left_ -= written;
    if (!status.is_ok()) return status;
    if (disk_fills) {
      return {StatusCode::kIoError,
              "write " + path_.string() + ": No space left on device (simulated full disk)"};
    }
    return Status::ok();
  }

  Status sync() override {
    std::lock_guard lock(env_.mutex_);
    if (Status status = check_alive("sync"); !status.is_ok()) return status;
    if (Status status = env_.count_call(FaultOp::kSync, path_); !status.is_ok()) return status;
    Status status = base_->sync();
    if (status.is_ok()) state_->synced_size = state_->size;
    return status;
  }

  Status close() override {
    std::lock_guard lock(env_.mutex_);
    return base_->close();
  }

  std::uint64_t size() const override { return base_->size(); }

 private:
  // kIoError if a simulated crash happened since this file was opened.
  Status check_alive(std::string_view operation) const {
    if (crash_count_ == env_.crash_count_) return Status::ok();
    return {StatusCode::kIoError, std::string(operation) + " " + path_.string() +
                                      ": the file was open at a simulated crash"};
  }

  FaultInjectionEnv& env_;
  std::unique_ptr<WritableFile> base_;
  fs::path path_;
  std::shared_ptr<FileState> state_;
  std::uint64_t crash_count_;  // env_.crash_count_ when opened
};

FaultInjectionEnv::FaultInjectionEnv(Env& base) : ForwardingEnv(base) {}

FaultInjectionEnv::~FaultInjectionEnv() = default;

void FaultInjectionEnv::fail_nth(FaultOp op, std::uint64_t n, bool and_later, int error_number) {
  std::lock_guard lock(mutex_);
  const auto index = static_cast<std::size_t>(op);
  faults_[index] = Fault{calls_[index] + std::max<std::uint64_t>(n, 1), and_later, error_number};
}

void FaultInjectionEnv::set_space_left(std::uint64_t bytes) {
  std::lock_guard lock(mutex_);
  space_left_ = bytes;
}

void FaultInjectionEnv::clear_faults() {
  std::lock_guard lock(mutex_);
  faults_ = {};
  space_left_.reset();
}

std::uint64_t FaultInjectionEnv::calls(FaultOp op) const {
  std::lock_guard lock(mutex_);
  return calls_[static_cast<std::size_t>(op)];
}

Status FaultInjectionEnv::count_call(FaultOp op, const fs::path& path) {
  const auto index = static_cast<std::size_t>(op);
  const std::uint64_t call = ++calls_[index];
  const Fault& fault = faults_[index];
  if (fault.at == 0 || call < fault.at || (call > fault.at && !fault.and_later)) {
    return Status::ok();
  }
  return {StatusCode::kIoError, std::string(op_name(op)) + " " + path.string() + ": " +
                                    std::strerror(fault.error_number) + " (injected fault, call " +
                                    std::to_string(call) + ")"};
}

template <class Open>
Result<std::unique_ptr<WritableFile>> FaultInjectionEnv::open_writable(const fs::path& path,
                                                                       bool truncates, Open open) {
  std::lock_guard lock(mutex_);
  if (Status status = count_call(FaultOp::kCreate, path); !status.is_ok()) return status;
  Result<bool> existed = base_.file_exists(path);
  if (!existed.is_ok()) return existed.status();
  Result<std::unique_ptr<WritableFile>> file = open(path);
  if (!file.is_ok()) return file.status();
  const fs::path name = key(path);
  if (!existed.value()) {
    pending_.push_back({EntryChange::Kind::kCreateFile, name, parent_key(path), {}, {}, {}, {}});
  }
  std::shared_ptr<FileState>& state = files_[name];
  if (truncates || !state) {
    // What is in the file when it is first opened here counts as durable.
    const std::uint64_t size = file.value()->size();
    state = std::make_shared<FileState>(FileState{size, size});
  }
  return std::unique_ptr<WritableFile>(
      std::make_unique<File>(*this, std::move(file.value()), path, state));
}

Result<std::unique_ptr<WritableFile>> FaultInjectionEnv::new_writable_file(const fs::path& path) {
  return open_writable(path, true,
                       [this](const fs::path& p) { return base_.new_writable_file(p); });
}

Result<std::unique_ptr<WritableFile>> FaultInjectionEnv::new_appendable_file(const fs::path& path) {
  return open_writable(path, false,
                       [this](const fs::path& p) { return base_.new_appendable_file(p); });
}

Status FaultInjectionEnv::create_dir(const fs::path& dir) {
  std::lock_guard lock(mutex_);
  if (Status status = count_call(FaultOp::kCreate, dir); !status.is_ok()) return status;
  Result<bool> existed = base_.file_exists(dir);
  if (!existed.is_ok()) return existed.status();
  if (Status status = base_.create_dir(dir); !status.is_ok()) return status;
  if (!existed.value()) {
    pending_.push_back({EntryChange::Kind::kCreateDir, key(dir), parent_key(dir), {}, {}, {}, {}});
  }
  return Status::ok();
}

Status FaultInjectionEnv::remove_file(const fs::path& path) {
  std::lock_guard lock(mutex_);
  if (Status status = count_call(FaultOp::kRemove, path); !status.is_ok()) return status;
  Result<std::vector<std::byte>> bytes = read_all(base_, path);
  if (!bytes.is_ok()) return bytes.status();
  if (Status status = base_.remove_file(path); !status.is_ok()) return status;
  const fs::path name = key(path);
  std::shared_ptr<FileState> state;
  if (auto it = files_.find(name); it != files_.end()) {
    state = std::move(it->second);
    files_.erase(it);
  }
  pending_.push_back({EntryChange::Kind::kRemoveFile,
                      name,
                      parent_key(path),
                      {},
                      std::move(state),
                      std::move(bytes.value()),
                      {}});
  return Status::ok();
}

Status FaultInjectionEnv::remove_dir(const fs::path& dir) {
  std::lock_guard lock(mutex_);
  if (Status status = count_call(FaultOp::kRemove, dir); !status.is_ok()) return status;
  if (Status status = base_.remove_dir(dir); !status.is_ok()) return status;
  pending_.push_back({EntryChange::Kind::kRemoveDir, key(dir), parent_key(dir), {}, {}, {}, {}});
  return Status::ok();
}

Status FaultInjectionEnv::rename_file(const fs::path& from, const fs::path& to) {
  std::lock_guard lock(mutex_);
  if (Status status = count_call(FaultOp::kRename, to); !status.is_ok()) return status;
  Result<bool> target_exists = base_.file_exists(to);
  if (!target_exists.is_ok()) return target_exists.status();
  std::optional<std::vector<std::byte>> old_bytes;
  if (target_exists.value()) {
    Result<std::vector<std::byte>> bytes = read_all(base_, to);
    if (!bytes.is_ok()) return bytes.status();
    old_bytes = std::move(bytes.value());
  }
  if (Status status = base_.rename_file(from, to); !status.is_ok()) return status;
  const fs::path from_name = key(from);
  const fs::path to_name = key(to);
  // Takes the state of `name` out of files_ (null if untracked).
  auto take = [this](const fs::path& name) {
    std::shared_ptr<FileState> state;
    if (auto it = files_.find(name); it != files_.end()) {
      state = std::move(it->second);
      files_.erase(it);
    }
    return state;
  };
  std::shared_ptr<FileState> old_state = take(to_name);
  std::shared_ptr<FileState> state = take(from_name);
  if (state) files_[to_name] = state;
  pending_.push_back({EntryChange::Kind::kRename, to_name, parent_key(to), from_name,
                      std::move(state), std::move(old_bytes), std::move(old_state)});
  return Status::ok();
}

Status FaultInjectionEnv::truncate_file(const fs::path& path, std::uint64_t size) {
  std::lock_guard lock(mutex_);
  if (Status status = count_call(FaultOp::kTruncate, path); !status.is_ok()) return status;
  if (Status status = base_.truncate_file(path, size); !status.is_ok()) return status;
  if (auto it = files_.find(key(path)); it != files_.end()) {
    it->second->size = size;
    it->second->synced_size = std::min(it->second->synced_size, size);
  }
  return Status::ok();
}

Status FaultInjectionEnv::sync_dir(const fs::path& dir) {
  std::lock_guard lock(mutex_);
  if (Status status = count_call(FaultOp::kSyncDir, dir); !status.is_ok()) return status;
  if (Status status = base_.sync_dir(dir); !status.is_ok()) return status;
  const fs::path name = key(dir);
  std::erase_if(pending_, [&](const EntryChange& change) { return change.dir == name; });
  return Status::ok();
}

Result<std::unique_ptr<FileLock>> FaultInjectionEnv::lock_file(const fs::path& path,
                                                               LockMode mode) {
  std::lock_guard lock(mutex_);
  return base_.lock_file(path, mode);
}

Status FaultInjectionEnv::undo(EntryChange& change) {
  using Kind = EntryChange::Kind;
  switch (change.kind) {
    case Kind::kCreateFile:
    case Kind::kCreateDir: {
      std::erase_if(files_, [&](const auto& entry) { return is_within(entry.first, change.path); });
      Result<bool> exists = base_.file_exists(change.path);
      if (!exists.is_ok()) return exists.status();
      return exists.value() ? remove_tree(base_, change.path) : Status::ok();
    }
    case Kind::kRename: {
      if (Status status = base_.rename_file(change.path, change.from); !status.is_ok()) {
        return status;
      }
      files_.erase(change.path);
      if (change.state) files_[change.from] = change.state;
      if (change.old_state) files_[change.path] = change.old_state;
      return change.old_bytes ? write_all(base_, change.path, *change.old_bytes) : Status::ok();
    }
    case Kind::kRemoveFile:
      if (change.state) files_[change.path] = change.state;
      return write_all(base_, change.path, *change.old_bytes);
    case Kind::kRemoveDir:
      return base_.create_dir(change.path);
  }
  return Status::ok();
}

Status FaultInjectionEnv::drop_unsynced_data() {
  std::lock_guard lock(mutex_);
  Status first_error;
  auto note = [&first_error](Status status) {
    if (first_error.is_ok()) first_error = std::move(status);
  };
  for (auto it = pending_.rbegin(); it != pending_.rend(); ++it) note(undo(*it));
  pending_.clear();
  for (const auto& [name, state] : files_) {
    Result<bool> exists = base_.file_exists(name);
    if (!exists.is_ok() || !exists.value()) {
      note(exists.status());
      continue;
    }
    Result<std::uint64_t> size = base_.file_size(name);
    if (!size.is_ok()) {
      note(size.status());
    } else if (size.value() > state->synced_size) {
      note(base_.truncate_file(name, state->synced_size));
    }
  }
  files_.clear();
  ++crash_count_;
  return first_error;
}

}  // namespace omendb::storage
