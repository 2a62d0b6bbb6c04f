// Read path of the HNSW index: the query entry points, and the quantized search (a walk on the
// codes, then a re-rank with the floats). The walks themselves are in hnsw_walk.h.
#include <algorithm>
#include <functional>

#include "index/flat_search.h"
#include "index/hnsw_index.h"
#include "index/hnsw_walk.h"
#include "util/thread_pool.h"

namespace omendb {

void HnswIndex::rerank(const float* query, std::size_t k, std::size_t count, Workspace& ws) const {
  ws.candidates.nearest_matching(
      count, [this](std::uint32_t slot) { return !is_deleted(slot); }, ws.sorted);
  // Start every row's load first: the re-ranked rows are scattered, and rarely cached after a
  // walk that read only codes. (A mapped row that read_row reads from its file gains nothing.)
  for (const Neighbor& candidate : ws.sorted) {
    prefetch_bytes(vectors_.row(candidate.slot), space_.dim() * sizeof(float));
  }
  ws.results.reset(k);
  for (const Neighbor& candidate : ws.sorted) {
    const float* row = vectors_.read_row(candidate.slot, ws.row.data());
    ws.results.push({space_.distance(query, row), candidate.slot});
  }
}

void HnswIndex::search_codes(const float* query, std::size_t k, std::size_t ef, Entry entry,
                             std::uint32_t limit, Workspace& ws) const {
  ws.code_query.prepare(query, space_.dim(), space_.metric());
  const CodeScorer scorer(*codes_, ws.code_query);
  const Neighbor start{scorer.distance(entry.slot), entry.slot};
  const Neighbor nearest = greedy_descend(scorer, start, entry.level, 0, limit, ws);
  search_level(scorer, nearest, 0, ef, limit, ws);
  rerank(query, k, std::min(ef, kRerankPerResult * k), ws);
}

void HnswIndex::search_prepared(const float* query, std::size_t k, std::size_t ef, bool exact,
                                Workspace& ws, std::vector<Neighbor>& out) const {
  out.clear();
  const auto limit = static_cast<std::uint32_t>(size());
  const std::size_t deleted = deleted_count_.load(std::memory_order_acquire);
  const std::size_t live = limit - std::min<std::size_t>(deleted, limit);
  const Entry entry = load_entry();
  if (live == 0 || k == 0) return;
  const auto is_live = [this](std::uint32_t slot) { return !is_deleted(slot); };
  if (!exact && limit >= params_.exact_search_below && entry.level >= 0) {
    ws.prepare(graph_.max_degree(0), space_.dim());
    // Deleted nodes still guide the walk but take room in the list: widen it by the inverse of
    // the live share.
    const std::size_t widened =
        std::min(std::max(ef, k) * limit / live, SearchOptions::kMaxEf);
    if (codes_) {
      search_codes(query, k, widened, entry, limit, ws);
      const std::span<const Neighbor> sorted = ws.results.sort();
      out.assign(sorted.begin(), sorted.end());
    } else {
      const ExactScorer scorer = exact_scorer(query);
      const Neighbor start{scorer.distance(entry.slot), entry.slot};
      const Neighbor nearest = greedy_descend(scorer, start, entry.level, 0, limit, ws);
      search_level(scorer, nearest, 0, widened, limit, ws);
      ws.candidates.nearest_matching(k, is_live, out);
    }
    // A walk that found fewer than k (slots published but not yet linked by a running insert, or
    // many deleted nodes) falls back to the scan, so k hits come back whenever k are visible.
    if (out.size() >= std::min(k, live)) return;
  }
  ws.results.reset(k);
  if (deleted == 0) {
    flat_search(
        space_, vectors_, query, limit, [](std::uint32_t) { return true; }, ws.results);
  } else {
    flat_search(space_, vectors_, query, limit, is_live, ws.results);
  }
  const std::span<const Neighbor> sorted = ws.results.sort();
  out.assign(sorted.begin(), sorted.end());
}

void HnswIndex::search(std::span<const float> query, std::size_t k, std::size_t ef, bool exact,
                       std::vector<Neighbor>& out) const {
  WorkspaceLease ws(workspaces_);
  (*ws).prepare(graph_.max_degree(0), space_.dim());
  space_.prepare(query.data(), (*ws).query.data());
  search_prepared((*ws).query.data(), k, ef, exact, *ws, out);
}

void HnswIndex::search_batch(std::span<const float> queries, std::size_t count, std::size_t k,
                             std::size_t ef, bool exact, ThreadPool& pool,
                             std::vector<std::vector<Neighbor>>& out) const {
  out.resize(count);
  ThreadWorkspaces per_thread(workspaces_, pool.size(), graph_.max_degree(0), space_.dim());
  const std::size_t dim = space_.dim();
  pool.parallel_for(count, 16, [&](std::size_t thread, std::size_t i) {
    Workspace& ws = per_thread[thread];
    space_.prepare(queries.data() + i * dim, ws.query.data());
    search_prepared(ws.query.data(), k, ef, exact, ws, out[i]);
  });
}

}  // namespace omendb
