// A collection's vectors of one sparse field and their inverted index, and the snapshot encoding
// of the vectors (docs/format.md, "Sparse file"). The index is not stored: opening rebuilds it
// from the vectors of the live records.
//
// Sparse file encoding: slots x (flag u8: 1 = the record has a vector in the field | if 1:
// count u32 | count x (index u32 | value f32)); indices strictly increase, values are finite;
// integers little-endian.
//
// Thread safety: as Generation's other parts (the collection's records lock).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "index/hnsw_index.h"
#include "omendb/collection.h"
#include "text/sparse_index.h"

namespace omendb {

using SparseEntries = std::vector<text::SparseEntry>;

struct SparseColumn {
  std::vector<std::optional<SparseEntries>> rows;  // by slot; nothing: the record lacks the field
  text::SparseIndex index;                         // the rows of the live records, by slot
};

// The entries of a valid SparseVector-shaped pair of spans.
SparseEntries sparse_entries(std::span<const std::uint32_t> indices, std::span<const float> values);
// `entries` as the public SparseVector.
SparseVector sparse_vector_of(const SparseEntries& entries);

// Writes the rows of slots [0, slots) (a slot past rows.size() has none) to `sink`, in pieces of
// at most about 1 MiB. Cost: one pass over the rows.
void save_sparse_rows(const SparseColumn& column, std::size_t slots,
                      const std::function<void(std::span<const std::byte>)>& sink);

// Reads what save_sparse_rows wrote for `slots` slots into column.rows, as hostile input: returns
// "" or what is wrong and where ("the vector of slot 7 runs past the end"); never reads out of
// bounds or reserves beyond the bytes present. Then indexes the rows of the slots that `records`
// (the collection's first vector field) has live. Cost: O(bytes) plus the index's adds.
std::string restore_sparse_rows(std::span<const std::byte> bytes, std::size_t slots,
                                const HnswIndex& records, SparseColumn& column);

// Whether `column` agrees with the records of `records`: a deleted record has no vector, and a
// slot is live in the index exactly when its record is live and has a vector. Returns "" or the
// first disagreement. Cost: O(slots).
std::string check_sparse_column(const SparseColumn& column, const HnswIndex& records);

}  // namespace omendb
