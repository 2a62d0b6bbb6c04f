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
#include <vector>

#include "db/generation.h"
#include "db/journal.h"
#include "filter/planner.h"
#include "storage/manifest.h"
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

  // Who asks for a change: a user (logged first when the collection is durable, refused when it
  // is read-only) or the replay of the log (applied as it is).
  enum class Origin { kUser, kLog };

  Status check_batch(const RecordBatch& batch) const;
  Status check_new_ids(std::span<const std::string_view> new_ids, bool replace) const;
  // kClosed or kReadOnly when a change from `origin` cannot run now.
  Status check_writable(Origin origin) const;
  Status write(const RecordBatch& batch, bool replace, Origin origin);
  // Deletes the records with these ids (skipping absent ones); returns how many.
  Result<std::size_t> remove_ids(std::span<const std::string_view> ids, Origin origin);
  // Logs the batch when the collection is durable and the change comes from a user. Caller holds
  // write_mutex.
  Status log(const storage::WriteBatch& batch, Origin origin);
  std::size_t compact();
  // Deletes the live slots `choose` returns (it runs under the writer lock and a shared records
  // lock): logs their ids, retires them, relinks the graph around them and compacts if a quarter
  // is deleted.
  Result<std::size_t> remove_chosen(
      const std::function<std::vector<std::uint32_t>(const Generation&)>& choose, Origin origin);
  // How to answer options.filter on `g`: its matches come from g's cache when the same filter was
  // searched since the last write. Caller holds records_mutex shared.
  FilterPlan plan(const Generation& g, const SearchOptions& options) const;
  // The k nearest matches of options.filter by `plan`. Caller holds records_mutex shared.
  void filtered_search(const Generation& g, std::span<const float> query,
                       const SearchOptions& options, const FilterPlan& plan,
                       std::vector<Neighbor>& out) const;
  // Hits for `neighbors`, with ids and metadata, leaving out those deleted since the search found
  // them. Caller holds records_mutex shared.
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
  bool read_only = false;            // set before the collection is shared; refuses user writes
  std::shared_ptr<Journal> journal;  // set before the collection is shared; null in memory
  std::function<void()> on_logged;   // set before the collection is shared: runs after each
                                     // logged change, outside the locks (the auto checkpoint)
  // Guarded by write_mutex:
  std::uint64_t changes = 0;              // writes and compactions so far
  std::uint64_t checkpointed_changes = 0;  // `changes` when snapshot_files were written
  std::vector<storage::SnapshotFile> snapshot_files;  // its last checkpoint's; none in memory
  std::atomic<std::size_t> live{0};         // records; updated by the writer with each change
  std::mutex write_mutex;                   // one writer at a time
  mutable std::shared_mutex records_mutex;  // guards `current` and the ids and metadata in it
  std::shared_ptr<Generation> current;      // replaced only by compaction, under both locks
};

// The database's access to a collection's internals: it loads generations into collections,
// replays the log through them and checkpoints them.
struct CollectionAccess {
  using State = Collection::State;
  static State& state(Collection& collection) { return *collection.state_; }
};
using CollectionState = CollectionAccess::State;

}  // namespace omendb
