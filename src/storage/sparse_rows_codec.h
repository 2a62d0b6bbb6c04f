// The sparse vectors of a write batch (record_codec.h, flag bit 3), after its documents:
//   u32 block count (>= 1) | blocks, fields strictly increasing
//   block := field u32 | present count u32 | one flag byte (0/1) per record
//            | per present record: length u32 | all present records' indices u32
//            | all present records' values f32
// Within a record's vector the indices strictly increase; values are finite. Integers are
// little-endian. Decoding treats its input as hostile, as record_codec.h says.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "omendb/collection.h"
#include "omendb/status.h"
#include "storage/byte_io.h"

namespace omendb::storage {

// A SparseRows block decoded from a payload. Owns its data.
struct DecodedSparseBlock {
  std::uint32_t field = 0;
  std::vector<std::uint8_t> present;  // one 0/1 flag per record
  std::vector<std::uint32_t> lengths;  // per present record
  std::vector<std::uint32_t> indices;
  std::vector<float> values;

  // The block as SparseRows (views of this block's data).
  SparseRows rows() const {
    return {.field = field, .present = present, .lengths = lengths, .indices = indices,
            .values = values};
  }
};

// "" when `indices` strictly increase and `values` (one per index) are finite; else what is
// wrong ("index 7 follows 9", "the value of index 12 is not finite").
std::string sparse_vector_problem(std::span<const std::uint32_t> indices,
                                  std::span<const float> values);

// "" when `rows` is well formed for a batch of `count` records: a 0/1 flag per record (or none),
// one length per present record, lengths summing to the indices, one value per index, each
// vector valid (sparse_vector_problem). Else what is wrong, naming the record.
std::string sparse_rows_problem(const SparseRows& rows, std::size_t count);

// kInvalidArgument unless every block of `blocks` is well formed for `count` records and the
// fields strictly increase below `fields`.
Status check_sparse_blocks(std::span<const SparseRows> blocks, std::size_t count,
                           std::size_t fields);

// Appends `blocks`. Precondition: check_sparse_blocks() is ok and blocks is not empty.
void put_sparse_blocks(std::span<const SparseRows> blocks, std::size_t count, ByteWriter& out);

// Reads the blocks of a batch of `count` records into `out`; their fields must be below
// `fields`. kCorruption ("write batch: <what> at byte <offset>") otherwise. Cost: O(bytes read).
Status get_sparse_blocks(ByteReader& in, std::uint32_t count, std::size_t fields,
                         std::vector<DecodedSparseBlock>& out);

}  // namespace omendb::storage
