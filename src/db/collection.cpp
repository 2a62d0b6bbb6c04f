// Collection: validates a batch whole before changing anything, then appends vectors, ids and
// metadata and links the new slots into the graph. Searches translate slots back to ids under a
// shared lock that a writer holds only while appending ids.
#include "omendb/collection.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <unordered_set>

#include "db/collection_state.h"

namespace omendb {

Status closed_error(const std::string& name) {
  return {StatusCode::kClosed, "collection '" + name + "' is closed"};
}

namespace {

// Ok when every value is finite; otherwise names the first bad value. `what` names the argument;
// rows are numbered only when it holds more than one vector.
Status check_finite(std::span<const float> values, std::size_t dim, bool single_row,
                    std::string_view what) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      const std::string value = " has a non-finite value (" + std::to_string(values[i]) + ")";
      if (single_row) {
        return Status::invalid_argument(std::string(what) + value + " at index " +
                                        std::to_string(i));
      }
      return Status::invalid_argument(std::string(what) + " row " + std::to_string(i / dim) +
                                      value + " at column " + std::to_string(i % dim));
    }
  }
  return Status::ok();
}

}  // namespace

Status check_rows(std::span<const float> values, std::size_t rows, std::size_t dim,
                  std::string_view what) {
  if (values.size() != rows * dim) {
    return {StatusCode::kDimensionMismatch, std::string(what) + " must hold " +
                                                std::to_string(rows) + " x " + std::to_string(dim) +
                                                " floats, got " + std::to_string(values.size())};
  }
  return check_finite(values, dim, rows == 1 && what == "query vector", what);
}

HnswParams index_params(const CollectionOptions& options, std::size_t field) {
  const VectorFieldOptions settings = options.field(field);
  HnswParams params;
  params.m = settings.m;
  params.ef_construction = settings.ef_construction;
  params.seed = options.seed;  // each field's graph is built as a collection of it alone would be
  params.quantization = settings.quantization;
  return params;
}

std::shared_ptr<Generation> empty_generation(const CollectionOptions& options) {
  auto g = std::make_shared<Generation>(
      std::make_unique<HnswIndex>(options.metric, options.dim, index_params(options)));
  for (std::size_t field = 1; field < options.field_count(); ++field) {
    const VectorFieldOptions settings = options.field(field);
    g->more.push_back(std::make_unique<HnswIndex>(settings.metric, settings.dim,
                                                  index_params(options, field)));
  }
  if (options.text.enabled) g->text = std::make_unique<TextColumn>();
  g->sparse.resize(options.sparse_vectors.size());
  return g;
}

Collection::Collection(std::string name, const CollectionOptions& options,
                       std::shared_ptr<ThreadPool> pool)
    : state_(std::make_unique<State>(std::move(name), options, std::move(pool))) {}

Collection::~Collection() = default;

const std::string& Collection::name() const noexcept { return state_->name; }
const CollectionOptions& Collection::options() const noexcept { return state_->options; }
std::size_t Collection::size() const noexcept { return state_->live.load(); }
bool Collection::closed() const noexcept { return state_->closed.load(); }

Status Collection::State::check_batch(const RecordBatch& batch) const {
  const std::size_t n = batch.ids.size();
  if (n == 0)
    return Status::invalid_argument("add() needs at least one record, got an empty batch");
  if (batch.vectors.size() % options.dim == 0 && batch.vectors.size() / options.dim != n) {
    return Status::invalid_argument("ids and vectors differ in length: " + std::to_string(n) +
                                    " ids, " + std::to_string(batch.vectors.size() / options.dim) +
                                    " vectors");
  }
  if (Status status = check_rows(batch.vectors, n, options.dim, "vectors"); !status.is_ok())
    return status;
  if (!batch.metadata.empty() && batch.metadata.size() != n) {
    return Status::invalid_argument(
        "metadata must be omitted or hold one entry per id: " + std::to_string(n) + " ids, " +
        std::to_string(batch.metadata.size()) + " metadata entries");
  }
  for (std::size_t i = 0; i < n; ++i) {
    const std::string_view id = batch.ids[i];
    if (id.empty()) return Status::invalid_argument("ids[" + std::to_string(i) + "] is empty");
    if (id.find('\0') != std::string_view::npos) {
      return Status::invalid_argument("ids[" + std::to_string(i) + "] contains a NUL character");
    }
    if (id.size() > kMaxIdBytes) {
      return Status::invalid_argument("ids[" + std::to_string(i) + "] is " +
                                      std::to_string(id.size()) + " bytes long; the limit is " +
                                      std::to_string(kMaxIdBytes));
    }
  }
  if (Status status = check_more_vectors(batch); !status.is_ok()) return status;
  return check_sparse(batch);
}

