// What snapshot writing (snapshot_write.cpp) and loading (snapshot_load.cpp) share: the file
// kinds' magics and names, the rules of a stored id, the live slots of an index.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "db/snapshot.h"
#include "filter/payload_index.h"
#include "index/hnsw_index.h"
#include "omendb/collection.h"

namespace omendb::snapshot {

// The kind's magic as the u64 its 8 bytes encode.
inline std::uint64_t magic_word(const FileKind& kind) {
  static_assert(kMagicBytes == sizeof(std::uint64_t));
  std::uint64_t word = 0;
  std::memcpy(&word, kind.magic.data(), sizeof word);
  return word;
}

// Whether `name` is "<something>.<kind's suffix>".
inline bool is_kind(std::string_view name, const FileKind& kind) {
  return name.size() > kind.suffix.size() + 1 && name.ends_with(kind.suffix) &&
         name[name.size() - kind.suffix.size() - 1] == '.';
}

// What is wrong with `id` as a stored id ("" when nothing is): the rules of Collection::add.
inline std::string id_problem(std::string_view id) {
  if (id.empty()) return "is empty";
  if (id.size() > Collection::kMaxIdBytes) {
    return "is " + std::to_string(id.size()) + " bytes, more than " +
           std::to_string(Collection::kMaxIdBytes);
  }
  if (id.find('\0') != std::string_view::npos) return "holds a NUL byte";
  return "";
}

// The slots of `index` that are not deleted. Cost: O(slots).
inline Bitmap live_slots(const HnswIndex& index) {
  std::vector<std::uint32_t> live;
  live.reserve(index.live_size());
  for (std::uint32_t slot = 0; slot < index.size(); ++slot) {
    if (!index.is_deleted(slot)) live.push_back(slot);
  }
  return Bitmap::of(live);
}

}  // namespace omendb::snapshot
