#include "collections/id_map.h"

#include <algorithm>
#include <bit>
#include <cassert>

namespace omendb {
namespace {

constexpr std::size_t kInitialEntries = 16;
constexpr std::uint64_t kSlotMask = 0xFFFFFFFFull;

std::uint32_t hash_tag(std::uint64_t hash) noexcept {
  return static_cast<std::uint32_t>(hash >> 32);
}

}  // namespace

IdMap::IdMap() : table_(kInitialEntries, 0), mask_(kInitialEntries - 1), offsets_{0} {}

// FNV-1a over the bytes, then a 64-bit finaliser (from splitmix64) so the low bits used for the
// bucket and the high bits used for the tag are both well mixed.
std::uint64_t IdMap::hash(std::string_view id) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : id) h = (h ^ c) * 0x100000001b3ull;
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  return h ^ (h >> 31);
}

std::size_t IdMap::probe(std::string_view id, std::uint64_t hash) const noexcept {
  const std::uint32_t tag = hash_tag(hash);
  for (std::size_t i = hash & mask_;; i = (i + 1) & mask_) {
    const std::uint64_t entry = table_[i];
    if (entry == 0) return i;
    if (static_cast<std::uint32_t>(entry >> 32) == tag &&
        this->id(static_cast<std::uint32_t>((entry & kSlotMask) - 1)) == id) {
      return i;
    }
  }
}

std::optional<std::uint32_t> IdMap::find(std::string_view id) const noexcept {
  const std::uint64_t entry = table_[probe(id, hash(id))];
  if (entry == 0) return std::nullopt;
  return static_cast<std::uint32_t>((entry & kSlotMask) - 1);
}

std::uint32_t IdMap::insert(std::string_view id) {
  const std::optional<std::uint32_t> slot = insert_new(id);
  assert(slot.has_value() && "IdMap::insert of an id that is present");
  return *slot;
}

std::optional<std::uint32_t> IdMap::insert_new(std::string_view id) {
  // Keep the load at or below 0.7 so probe sequences stay short.
  if ((live_ + 1) * 10 > table_.size() * 7) grow_table(table_.size() * 2);
  const std::uint64_t h = hash(id);
  const auto slot = static_cast<std::uint32_t>(size());
  // Probe before appending: `id` may view bytes_, which the append can reallocate.
  const std::size_t entry = probe(id, h);
  if (table_[entry] != 0) return std::nullopt;
  // Grow both buffers before changing either, so a failed allocation leaves the map unchanged.
  if (offsets_.size() == offsets_.capacity()) offsets_.reserve(offsets_.capacity() * 2);
  if (bytes_.size() + id.size() > bytes_.capacity()) {
    std::string grown;
    grown.reserve(std::max(bytes_.capacity() * 2, bytes_.size() + id.size()));
    grown.append(bytes_).append(id);
    bytes_.swap(grown);
  } else {
    bytes_.append(id);
  }
  offsets_.push_back(bytes_.size());
  table_[entry] = (std::uint64_t{hash_tag(h)} << 32) | (std::uint64_t{slot} + 1);
  ++live_;
  return slot;
}

std::optional<std::uint32_t> IdMap::erase(std::string_view id) noexcept {
  std::size_t hole = probe(id, hash(id));
  if (table_[hole] == 0) return std::nullopt;
  const auto slot = static_cast<std::uint32_t>((table_[hole] & kSlotMask) - 1);
  // Shift later entries of the probe run back into the hole unless their home bucket lies
  // cyclically after the hole (they would become unreachable).
  for (std::size_t next = (hole + 1) & mask_; table_[next] != 0; next = (next + 1) & mask_) {
    const auto next_slot = static_cast<std::uint32_t>((table_[next] & kSlotMask) - 1);
    const std::size_t home = hash(this->id(next_slot)) & mask_;
    const bool home_between = ((next - home) & mask_) < ((next - hole) & mask_);
    if (!home_between) {
      table_[hole] = table_[next];
      hole = next;
    }
  }
  table_[hole] = 0;
  --live_;
  return slot;
}

void IdMap::reserve(std::size_t ids, std::size_t bytes) {
  offsets_.reserve(ids + 1);
  bytes_.reserve(bytes);
  const std::size_t entries = std::bit_ceil(ids * 10 / 7 + 1);
  if (entries > table_.size()) grow_table(entries);
}

void IdMap::grow_table(std::size_t min_entries) {
  std::vector<std::uint64_t> old = std::move(table_);
  table_.assign(std::bit_ceil(min_entries), 0);
  mask_ = table_.size() - 1;
  for (const std::uint64_t entry : old) {
    if (entry == 0) continue;
    const auto slot = static_cast<std::uint32_t>((entry & kSlotMask) - 1);
    const std::uint64_t h = hash(id(slot));
    std::size_t i = h & mask_;
    while (table_[i] != 0) i = (i + 1) & mask_;
    table_[i] = (std::uint64_t{hash_tag(h)} << 32) | (std::uint64_t{slot} + 1);
  }
}

std::size_t IdMap::memory_bytes() const noexcept {
  return table_.capacity() * sizeof(std::uint64_t) + offsets_.capacity() * sizeof(std::uint64_t) +
         bytes_.capacity();
}

}  // namespace omendb