Status Collection::State::check_more_vectors(const RecordBatch& batch) const {
  const std::size_t n = batch.ids.size();
  std::vector<bool> seen(options.field_count());
  for (const FieldRows& rows : batch.more_vectors) {
    if (rows.field == 0 || rows.field >= options.field_count()) {
      return Status::invalid_argument("vector field number " + std::to_string(rows.field) +
                                      " is out of range: collection '" + name + "' has " +
                                      std::to_string(options.more_vectors.size()) +
                                      " further vector fields");
    }
    const std::string what = "vectors of field '" + options.more_vectors[rows.field - 1].name + "'";
    if (seen[rows.field]) return Status::invalid_argument(what + " are given twice");
    seen[rows.field] = true;
    if (!rows.present.empty() && rows.present.size() != n) {
      return Status::invalid_argument(what + ": presence flags must be omitted or one per id: " +
                                      std::to_string(n) + " ids, " +
                                      std::to_string(rows.present.size()) + " flags");
    }
    std::size_t present = rows.present.empty() ? n : 0;
    for (const std::uint8_t flag : rows.present) present += flag != 0 ? 1 : 0;
    if (Status status = check_field_rows(rows.vectors, present, rows.field, what); !status.is_ok())
      return status;
  }
  return Status::ok();
}

Status Collection::State::check_field_rows(std::span<const float> values, std::size_t rows,
                                           std::size_t field, std::string_view what) const {
  return check_rows(values, rows, options.field(field).dim, what);
}

// Ok unless an id repeats within the batch or, when !replace, exists already.
Status Collection::State::check_new_ids(std::span<const std::string_view> new_ids,
                                        bool replace) const {
  std::unordered_set<std::string_view> seen;
  seen.reserve(new_ids.size());
  std::shared_lock lock(records_mutex);
  for (const std::string_view id : new_ids) {
    if (!replace && current->ids.find(id)) {
      return {StatusCode::kDuplicateId, "id '" + std::string(id) + "' already exists"};
    }
    if (!seen.insert(id).second) {
      return {StatusCode::kDuplicateId,
              "id '" + std::string(id) + "' appears more than once in the batch"};
    }
  }
  return Status::ok();
}

Status Collection::State::check_writable(Origin origin) const {
  if (closed.load()) return closed_error(name);
  if (origin == Origin::kUser && read_only) {
    return {StatusCode::kReadOnly,
            "collection '" + name + "' is read-only (its database was opened read-only)"};
  }
  return Status::ok();
}

Status Collection::State::log(const storage::WriteBatch& batch, Origin origin) {
  if (origin == Origin::kLog || journal == nullptr) return Status::ok();
  return journal->log_write(name, batch);
}

namespace {

// The further vector fields of a checked batch as the log takes them: every field given, in
// field order, with one presence flag per record.
struct LoggedFields {
  LoggedFields(const RecordBatch& batch, const CollectionOptions& options) {
    std::vector<const FieldRows*> by_field(options.field_count());
    for (const FieldRows& rows : batch.more_vectors) by_field[rows.field] = &rows;
    flags.reserve(batch.more_vectors.size());
    for (std::size_t field = 1; field < by_field.size(); ++field) {
      const FieldRows* rows = by_field[field];
      if (rows == nullptr) continue;
      std::vector<std::uint8_t>& present = flags.emplace_back(batch.ids.size(), 1);
      for (std::size_t i = 0; i < rows->present.size(); ++i) present[i] = rows->present[i] != 0;
      blocks.push_back({.field = static_cast<std::uint32_t>(field),
                        .dim = static_cast<std::uint32_t>(options.more_vectors[field - 1].dim),
                        .present = present,
                        .vectors = rows->vectors});
    }
  }
  std::vector<std::vector<std::uint8_t>> flags;  // reserved up front: blocks view its elements
  std::vector<storage::FieldBlock> blocks;
};

}  // namespace

