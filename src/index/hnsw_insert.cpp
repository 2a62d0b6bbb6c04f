// Write path of the HNSW index: inserting one node, choosing its neighbours with the heuristic,
// and linking it both ways.
#include <algorithm>
#include <cmath>
#include <mutex>

#include "index/hnsw_index.h"
#include "index/hnsw_walk.h"

namespace omendb {
namespace {

// splitmix64: a well-mixed 64-bit hash, so each slot's level is a fixed function of seed and slot.
std::uint64_t mix(std::uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace

int HnswIndex::random_level(std::uint32_t slot) const noexcept {
  // Uniform in (0, 1]: 53 random bits, never zero.
  const double uniform = static_cast<double>((mix(params_.seed ^ mix(slot)) >> 11) + 1) * 0x1.0p-53;
  const double level = -std::log(uniform) * level_multiplier_;
  return static_cast<int>(std::min<double>(level, HnswGraph::kMaxLevel));
}

namespace {

// The heuristic of the HNSW paper (algorithm 4, without extending candidates), relaxed by `slack`
// as Vamana's robust pruning relaxes it by alpha: walk the candidates nearest first and keep one
// unless some node kept so far is closer to it, by a factor of `slack`, than the base node is.
// This keeps links pointing in diverse directions, which is what makes the graph navigable on
// clustered data; slack > 1 also keeps some longer links the strict rule (slack 1) drops, which
// shortens walks. Distances to the base come with the candidates and are not recomputed;
// distance_to_kept(candidate, i) gives the distance to selected[i], and on_keep(slot, i) is called
// as a candidate becomes selected[i].
template <class DistanceToKept, class OnKeep>
void choose_diverse(std::span<const Neighbor> sorted_candidates, std::size_t max_count,
                    float slack, std::vector<Neighbor>& selected, DistanceToKept distance_to_kept,
                    OnKeep on_keep) {
  selected.clear();
  if (sorted_candidates.size() <= max_count) {  // room for all: pruning would only lose links
    selected.assign(sorted_candidates.begin(), sorted_candidates.end());
    return;
  }
  for (const Neighbor& candidate : sorted_candidates) {
    if (selected.size() >= max_count) break;
    bool diverse = true;
    for (std::size_t i = 0; i < selected.size(); ++i) {
      if (slack * distance_to_kept(candidate.slot, i) < candidate.distance) {
        diverse = false;
        break;
      }
    }
    if (diverse) {
      on_keep(candidate.slot, selected.size());
      selected.push_back(candidate);
    }
  }
}

}  // namespace

void HnswIndex::select_neighbors(std::span<const Neighbor> sorted_candidates, std::size_t max_count,
                                 float slack, std::vector<Neighbor>& selected) const {
  choose_diverse(
      sorted_candidates, max_count, slack, selected,
      [&](std::uint32_t slot, std::size_t i) {
        return space_.distance(vectors_.row(slot), vectors_.row(selected[i].slot));
      },
      [](std::uint32_t, std::size_t) {});
}

// Quantized: each kept node becomes a code query once, and every candidate is compared with it by
// one code kernel call, so no float row is read (at dim 768 the float distances were a third of
// the build).
void HnswIndex::choose_neighbors(std::span<const Neighbor> sorted_candidates,
                                 std::size_t max_count, float slack,
                                 std::vector<Neighbor>& selected, Workspace& ws) const {
  if (!codes_) {
    select_neighbors(sorted_candidates, max_count, slack, selected);
    return;
  }
  if (ws.kept_queries.size() < max_count) ws.kept_queries.resize(max_count);
  choose_diverse(
      sorted_candidates, max_count, slack, selected,
      [&](std::uint32_t slot, std::size_t i) { return ws.kept_queries[i].distance(*codes_, slot); },
      [&](std::uint32_t slot, std::size_t i) {
        ws.kept_queries[i].prepare_from_codes(*codes_, slot, space_.metric());
      });
}

// Adds `to` (at `distance` from `from`) to from's list on `level`; a full list is pruned back to
// its maximum with the heuristic.
void HnswIndex::add_link(std::uint32_t from, std::uint32_t to, float distance, int level,
                         Workspace& ws) {
  const std::uint32_t max_degree = graph_.max_degree(level);
  std::lock_guard guard(graph_.lock(from));
  const std::uint32_t count = graph_.copy_neighbors(from, level, ws.links.data());
  if (std::find(ws.links.data(), ws.links.data() + count, to) != ws.links.data() + count) return;
  if (count < max_degree) {
    ws.links[count] = to;
    graph_.set_neighbors(from, level, {ws.links.data(), count + 1});
    return;
  }
  // Code distances from `from` when quantized (choose_neighbors compares code distances), else
  // exact ones.
  if (codes_) ws.list_owner.prepare_from_codes(*codes_, from, space_.metric());
  const float* from_row = vectors_.row(from);
  const auto distance_from = [&](std::uint32_t id) {
    return codes_ ? ws.list_owner.distance(*codes_, id)
                  : space_.distance(from_row, vectors_.row(id));
  };
  ws.pruned.clear();
  ws.pruned.push_back({codes_ ? distance_from(to) : distance, to});
  for (std::uint32_t i = 0; i < count; ++i) {
    if (is_deleted(ws.links[i])) continue;  // a full list sheds its deleted links first
    ws.pruned.push_back({distance_from(ws.links[i]), ws.links[i]});
  }
  std::sort(ws.pruned.begin(), ws.pruned.end());
  choose_neighbors(ws.pruned, max_degree, kStrictSlack, ws.kept, ws);
  write_list(from, level, ws.kept, ws);
}

void HnswIndex::write_list(std::uint32_t node, int level, std::span<const Neighbor> neighbors,
                           Workspace& ws) {
  ws.ids.clear();
  for (const Neighbor& neighbor : neighbors) ws.ids.push_back(neighbor.slot);
  graph_.set_neighbors(node, level, ws.ids);
}

// Gives `slot` its chosen neighbours on `level` and links each of them back to it. Other inserts
// may already have linked themselves to `slot` here; their links are kept (pruned if too many).
void HnswIndex::connect(std::uint32_t slot, int level, std::span<const Neighbor> selected,
                        Workspace& ws) {
  {
    std::lock_guard guard(graph_.lock(slot));
    const std::uint32_t existing = graph_.copy_neighbors(slot, level, ws.links.data());
    ws.ids.assign(ws.links.data(), ws.links.data() + existing);
    for (const Neighbor& neighbor : selected) {
      if (std::find(ws.ids.begin(), ws.ids.end(), neighbor.slot) == ws.ids.end()) {
        ws.ids.push_back(neighbor.slot);
      }
    }
    if (ws.ids.size() > graph_.max_degree(level)) {
      const float* row = vectors_.row(slot);
      // Code distances from this node's own codes: connect also runs for relinks, whose
      // workspace holds no prepared query (reading ws.code_query there read another node's, or
      // none: a crash that the crash-state exploration found).
      if (codes_) ws.list_owner.prepare_from_codes(*codes_, slot, space_.metric());
      ws.pruned.clear();
      for (std::uint32_t id : ws.ids) {
        const float distance = codes_ ? ws.list_owner.distance(*codes_, id)
                                      : space_.distance(row, vectors_.row(id));
        ws.pruned.push_back({distance, id});
      }
      std::sort(ws.pruned.begin(), ws.pruned.end());
      choose_neighbors(ws.pruned, graph_.max_degree(level), kStrictSlack, ws.kept, ws);
      write_list(slot, level, ws.kept, ws);
    } else {
      graph_.set_neighbors(slot, level, ws.ids);
    }
  }
  for (const Neighbor& neighbor : selected)
    add_link(neighbor.slot, slot, neighbor.distance, level, ws);
}

Neighbor HnswIndex::find_candidates(std::uint32_t slot, Neighbor nearest, int level,
                                    std::uint32_t limit, Workspace& ws) const {
  if (codes_) {
    // Walk on the codes (ws.code_query holds this row); choose_neighbors compares code distances.
    const CodeScorer scorer(*codes_, ws.code_query);
    search_level(scorer, {scorer.distance(nearest.slot), nearest.slot}, level,
                 params_.ef_construction, limit, ws);
  } else {
    search_level(exact_scorer(vectors_.row(slot)), nearest, level, params_.ef_construction, limit,
                 ws);
  }
  ws.candidates.nearest(params_.ef_construction, ws.sorted);
  std::erase_if(ws.sorted, [this, slot](const Neighbor& neighbor) {
    return neighbor.slot == slot || is_deleted(neighbor.slot);  // never link to a deleted node
  });
  return ws.sorted.empty() ? nearest : ws.sorted.front();
}

void HnswIndex::insert(std::uint32_t slot, std::uint32_t limit, Workspace& ws) {
  ws.prepare(graph_.max_degree(0) + 1, space_.dim());
  const int level = random_level(slot);
  graph_.init_node(slot, level);

  // An insert that raises the top level holds this lock throughout, so the entry point moves to a
  // fully linked node and never to one mid-insert.
  std::unique_lock top_level(top_level_mutex_, std::defer_lock);
  Entry entry = load_entry();
  if (level > entry.level) {
    top_level.lock();
    entry = load_entry();
    if (level <= entry.level) top_level.unlock();
  }
  if (entry.level < 0) {
    store_entry({slot, level});
    return;
  }

  // Neighbours are chosen top-down, as each level's search starts from the one above, but linked
  // bottom-up: a concurrent search that reaches `slot` on some level then always finds its lists
  // on the levels below filled. Linked top-down, other inserts of the same batch could descend to
  // it, find its lower lists still empty and link only to it (or to each other, at random).
  const int top = std::min(level, entry.level);
  if (ws.selected_by_level.size() < static_cast<std::size_t>(top) + 1)
    ws.selected_by_level.resize(static_cast<std::size_t>(top) + 1);
  const float* row = vectors_.row(slot);
  Neighbor nearest;
  if (codes_) {
    ws.code_query.prepare(row, space_.dim(), space_.metric());
    const CodeScorer scorer(*codes_, ws.code_query);
    nearest = greedy_descend(scorer, {scorer.distance(entry.slot), entry.slot}, entry.level, level,
                             limit, ws);
  } else {
    const ExactScorer scorer = exact_scorer(row);
    nearest = greedy_descend(scorer, {scorer.distance(entry.slot), entry.slot}, entry.level, level,
                             limit, ws);
  }
  for (int l = top; l >= 0; --l) {
    nearest = find_candidates(slot, nearest, l, limit, ws);
    choose_neighbors(ws.sorted, params_.m, new_node_slack(),
                     ws.selected_by_level[static_cast<std::size_t>(l)], ws);
  }
  for (int l = 0; l <= top; ++l) {
    const std::vector<Neighbor>& selected = ws.selected_by_level[static_cast<std::size_t>(l)];
    if (!selected.empty()) connect(slot, l, selected, ws);
  }
  if (level > entry.level) store_entry({slot, level});
}

}  // namespace omendb
