// A collection: records (string id, vectors, metadata) searchable by vector similarity. A record
// has a vector in the collection's first vector field and, optionally, one in each further named
// field (CollectionOptions::more_vectors); each field has its own graph, and a search walks one.
//
// Thread safety: every method may be called from any thread at any time. Writes are serialised
// (one add runs at a time, using all of the database's threads); searches run concurrently with
// each other and with a write, and see each record either fully or not at all.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "omendb/metadata.h"
#include "omendb/options.h"
#include "omendb/status.h"

namespace omendb {

class ThreadPool;

// One search result.
struct Hit {
  std::string id;
  float distance = 0;  // smaller is closer, whatever the metric; -score for text and hybrid
  Metadata metadata;
  float score = 0;     // text search: BM25; hybrid: the fused score; vector search: -distance
  std::optional<std::string> document;  // the record's document, in a collection with text
};

// Results of a batch search: row i holds query i's hits, best first.
struct BatchHits {
  std::size_t queries = 0;
  std::size_t k = 0;
  std::vector<std::string> ids;  // queries * k; "" where fewer than k records exist
  std::vector<float> distances;  // queries * k; +infinity where fewer than k records exist
};

// A sparse vector: weights at some indices (SPLADE-style {token id: weight}); indices strictly
// increase, values are finite.
struct SparseVector {
  std::vector<std::uint32_t> indices;
  std::vector<float> values;  // one per index
  friend bool operator==(const SparseVector&, const SparseVector&) = default;
};

// A stored record, as get() returns it.
struct Record {
  std::string id;
  std::vector<float> vector;  // the first vector field, as stored: normalised for cosine
  Metadata metadata;
  // One entry per further vector field (CollectionOptions::more_vectors, in order): the vector as
  // stored, or nothing when the record lacks that field.
  std::vector<std::optional<std::vector<float>>> more_vectors;
  std::optional<std::string> document;  // its text, when the collection has text and it has one
  // One entry per sparse field (CollectionOptions::sparse_vectors, in order): its vector, or
  // nothing when the record lacks that field.
  std::vector<std::optional<SparseVector>> sparse;
};

// The rows of a batch for one of a collection's further vector fields. Spans outlive the call.
struct FieldRows {
  std::size_t field = 0;                       // the field's number: 1 to field_count() - 1
  std::span<const std::uint8_t> present = {};  // a 0/1 flag per record of the batch; empty = all 1
  std::span<const float> vectors = {};         // a row of the field's dim per present record
};

// The sparse vectors of a batch for one of a collection's sparse fields. Spans outlive the call.
struct SparseRows {
  std::size_t field = 0;                       // the field's number in sparse_vectors
  std::span<const std::uint8_t> present = {};  // a 0/1 flag per record of the batch; empty = all 1
  std::span<const std::uint32_t> lengths = {}; // entries of each present record's vector
  std::span<const std::uint32_t> indices = {}; // the present records' indices, one after another
  std::span<const float> values = {};          // one per index
};

// A batch of records to insert. All spans must outlive the call.
struct RecordBatch {
  std::span<const std::string_view> ids;  // unique, 1 to kMaxIdBytes bytes each, no NUL
  std::span<const float> vectors;         // ids.size() rows of dim floats, row-major, finite
  std::span<const Metadata> metadata;     // empty (no metadata) or one per id
  // Further vector fields, each at most once; a field not listed is absent from every record.
  std::span<const FieldRows> more_vectors = {};
  // Documents for the full-text index (CollectionOptions::text): empty (no record has one) or one
  // valid UTF-8 text per id, of which has_document, unless empty, flags the records that have
  // one (the others' entries are ignored).
  std::span<const std::string_view> documents = {};
  std::span<const std::uint8_t> has_document = {};
  // Sparse fields, each at most once; a field not listed is absent from every record.
  std::span<const SparseRows> sparse = {};
};

// One sparse query of a hybrid search: weights at indices (strictly increasing, finite) for the
// sparse field `field`. Spans must outlive the call.
struct SparseQuery {
  std::string_view field;
  std::span<const std::uint32_t> indices;
  std::span<const float> values;
};

// One vector query of a hybrid search: a query vector for the vector field `field` ("" = the
// first). The span must outlive the call.
struct VectorQuery {
  std::string_view field;
  std::span<const float> vector;
};

// A hybrid search: any number of vector and sparse queries and, unless `text` is empty, a BM25
// text query, whose rankings are fused (FusionOptions; signals in the order vectors, sparse,
// text). Views must outlive the call.
struct HybridQuery {
  std::span<const VectorQuery> vectors = {};
  std::span<const SparseQuery> sparse = {};
  std::string_view text = {};
  FusionOptions fusion = {};
};

class Collection {
 public:
  static constexpr std::size_t kMaxIdBytes = 1024;

  // Use Database::create_collection; public for std::make_shared.
  Collection(std::string name, const CollectionOptions& options, std::shared_ptr<ThreadPool> pool);
  ~Collection();
  Collection(const Collection&) = delete;
  Collection& operator=(const Collection&) = delete;

  const std::string& name() const noexcept;
  const CollectionOptions& options() const noexcept;
  // Number of records. Cost: one atomic load.
  std::size_t size() const noexcept;
  // True once close() was called (directly, or by dropping the collection or closing the database).
  bool closed() const noexcept;

