#include "index/hnsw_index.h"

#include <algorithm>
#include <cmath>

#include "index/insert_order.h"
#include "util/thread_pool.h"

namespace omendb {

HnswIndex::HnswIndex(Metric metric, std::size_t dim, const HnswParams& params)
    : space_(metric, dim),
      params_(params),
      level_multiplier_(1.0 / std::log(std::max<double>(params.m, 2))),
      vectors_(dim),
      codes_(params.quantization == Quantization::kSq8 ? std::make_unique<quant::Sq8Codes>(dim)
                                                       : nullptr),
      graph_(params.m) {}

HnswIndex::~HnswIndex() = default;

void HnswIndex::write_rows(std::span<const float> rows, std::size_t count) {
  const std::size_t first = size_.load(std::memory_order_relaxed);
  const std::size_t dim = space_.dim();
  vectors_.reserve(first + count);
  graph_.reserve(first + count);
  deleted_.reserve(first + count);
  for (std::size_t i = 0; i < count; ++i) {
    space_.prepare(rows.data() + i * dim,
                   vectors_.mutable_row(static_cast<std::uint32_t>(first + i)));
  }
  encode_codes(first, count);
}

void HnswIndex::encode_codes(std::size_t first, std::size_t count) {
  if (!codes_) return;
  codes_->reserve(first + count);
  for (std::size_t slot = first; slot < first + count; ++slot) {
    const auto id = static_cast<std::uint32_t>(slot);
    codes_->encode(id, vectors_.row(id));
  }
}

void HnswIndex::publish(std::size_t new_size) noexcept {
  size_.store(new_size, std::memory_order_release);
}

void HnswIndex::link(std::uint32_t first, std::size_t count, ThreadPool& pool) {
  std::vector<std::uint32_t> slots;
  slots.reserve(count);
  for (std::uint32_t slot = first; slot < first + count; ++slot) {
    if (is_deleted(slot)) {
      graph_.init_node(slot, 0);
    } else {
      slots.push_back(slot);
    }
  }
  if (slots.empty()) return;
  const auto limit = static_cast<std::uint32_t>(size());
  const std::size_t walked_bytes_per_node =
      (codes_ ? codes_->row_bytes() : space_.dim() * sizeof(float)) + graph_.level0_record_bytes();
  const std::size_t linked_before_regions = first + slots.size() / kLocalitySampleStride;
  if (slots.size() >= kLocalityMinBatch &&
      limit * walked_bytes_per_node > params_.locality_order_min_bytes &&
      linked_before_regions >= params_.locality_order_min_linked) {
    order_for_locality(slots, space_, vectors_, pool);
  }
  std::size_t start = 0;
  // The first node of an empty graph becomes its entry point; the rest can then go in parallel.
  if (load_entry().level < 0) {
    WorkspaceLease ws(workspaces_);
    insert(slots[0], limit, *ws);
    start = 1;
  }
  {
    ThreadWorkspaces per_thread(workspaces_, pool.size(), graph_.max_degree(0) + 1, space_.dim());
    // Small blocks keep both threads busy to the end; inserts cost ~100 us each, far above the
    // cost of handing out a block.
    pool.parallel_for(slots.size() - start, 8, [&](std::size_t thread, std::size_t i) {
      insert(slots[start + i], limit, per_thread[thread]);
    });
  }
  count_changes(count, pool);
}

void HnswIndex::mark_deleted(std::uint32_t slot) noexcept {
  std::atomic_ref<std::uint8_t>(*deleted_.row_as<std::uint8_t>(slot))
      .store(1, std::memory_order_release);
  deleted_count_.fetch_add(1, std::memory_order_release);
}

HnswIndex::Entry HnswIndex::load_entry() const noexcept {
  const std::uint64_t packed = entry_.load(std::memory_order_acquire);
  return {static_cast<std::uint32_t>(packed), static_cast<int>(packed >> 32) - 1};
}

void HnswIndex::store_entry(Entry entry) noexcept {
  entry_.store((static_cast<std::uint64_t>(entry.level + 1) << 32) | entry.slot,
               std::memory_order_release);
}

std::size_t HnswIndex::memory_bytes() const noexcept {
  return vectors_.allocated_bytes() + (codes_ ? codes_->allocated_bytes() : 0) +
         graph_.memory_bytes() + deleted_.allocated_bytes();
}

}  // namespace omendb