void Collection::State::write_more_vectors(Generation& g, const RecordBatch& batch,
                                           std::size_t first) {
  const std::size_t n = batch.ids.size();
  for (std::size_t field = 1; field <= g.more.size(); ++field) {
    HnswIndex& index = *g.more[field - 1];
    const std::size_t dim = index.space().dim();
    const auto given = std::find_if(batch.more_vectors.begin(), batch.more_vectors.end(),
                                    [field](const FieldRows& rows) { return rows.field == field; });
    const bool all_present = given != batch.more_vectors.end() && given->present.empty();
    if (all_present) {
      index.write_rows(given->vectors, n);
      continue;
    }
    std::vector<float> rows(n * dim, 0.0f);
    std::vector<std::uint32_t> absent;
    std::size_t next = 0;  // the next given row
    for (std::size_t i = 0; i < n; ++i) {
      if (given == batch.more_vectors.end() || given->present[i] == 0) {
        absent.push_back(static_cast<std::uint32_t>(first + i));
        continue;
      }
      std::copy_n(given->vectors.data() + next * dim, dim, rows.data() + i * dim);
      ++next;
    }
    index.write_rows(rows, n);
    for (const std::uint32_t slot : absent) index.mark_deleted(slot);
  }
}

Status Collection::State::write(const RecordBatch& batch, bool replace, Origin origin) {
  if (Status status = check_writable(origin); !status.is_ok()) return status;
  if (Status status = check_batch(batch); !status.is_ok()) return status;
  Result<Terms> terms = analyze_documents(batch);
  if (!terms.is_ok()) return terms.status();
  std::vector<Metadata> new_metadata(batch.metadata.begin(), batch.metadata.end());
  for (std::size_t i = 0; i < new_metadata.size(); ++i) {
    if (Status status = normalize_metadata(new_metadata[i]); !status.is_ok()) {
      return Status::invalid_argument("metadata[" + std::to_string(i) + "]: " + status.message());
    }
  }

  std::unique_lock writer(write_mutex);
  if (Status status = check_writable(origin); !status.is_ok()) return status;
  if (Status status = check_new_ids(batch.ids, replace); !status.is_ok()) return status;
  const LoggedFields fields(batch, options);
  std::vector<SparseRows> sparse(batch.sparse.begin(), batch.sparse.end());
  std::sort(sparse.begin(), sparse.end(),
            [](const SparseRows& x, const SparseRows& y) { return x.field < y.field; });
  const storage::WriteBatch logged{
      .kind = replace ? storage::WriteKind::kUpsert : storage::WriteKind::kAdd,
      .dim = static_cast<std::uint32_t>(options.dim),
      .ids = batch.ids,
      .vectors = batch.vectors,
      .metadata = new_metadata,
      .more_vectors = fields.blocks,
      .documents = batch.documents,
      .has_document = batch.has_document,
      .sparse = sparse,
      .sparse_fields = options.sparse_vectors.size(),
  };
  if (Status status = log(logged, origin); !status.is_ok()) return status;

  Generation& g = *current;
  // The records an upsert replaces, and their documents' terms, found before the records lock:
  // only this writer changes ids and documents.
  std::vector<std::uint32_t> replaced;
  for (const std::string_view id : batch.ids) {
    if (const std::optional<std::uint32_t> old = replace ? g.ids.find(id) : std::nullopt) {
      replaced.push_back(*old);
    }
  }
  const Terms replaced_terms = stored_terms(g, replaced);
  HnswIndex& index = *g.index;
  const std::size_t first = index.size();
  const std::size_t n = batch.ids.size();
  index.write_rows(batch.vectors, n);
  {
    std::size_t new_bytes = 0;
    for (const std::string_view id : batch.ids) new_bytes += id.size();
    std::unique_lock lock(records_mutex);
    g.ids.reserve(first + n, g.ids.id_bytes() + new_bytes);
    if (!new_metadata.empty() || g.has_metadata) {
      g.metadata.resize(first);  // the slots before the first record with metadata have none
      g.metadata.reserve(first + n);
      for (std::size_t i = 0; i < n; ++i) {
        g.metadata.push_back(new_metadata.empty() ? Metadata{} : std::move(new_metadata[i]));
      }
      g.has_metadata = true;
    }
    for (const std::string_view id : batch.ids) {
      if (const std::optional<std::uint32_t> old = replace ? g.ids.erase(id) : std::nullopt) {
        g.retire(*old);
      }
      g.ids.insert(id);
    }
    unindex_documents(g, replaced, replaced_terms);
    index_documents(g, batch, first, terms.value());
    for (std::size_t i = 0; i < n; ++i) g.index_payload(static_cast<std::uint32_t>(first + i));
    write_more_vectors(g, batch, first);
    write_sparse(g, batch, first);
    index.publish(first + n);
    for (const std::unique_ptr<HnswIndex>& field : g.more) field->publish(first + n);
    live.store(index.live_size());
  }
  ++changes;
  // Relink around the replaced records before linking the new ones: inserts shed links to deleted
  // nodes from full lists, and a deleted node that lost its in-links that way could no longer be
  // found by repair(), nor could the live nodes reachable only through it.
  for (std::size_t field = 0; field < options.field_count(); ++field) {
    g.field_index(field).repair(replaced, *pool);
    g.field_index(field).link(static_cast<std::uint32_t>(first), n, *pool);
  }
  compact_if_mostly_deleted();
  writer.unlock();
  if (origin == Origin::kUser && on_logged) on_logged();
  return Status::ok();
}

