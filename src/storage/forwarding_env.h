// The part two Env decorators (FaultInjectionEnv, RecordingEnv) share: a base Env, a mutex that
// orders every call through the decorator, and the calls that only read the file system, passed
// to the base unchanged under that mutex. Decorators override the calls that change files.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "storage/env.h"

namespace omendb::storage {

class ForwardingEnv : public Env {
 public:
  // Each passes the call to the base Env, holding mutex_. Cost: the base's, plus a lock.
  Result<std::unique_ptr<RandomAccessFile>> new_random_access_file(
      const std::filesystem::path& path) override {
    std::lock_guard lock(mutex_);
    return base_.new_random_access_file(path);
  }
  Result<std::unique_ptr<MappedFile>> map_file(const std::filesystem::path& path) override {
    std::lock_guard lock(mutex_);
    return base_.map_file(path);
  }
  Result<bool> file_exists(const std::filesystem::path& path) override {
    std::lock_guard lock(mutex_);
    return base_.file_exists(path);
  }
  Result<std::uint64_t> file_size(const std::filesystem::path& path) override {
    std::lock_guard lock(mutex_);
    return base_.file_size(path);
  }
  Result<std::vector<std::string>> list_dir(const std::filesystem::path& dir) override {
    std::lock_guard lock(mutex_);
    return base_.list_dir(dir);
  }

 protected:
  // `base` must outlive this Env.
  explicit ForwardingEnv(Env& base) : base_(base) {}

  mutable std::mutex mutex_;
  Env& base_;
};

}  // namespace omendb::storage
