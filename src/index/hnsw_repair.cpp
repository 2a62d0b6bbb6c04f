// Delete support of the HNSW index: after slots are marked deleted, their live neighbours are
// relinked around them so the graph stays navigable without them.
#include <algorithm>
#include <mutex>

#include "index/hnsw_index.h"
#include "util/thread_pool.h"

namespace omendb {

void HnswIndex::repair(std::span<const std::uint32_t> slots, ThreadPool& pool) {
  if (slots.empty()) return;
  {
    ThreadWorkspaces per_thread(workspaces_, pool.size(), graph_.max_degree(0) + 1, space_.dim());
    pool.parallel_for(slots.size(), 4, [&](std::size_t thread, std::size_t i) {
      Workspace& ws = per_thread[thread];
      const std::uint32_t deleted = slots[i];
      for (int level = graph_.level(deleted); level >= 0; --level) {
        const std::uint32_t count = graph_.copy_neighbors(deleted, level, ws.around.data());
        for (std::uint32_t j = 0; j < count; ++j) {
          if (!is_deleted(ws.around[j])) repair_node(ws.around[j], deleted, level, ws);
        }
      }
    });
  }
  replace_deleted_entry();
  count_changes(slots.size(), pool);
}

// Searches and inserts start at the entry point, and an insert links only to live nodes: left on
// a deleted node whose neighbours were all deleted too, the entry point would reach none of the
// nodes inserted after, and they would be lost to graph search for good.
void HnswIndex::replace_deleted_entry() {
  std::lock_guard guard(top_level_mutex_);
  const Entry entry = load_entry();
  if (entry.level < 0 || !is_deleted(entry.slot)) return;
  Entry best{0, -1};  // no live node: the graph starts afresh with the next insert
  const auto slots = static_cast<std::uint32_t>(size());
  for (std::uint32_t slot = 0; slot < slots && best.level < entry.level; ++slot) {
    if (!is_deleted(slot) && graph_.level(slot) > best.level) best = {slot, graph_.level(slot)};
  }
  store_entry(best);
}

// If `node` links to `deleted` on `level`, replaces its list by the heuristic's choice among its
// live neighbours and the live neighbours of `deleted`.
void HnswIndex::repair_node(std::uint32_t node, std::uint32_t deleted, int level, Workspace& ws) {
  std::lock_guard guard(graph_.lock(node));
  const std::uint32_t count = graph_.copy_neighbors(node, level, ws.links.data());
  if (std::find(ws.links.data(), ws.links.data() + count, deleted) == ws.links.data() + count)
    return;
  const float* row = vectors_.row(node);
  ws.pruned.clear();
  const auto consider = [&](std::uint32_t candidate) {
    if (candidate == node || is_deleted(candidate)) return;
    const bool known = std::any_of(ws.pruned.begin(), ws.pruned.end(),
                                   [candidate](const Neighbor& n) { return n.slot == candidate; });
    if (!known) ws.pruned.push_back({space_.distance(row, vectors_.row(candidate)), candidate});
  };
  for (std::uint32_t i = 0; i < count; ++i) consider(ws.links[i]);
  const std::uint32_t bridged = graph_.copy_neighbors(deleted, level, ws.unvisited.data());
  for (std::uint32_t i = 0; i < bridged; ++i) consider(ws.unvisited[i]);
  std::sort(ws.pruned.begin(), ws.pruned.end());
  select_neighbors(ws.pruned, graph_.max_degree(level), kStrictSlack, ws.kept);
  write_list(node, level, ws.kept, ws);
}

}  // namespace omendb