// Builds a generation without the deleted slots and swaps it in. Caller holds write_mutex.
// Returns the number of slots reclaimed.
std::size_t Collection::State::compact() {
  const std::shared_ptr<Generation> old = current;
  const std::size_t reclaimed = old->index->size() - old->index->live_size();
  if (reclaimed == 0) return 0;
  HnswIndex::Compacted compacted = old->index->compacted(*pool);
  auto fresh = std::make_shared<Generation>(std::move(compacted.index));
  for (const std::unique_ptr<HnswIndex>& field : old->more) {
    fresh->more.push_back(field->compacted_to(compacted.kept, *pool));
  }
  fresh->text = compacted_text(*old, compacted.kept);
  fresh->sparse = compacted_sparse(*old, compacted.kept);
  std::size_t id_bytes = 0;
  for (std::uint32_t slot : compacted.kept) id_bytes += old->ids.id(slot).size();
  fresh->ids.reserve(compacted.kept.size(), id_bytes);
  fresh->has_metadata = old->has_metadata;
  if (old->has_metadata) fresh->metadata.reserve(compacted.kept.size());
  for (std::uint32_t slot : compacted.kept) {
    fresh->ids.insert(old->ids.id(slot));
    if (old->has_metadata) fresh->metadata.push_back(old->metadata[slot]);
    fresh->index_payload(static_cast<std::uint32_t>(fresh->ids.size() - 1));
  }
  std::unique_lock lock(records_mutex);
  current = std::move(fresh);
  ++changes;
  return reclaimed;
}

// Compaction runs by itself once a quarter of the slots (of at least 1,024) are deleted: deleted
// nodes cost memory and make graph walks longer.
void Collection::State::compact_if_mostly_deleted() {
  const HnswIndex& index = *current->index;
  const std::size_t deleted = index.size() - index.live_size();
  if (index.size() >= 1024 && deleted * 4 >= index.size()) compact();
}

Status Collection::add(const RecordBatch& batch) {
  return state_->write(batch, /*replace=*/false, State::Origin::kUser);
}

Status Collection::upsert(const RecordBatch& batch) {
  return state_->write(batch, /*replace=*/true, State::Origin::kUser);
}

Result<std::size_t> Collection::remove(std::span<const std::string_view> ids) {
  return state_->remove_ids(ids, State::Origin::kUser);
}

Result<std::size_t> Collection::State::remove_ids(std::span<const std::string_view> ids,
                                                  Origin origin) {
  return remove_chosen(
      [ids](const Generation& g) {
        std::vector<std::uint32_t> slots;
        for (const std::string_view id : ids) {
          if (const std::optional<std::uint32_t> slot = g.ids.find(id)) slots.push_back(*slot);
        }
        std::sort(slots.begin(), slots.end());
        slots.erase(std::unique(slots.begin(), slots.end()), slots.end());
        return slots;
      },
      origin);
}

