// Keeping every live node findable. Heuristic pruning (in inserts, delete repair and compaction)
// can drop a node's last incoming link, or leave a node with links only from far away; graph search
// then never returns it, even at a large ef. This pass finds such nodes on level 0 and links them
// in again as an insert would.
#include <algorithm>
#include <limits>
#include <mutex>

#include "index/hnsw_index.h"
#include "index/hnsw_walk.h"
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
    if (!reached[node] || (weak_too && is_weak(node, in_degree[node], ws))) weak.push_back(node);
  }
  if (weak.empty()) return 0;

  ThreadWorkspaces per_thread(workspaces_, pool.size(), graph_.max_degree(0) + 1, space_.dim());
  pool.parallel_for(weak.size(), 4, [&](std::size_t thread, std::size_t i) {
    relink(weak[i], entry, reached, limit, per_thread[thread]);
  });
  return weak.size();
}

// Whether graph search may fail to return reachable `node`, which has `in_degree` live links in.
bool HnswIndex::is_weak(std::uint32_t node, std::uint8_t in_degree, Workspace& ws) const {
  return in_degree < kMinInDegree || live_out_degree(node, ws) < kMinOutDegree ||
         (in_degree < kFewInLinks && !nearest_links_back(node, ws));
}

// Links from `node` on level 0 to live nodes. Repair relinks only the nodes a deleted node links
// to, so a node whose links to it were one-way keeps them, and may be left with only deleted ones.
std::uint32_t HnswIndex::live_out_degree(std::uint32_t node, Workspace& ws) const {
  const std::uint32_t count = graph_.copy_neighbors(node, 0, ws.links.data());
  return static_cast<std::uint32_t>(
      std::count_if(ws.links.data(), ws.links.data() + count,
                    [this](std::uint32_t to) { return !is_deleted(to); }));
}

// Whether the nearest live node that `node` links to on level 0 links back to it. Graph search for
// a vector settles among its nearest nodes; a node with few incoming links, none from there, is
// reached only from far away and never returned.
bool HnswIndex::nearest_links_back(std::uint32_t node, Workspace& ws) const {
  const Neighbor nearest = nearest_live_link(node, ws);
  if (nearest.slot == node) return false;
  const std::uint32_t back = graph_.copy_neighbors(nearest.slot, 0, ws.links.data());
  return std::find(ws.links.data(), ws.links.data() + back, node) != ws.links.data() + back;
}

// The nearest live node that `node` links to on level 0; `node` itself when it links to none.
Neighbor HnswIndex::nearest_live_link(std::uint32_t node, Workspace& ws) const {
  const std::uint32_t count = graph_.copy_neighbors(node, 0, ws.around.data());
  const float* row = vectors_.row(node);
  Neighbor nearest{std::numeric_limits<float>::infinity(), node};
  for (std::uint32_t i = 0; i < count; ++i) {
    if (is_deleted(ws.around[i])) continue;
    const float distance = space_.distance(row, vectors_.row(ws.around[i]));
    if (distance < nearest.distance) nearest = {distance, ws.around[i]};
  }
  return nearest;
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
  const ExactScorer scorer = exact_scorer(vectors_.row(node));
  const Neighbor start{scorer.distance(entry.slot), entry.slot};
  search_level(scorer, greedy_descend(scorer, start, entry.level, 0, limit, ws), 0,
               params_.ef_construction, limit, ws);
  ws.candidates.nearest(params_.ef_construction, ws.sorted);
  std::erase_if(ws.sorted, [&](const Neighbor& n) {
    return n.slot == node || !reached[n.slot] || is_deleted(n.slot);
  });
  if (ws.sorted.empty()) ws.sorted.push_back(start);  // the entry point is reachable and live
  select_neighbors(ws.sorted, params_.m, new_node_slack(), ws.selected);
  connect(node, 0, ws.selected, ws);

  // The nearest reached node makes `node` reachable; its nearest neighbour (they may differ when
  // `node` kept an older, nearer link) makes it findable.
  const Neighbor host = ws.selected.front();
  link_back(host.slot, node, host.distance, ws);
  const Neighbor nearest = nearest_live_link(node, ws);
  if (nearest.slot != node && nearest.slot != host.slot)
    link_back(nearest.slot, node, nearest.distance, ws);
}

// Adds `node` (at `distance`) to the level-0 list of `host`, in place of its farthest link when
// the list is full, whatever the heuristic would choose.
void HnswIndex::link_back(std::uint32_t host, std::uint32_t node, float distance, Workspace& ws) {
  std::lock_guard guard(graph_.lock(host));
  const std::uint32_t count = graph_.copy_neighbors(host, 0, ws.links.data());
  if (std::find(ws.links.data(), ws.links.data() + count, node) != ws.links.data() + count) return;
  const float* host_row = vectors_.row(host);
  ws.pruned.clear();
  for (std::uint32_t i = 0; i < count; ++i) {
    ws.pruned.push_back({space_.distance(host_row, vectors_.row(ws.links[i])), ws.links[i]});
  }
  std::sort(ws.pruned.begin(), ws.pruned.end());
  if (count == graph_.max_degree(0)) ws.pruned.pop_back();  // the farthest makes room
  ws.pruned.push_back({distance, node});
  std::sort(ws.pruned.begin(), ws.pruned.end());
  write_list(host, 0, ws.pruned, ws);
}

}  // namespace omendb
