// Maps string ids to dense slots 0, 1, 2, ... and back.
//
// id -> slot: open addressing with linear probing; each table entry packs 32 bits of the id's hash
// with the slot, so a probe compares strings only when the hash bits match.
// slot -> id: the ids' bytes back to back in one buffer, with an offset per slot.
// Memory: about 8 / load-factor bytes of table (load in [0.35, 0.7]) + 8 bytes of offset + the id's
// bytes per id. Not thread-safe: callers serialise writers against readers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/prefetch.h"

namespace omendb {

class IdMap {
 public:
  IdMap();

  // Number of ids; also the next slot insert() hands out.
  std::size_t size() const noexcept { return offsets_.size() - 1; }

  // The slot of `id`, or nothing. Cost: O(1) expected.
  std::optional<std::uint32_t> find(std::string_view id) const noexcept;

  // Gives `id` the next slot and returns it. Precondition: !find(id). Cost: O(1) amortised.
  std::uint32_t insert(std::string_view id);

  // Gives `id` the next slot and returns it, unless `id` is present already: then returns nothing
  // and changes nothing. Cost: as insert() (one probe, where find() then insert() take two).
  std::optional<std::uint32_t> insert_new(std::string_view id);

  // Removes `id` from the id -> slot direction; its slot keeps its id for id(slot), and the id may
  // be inserted again (getting a new slot). Returns the slot it had, or nothing if absent. Cost:
  // O(1) expected (backward-shift deletion: no tombstones in the table).
  std::optional<std::uint32_t> erase(std::string_view id) noexcept;

  // Ids reachable by find(): size() minus the erased ones.
  std::size_t live() const noexcept { return live_; }

  // The id of `slot`. Precondition: slot < size(). The view lives until the next insert().
  std::string_view id(std::uint32_t slot) const noexcept {
    return std::string_view(bytes_).substr(offsets_[slot], offsets_[slot + 1] - offsets_[slot]);
  }

  // Starts loading the offsets of id(slot) into cache, so that prefetch_bytes(slot) and id(slot)
  // find them without a wait. Precondition: slot < size().
  void prefetch_offsets(std::uint32_t slot) const noexcept { prefetch_line(&offsets_[slot]); }
  // Starts loading the first bytes of id(slot) into cache. Precondition: slot < size().
  void prefetch_bytes(std::uint32_t slot) const noexcept {
    prefetch_line(bytes_.data() + offsets_[slot]);
  }

  // Bytes of all ids inserted so far (erased ones included).
  std::size_t id_bytes() const noexcept { return bytes_.size(); }

  // Makes room for `ids` ids of `bytes` bytes in all without reallocating.
  void reserve(std::size_t ids, std::size_t bytes);

  // The 64-bit hash of an id: its low bits pick the bucket, its high 32 bits are the entry's tag.
  // Public so tests can construct colliding ids.
  static std::uint64_t hash(std::string_view id) noexcept;

  // Bytes held by the table, the offsets and the id bytes.
  std::size_t memory_bytes() const noexcept;

 private:
  // Index of the entry holding `id`, or of the empty entry where it would go.
  std::size_t probe(std::string_view id, std::uint64_t hash) const noexcept;
  void grow_table(std::size_t min_entries);

  std::size_t live_ = 0;
  std::vector<std::uint64_t> table_;  // 0 = empty, else (hash high 32 bits << 32) | (slot + 1)
  std::size_t mask_ = 0;              // table_.size() - 1 (a power of two)
  std::string bytes_;
  std::vector<std::uint64_t>
      offsets_;  // size() + 1 entries; id i is bytes_[offsets_[i], offsets_[i+1])
};

}  // namespace omendb
