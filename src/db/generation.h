// One numbering of a collection's slots: the index and the slot-indexed records that go with it.
// Writers change a generation in place; compaction builds a new one and swaps it in, while
// searches that started on the old one finish on it (they hold a shared_ptr).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "collections/id_map.h"
#include "db/sparse_column.h"
#include "db/text_column.h"
#include "filter/match_cache.h"
#include "filter/payload_index.h"
#include "index/hnsw_index.h"
#include "omendb/metadata.h"
#include "util/prefetch.h"

namespace omendb {

struct Generation {
  explicit Generation(std::unique_ptr<HnswIndex> index_) : index(std::move(index_)) {}

  // The index of vector field `field` (0 = the first). Precondition: field < 1 + more.size().
  HnswIndex& field_index(std::size_t field) const { return field == 0 ? *index : *more[field - 1]; }

  // The metadata of `slot` (empty for a record without any). Caller holds the records lock.
  const Metadata& metadata_of(std::uint32_t slot) const {
    static const Metadata kNone;
    return has_metadata ? metadata[slot] : kNone;
  }

  // Starts loading what a hit for `slot` copies besides its id's bytes: the id's offsets, its
  // metadata and its document, so that the hits of one search miss the cache together, not one
  // after another; ids.prefetch_bytes(slot) then finds the offsets cached. Caller holds the
  // records lock.
  void prefetch_hit(std::uint32_t slot) const noexcept {
    ids.prefetch_offsets(slot);
    if (has_metadata) prefetch_line(&metadata[slot]);
    if (text) prefetch_line(&text->documents[slot]);
  }

  // prefetch_hit() for the slot of each of `found` (Neighbors or text hits), then the ids' bytes:
  // the loads a search's hits need, all in flight before the first copy. Caller holds the
  // records lock.
  template <class Scored>
  void prefetch_hits(std::span<const Scored> found) const noexcept {
    for (const Scored& scored : found) prefetch_hit(scored.slot);
    for (const Scored& scored : found) ids.prefetch_bytes(scored.slot);
  }

  // Makes `slot` (its metadata already stored) visible to filters. Caller: the writer, holding the
  // collection's records lock exclusively.
  void index_payload(std::uint32_t slot) { payload.add(slot, metadata_of(slot)); }

  // Deletes the record in `slot` from searches and filters and frees its metadata. Caller: the
  // writer, holding the collection's records lock exclusively.
  void retire(std::uint32_t slot) {
    index->mark_deleted(slot);
    for (const std::unique_ptr<HnswIndex>& field : more) {
      if (!field->is_deleted(slot)) field->mark_deleted(slot);  // deleted already: it lacks it
    }
    payload.remove(slot, metadata_of(slot));
    if (has_metadata) metadata[slot] = Metadata{};
    for (SparseColumn& column : sparse) {
      if (slot >= column.rows.size() || !column.rows[slot]) continue;
      // The entries are those add() got for the live slot, so remove() succeeds.
      (void)column.index.remove(slot, *column.rows[slot]);
      column.rows[slot].reset();
    }
  }

  // The first vector field's index: its slots are the records', its deleted flags say which are
  // deleted.
  std::unique_ptr<HnswIndex> index;
  // One index per further vector field, with the same slots; a slot is deleted in it when the
  // record is deleted or lacks the field (its row is then zeros and it is in no graph list).
  std::vector<std::unique_ptr<HnswIndex>> more;
  // The rest is guarded by the collection's records lock.
  IdMap ids;
  bool has_metadata = false;       // false until a record carries metadata: saves 24 B a record
  std::vector<Metadata> metadata;  // by slot, once has_metadata
  PayloadIndex payload;            // metadata values -> slots, for filters
  std::unique_ptr<TextColumn> text;  // null unless the collection has text enabled
  std::vector<SparseColumn> sparse;  // one per sparse field (CollectionOptions::sparse_vectors)
  mutable FilterMatchCache filter_matches;  // of the filters searched lately (thread-safe)
};

}  // namespace omendb
