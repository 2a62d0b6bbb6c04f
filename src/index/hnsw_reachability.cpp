// Keeping every live node findable. Heuristic pruning (in inserts, delete repair and compaction)
// can drop a node's last incoming link, or leave a node with links only from far away; graph search
// then never returns it, even at a large ef. This pass finds such nodes on level 0 and links them
// in again as an insert would.
#include <algorithm>
#include <mutex>

#include "index/hnsw_index.h"
#include "util/thread_pool.h"

namespace omendb {

void HnswIndex::count_changes(std::size_t changes, ThreadPool& pool) {
  changes_since_reconnect_ += changes;
  if (changes_since_reconnect_ * kReconnectEvery >= size()) reconnect_weak(pool);
}

std::size_t HnswIndex::reconnect_weak(ThreadPool& pool) {
  changes_since_reconnect_ = 0;
  // The first round also relinks weakly linked nodes; later ones only nodes still unreachable
  // (linking a node into a full list can drop another node's last link).
  std::size_t relinked = reconnect_round(/*weak_too=*/true, pool);
  for (int round = 1; round < kReconnectRounds; ++round) {
    const std::size_t found = reconnect_round(/*weak_too=*/false, pool);
    if (found == 0) break;
    relinked += found;
  }
  return relinked;
}

std::size_t HnswIndex::reconnect_round(bool weak_too, ThreadPool& pool) {
  const Entry entry = load_entry();
  const auto limit = static_cast<std::uint32_t>(size());
  if (entry.level < 0) return 0;
  WorkspaceLease lease(workspaces_);
  Workspace& ws = *lease;
  ws.prepare(graph_.max_degree(0) + 1, space_.dim());
  const std::vector<std::uint8_t> reached = reachable_from(entry.slot, limit, ws);

  std::vector<std::uint8_t> in_degree(weak_too ? limit : 0, 0);  // live links in, saturating
  if (weak_too) {
    for (std::uint32_t node = 0; node < limit; ++node) {
      if (is_deleted(node)) continue;
      const std::uint32_t count = graph_.copy_neighbors(node, 0, ws.links.data());
      for (std::uint32_t i = 0; i < count; ++i) {
        std::uint8_t& degree = in_degree[ws.links[i]];
        if (degree < 255) ++degree;
      }
    }
  }
  std::vector<std::uint32_t> weak;
  for (std::uint32_t node = 0; node < limit; ++node) {
    if (is_deleted(node) || node == entry.slot) continue;
    bool relink = !reached[node];
    if (weak_too && !relink) {
      relink = in_degree[node] < kMinInDegree ||
               graph_.copy_neighbors(node, 0, ws.links.data()) < kMinOutDegree;
    }
    if (relink) weak.push_back(node);
  }
  if (weak.empty()) return 0;

  ThreadWorkspaces per_thread(workspaces_, pool.size(), graph_.max_degree(0) + 1, space_.dim());
  pool.parallel_for(weak.size(), 4, [&](std::size_t thread, std::size_t i) {
    relink(weak[i], entry, reached, limit, per_thread[thread]);
  });
  return weak.size();
}

// Per node below `limit`: 1 when a walk along level-0 links from `from` gets there. Deleted nodes
// count: they are waypoints of graph search until compaction.
std::vector<std::uint8_t> HnswIndex::reachable_from(std::uint32_t from, std::uint32_t limit,
                                                    Workspace& ws) const {
  std::vector<std::uint8_t> reached(limit, 0);
  std::vector<std::uint32_t> stack{from};
  reached[from] = 1;
  while (!stack.empty()) {
    const std::uint32_t node = stack.back();
    stack.pop_back();
    const std::uint32_t count = graph_.copy_neighbors(node, 0, ws.links.data());
    for (std::uint32_t i = 0; i < count; ++i) {
      const std::uint32_t next = ws.links[i];
      if (next < limit && !reached[next]) {
        reached[next] = 1;
        stack.push_back(next);
      }
    }
  }
  return reached;
}

// Links `node` on level 0 as an insert would: its nearest reachable live nodes, found by a graph
// search, become its neighbours and are asked to link back. The nearest one always links back, in
// place of its farthest link if the heuristic would not keep `node`.
void HnswIndex::relink(std::uint32_t node, Entry entry, const std::vector<std::uint8_t>& reached,
                       std::uint32_t limit, Workspace& ws) {
  const float* row = vectors_.row(node);
  const Neighbor start{space_.distance(row, vectors_.row(entry.slot)), entry.slot};
  search_level(row, greedy_descend(row, start, entry.level, 0, limit, ws), 0,
               params_.ef_construction, limit, ws);
  ws.candidates.nearest(params_.ef_construction, ws.sorted);
  std::erase_if(ws.sorted, [&](const Neighbor& n) {
    return n.slot == node || !reached[n.slot] || is_deleted(n.slot);
  });
  if (ws.sorted.empty()) ws.sorted.push_back(start);  // the entry point is reachable and live
  select_neighbors(ws.sorted, params_.m, ws.selected);
  connect(node, 0, ws.selected, ws);

  const Neighbor host = ws.selected.front();
  std::lock_guard guard(graph_.lock(host.slot));
  const std::uint32_t count = graph_.copy_neighbors(host.slot, 0, ws.links.data());
  if (std::find(ws.links.data(), ws.links.data() + count, node) != ws.links.data() + count) return;
  const float* host_row = vectors_.row(host.slot);
  ws.pruned.clear();
  for (std::uint32_t i = 0; i < count; ++i) {
    ws.pruned.push_back({space_.distance(host_row, vectors_.row(ws.links[i])), ws.links[i]});
  }
  std::sort(ws.pruned.begin(), ws.pruned.end());
  if (count == graph_.max_degree(0)) ws.pruned.pop_back();  // the farthest makes room
  ws.pruned.push_back({host.distance, node});
  std::sort(ws.pruned.begin(), ws.pruned.end());
  write_list(host.slot, 0, ws.pruned, ws);
}

}  // namespace omendb
