// Compaction of the HNSW index: unlink every deleted node, then copy the live nodes, in slot order,
// to a new index with dense slots. The source stays searchable throughout.
#include <algorithm>
#include <cstring>
#include <limits>

#include "index/hnsw_index.h"
#include "util/thread_pool.h"

namespace omendb {
namespace {

constexpr std::uint32_t kNoSlot = std::numeric_limits<std::uint32_t>::max();

}  // namespace

void HnswIndex::unlink_deleted(ThreadPool& pool) {
  const auto limit = static_cast<std::uint32_t>(size());
  ThreadWorkspaces per_thread(workspaces_, pool.size(), graph_.max_degree(0) + 1, space_.dim());
  pool.parallel_for(limit, 256, [&](std::size_t thread, std::size_t i) {
    const auto node = static_cast<std::uint32_t>(i);
    if (is_deleted(node)) return;
    Workspace& ws = per_thread[thread];
    for (int level = graph_.level(node); level >= 0; --level) {
      // Each repair removes one deleted link and adds none, so this ends.
      for (;;) {
        const std::uint32_t count = graph_.copy_neighbors(node, level, ws.links.data());
        const std::uint32_t* end = ws.links.data() + count;
        const std::uint32_t* gone =
            std::find_if(static_cast<const std::uint32_t*>(ws.links.data()), end,
                         [this](std::uint32_t s) { return is_deleted(s); });
        if (gone == end) break;
        repair_node(node, *gone, level, ws);
      }
    }
  });
}

HnswIndex::Compacted HnswIndex::compacted(ThreadPool& pool) {
  Compacted result;
  const auto limit = static_cast<std::uint32_t>(size());
  for (std::uint32_t slot = 0; slot < limit; ++slot) {
    if (!is_deleted(slot)) result.kept.push_back(slot);
  }
  result.index = compacted_to(result.kept, pool);
  return result;
}

std::unique_ptr<HnswIndex> HnswIndex::compacted_to(std::span<const std::uint32_t> kept,
                                                   ThreadPool& pool) {
  unlink_deleted(pool);
  const auto limit = static_cast<std::uint32_t>(size());
  std::vector<std::uint32_t> new_slot(limit, kNoSlot);
  for (std::uint32_t i = 0; i < kept.size(); ++i) new_slot[kept[i]] = i;
  const std::size_t count = kept.size();
  auto fresh = std::make_unique<HnswIndex>(space_.metric(), space_.dim(), params_);
  fresh->vectors_.reserve_to_fill(count);
  fresh->graph_.reserve_to_fill(count);
  fresh->deleted_.reserve_to_fill(count);
  if (fresh->codes_) fresh->codes_->reserve_to_fill(count);

  std::vector<std::uint32_t> links(graph_.max_degree(0));
  Entry top{0, -1};
  for (std::uint32_t slot = 0; slot < count; ++slot) {
    const std::uint32_t old = kept[slot];
    std::memcpy(fresh->vectors_.mutable_row(slot), vectors_.row(old), space_.dim() * sizeof(float));
    if (is_deleted(old)) {  // kept, but not in this graph (a field its record lacks)
      fresh->graph_.init_node(slot, 0);
      fresh->mark_deleted(slot);
      continue;
    }
    const int level = graph_.level(old);
    fresh->graph_.init_node(slot, level);
    for (int l = 0; l <= level; ++l) {
      const std::uint32_t links_count = graph_.copy_neighbors(old, l, links.data());
      std::uint32_t kept_links = 0;
      for (std::uint32_t i = 0; i < links_count; ++i) {
        if (new_slot[links[i]] != kNoSlot) links[kept_links++] = new_slot[links[i]];
      }
      fresh->graph_.set_neighbors(slot, l, {links.data(), kept_links});
    }
    if (level > top.level) top = {slot, level};
  }
  // Keep the old entry point when it survives (the graph was built around it), else the live
  // node with the highest level.
  const Entry entry = load_entry();
  if (entry.level >= 0 && !is_deleted(entry.slot) && new_slot[entry.slot] != kNoSlot) {
    top = {new_slot[entry.slot], entry.level};
  }
  fresh->encode_codes(0, count);
  fresh->publish(count);
  if (top.level >= 0) fresh->store_entry(top);
  // Unlinking pruned lists with the heuristic: some live nodes may have lost their last link.
  fresh->reconnect_weak(pool);
  return fresh;
}

}  // namespace omendb
