#include "index/hnsw_graph.h"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cstring>

namespace omendb {
HnswGraph::HnswGraph(std::uint32_t m)
    : m_(m),
      level0_(level0_record_words() * sizeof(std::uint32_t), alignof(std::uint32_t)),
      upper_ptr_(sizeof(std::uint32_t*), alignof(std::uint32_t*)),
      locks_(std::make_unique<std::array<SpinLock, kLockCount>>()) {}

HnswGraph::~HnswGraph() = default;

void HnswGraph::reserve(std::size_t nodes) {
  level0_.reserve(nodes);
  upper_ptr_.reserve(nodes);
}

void HnswGraph::reserve_to_fill(std::size_t nodes) {
  level0_.reserve_to_fill(nodes);
  upper_ptr_.reserve_to_fill(nodes);
}

std::uint32_t* HnswGraph::allocate_upper_block(std::size_t words) {
  std::lock_guard guard(pool_mutex_);
  if (pool_used_ + words > kPoolChunkWords) {
    pool_chunks_.push_back(std::make_unique<std::uint32_t[]>(kPoolChunkWords));
    pool_used_ = 0;
    pool_words_ += kPoolChunkWords;
  }
  std::uint32_t* block = pool_chunks_.back().get() + pool_used_;
  pool_used_ += words;
  return block;
}

void HnswGraph::init_node(std::uint32_t node, int level) {
  assert(level >= 0 && level <= kMaxLevel);
  std::uint32_t* block = nullptr;
  if (level > 0) {
    block = allocate_upper_block(1 + static_cast<std::size_t>(level) * upper_list_words());
    std::fill_n(block, 1 + static_cast<std::size_t>(level) * upper_list_words(), 0u);
    block[0] = static_cast<std::uint32_t>(level);
  }
  std::atomic_ref<std::uint32_t*>(*upper_ptr_.row_as<std::uint32_t*>(node))
      .store(block, std::memory_order_release);
  std::atomic_ref<std::uint32_t>(*level0_.row_as<std::uint32_t>(node))
      .store(0, std::memory_order_release);
}

void HnswGraph::restore_level0(std::span<const std::byte> records) noexcept {
  level0_.copy_in(0, records.data(), records.size() / level0_.row_bytes());
}

void HnswGraph::restore_upper(std::uint32_t node, int level, std::span<const std::byte> lists) {
  assert(level >= 1 && level <= kMaxLevel);
  assert(lists.size() ==
         static_cast<std::size_t>(level) * upper_list_words() * sizeof(std::uint32_t));
  std::uint32_t* block = allocate_upper_block(1 + lists.size() / sizeof(std::uint32_t));
  block[0] = static_cast<std::uint32_t>(level);
  std::memcpy(block + 1, lists.data(), lists.size());
  *upper_ptr_.row_as<std::uint32_t*>(node) = block;
}

int HnswGraph::level(std::uint32_t node) const noexcept {
  const std::uint32_t* block = upper_block(node);
  return block == nullptr ? 0 : static_cast<int>(block[0]);
}

void HnswGraph::set_neighbors(std::uint32_t node, int level,
                              std::span<const std::uint32_t> ids) noexcept {
  assert(ids.size() <= max_degree(level));
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
  return level0_.allocated_bytes() + upper_ptr_.allocated_bytes() + sizeof(*locks_) +
         pool_words_ * sizeof(std::uint32_t);
}

}  // namespace omendb
