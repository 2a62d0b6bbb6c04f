#include "index/hnsw_graph.h"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <vector>

namespace omendb {
HnswGraph::HnswGraph(std::uint32_t m)
    : m_(m),
      level0_((1 + low_words() + byte_words()) * sizeof(std::uint32_t), alignof(std::uint32_t)),
      top_(byte_words() * sizeof(std::uint32_t), alignof(std::uint32_t)),
      upper_(sizeof(std::uint32_t), alignof(std::uint32_t)),
      locks_(std::make_unique<std::array<SpinLock, kLockCount>>()),
      pool_(sizeof(std::uint32_t), alignof(std::uint32_t), kPoolFirstChunkWords) {}

HnswGraph::~HnswGraph() = default;

void HnswGraph::reserve(std::size_t nodes) {
  level0_.reserve(nodes);
  upper_.reserve(nodes);
  reserve_wide(nodes);
}

void HnswGraph::reserve_to_fill(std::size_t nodes) {
  level0_.reserve_to_fill(nodes);
  upper_.reserve_to_fill(nodes);
  reserve_wide(nodes);
}

void HnswGraph::reserve_wide(std::size_t nodes) {
  if (nodes <= kNarrowNodes) return;
  // Every node gets a row of top bytes, zeros: right for the ids its list holds now, all below
  // 2^24. Readers use the rows once they see wide_, which the release orders after them.
  top_.reserve(nodes);
  wide_.store(true, std::memory_order_release);
}

std::uint32_t HnswGraph::allocate_upper_block(std::size_t words) {
  std::lock_guard guard(pool_mutex_);
  const std::size_t room = pool_.rows_to_chunk_end(pool_used_);
  if (room < words) pool_used_ += room;  // the block would cross a chunk's end: skip the rest
  if (pool_used_ + words > std::numeric_limits<std::uint32_t>::max()) {
    throw std::length_error("HNSW graph: more upper-level lists than 32-bit offsets reach");
  }
  pool_.reserve(pool_used_ + words);
  const auto offset = static_cast<std::uint32_t>(pool_used_);
  pool_used_ += words;
  return offset;
}

void HnswGraph::init_node(std::uint32_t node, int level) {
  assert(level >= 0 && level <= kMaxLevel);
  std::uint32_t offset = 0;
  if (level > 0) {
    // The pool's words start as zeros and are handed out once: the lists are empty.
    offset = allocate_upper_block(1 + static_cast<std::size_t>(level) * upper_list_words());
    pool_.row_as<std::uint32_t>(offset)[0] = static_cast<std::uint32_t>(level);
  }
  std::atomic_ref<std::uint32_t>(*upper_.row_as<std::uint32_t>(node))
      .store(offset, std::memory_order_release);
  std::atomic_ref<std::uint32_t>(*level0_.row_as<std::uint32_t>(node))
      .store(0, std::memory_order_release);
}

void HnswGraph::restore_level0(std::span<const std::byte> records) noexcept {
  const std::size_t record_bytes = saved_level0_record_words() * sizeof(std::uint32_t);
  std::vector<std::uint32_t> words(saved_level0_record_words());
  for (std::size_t node = 0; node < records.size() / record_bytes; ++node) {
    std::memcpy(words.data(), records.data() + node * record_bytes, record_bytes);
    set_level0(static_cast<std::uint32_t>(node), {words.data() + 1, words[0]});
  }
}

void HnswGraph::restore_upper(std::uint32_t node, int level, std::span<const std::byte> lists) {
  assert(level >= 1 && level <= kMaxLevel);
  assert(lists.size() ==
         static_cast<std::size_t>(level) * upper_list_words() * sizeof(std::uint32_t));
  const std::uint32_t offset = allocate_upper_block(1 + lists.size() / sizeof(std::uint32_t));
  std::uint32_t* block = pool_.row_as<std::uint32_t>(offset);
  block[0] = static_cast<std::uint32_t>(level);
  std::memcpy(block + 1, lists.data(), lists.size());
  *upper_.row_as<std::uint32_t>(node) = offset;
}

int HnswGraph::level(std::uint32_t node) const noexcept {
  const std::uint32_t* block = upper_block(node);
  return block == nullptr ? 0 : static_cast<int>(block[0]);
}

void HnswGraph::set_level0(std::uint32_t node, std::span<const std::uint32_t> ids) noexcept {
  std::uint32_t* record = level0_.row_as<std::uint32_t>(node);
  std::uint32_t* low = record + 1;
  std::uint32_t* high = low + low_words();
  const auto store = [](std::uint32_t& word, std::uint32_t value) {
    std::atomic_ref<std::uint32_t>(word).store(value, std::memory_order_release);
  };
  // The id at `i`, 0 past the end (unused halves and bytes of the last word).
  const auto id = [&](std::size_t i) { return i < ids.size() ? ids[i] : 0u; };
  const std::uint32_t header = load_relaxed(record[0]);
  const std::uint32_t version = header >> kVersionShift;
  std::atomic_ref<std::uint32_t>(record[0]).store(
      ((version + 1) << kVersionShift) | (header & kCountMask), std::memory_order_relaxed);
  // Each word's release store orders the odd header before it: a reader that loads the word
  // (acquire) then sees a header other than the one it started from, and copies again.
  for (std::size_t w = 0; w < (ids.size() + 1) / 2; ++w) {
    store(low[w], (id(2 * w) & 0xFFFF) | (id(2 * w + 1) & 0xFFFF) << 16);
  }
  const auto store_bytes = [&](std::uint32_t* words, int shift) {
    for (std::size_t w = 0; w < (ids.size() + 3) / 4; ++w) {
      std::uint32_t word = 0;
      for (std::size_t j = 0; j < 4; ++j) word |= ((id(4 * w + j) >> shift) & 0xFF) << (8 * j);
      store(words[w], word);
    }
  };
  store_bytes(high, 16);
  if (wide_.load(std::memory_order_relaxed)) store_bytes(top_.row_as<std::uint32_t>(node), 24);
  store(record[0], ((version + 2) << kVersionShift) | static_cast<std::uint32_t>(ids.size()));
}

void HnswGraph::set_neighbors(std::uint32_t node, int level,
                              std::span<const std::uint32_t> ids) noexcept {
  assert(ids.size() <= max_degree(level));
  if (level == 0) {
    set_level0(node, ids);
    return;
  }
  std::uint32_t* words = list(node, level);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    std::atomic_ref<std::uint32_t>(words[1 + i]).store(ids[i], std::memory_order_relaxed);
  }
  std::atomic_ref<std::uint32_t>(words[0]).store(static_cast<std::uint32_t>(ids.size()),
                                                 std::memory_order_release);
}

SpinLock& HnswGraph::lock(std::uint32_t node) noexcept {
  // Fibonacci hashing spreads neighbouring nodes (inserted at the same time) over distant locks.
  const std::uint32_t stripe = (node * 0x9E3779B1u) >> (32 - 16);
  return (*locks_)[stripe];
}

std::size_t HnswGraph::memory_bytes() const noexcept {
  return level0_.allocated_bytes() + top_.allocated_bytes() + upper_.allocated_bytes() +
         sizeof(*locks_) + pool_.allocated_bytes();
}

}  // namespace omendb
