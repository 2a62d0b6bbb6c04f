// Collection operations with a metadata filter: the filtered search that the planner chose, count,
// find and delete by filter. Each runs against one generation under the records lock, so the
// payload index, the metadata and the ids agree.
#include <algorithm>

#include "db/collection_state.h"
#include "filter/evaluate.h"

namespace omendb {
namespace {

// The slots among `candidates` that match `filter`, in slot order, at most `limit` of them.
std::vector<std::uint32_t> matching_slots(const Generation& g, const FilterExpr& filter,
                                          const Bitmap& candidates, bool exact, std::size_t limit) {
  std::vector<std::uint32_t> slots;
  slots.reserve(std::min<std::uint64_t>(candidates.size(), limit));
  for (const std::uint32_t slot : candidates) {
    if (slots.size() >= limit) break;
    if (exact || matches(filter, g.metadata_of(slot))) slots.push_back(slot);
  }
  return slots;
}

}  // namespace

FilterPlan Collection::State::plan(const Generation& g, const SearchOptions& options) const {
  const FilterExpr& filter = *options.filter;
  std::shared_ptr<const FilterMatches> found =
      g.filter_matches.get(filter, g.payload.version(), [&] {
        return match_filter(g.payload, filter, g.index->size());
      });
  return plan_filtered_search(std::move(found), options.k, options.effective_ef(),
                              g.index->graph().max_degree(0));
}

bool Collection::State::plan_accepts(const Generation& g, const FilterPlan& plan,
                                     const FilterExpr& filter, std::uint32_t slot) {
  const FilterMatches& found = *plan.matches;
  const bool candidate = found.walk ? found.dense.contains(slot) : found.candidates.contains(slot);
  return candidate && (found.exact || matches(filter, g.metadata_of(slot)));
}

void Collection::State::filtered_search(const Generation& g, const HnswIndex& index,
                                        std::span<const float> query,
                                        const SearchOptions& options, const FilterPlan& plan,
                                        std::vector<Neighbor>& out) const {
  const FilterExpr& filter = *options.filter;
  const FilterMatches& found = *plan.matches;
  if (!plan.scan && !options.exact) {
    const HnswIndex::SlotFilter accepts = [&](std::uint32_t slot) {
      return found.dense.contains(slot) && (found.exact || matches(filter, g.metadata_of(slot)));
    };
    index.search_filtered(query, options.k, plan.ef, accepts, out);
    // The walk can miss matches it had no path to; then the scan below finds k whenever k match.
    if (out.size() >= options.k) return;
  }
  const std::vector<std::uint32_t> slots =
      matching_slots(g, filter, found.candidates, found.exact, found.candidates.size());
  index.search_slots(query, options.k, slots, out);
}

Result<std::size_t> Collection::count(const FilterExpr* filter) const {
  const State& s = *state_;
  if (s.closed.load()) return closed_error(s.name);
  if (filter == nullptr) return s.live.load();
  std::shared_lock lock(s.records_mutex);
  const Generation& g = *s.current;
  const PayloadIndex::Superset superset = g.payload.superset(*filter);
  if (superset.exact) return static_cast<std::size_t>(superset.slots.size());
  return matching_slots(g, *filter, superset.slots, false, superset.slots.size()).size();
}

Result<std::vector<Record>> Collection::find(const FilterExpr& filter, std::size_t limit) const {
  const State& s = *state_;
  if (s.closed.load()) return closed_error(s.name);
  std::shared_lock lock(s.records_mutex);
  const Generation& g = *s.current;
  const PayloadIndex::Superset superset = g.payload.superset(filter);
  std::vector<Record> records;
  for (const std::uint32_t slot :
       matching_slots(g, filter, superset.slots, superset.exact, limit)) {
    Record& record = records.emplace_back();
    record.id = g.ids.id(slot);
    const float* row = g.index->row(slot);
    record.vector.assign(row, row + s.options.dim);
    record.metadata = g.metadata_of(slot);
    record.more_vectors = State::more_vectors_of(g, slot);
    record.sparse = State::sparse_of(g, slot);
    if (g.text) record.document = g.text->documents[slot];
  }
  return records;
}

Result<std::size_t> Collection::remove_where(const FilterExpr& filter) {
  return state_->remove_chosen(
      [&filter](const Generation& g) {
        const PayloadIndex::Superset superset = g.payload.superset(filter);
        return matching_slots(g, filter, superset.slots, superset.exact, superset.slots.size());
      },
      State::Origin::kUser);
}

}  // namespace omendb
