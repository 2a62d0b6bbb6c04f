// The payload codec: a batch of writes as the bytes of one write-ahead-log record, and one
// record's metadata as the bytes the log and the snapshot's metadata file share.
// Layout: docs/format.md, "Batch payload" and "Metadata encoding".
//
// Decoding treats its input as hostile: every count, length, tag and value is checked against the
// bytes actually present, so any input either decodes to a batch that encode_write_batch() accepts
// or fails with kCorruption naming what is wrong and its byte offset. It never reads out of
// bounds, never loops more than O(input bytes) times, and never reserves for a declared count
// before checking that the bytes left can hold that many items of the smallest possible encoding,
// so it allocates at most a small constant times the input size.
// Thread safety: the functions keep no state; any thread may call them at any time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "omendb/metadata.h"
#include "omendb/status.h"
#include "storage/byte_io.h"
#include "storage/sparse_rows_codec.h"

namespace omendb::storage {

// What a logged batch does. The values are stored: never renumber them.
enum class WriteKind : std::uint8_t {
  kAdd = 1,     // insert records; none of the ids exists
  kUpsert = 2,  // insert records, replacing those whose ids exist
  kDelete = 3,  // delete records by id; carries ids only
};

// The type tag before each metadata value. Stored: never renumber.
enum class ValueTag : std::uint8_t {
  kNull = 0,
  kFalse = 1,
  kTrue = 2,
  kInt = 3,         // then int64
  kFloat = 4,       // then float64, finite
  kString = 5,      // then u32 length, bytes
  kStringList = 6,  // then u32 count, count strings
};

// Batch header: u8 kind, u8 flags, u16 zero, u32 count, u32 dim. The vector block follows it, so
// it starts 4-byte aligned whenever the payload does.
inline constexpr std::size_t kBatchHeaderBytes = 12;
// Flag bit: one metadata encoding per record follows the ids.
inline constexpr std::uint8_t kBatchHasMetadata = 1;
// Flag bit: the rows of further vector fields follow the metadata:
//   u32 block count | blocks, fields increasing
//   block := field u32 (>= 1) | dim u32 | present count u32 | one flag byte (0/1) per record
//            | present count x dim f32
inline constexpr std::uint8_t kBatchHasMoreVectors = 2;
// Flag bit: the records' documents follow the further fields:
//   one flag byte (0/1) per record | per record whose flag is 1: length u32 | UTF-8 bytes
inline constexpr std::uint8_t kBatchHasDocuments = 4;
// Flag bit: the records' sparse vectors follow the documents (storage/sparse_rows_codec.h).
inline constexpr std::uint8_t kBatchHasSparse = 8;

// The rows of one further vector field in a batch (views that must outlive the call).
struct FieldBlock {
  std::uint32_t field = 0;                 // the field's number, >= 1
  std::uint32_t dim = 0;                   // floats per row, >= 1
  std::span<const std::uint8_t> present;   // one 0/1 flag per record
  std::span<const float> vectors;          // one finite row per record whose flag is 1
};

// A FieldBlock decoded from a payload. Owns its data.
struct DecodedFieldBlock {
  std::uint32_t field = 0;
  std::uint32_t dim = 0;
  std::vector<std::uint8_t> present;
  std::vector<float> vectors;
};

// A batch as the write path logs it: views of the caller's data, which must outlive the call.
struct WriteBatch {
  WriteKind kind = WriteKind::kAdd;
  std::uint32_t dim = 0;                  // floats per vector, >= 1; 0 for kDelete
  std::span<const std::string_view> ids;  // 1 to Collection::kMaxIdBytes bytes each, no NUL
  std::span<const float> vectors;         // ids.size() * dim finite floats; empty for kDelete
  std::span<const Metadata> metadata;     // empty (none), or one sorted Metadata per id; empty
                                          // for kDelete
  std::span<const FieldBlock> more_vectors = {};  // fields increasing; empty for kDelete
  std::span<const std::string_view> documents = {};  // empty (none), or one per id
  std::span<const std::uint8_t> has_document = {};   // with documents: empty (all) or 0/1 per id
  std::span<const SparseRows> sparse = {};  // sparse fields increasing; empty for kDelete
  std::size_t sparse_fields = 0;            // the collection's sparse fields (sparse's bound)
};

// A batch decoded from a payload. Owns its data.
struct DecodedBatch {
  WriteKind kind = WriteKind::kAdd;
  std::uint32_t dim = 0;           // as WriteBatch::dim
  std::vector<std::string> ids;    // as WriteBatch::ids
  std::vector<float> vectors;      // ids.size() * dim, finite; empty for kDelete
  std::vector<Metadata> metadata;  // empty (none), or one per id, each as normalize_metadata
                                   // leaves it
  std::vector<DecodedFieldBlock> more_vectors;  // as WriteBatch::more_vectors
  std::vector<std::uint8_t> has_document;        // empty (no documents), or 0/1 per id
  std::vector<std::string> documents;            // with has_document: one per id ("" where 0)
  std::vector<DecodedSparseBlock> sparse;        // as WriteBatch::sparse
};

// Appends the payload encoding of `batch` to `out`. Checks what decoding will check (shape, ids,
// finite vectors, sorted unique non-empty keys, finite floats) so that whatever encodes also
// decodes; it does not look for ids repeated within the batch. Fails with kInvalidArgument, leaving
// `out` as it was. Cost: one pass over the ids, vectors and metadata (several GB/s); `out` grows
// once for the header, vectors and ids, then amortised for the metadata.
Status encode_write_batch(const WriteBatch& batch, std::vector<std::byte>& out);

// Decodes one payload, which must be exactly one batch. A kAdd or kUpsert batch must have
// dimension `expected_dim`, and its further field blocks fields 1 to more_dims.size() with
// dimensions more_dims[field - 1]; a kDelete batch has dimension 0 and no blocks whatever these
// are; its sparse blocks must be of fields below `sparse_fields`. Fails with kCorruption ("write batch: <what> at byte <offset>"). Cost: O(payload bytes);
// each vector block is copied with one memcpy and scanned once for NaN and infinity.
Result<DecodedBatch> decode_write_batch(std::span<const std::byte> payload,
                                        std::uint32_t expected_dim,
                                        std::span<const std::uint32_t> more_dims = {},
                                        std::size_t sparse_fields = 0);

// Appends the encoding of one record's metadata to `out`. `fields` must be as normalize_metadata
// leaves it (sorted, unique non-empty keys, finite floats); otherwise kInvalidArgument, leaving
// `out` as it was. Cost: O(bytes of the keys and values).
Status encode_metadata(const Metadata& fields, std::vector<std::byte>& out);

// Decodes one record's metadata from the front of `in`, advancing it past the encoding; `out` is
// replaced. Fails with kCorruption ("<what> at byte <offset in in>"); `in` and `out` are then
// unspecified. Cost: O(bytes consumed).
Status decode_metadata(ByteReader& in, Metadata& out);

// Decodes metadata that fills `bytes` exactly (trailing bytes are kCorruption).
Result<Metadata> decode_metadata(std::span<const std::byte> bytes);

}  // namespace omendb::storage
