// The optional parts of a write batch that follow its metadata (record_codec.h, flag bits 1 and 2):
// further vector fields' blocks and documents. record_codec.cpp encodes and decodes a batch
// through these; decoding treats the input as hostile, as record_codec.h says.
#pragma once

#include <cstdint>
#include <span>

#include "omendb/status.h"
#include "storage/byte_io.h"
#include "storage/record_codec.h"

namespace omendb::storage {

// Ok when batch.more_vectors and the documents are what decoding accepts (fields increasing, one
// 0/1 flag per record, rows matching the flags, finite values); else kInvalidArgument.
Status check_batch_parts(const WriteBatch& batch);

// Appends the blocks (when batch.more_vectors is not empty) and the documents (when
// batch.documents is not empty). Precondition: check_batch_parts(batch) is ok.
void put_batch_parts(const WriteBatch& batch, ByteWriter& writer);

// Reads the further fields' blocks of a batch of `count` records into batch.more_vectors; the
// fields must be 1 to dims.size(), increasing, of dimensions dims[field - 1]. kCorruption
// ("write batch: <what> at byte <offset>") otherwise. Cost: O(bytes read).
Status get_field_blocks(ByteReader& in, std::uint32_t count, std::span<const std::uint32_t> dims,
                        DecodedBatch& batch);

// Reads the documents of a batch of `count` records into batch.has_document and batch.documents.
// kCorruption as get_field_blocks. Cost: O(bytes read).
Status get_documents(ByteReader& in, std::uint32_t count, DecodedBatch& batch);

}  // namespace omendb::storage