Result<std::size_t> Collection::State::remove_chosen(
    const std::function<std::vector<std::uint32_t>(const Generation&)>& choose, Origin origin) {
  if (Status status = check_writable(origin); !status.is_ok()) return status;
  std::unique_lock writer(write_mutex);
  if (Status status = check_writable(origin); !status.is_ok()) return status;
  Generation& g = *current;
  std::vector<std::uint32_t> removed;
  {
    std::shared_lock lock(records_mutex);
    removed = choose(g);
  }
  if (removed.empty()) return std::size_t{0};
  // Views into the id map stay valid: only this writer changes it, and erase() keeps the bytes.
  std::vector<std::string_view> removed_ids;
  removed_ids.reserve(removed.size());
  for (const std::uint32_t slot : removed) removed_ids.push_back(g.ids.id(slot));
  const Terms removed_terms = stored_terms(g, removed);
  const storage::WriteBatch logged{
      .kind = storage::WriteKind::kDelete, .dim = 0, .ids = removed_ids, .vectors = {}, .metadata = {},
      .more_vectors = {}};
  if (Status status = log(logged, origin); !status.is_ok()) return status;
  {
    std::unique_lock lock(records_mutex);
    for (const std::uint32_t slot : removed) {
      g.ids.erase(g.ids.id(slot));
      g.retire(slot);
    }
    unindex_documents(g, removed, removed_terms);
    live.store(g.index->live_size());
  }
  ++changes;
  for (std::size_t field = 0; field < options.field_count(); ++field) {
    g.field_index(field).repair(removed, *pool);
  }
  compact_if_mostly_deleted();
  writer.unlock();
  if (origin == Origin::kUser && on_logged) on_logged();
  return removed.size();
}

Result<std::size_t> Collection::compact() {
  State& s = *state_;
  if (Status status = s.check_writable(State::Origin::kUser); !status.is_ok()) return status;
  std::lock_guard writer(s.write_mutex);
  if (Status status = s.check_writable(State::Origin::kUser); !status.is_ok()) return status;
  return s.compact();
}

Result<std::vector<std::optional<Record>>> Collection::get(
    std::span<const std::string_view> ids) const {
  const State& s = *state_;
  if (s.closed.load()) return closed_error(s.name);
  std::vector<std::optional<Record>> records(ids.size());
  const std::size_t dim = s.options.dim;
  std::shared_lock lock(s.records_mutex);
  const Generation& g = *s.current;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const std::optional<std::uint32_t> slot = g.ids.find(ids[i]);
    if (!slot) continue;
    Record& record = records[i].emplace();
    record.id = ids[i];
    const float* row = g.index->row(*slot);
    record.vector.assign(row, row + dim);
    if (g.has_metadata) record.metadata = g.metadata[*slot];
    record.more_vectors = State::more_vectors_of(g, *slot);
    record.sparse = State::sparse_of(g, *slot);
    if (g.text) record.document = g.text->documents[*slot];
  }
  return records;
}

std::vector<std::optional<std::vector<float>>> Collection::State::more_vectors_of(
    const Generation& g, std::uint32_t slot) {
  std::vector<std::optional<std::vector<float>>> vectors(g.more.size());
  for (std::size_t i = 0; i < g.more.size(); ++i) {
    const HnswIndex& field = *g.more[i];
    if (field.is_deleted(slot)) continue;  // the record lacks this field
    const float* row = field.row(slot);
    vectors[i].emplace(row, row + field.space().dim());
  }
  return vectors;
}

Result<std::size_t> Collection::State::searched_field(const SearchOptions& search) const {
  if (const std::optional<std::size_t> field = options.field_number(search.vector_field)) {
    return *field;
  }
  std::string known;
  for (std::size_t field = 0; field < options.field_count(); ++field) {
    known += (field == 0 ? "'" : ", '") + options.field(field).name + "'";
  }
  return Status::invalid_argument("unknown vector field '" + std::string(search.vector_field) +
                                  "'; collection '" + name + "' has " + known);
}

