// The neighbour lists of an HNSW graph.
//
// Level 0: one fixed-stride record per node in a RowArena, 100 bytes at m=16: a header word
// (count in the low 16 bits, a version in the high 16), then the low 16 bits of each of the 2m
// ids (u16), then bits 16-23 of each (u8, rounded up to whole words). Three bytes an id instead
// of four save 32 bytes a node at m=16 (a quarter of a 128-d sq8 collection's graph), and about
// half of the records now span two cache lines instead of three. Bits 24-31 exist only once the
// graph holds more than 2^24 nodes: reserve() then adds a second arena of one byte per id (zeros,
// which old lists need).
// Upper levels: nodes above level 0 (about 1 in m) get one block [level, then per level (count,
// m ids)] of u32 from a bump pool of words; every node has the 4-byte offset of its block in the
// pool (0, which no block has, at level 0).
//
// Concurrency: readers copy lists without locks. Every word is accessed atomically (plain moves
// on x86). An id spans two words on level 0, so level-0 records are seqlocked: a writer makes the
// header's version odd, stores the words with release, then stores the new count and the next
// even version with release; a reader loads the header with acquire, the words with acquire, and
// the header again, and copies again until both headers agree on an even version. A reader thus
// sees each level-0 list as some writer left it, never torn. Upper lists are u32 words: a writer
// stores the ids, then the count with release; a reader loads the count with acquire, then the
// ids, and may see a list mid-update, but every id it sees is a node that was linked. Writers of
// one node's lists hold lock(node); a thread never holds two node locks at once. Locks are 65,536
// striped spin locks: no memory per node.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>

