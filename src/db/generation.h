// One numbering of a collection's slots: the index and the slot-indexed records that go with it.
// Writers change a generation in place; compaction builds a new one and swaps it in, while
// searches that started on the old one finish on it (they hold a shared_ptr).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "collections/id_map.h"
#include "index/hnsw_index.h"
#include "omendb/metadata.h"

namespace omendb {

struct Generation {
  explicit Generation(std::unique_ptr<HnswIndex> index_) : index(std::move(index_)) {}

  // Deletes the record in `slot` from searches and frees its metadata. Caller: the writer, holding
  // the collection's records lock exclusively.
  void retire(std::uint32_t slot) {
    index->mark_deleted(slot);
    if (has_metadata) metadata[slot] = Metadata{};
  }

  std::unique_ptr<HnswIndex> index;
  IdMap ids;                       // guarded by the collection's records lock
  bool has_metadata = false;       // false until a record carries metadata: saves 24 B a record
  std::vector<Metadata> metadata;  // by slot, once has_metadata
};

}  // namespace omendb