Result<std::vector<Hit>> Collection::search(std::span<const float> query,
                                            const SearchOptions& options) const {
  const State& s = *state_;
  if (s.closed.load()) return closed_error(s.name);
  if (Status status = options.validate(); !status.is_ok()) return status;
  Result<std::size_t> field = s.searched_field(options);
  if (!field.is_ok()) return field.status();
  if (Status status = s.check_field_rows(query, 1, field.value(), "query vector"); !status.is_ok())
    return status;

  const std::shared_ptr<const Generation> g = s.generation();
  const HnswIndex& index = g->field_index(field.value());
  std::vector<Neighbor> neighbors;
  if (options.filter != nullptr) {
    std::shared_lock lock(s.records_mutex);
    const FilterPlan plan = s.plan(*g, options);
    s.filtered_search(*g, index, query, options, plan, neighbors);
    return State::to_hits(*g, index, neighbors);
  }
  index.search(query, options.k, options.effective_ef(), options.exact, neighbors);
  std::shared_lock lock(s.records_mutex);
  return State::to_hits(*g, index, neighbors);
}

std::vector<Hit> Collection::State::to_hits(const Generation& g, const HnswIndex& index,
                                            const std::vector<Neighbor>& neighbors) {
  // The hits' flags, ids and metadata are scattered and rarely cached after a walk: start every
  // load before the first copy.
  for (const Neighbor& neighbor : neighbors) index.prefetch_deleted_flag(neighbor.slot);
  g.prefetch_hits(std::span<const Neighbor>(neighbors));
  std::vector<Hit> hits;
  hits.reserve(neighbors.size());
  for (const Neighbor& neighbor : neighbors) {
    // Deleted (or replaced by an upsert) since the walk found it: its metadata is gone already.
    if (index.is_deleted(neighbor.slot)) continue;
    Hit& hit = hits.emplace_back(hit_of(g, neighbor.slot));
    hit.distance = neighbor.distance;
    hit.score = -neighbor.distance;
  }
  return hits;
}

Hit Collection::State::hit_of(const Generation& g, std::uint32_t slot) {
  Hit hit;
  hit.id = g.ids.id(slot);
  hit.metadata = g.metadata_of(slot);
  if (g.text) hit.document = g.text->documents[slot];
  return hit;
}

Result<BatchHits> Collection::search_batch(std::span<const float> queries,
                                           const SearchOptions& options) const {
  const State& s = *state_;
  if (s.closed.load()) return closed_error(s.name);
  if (Status status = options.validate(); !status.is_ok()) return status;
  Result<std::size_t> field = s.searched_field(options);
  if (!field.is_ok()) return field.status();
  const std::size_t dim = s.options.field(field.value()).dim;
  const std::size_t count = queries.size() / dim;
  if (Status status = check_rows(queries, count, dim, "vectors"); !status.is_ok()) return status;

  const std::shared_ptr<const Generation> g = s.generation();
  const HnswIndex& index = g->field_index(field.value());
  std::vector<std::vector<Neighbor>> neighbors;
  std::shared_lock filter_lock(s.records_mutex, std::defer_lock);
  if (options.filter != nullptr) {
    filter_lock.lock();
    const FilterPlan plan = s.plan(*g, options);
    neighbors.resize(count);
    s.pool->parallel_for(count, 4, [&](std::size_t, std::size_t q) {
      s.filtered_search(*g, index, queries.subspan(q * dim, dim), options, plan, neighbors[q]);
    });
  } else {
    index.search_batch(queries, count, options.k, options.effective_ef(), options.exact, *s.pool,
                       neighbors);
  }
  BatchHits hits;
  hits.queries = count;
  hits.k = options.k;
  hits.ids.resize(count * options.k);
  hits.distances.assign(count * options.k, std::numeric_limits<float>::infinity());
  std::shared_lock lock(s.records_mutex, std::defer_lock);
  if (!filter_lock.owns_lock()) lock.lock();
  for (std::size_t q = 0; q < count; ++q) {
    std::size_t column = q * options.k;
    for (const Neighbor& neighbor : neighbors[q]) {
      if (index.is_deleted(neighbor.slot)) continue;  // deleted since the search found it
      hits.ids[column] = g->ids.id(neighbor.slot);
      hits.distances[column++] = neighbor.distance;
    }
  }
  return hits;
}

void Collection::close() {
  state_->closed.store(true);
  std::lock_guard writer(state_->write_mutex);  // returns once a running add has finished
}

}  // namespace omendb