  // Inserts a batch: all records or none. Fails (changing nothing) on a wrong vector length, a
  // NaN or infinite value, an empty, over-long or duplicate id (within the batch or against
  // stored records) or invalid metadata. Cost: O(n * ef_construction * log(size)) distance
  // computations, spread over the database's threads.
  Status add(const RecordBatch& batch);

  // Inserts a batch, replacing the records whose ids exist already (all records or none). Fails
  // like add() but for ids that exist; an id repeated within the batch is still kDuplicateId.
  // A replaced record is seen by searches either as it was or as it becomes.
  Status upsert(const RecordBatch& batch);

  // Deletes the records with these ids; ids that do not exist are skipped. Returns how many were
  // deleted. From return on, no search returns them; their neighbours in the graph are relinked
  // around them. Cost: O(deleted * m^2) distance computations.
  Result<std::size_t> remove(std::span<const std::string_view> ids);

  // Number of records matching `filter` (all records when null). Cost: the payload index's answer,
  // plus a metadata check per candidate for filters it cannot answer exactly.
  Result<std::size_t> count(const FilterExpr* filter) const;

  // Up to `limit` records matching `filter`, in insertion order (the oldest first).
  Result<std::vector<Record>> find(const FilterExpr& filter, std::size_t limit) const;

  // Deletes every record matching `filter`; returns how many. As remove() otherwise.
  Result<std::size_t> remove_where(const FilterExpr& filter);

  // Rebuilds the collection's storage without its deleted records and returns how many slots
  // were reclaimed. Runs by itself once a quarter of the slots are deleted. Searches keep running
  // meanwhile (on the old storage until the switch). Cost: O(size * m) plus relinking; memory for a
  // second copy of the live records while it runs.
  Result<std::size_t> compact();

  // The records with these ids, in the order asked; nothing for an id that does not exist.
  // Cost: O(ids * dim).
  Result<std::vector<std::optional<Record>>> get(std::span<const std::string_view> ids) const;

  // The k nearest records to `query` (dim floats), best first, among those matching
  // options.filter when it is set: a planner scans the matches when they are few and otherwise
  // walks the graph keeping only matches; at least k come back whenever k match. Fewer than k only
  // when the collection holds fewer. Cost: O(ef * log(size)) distances on the graph, O(size) if
  // exact or when the collection is small enough that a scan is as fast.
  Result<std::vector<Hit>> search(std::span<const float> query, const SearchOptions& options) const;

  // The k records whose documents best match `query` by BM25 (CollectionOptions::text: the
  // collection's analyzer, k1 and b), best first, among options.filter's matches when it is set;
  // hits carry .score (BM25), .distance = -score and .document. options.ef, .exact and
  // .vector_field do not apply. Fails with kInvalidArgument when the collection has no text or the
  // query is empty, blank or not valid UTF-8; a query of stop words only matches nothing. Cost:
  // block-max WAND over the query terms' posting lists (tens of microseconds for a few terms).
  Result<std::vector<Hit>> search_text(std::string_view query, const SearchOptions& options) const;

  // The k records whose sparse vectors in field `query.field` have the largest inner products
  // with the query (only records sharing an index with it), best first, among options.filter's
  // matches when it is set; hits carry .score (the inner product), .distance = -score, metadata
  // and document. options.ef, .exact and .vector_field do not apply. kInvalidArgument for an
  // unknown sparse field, an empty query, or indices that do not strictly increase or values
  // that are not finite. Cost: block-max WAND over the query indices' posting lists.
  Result<std::vector<Hit>> search_sparse(const SparseQuery& query,
                                         const SearchOptions& options) const;

  // The k best records by the fusion of several rankings (docs/hybrid.md): each vector query
  // (search() of its field with k = fusion.candidates_for(k), options.ef raised to it, options
  // .exact and options.filter as given), each sparse query (search_sparse() likewise) and the
  // text query (search_text() likewise), fused by
  // fuse() in db/fusion.h. Hits carry the fused .score, .distance = -score, metadata and document;
  // with a single signal, its own top k and scores come back unfused.
  // kInvalidArgument when there is no signal, the fusion options are out of range, or any single
  // search would fail (its message names it). Cost: the searches, one after another, plus the
  // fusion (one hash entry per distinct hit).
  Result<std::vector<Hit>> search_hybrid(const HybridQuery& query,
                                         const SearchOptions& options) const;

  // search_hybrid() for each of `queries`, spread over the database's threads: all succeed, or
  // the first failure (in query order) is returned.
  Result<std::vector<std::vector<Hit>>> search_hybrid_batch(std::span<const HybridQuery> queries,
                                                            const SearchOptions& options) const;

  // The terms the collection's analyzer makes of `text` (what its documents and text queries are
  // indexed and searched as; docs/hybrid.md, "Tokenizer"). kInvalidArgument when the collection
  // has no text or `text` is not valid UTF-8. Cost: O(bytes).
  Result<std::vector<std::string>> tokenize(std::string_view text) const;

  // search() for each of `queries` rows of dim floats, spread over the database's threads.
  Result<BatchHits> search_batch(std::span<const float> queries,
                                 const SearchOptions& options) const;

  // Makes every later call fail with kClosed. Waits for a running write to finish.
  void close();

 private:
  friend struct CollectionAccess;  // the database's way in: opening, replay, checkpoints
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace omendb
