// Read path of the HNSW index: greedy descent through the upper levels, best-first search of a
// level, and the query entry points.
#include <algorithm>
#include <functional>

#include "index/flat_search.h"
#include "index/hnsw_index.h"
#include "util/thread_pool.h"

namespace omendb {
namespace {

void prefetch(const void* address) noexcept { __builtin_prefetch(address, 0, 3); }

// Starts loading a row into cache, every line of its first KiB (all of it up to 256 dims): on
// hnsw_bench this beat prefetching two lines and leaving the rest to the hardware by 15-25%.
void prefetch_row(const float* row, std::size_t row_bytes) noexcept {
  const char* bytes = reinterpret_cast<const char*>(row);
  for (std::size_t offset = 0; offset < std::min<std::size_t>(row_bytes, 1024); offset += 64) {
    prefetch(bytes + offset);
  }
}

// Starts loading a level-0 neighbour list (132 bytes at m=16: up to three cache lines).
void prefetch_list(const void* list) noexcept {
  prefetch(list);
  prefetch(static_cast<const char*>(list) + 64);
}

}  // namespace

Neighbor HnswIndex::greedy_descend(const float* query, Neighbor start, int from_level, int to_level,
                                   std::uint32_t limit, Workspace& ws) const {
  Neighbor current = start;
  for (int level = from_level; level > to_level; --level) {
    for (bool improved = true; improved;) {
      improved = false;
      const std::uint32_t count = graph_.copy_neighbors(current.slot, level, ws.links.data());
      for (std::uint32_t i = 0; i < count; ++i) {
        const std::uint32_t slot = ws.links[i];
        if (slot >= limit) continue;
        const float distance = space_.distance(query, vectors_.row(slot));
        if (distance < current.distance) {
          current = {distance, slot};
          improved = true;
        }
      }
    }
  }
  return current;
}

void HnswIndex::search_level(const float* query, Neighbor start, int level, std::size_t ef,
                             std::uint32_t limit, Workspace& ws) const {
  ws.visited.clear(limit);
  ws.candidates.reset(ef);
  ws.visited.insert(start.slot);
  ws.candidates.insert(start);

  const std::size_t row_bytes = space_.dim() * sizeof(float);
  Neighbor nearest;
  while (ws.candidates.expand_next(nearest)) {
    // Gather the unvisited neighbours first and start loading their rows, then compute distances
    // while the loads are in flight.
    const std::uint32_t count = graph_.copy_neighbors(nearest.slot, level, ws.links.data());
    std::uint32_t fresh = 0;
    for (std::uint32_t i = 0; i < count; ++i) {
      const std::uint32_t slot = ws.links[i];
      if (slot < limit && ws.visited.insert(slot)) {
        prefetch_row(vectors_.row(slot), row_bytes);
        ws.unvisited[fresh++] = slot;
      }
    }
    for (std::uint32_t i = 0; i < fresh; ++i) {
      const std::uint32_t slot = ws.unvisited[i];
      const float distance = space_.distance(query, vectors_.row(slot));
      if (distance < ws.candidates.threshold()) {
        // It may be expanded later: start loading its neighbour list now.
        prefetch_list(graph_.level0_address(slot));
        ws.candidates.insert({distance, slot});
      }
    }
  }
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
    const Neighbor start{space_.distance(query, vectors_.row(entry.slot)), entry.slot};
    const Neighbor nearest = greedy_descend(query, start, entry.level, 0, limit, ws);
    // Deleted nodes still guide the walk but take room in the list: widen it by the inverse of
    // the live share.
    const std::size_t widened = std::max(ef, k) * limit / live;
    search_level(query, nearest, 0, std::min(widened, SearchOptions::kMaxEf), limit, ws);
    ws.candidates.nearest_matching(k, is_live, out);
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
