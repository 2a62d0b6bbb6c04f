// Collection operations on sparse vectors: checking a batch's sparse rows, keeping each sparse
// field's inverted index in step with writes, deletes (Generation::retire) and compaction, and
// search by inner product. The indexes change only under the records lock held exclusively;
// searches read them under the lock held shared.
#include <algorithm>

#include "db/collection_state.h"
#include "storage/sparse_rows_codec.h"

namespace omendb {

Status Collection::State::check_sparse(const RecordBatch& batch) const {
  std::vector<bool> seen(options.sparse_vectors.size());
  for (const SparseRows& rows : batch.sparse) {
    if (rows.field >= options.sparse_vectors.size()) {
      return Status::invalid_argument("sparse field number " + std::to_string(rows.field) +
                                      " is out of range: collection '" + name + "' has " +
                                      std::to_string(options.sparse_vectors.size()) +
                                      " sparse fields");
    }
    const std::string what = "sparse vectors of field '" + options.sparse_vectors[rows.field] + "'";
    if (seen[rows.field]) return Status::invalid_argument(what + " are given twice");
    seen[rows.field] = true;
    if (const std::string problem = storage::sparse_rows_problem(rows, batch.ids.size());
        !problem.empty()) {
      return Status::invalid_argument(what + ": " + problem);
    }
  }
  return Status::ok();
}

void Collection::State::write_sparse(Generation& g, const RecordBatch& batch, std::size_t first) {
  const std::size_t n = batch.ids.size();
  for (SparseColumn& column : g.sparse) column.rows.resize(first + n);
  for (const SparseRows& rows : batch.sparse) {
    SparseColumn& column = g.sparse[rows.field];
    std::size_t offset = 0;
    std::size_t row = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (!rows.present.empty() && rows.present[i] == 0) continue;
      const std::size_t length = rows.lengths[row++];
      const auto slot = static_cast<std::uint32_t>(first + i);
      column.rows[slot] = sparse_entries(rows.indices.subspan(offset, length),
                                         rows.values.subspan(offset, length));
      offset += length;
      // New slots exceed every slot indexed so far and check_sparse() checked the vector.
      (void)column.index.add(slot, *column.rows[slot]);
    }
  }
}

std::vector<SparseColumn> Collection::State::compacted_sparse(
    const Generation& old, std::span<const std::uint32_t> kept) {
  std::vector<SparseColumn> fresh(old.sparse.size());
  for (std::size_t field = 0; field < old.sparse.size(); ++field) {
    const SparseColumn& column = old.sparse[field];
    std::vector<std::uint32_t> new_slot_of_old(column.index.slot_count(),
                                               text::SparseIndex::kDropped);
    fresh[field].rows.reserve(kept.size());
    for (std::uint32_t slot = 0; slot < kept.size(); ++slot) {
      if (kept[slot] < new_slot_of_old.size()) new_slot_of_old[kept[slot]] = slot;
      fresh[field].rows.push_back(kept[slot] < column.rows.size() ? column.rows[kept[slot]]
                                                                  : std::nullopt);
    }
    // The map covers the index's slots and keeps their order, so compacted() succeeds.
    fresh[field].index = std::move(column.index.compacted(new_slot_of_old)).value();
  }
  return fresh;
}

std::vector<std::optional<SparseVector>> Collection::State::sparse_of(const Generation& g,
                                                                      std::uint32_t slot) {
  std::vector<std::optional<SparseVector>> vectors;
  vectors.reserve(g.sparse.size());
  for (const SparseColumn& column : g.sparse) {
    if (slot < column.rows.size() && column.rows[slot]) {
      vectors.emplace_back(sparse_vector_of(*column.rows[slot]));
    } else {
      vectors.emplace_back(std::nullopt);
    }
  }
  return vectors;
}

Result<std::vector<Hit>> Collection::search_sparse(const SparseQuery& query,
                                                   const SearchOptions& options) const {
  const State& s = *state_;
  if (s.closed.load()) return closed_error(s.name);
  if (Status status = options.validate(); !status.is_ok()) return status;
  const std::optional<std::size_t> field = s.options.sparse_number(query.field);
  if (!field) {
    std::string names;
    for (const std::string& known : s.options.sparse_vectors) {
      names += (names.empty() ? "'" : ", '") + known + "'";
    }
    return Status::invalid_argument("unknown sparse field '" + std::string(query.field) +
                                    "'; collection '" + s.name + "' has " +
                                    (names.empty() ? std::string("none") : names));
  }
  if (query.indices.empty()) return Status::invalid_argument("the sparse query is empty");
  if (const std::string problem = storage::sparse_vector_problem(query.indices, query.values);
      !problem.empty()) {
    return Status::invalid_argument("sparse query: " + problem);
  }
  const SparseEntries entries = sparse_entries(query.indices, query.values);
  const std::shared_ptr<const Generation> g = s.generation();
  std::shared_lock lock(s.records_mutex);
  const text::SparseIndex& index = g->sparse[*field].index;
  std::vector<text::TextHit> found;
  Status status = Status::ok();
  if (options.filter == nullptr) {
    status = index.search(entries, options.k, {}, found);
  } else {
    const FilterPlan plan = s.plan(*g, options);
    status = index.search(
        entries, options.k,
        [&](std::uint32_t slot) { return State::plan_accepts(*g, plan, *options.filter, slot); },
        found);
  }
  if (!status.is_ok()) return status;
  return State::scored_hits(*g, found);
}

}  // namespace omendb
