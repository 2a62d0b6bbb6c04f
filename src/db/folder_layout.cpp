#include "db/folder_layout.h"

#include <vector>

namespace omendb::folder {

namespace fs = std::filesystem;

std::string log_file_name(std::uint64_t number) {
  std::string name(kLogPrefix);
  name.append(std::to_string(number));
  return name;
}

fs::path collections_dir(const fs::path& dir) { return dir / kCollectionsDir; }

fs::path collection_dir(const fs::path& dir, std::string_view name) {
  return collections_dir(dir) / name;
}

Status create_dirs(storage::Env& env, const fs::path& dir) {
  fs::path prefix;
  std::vector<fs::path> created;
  for (const fs::path& part : dir) {
    prefix /= part;
    Result<bool> existed = env.file_exists(prefix);
    if (!existed.is_ok()) return existed.status();
    if (Status status = env.create_dir(prefix); !status.is_ok()) return status;
    if (!existed.value() && prefix != dir) created.push_back(prefix);
  }
  for (const fs::path& made : created) {
    if (Status status = sync_parent(env, made); !status.is_ok()) return status;
  }
  return Status::ok();
}

Status sync_parent(storage::Env& env, const fs::path& path) {
  return env.sync_dir(path.has_parent_path() ? path.parent_path() : fs::path("."));
}

}  // namespace omendb::folder
