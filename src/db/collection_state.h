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
#include "text/analyzer.h"
#include "omendb/collection.h"
#include "util/thread_pool.h"

namespace omendb {

// kClosed for the collection `name`.
Status closed_error(const std::string& name);
// kDimensionMismatch unless `values` holds rows x dim floats; kInvalidArgument naming the first
// non-finite value. `what` names the argument in messages.
Status check_rows(std::span<const float> values, std::size_t rows, std::size_t dim,
                  std::string_view what);
// The index settings of vector field `field` (0 = the first) of a collection built with `options`.
HnswParams index_params(const CollectionOptions& options, std::size_t field = 0);
// The analyzer of a collection built with `options`; null when it has no text. Precondition:
// options.validate() is ok.
std::shared_ptr<const text::Analyzer> make_analyzer(const CollectionOptions& options);
// An empty generation for a collection built with `options`: one index per vector field.
std::shared_ptr<Generation> empty_generation(const CollectionOptions& options);

struct Collection::State {
  State(std::string name_, const CollectionOptions& options_, std::shared_ptr<ThreadPool> pool_)
      : name(std::move(name_)),
        options(options_),
        pool(std::move(pool_)),
        analyzer(make_analyzer(options)),
        current(empty_generation(options)) {}

  // The analyzed terms of each record of a batch (none for a record without a document).
  using Terms = std::vector<std::vector<std::string>>;

  // Who asks for a change: a user (logged first when the collection is durable, refused when it
  // is read-only) or the replay of the log (applied as it is).
  enum class Origin { kUser, kLog };

  Status check_batch(const RecordBatch& batch) const;
  // Ok when batch.more_vectors names each further field at most once, with one presence flag per
  // record (or none) and one finite row of the field's dim per present record.
  Status check_more_vectors(const RecordBatch& batch) const;
  // Writes the further fields' rows of a checked batch of n records to slots [first, first + n)
  // of g's field indexes: zeros, marked deleted, for a record that lacks a field. Caller: the
  // writer, holding records_mutex exclusively, before publishing the slots.
  static void write_more_vectors(Generation& g, const RecordBatch& batch, std::size_t first);
  // The terms of each document of `batch`; kInvalidArgument when the collection has no text,
  // the documents do not match the ids, or a document is not valid UTF-8. Cost: one analyzer
  // pass over the documents (about 2 us per short document).
  Result<Terms> analyze_documents(const RecordBatch& batch) const;
  // Whether record i of `batch` has a document.
  static bool has_document(const RecordBatch& batch, std::size_t i);
  // The terms of the stored documents of `slots` (none where a slot has none). Caller: the
  // writer (documents change only under write_mutex).
  Terms stored_terms(const Generation& g, std::span<const std::uint32_t> slots) const;
  // Takes the documents of `slots`, whose stored terms are `terms`, out of g's text index and
  // frees them. Caller: the writer, holding records_mutex exclusively.
  static void unindex_documents(Generation& g, std::span<const std::uint32_t> slots,
                                const Terms& terms);
  // Stores the documents of `batch`, written to slots [first, first + n), and indexes `terms`
  // (analyze_documents). Caller: the writer, holding records_mutex exclusively.
  static void index_documents(Generation& g, const RecordBatch& batch, std::size_t first,
                              const Terms& terms);
  // The text column of `old` with only the slots `kept` (increasing), renumbered in order; null
  // when `old` has none.
  static std::unique_ptr<TextColumn> compacted_text(const Generation& old,
                                                    std::span<const std::uint32_t> kept);
  // Ok when batch.sparse names each sparse field at most once, each block well formed for the
  // batch (storage::sparse_rows_problem); kInvalidArgument naming the field otherwise.
  Status check_sparse(const RecordBatch& batch) const;
  // Stores and indexes the sparse vectors of a checked batch, written to slots [first, first + n);
  // every sparse column grows to first + n slots. Caller: the writer, holding records_mutex
  // exclusively.
  static void write_sparse(Generation& g, const RecordBatch& batch, std::size_t first);
  // The sparse columns of `old` with only the slots `kept` (increasing), renumbered in order.
  static std::vector<SparseColumn> compacted_sparse(const Generation& old,
                                                    std::span<const std::uint32_t> kept);
  // Record::sparse of the record in `slot`. Caller holds records_mutex shared.
  static std::vector<std::optional<SparseVector>> sparse_of(const Generation& g,
                                                            std::uint32_t slot);
  // The terms of a text query; kInvalidArgument when the collection has no text, the query is
  // empty or blank, or it is not valid UTF-8.
  Result<std::vector<std::string>> query_terms(std::string_view query) const;
  // The top options.k live records by BM25 for `terms`, among options.filter's matches when it
  // is set. Caller holds records_mutex shared; g has text.
  Status text_search(const Generation& g, std::span<const std::string> terms,
                     const SearchOptions& options, std::vector<text::TextHit>& out) const;
  // A hit for the record in `slot` (id, metadata, document; no distance or score). Caller holds
  // records_mutex shared.
  static Hit hit_of(const Generation& g, std::uint32_t slot);
  // Hits for the scored slots `found` (an inverted index's answer), with .score and .distance =
  // -score. Caller holds records_mutex shared.
  static std::vector<Hit> scored_hits(const Generation& g, std::span<const text::TextHit> found);
  // Record::more_vectors of the record in `slot`. Caller holds records_mutex shared.
  static std::vector<std::optional<std::vector<float>>> more_vectors_of(const Generation& g,
                                                                        std::uint32_t slot);
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
  // The number of the vector field options.vector_field names; kInvalidArgument naming the
  // fields there are when it names none.
  Result<std::size_t> searched_field(const SearchOptions& search) const;
  // Ok when `values` holds `rows` finite vectors of field `field`'s dim (named in messages).
  Status check_field_rows(std::span<const float> values, std::size_t rows, std::size_t field,
                          std::string_view what) const;
  // How to answer options.filter on `g`: its matches come from g's cache when the same filter was
  // searched since the last write. Caller holds records_mutex shared.
  FilterPlan plan(const Generation& g, const SearchOptions& options) const;
  // Whether the live `slot` of g matches `filter`, whose matches `plan` holds (a search over an
  // inverted index asks this of each candidate). Caller holds records_mutex shared.
  static bool plan_accepts(const Generation& g, const FilterPlan& plan, const FilterExpr& filter,
                           std::uint32_t slot);
  // The k nearest matches of options.filter by `plan` in `index` (one of g's fields). Caller
  // holds records_mutex shared.
  void filtered_search(const Generation& g, const HnswIndex& index, std::span<const float> query,
                       const SearchOptions& options, const FilterPlan& plan,
                       std::vector<Neighbor>& out) const;
  // Hits for `neighbors` found in `index` (one of g's fields), with ids and metadata, leaving out
  // those deleted since the search found them. Caller holds records_mutex shared.
  static std::vector<Hit> to_hits(const Generation& g, const HnswIndex& index,
                                  const std::vector<Neighbor>& neighbors);
  void compact_if_mostly_deleted();

  // The generation searches run on. Cost: a shared lock and a reference count.
  std::shared_ptr<Generation> generation() const {
    std::shared_lock lock(records_mutex);
    return current;
  }

  const std::string name;
  const CollectionOptions options;
  const std::shared_ptr<ThreadPool> pool;
  const std::shared_ptr<const text::Analyzer> analyzer;  // null unless options.text.enabled
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
