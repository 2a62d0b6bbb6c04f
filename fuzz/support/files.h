// Small file helpers of the fuzz harnesses (the regression driver, the seed maker and the
// snapshot fixture), outside any Env.
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>
#include <vector>

#include "omendb/status.h"

namespace omendb::fuzz {

// The bytes of the file at `path`, or kIoError.
Result<std::vector<std::byte>> read_file(const std::filesystem::path& path);

// Replaces the file at `path` with `bytes`, or kIoError.
Status write_file(const std::filesystem::path& path, std::span<const std::byte> bytes);

// A new, empty folder under the system's temporary directory, removed with what it holds when
// the object is destroyed.
class ScratchFolder {
 public:
  // Creates the folder; path() is empty when that failed.
  ScratchFolder();
  ~ScratchFolder();
  ScratchFolder(const ScratchFolder&) = delete;
  ScratchFolder& operator=(const ScratchFolder&) = delete;

  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace omendb::fuzz
