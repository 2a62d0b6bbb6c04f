#include "omendb/database.h"

#include "db/collection_state.h"
#include "db/database_state.h"

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

std::shared_ptr<Collection> Database::State::new_collection(const std::string& name,
                                                           const CollectionOptions& options) {
  auto collection = std::make_shared<Collection>(name, options, pool);
  attach(*collection);
  return collection;
}

Database::Database(std::shared_ptr<State> state) : state_(std::move(state)) {}

Database::~Database() { (void)close(); }

Result<std::unique_ptr<Database>> Database::open(std::string_view path,
                                                 const DatabaseOptions& options) {
  if (path.empty()) return Status::invalid_argument("database path must not be empty");
  auto state = std::make_shared<State>(std::string(path), options);
  if (path == kInMemoryPath) {
    if (options.read_only) {
      return Status::invalid_argument("read_only needs an on-disk database, not \":memory:\"");
    }
  } else if (Status status = state->open_folder(); !status.is_ok()) {
    return status;
  }
  return std::unique_ptr<Database>(new Database(std::move(state)));
}

const std::string& Database::path() const noexcept { return state_->path; }
bool Database::read_only() const noexcept { return state_->options.read_only; }

namespace {

// The vector fields of `options` as "name(dim, metric), ...".
std::string field_list(const CollectionOptions& options) {
  std::string list;
  for (std::size_t i = 0; i < options.field_count(); ++i) {
    const VectorFieldOptions field = options.field(i);
    list += (i == 0 ? "" : ", ") + field.name + "(" + std::to_string(field.dim) + ", " +
            std::string(metric_name(field.metric)) + ")";
  }
  return list;
}

}  // namespace

Result<std::shared_ptr<Collection>> Database::create_collection(std::string_view name,
                                                                const CollectionOptions& options) {
  if (Status status = validate_collection_name(name); !status.is_ok()) return status;
  State& s = *state_;
  std::lock_guard lock(s.mutex);
  if (s.closed) return s.closed_error();
  if (auto found = s.collections.find(name); found != s.collections.end()) {
    const CollectionOptions& stored = found->second->options();
    if (stored.dim != options.dim || stored.metric != options.metric) {
      return Status::invalid_argument("collection '" + std::string(name) +
                                      "' exists with dim=" + std::to_string(stored.dim) +
                                      " metric=" + std::string(metric_name(stored.metric)) +
                                      ", not dim=" + std::to_string(options.dim) +
                                      " metric=" + std::string(metric_name(options.metric)));
    }
    const bool declares_fields = options.field_count() > 1 || options.vector_name != "default";
    if (declares_fields && field_list(stored) != field_list(options)) {
      return Status::invalid_argument("collection '" + std::string(name) +
                                      "' exists with vector fields " + field_list(stored) +
                                      ", not " + field_list(options));
    }
    return found->second;
  }
  if (s.options.read_only) return s.read_only_error();
  if (Status status = options.validate(); !status.is_ok()) return status;
  const std::string key(name);
  if (Status status = s.log_create(key, options); !status.is_ok()) return status;
  std::shared_ptr<Collection> collection = s.new_collection(key, options);
  s.collections.emplace(key, collection);
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
  State& s = *state_;
  std::lock_guard lock(s.mutex);
  if (s.closed) return s.closed_error();
  auto found = s.collections.find(name);
  if (found == s.collections.end()) {
    return {StatusCode::kNotFound, "no collection named '" + std::string(name) + "'"};
  }
  if (s.options.read_only) return s.read_only_error();
  if (Status status = s.drop_durably(found->first, *found->second); !status.is_ok()) return status;
  found->second->close();
  s.collections.erase(found);
  return Status::ok();
}

Status Database::checkpoint() {
  std::lock_guard lock(state_->mutex);
  if (state_->closed) return state_->closed_error();
  if (state_->options.read_only) return state_->read_only_error();
  return state_->checkpoint_locked(/*only_if_log_full=*/false);
}

Status Database::refresh() {
  std::lock_guard lock(state_->mutex);
  if (state_->closed) return state_->closed_error();
  return state_->refresh_locked();
}

Status Database::close() {
  State& s = *state_;
  std::lock_guard lock(s.mutex);
  if (s.closed) return Status::ok();
  Status status = s.checkpoint_locked(/*only_if_log_full=*/false);
  for (auto& [name, collection] : s.collections) collection->close();
  s.collections.clear();
  if (Status closing = s.close_folder(); status.is_ok()) status = closing;
  s.closed = true;
  return status;
}

bool Database::closed() const {
  std::lock_guard lock(state_->mutex);
  return state_->closed;
}

}  // namespace omendb