#include "collections/row_arena.h"
#include "index/spin_lock.h"
#include "util/prefetch.h"

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
  // Makes room for nodes [0, nodes), and for ids of 25 bits or more once nodes > 2^24. Writer
  // only; safe while readers use existing nodes.
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
  // many. Lock-free (a level-0 copy is retried while a writer changes that list); inline, as
  // every step of a graph walk calls it. Precondition: level <= level(node).
  std::uint32_t copy_neighbors(std::uint32_t node, int level, std::uint32_t* out) const noexcept {
    if (level == 0) return copy_level0(node, out);
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

  // Starts loading node's level-0 record into cache: every line it spans (two or three of the
  // 100-byte records at m=16), as copy_neighbors reads it all.
  void prefetch_level0(std::uint32_t node) const noexcept {
    prefetch_bytes(level0_.row(node), level0_.row_bytes());
  }

  // Bytes of one node's level-0 record in memory (100 at m=16, before the top arena).
  std::size_t level0_record_bytes() const noexcept { return level0_.row_bytes(); }

  // Words (u32) of a level-0 record as snapshots store it (restore_level0, HnswIndex::save_graph):
  // the count, then room for 2m ids of 4 bytes.
  std::size_t saved_level0_record_words() const noexcept { return 1 + 2 * std::size_t{m_}; }
  // Words (u32) of one upper-level list: the count, then room for m ids.
  std::size_t upper_list_words() const noexcept { return 1 + std::size_t{m_}; }

  // Restoring a saved graph (HnswIndex::restore). Both copy lists as they are: the caller has
  // checked every count, id and level. Precondition: the nodes are below capacity(), were never
  // initialised or linked, and no other thread uses the graph yet.

  // Stores level-0 records as snapshots hold them (saved_level0_record_words() little-endian u32
  // each, packed, any alignment) for nodes [0, records.size() / record bytes). Cost: one pass
  // over the records.
  void restore_level0(std::span<const std::byte> records) noexcept;
  // Gives `node` the lists of levels 1..level (1 <= level <= kMaxLevel) copied from `lists`:
  // level * upper_list_words() little-endian u32, level 1 first, any alignment. Cost: one block
  // from the bump pool (which may allocate a chunk) and one memcpy.
  void restore_upper(std::uint32_t node, int level, std::span<const std::byte> lists);

  // Bytes allocated for lists, pointers and locks.
  std::size_t memory_bytes() const noexcept;

 private:
  // A level-0 header: the count in the low 16 bits, the version in the high 16 (odd while a
  // writer changes the list).
  static constexpr std::uint32_t kCountMask = 0xFFFF;
  static constexpr int kVersionShift = 16;
  // Nodes whose ids fit the low and high parts (24 bits); more add the top arena.
  static constexpr std::size_t kNarrowNodes = std::size_t{1} << 24;

  // Words of a level-0 record's parts: the 2m low halves (u16) and the 2m high bytes (u8).
  std::uint32_t low_words() const noexcept { return m_; }
  std::uint32_t byte_words() const noexcept { return (2 * m_ + 3) / 4; }

  // copy_neighbors() on level 0: decodes the record, copying again until the header read before
  // and after agree on an even version (no writer touched the list meanwhile).
  std::uint32_t copy_level0(std::uint32_t node, std::uint32_t* out) const noexcept {
    const std::uint32_t* record = level0_.row_as<std::uint32_t>(node);
    const std::uint32_t* low = record + 1;
    const std::uint32_t* high = low + low_words();
    for (;;) {
      const std::uint32_t header = load_acquire(record[0]);
      if (((header >> kVersionShift) & 1) != 0) {  // a writer is changing the list
        cpu_relax();
        continue;
      }
      const std::uint32_t count = std::min(header & kCountMask, max_degree(0));
      for (std::uint32_t w = 0; w < (count + 1) / 2; ++w) {  // may write out[count]: 2m is even
        const std::uint32_t word = load_acquire(low[w]);
        out[2 * w] = word & 0xFFFF;
        out[2 * w + 1] = word >> 16;
      }
      add_bytes(high, count, 16, out);
      if (wide_.load(std::memory_order_acquire)) {
        add_bytes(top_.row_as<std::uint32_t>(node), count, 24, out);
      }
      if (load_acquire(record[0]) == header) return count;
    }
  }
  // ORs byte i of `words` (little-endian), shifted left by `shift`, into out[i] for i < count.
  static void add_bytes(const std::uint32_t* words, std::uint32_t count, int shift,
                        std::uint32_t* out) noexcept {
    for (std::uint32_t w = 0; w < (count + 3) / 4; ++w) {
      const std::uint32_t word = load_acquire(words[w]);
      const std::uint32_t end = std::min(count, 4 * w + 4);
      for (std::uint32_t i = 4 * w; i < end; ++i) {
        out[i] |= ((word >> (8 * (i - 4 * w))) & 0xFF) << shift;
      }
    }
  }
  void set_level0(std::uint32_t node, std::span<const std::uint32_t> ids) noexcept;
  // Marks the graph wide (ids of more than 24 bits) once it makes room for more than 2^24 nodes.
  void reserve_wide(std::size_t nodes);

  static std::uint32_t load_acquire(const std::uint32_t& word) noexcept {
    return std::atomic_ref<std::uint32_t>(const_cast<std::uint32_t&>(word))
        .load(std::memory_order_acquire);
  }
  static std::uint32_t load_relaxed(const std::uint32_t& word) noexcept {
    return std::atomic_ref<std::uint32_t>(const_cast<std::uint32_t&>(word))
        .load(std::memory_order_relaxed);
  }
  // Node's upper-level block, or null at level 0.
  std::uint32_t* upper_block(std::uint32_t node) const noexcept {
    const std::uint32_t offset =
        std::atomic_ref<std::uint32_t>(*const_cast<RowArena&>(upper_).row_as<std::uint32_t>(node))
            .load(std::memory_order_acquire);
    return offset == 0 ? nullptr : const_cast<RowArena&>(pool_).row_as<std::uint32_t>(offset);
  }
  // Node's list on upper level `level` (>= 1): the count, then m ids.
  std::uint32_t* list(std::uint32_t node, int level) noexcept {
    return upper_block(node) + 1 + static_cast<std::size_t>(level - 1) * upper_list_words();
  }
  const std::uint32_t* list(std::uint32_t node, int level) const noexcept {
    return const_cast<HnswGraph*>(this)->list(node, level);
  }
  // The pool offset of a new block of `words` contiguous words. Thread-safe (pool_mutex_).
  std::uint32_t allocate_upper_block(std::size_t words);

  static constexpr std::size_t kLockCount = 1 << 16;
  static constexpr std::size_t kPoolFirstChunkWords = 1 << 16;

  std::uint32_t m_;
  RowArena level0_;                // per node: header, then the ids' low halves and high bytes
  RowArena top_;                   // per node: the ids' top bytes, once wide_
  std::atomic<bool> wide_{false};  // set (release) after top_ covers every node
  RowArena upper_;                 // per node: u32 offset of its upper block in pool_, or 0
  std::unique_ptr<std::array<SpinLock, kLockCount>> locks_;

  std::mutex pool_mutex_;      // guards the bump allocation below
  RowArena pool_;              // one u32 word a row; blocks never cross a chunk's end
  std::size_t pool_used_ = 1;  // words handed out; word 0 stays unused (offset 0 = no block)
};

}  // namespace omendb
