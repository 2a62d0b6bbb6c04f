// A database: a set of named collections that share a pool of worker threads.
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "omendb/collection.h"
#include "omendb/options.h"
#include "omendb/status.h"

namespace omendb {

class Database {
 public:
  static constexpr std::size_t kMaxCollectionNameBytes = 128;

  // Opens a database. Only ":memory:" (nothing stored on disk) is supported by this build; any
  // other path fails with kNotSupported.
  static Result<std::unique_ptr<Database>> open(std::string_view path,
                                                const DatabaseOptions& options);

  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // The collection called `name`, created with `options` if it does not exist. An existing one must
  // have been created with the same dim and metric (else kInvalidArgument); its other stored
  // options win. Names: 1 to kMaxCollectionNameBytes bytes of letters, digits, '_', '-' and '.',
  // not starting with '.'.
  Result<std::shared_ptr<Collection>> create_collection(std::string_view name,
                                                        const CollectionOptions& options);
  // The existing collection called `name`, or kNotFound.
  Result<std::shared_ptr<Collection>> get_collection(std::string_view name) const;
  // Names of all collections, sorted.
  Result<std::vector<std::string>> collection_names() const;
  // Removes a collection; handles to it fail with kClosed afterwards. kNotFound if absent.
  Status drop_collection(std::string_view name);
  // Closes every collection; later calls fail with kClosed. Idempotent.
  void close();
  bool closed() const;

 private:
  Database(std::string path, const DatabaseOptions& options);
  struct State;
  std::unique_ptr<State> state_;
};

// Ok when `name` is a valid collection name, else kInvalidArgument saying why.
Status validate_collection_name(std::string_view name);

}  // namespace omendb
