// The neighbour lists of an HNSW graph.
//
// Level 0: one fixed-stride record per node, [count, 2m ids] as uint32, in a RowArena (132 bytes
// at m=16). Upper levels: nodes above level 0 (about 1 in m) get one block [level, then per level
// (count, m ids)] from a bump pool; every node has an 8-byte pointer to its block (null at level
// 0).
//
// Concurrency: readers copy lists without locks. Every list word is accessed atomically (plain
// moves on x86): a writer stores the ids, then the count with release; a reader loads the count
// with acquire, then the ids. A reader racing a writer may see a list mid-update, but every id it
// sees is a node that was linked. Writers of one node's lists hold lock(node); a thread never
// holds two node locks at once. Locks are 65,536 striped spin locks: no memory per node.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "collections/row_arena.h"
#include "index/spin_lock.h"

namespace omendb {

class HnswGraph {
 public:
  static constexpr int kMaxLevel = 30;

  explicit HnswGraph(std::uint32_t m);
  ~HnswGraph();
  HnswGraph(const HnswGraph&) = delete;
  HnswGraph& operator=(const HnswGraph&) = delete;

  std::uint32_t m() const noexcept { return m_; }
  // Most neighbours a node keeps at `level`: 2m at level 0, m above.
  std::uint32_t max_degree(int level) const noexcept { return level == 0 ? 2 * m_ : m_; }

  std::size_t capacity() const noexcept { return level0_.capacity(); }
  // Makes room for nodes [0, nodes). Writer only; safe while readers use existing nodes.
  void reserve(std::size_t nodes);
  // As reserve(nodes), before filling exactly nodes [0, nodes) at once (a restore, a compaction):
  // see RowArena::reserve_to_fill.
  void reserve_to_fill(std::size_t nodes);

  // Gives `node` empty lists on levels 0..level. Precondition: node < capacity(), not yet linked
  // from any list, level in [0, kMaxLevel]. Allocates only when level > 0.
  void init_node(std::uint32_t node, int level);

  // Highest level `node` has lists on. Lock-free.
  int level(std::uint32_t node) const noexcept;

  // Copies node's neighbours on `level` into `out` (room for max_degree(level)) and returns how
  // many. Lock-free; inline, as every step of a graph walk calls it. Precondition: level <=
  // level(node).
  std::uint32_t copy_neighbors(std::uint32_t node, int level, std::uint32_t* out) const noexcept {
    const std::uint32_t* words = list(node, level);
    const std::uint32_t count = std::min(load_acquire(words[0]), max_degree(level));
    for (std::uint32_t i = 0; i < count; ++i) out[i] = load_relaxed(words[1 + i]);
    return count;
  }

  // Replaces node's neighbours on `level`. Precondition: the caller holds lock(node) (or no other
  // thread writes), ids.size() <= max_degree(level).
  void set_neighbors(std::uint32_t node, int level, std::span<const std::uint32_t> ids) noexcept;

  // The lock guarding writes to node's lists.
  SpinLock& lock(std::uint32_t node) noexcept;

  // Address of node's level-0 list, for prefetching.
  const void* level0_address(std::uint32_t node) const noexcept { return level0_.row(node); }

  // Words (u32) of one node's level-0 record: the count, then room for 2m ids.
  std::size_t level0_record_words() const noexcept { return 1 + 2 * std::size_t{m_}; }
  // Words (u32) of one upper-level list: the count, then room for m ids.
  std::size_t upper_list_words() const noexcept { return 1 + std::size_t{m_}; }

  // Restoring a saved graph (HnswIndex::restore). Both copy lists as they are: the caller has
  // checked every count, id and level. Precondition: the nodes are below capacity(), were never
  // initialised or linked, and no other thread uses the graph yet.

  // Copies level-0 records (level0_record_words() little-endian u32 each, packed, any alignment)
  // to nodes [0, records.size() / record bytes). Cost: one memcpy per arena chunk.
  void restore_level0(std::span<const std::byte> records) noexcept;
  // Gives `node` the lists of levels 1..level (1 <= level <= kMaxLevel) copied from `lists`:
  // level * upper_list_words() little-endian u32, level 1 first, any alignment. Cost: one block
  // from the bump pool (which may allocate a chunk) and one memcpy.
  void restore_upper(std::uint32_t node, int level, std::span<const std::byte> lists);

  // Bytes allocated for lists, pointers and locks.
  std::size_t memory_bytes() const noexcept;

 private:
  static std::uint32_t load_acquire(const std::uint32_t& word) noexcept {
    return std::atomic_ref<std::uint32_t>(const_cast<std::uint32_t&>(word))
        .load(std::memory_order_acquire);
  }
  static std::uint32_t load_relaxed(const std::uint32_t& word) noexcept {
    return std::atomic_ref<std::uint32_t>(const_cast<std::uint32_t&>(word))
        .load(std::memory_order_relaxed);
  }
  std::uint32_t* upper_block(std::uint32_t node) const noexcept {
    return std::atomic_ref<std::uint32_t*>(
               *const_cast<RowArena&>(upper_ptr_).row_as<std::uint32_t*>(node))
        .load(std::memory_order_acquire);
  }
  std::uint32_t* list(std::uint32_t node, int level) noexcept {
    if (level == 0) return level0_.row_as<std::uint32_t>(node);
    return upper_block(node) + 1 + static_cast<std::size_t>(level - 1) * upper_list_words();
  }
  const std::uint32_t* list(std::uint32_t node, int level) const noexcept {
    return const_cast<HnswGraph*>(this)->list(node, level);
  }
  std::uint32_t* allocate_upper_block(std::size_t words);

  static constexpr std::size_t kLockCount = 1 << 16;
  static constexpr std::size_t kPoolChunkWords = 1 << 16;

  std::uint32_t m_;
  RowArena level0_;     // per node: count, then 2m ids
  RowArena upper_ptr_;  // per node: std::uint32_t* to its upper block, or null
  std::unique_ptr<std::array<SpinLock, kLockCount>> locks_;

  std::mutex pool_mutex_;  // guards the bump pool below
  std::vector<std::unique_ptr<std::uint32_t[]>> pool_chunks_;
  std::size_t pool_used_ = kPoolChunkWords;  // words used in the last chunk
  std::size_t pool_words_ = 0;
};

}  // namespace omendb
