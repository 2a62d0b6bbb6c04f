// Round-trip checks of decoded payloads, shared by the log reader and metadata targets: whatever
// decodes must encode again (record_codec.h promises it) and decode back to the same value.
#pragma once

#include <cstdint>
#include <span>

#include "omendb/metadata.h"
#include "storage/record_codec.h"

namespace omendb::fuzz {

// Encodes `batch` and decodes the result (further vector fields of dimensions `more_dims`);
// aborts unless both succeed and give back `batch` (vectors compared bit for bit, metadata as
// check_metadata_round_trip checks it, field blocks and documents exactly).
void check_batch_round_trip(const storage::DecodedBatch& batch,
                            std::span<const std::uint32_t> more_dims = {});

// Aborts unless `fields` is as normalize_metadata leaves it, encodes, and decodes back to itself.
void check_metadata_round_trip(const Metadata& fields);

}  // namespace omendb::fuzz
