// The agreement check that a collection's slot-indexed columns beside its vectors (documents,
// sparse vectors) share: each has a row per slot, and an inverted index over the live rows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "index/hnsw_index.h"

namespace omendb {

// Whether a column agrees with the records of `records` (the collection's first vector field,
// whose deleted flags say which records are deleted): it has `rows` rows, one per slot
// (`has_row(slot)`: the record has a value there); its index covers at most `index_slots` slots;
// a deleted record has no value; and `indexed(slot)` holds exactly when the record is live and
// has a value. Returns "" or the first disagreement, naming the value as `value` ("a document")
// and the index as `index` ("text index"). Cost: O(slots).
std::string check_column(const HnswIndex& records, std::size_t rows, std::uint64_t index_slots,
                         const std::function<bool(std::uint32_t)>& has_row,
                         const std::function<bool(std::uint32_t)>& indexed,
                         std::string_view value, std::string_view index);

}  // namespace omendb
