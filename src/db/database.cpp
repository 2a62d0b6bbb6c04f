#include "omendb/database.h"

#include <map>

#include "util/thread_pool.h"

namespace omendb {
namespace {

constexpr std::string_view kInMemoryPath = ":memory:";

bool is_name_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.';
}

}  // namespace

Status validate_collection_name(std::string_view name) {
  if (name.empty() || name.size() > Database::kMaxCollectionNameBytes) {
    return Status::invalid_argument("collection name must be 1 to " +
                                    std::to_string(Database::kMaxCollectionNameBytes) +
                                    " bytes, got " + std::to_string(name.size()));
  }
  if (name.front() == '.') {
    return Status::invalid_argument("collection name must not start with '.': '" +
                                    std::string(name) + "'");
  }
  for (char c : name) {
    if (!is_name_char(c)) {
      return Status::invalid_argument(
          "collection name may hold only letters, digits, '_', '-' and '.': '" + std::string(name) +
          "'");
    }
  }
  return Status::ok();
}

struct Database::State {
  std::string path;
  DatabaseOptions options;
  std::shared_ptr<ThreadPool> pool;
  mutable std::mutex mutex;  // guards the fields below
  std::map<std::string, std::shared_ptr<Collection>, std::less<>> collections;
  bool closed = false;

  Status closed_error() const { return {StatusCode::kClosed, "database '" + path + "' is closed"}; }
};

Database::Database(std::string path, const DatabaseOptions& options)
    : state_(std::make_unique<State>()) {
  state_->path = std::move(path);
  state_->options = options;
  state_->pool = std::make_shared<ThreadPool>(options.threads);
}

Database::~Database() { close(); }

Result<std::unique_ptr<Database>> Database::open(std::string_view path,
                                                 const DatabaseOptions& options) {
  if (path != kInMemoryPath) {
    return Status(
        StatusCode::kNotSupported,
        "on-disk databases are not available in this build yet; open \":memory:\" (got '" +
            std::string(path) + "')");
  }
  return std::unique_ptr<Database>(new Database(std::string(path), options));
}

Result<std::shared_ptr<Collection>> Database::create_collection(std::string_view name,
                                                                const CollectionOptions& options) {
  if (Status status = validate_collection_name(name); !status.is_ok()) return status;
  std::lock_guard lock(state_->mutex);
  if (state_->closed) return state_->closed_error();
  if (auto found = state_->collections.find(name); found != state_->collections.end()) {
    const CollectionOptions& stored = found->second->options();
    if (stored.dim != options.dim || stored.metric != options.metric) {
      return Status::invalid_argument("collection '" + std::string(name) +
                                      "' exists with dim=" + std::to_string(stored.dim) +
                                      " metric=" + std::string(metric_name(stored.metric)) +
                                      ", not dim=" + std::to_string(options.dim) +
                                      " metric=" + std::string(metric_name(options.metric)));
    }
    return found->second;
  }
  if (Status status = options.validate(); !status.is_ok()) return status;
  auto collection = std::make_shared<Collection>(std::string(name), options, state_->pool);
  state_->collections.emplace(std::string(name), collection);
  return collection;
}

Result<std::shared_ptr<Collection>> Database::get_collection(std::string_view name) const {
  std::lock_guard lock(state_->mutex);
  if (state_->closed) return state_->closed_error();
  auto found = state_->collections.find(name);
  if (found == state_->collections.end()) {
    return Status(StatusCode::kNotFound, "no collection named '" + std::string(name) + "'");
  }
  return found->second;
}

Result<std::vector<std::string>> Database::collection_names() const {
  std::lock_guard lock(state_->mutex);
  if (state_->closed) return state_->closed_error();
  std::vector<std::string> names;
  for (const auto& [name, collection] : state_->collections) names.push_back(name);
  return names;
}

Status Database::drop_collection(std::string_view name) {
  std::shared_ptr<Collection> dropped;
  {
    std::lock_guard lock(state_->mutex);
    if (state_->closed) return state_->closed_error();
    auto found = state_->collections.find(name);
    if (found == state_->collections.end()) {
      return {StatusCode::kNotFound, "no collection named '" + std::string(name) + "'"};
    }
    dropped = std::move(found->second);
    state_->collections.erase(found);
  }
  dropped->close();
  return Status::ok();
}

void Database::close() {
  std::map<std::string, std::shared_ptr<Collection>, std::less<>> collections;
  {
    std::lock_guard lock(state_->mutex);
    state_->closed = true;
    collections.swap(state_->collections);
  }
  for (auto& [name, collection] : collections) collection->close();
}

bool Database::closed() const {
  std::lock_guard lock(state_->mutex);
  return state_->closed;
}

}  // namespace omendb
