// The state of a Collection, shared by the files that implement it (collection.cpp: writes and
// plain searches; collection_filter.cpp: filtered searches, count, get and delete by filter).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>

#include "db/generation.h"
#include "filter/planner.h"
#include "omendb/collection.h"
#include "util/thread_pool.h"

namespace omendb {

// kClosed for the collection `name`.
Status closed_error(const std::string& name);
// kDimensionMismatch unless `values` holds rows x dim floats; kInvalidArgument naming the first
// non-finite value. `what` names the argument in messages.
Status check_rows(std::span<const float> values, std::size_t rows, std::size_t dim,
                  std::string_view what);
HnswParams index_params(const CollectionOptions& options);

struct Collection::State {
  State(std::string name_, const CollectionOptions& options_, std::shared_ptr<ThreadPool> pool_)
      : name(std::move(name_)),
        options(options_),
        pool(std::move(pool_)),
        current(std::make_shared<Generation>(
            std::make_unique<HnswIndex>(options.metric, options.dim, index_params(options)))) {}

  Status check_batch(const RecordBatch& batch) const;
  Status check_new_ids(std::span<const std::string_view> new_ids, bool replace) const;
  Status write(const RecordBatch& batch, bool replace);
  std::size_t compact();
  // Deletes the slots `choose` returns; it runs under the writer and records locks and erases
  // their ids. Then relinks the graph around them and compacts if a quarter is deleted.
  Result<std::size_t> remove_chosen(
      const std::function<std::vector<std::uint32_t>(Generation&)>& choose);
  // The k nearest matches of options.filter by `plan`. Caller holds records_mutex shared.
  void filtered_search(const Generation& g, std::span<const float> query,
                       const SearchOptions& options, const FilterPlan& plan,
                       std::vector<Neighbor>& out) const;
  // Hits for `neighbors`, with ids and metadata. Caller holds records_mutex shared.
  static std::vector<Hit> to_hits(const Generation& g, const std::vector<Neighbor>& neighbors);
  void compact_if_mostly_deleted();

  // The generation searches run on. Cost: a shared lock and a reference count.
  std::shared_ptr<Generation> generation() const {
    std::shared_lock lock(records_mutex);
    return current;
  }

  const std::string name;
  const CollectionOptions options;
  const std::shared_ptr<ThreadPool> pool;
  std::atomic<bool> closed{false};
  std::atomic<std::size_t> live{0};         // records; updated by the writer with each change
  std::mutex write_mutex;                   // one writer at a time
  mutable std::shared_mutex records_mutex;  // guards `current` and the ids and metadata in it
  std::shared_ptr<Generation> current;      // replaced only by compaction, under both locks
};

}  // namespace omendb
