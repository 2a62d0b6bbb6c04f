// Fuzz target: the payload codec (storage/record_codec.h) on the input as metadata and as a
// write batch.
//
// The input is decoded as one metadata encoding filling it, as metadata encodings back to back
// (as the snapshot's metadata file holds them), and as a write batch, once with the dimension its
// header declares (so the dimension check passes and the body is reached) and once with a fixed
// one. Metadata has one encoding, so what decodes must encode back to exactly the bytes it was
// decoded from; a batch must survive decode -> encode -> decode unchanged.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "storage/record_codec.h"
#include "support/check.h"
#include "support/round_trip.h"

namespace omendb::fuzz {
namespace {

// Where a batch header keeps its dimension.
constexpr std::size_t kBatchDimOffset = 8;

// Aborts unless `fields` passes the round trip and encodes to exactly `bytes`.
void check_metadata(const Metadata& fields, std::span<const std::byte> bytes) {
  check_metadata_round_trip(fields);
  std::vector<std::byte> encoded;
  require(storage::encode_metadata(fields, encoded).is_ok(), "decoded metadata does not encode");
  require(std::equal(bytes.begin(), bytes.end(), encoded.begin(), encoded.end()),
          "decoded metadata encodes to other bytes");
}

// Decodes `bytes` as one metadata encoding, then as encodings back to back.
void decode_metadata(std::span<const std::byte> bytes) {
  Result<Metadata> whole = storage::decode_metadata(bytes);
  if (whole.is_ok()) check_metadata(whole.value(), bytes);
  storage::ByteReader in(bytes);
  Metadata fields;
  while (in.remaining() != 0) {
    const std::size_t start = in.offset();
    if (!storage::decode_metadata(in, fields).is_ok()) break;
    check_metadata(fields, bytes.subspan(start, in.offset() - start));
  }
}

// Decodes `bytes` as a write batch of dimension `dim`; checks the round trip when it decodes.
void decode_batch(std::span<const std::byte> bytes, std::uint32_t dim) {
  Result<storage::DecodedBatch> batch = storage::decode_write_batch(bytes, dim);
  if (!batch.is_ok()) {
    require(batch.status().code() == StatusCode::kCorruption, "a bad batch is not kCorruption");
    return;
  }
  require(batch.value().kind == storage::WriteKind::kDelete || batch.value().dim == dim,
          "a batch of another dimension decoded");
  check_batch_round_trip(batch.value());
}

}  // namespace
}  // namespace omendb::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace omendb::fuzz;
  const std::span<const std::byte> bytes = input_bytes(data, size);
  decode_metadata(bytes);
  std::uint32_t declared_dim = 0;
  if (size >= kBatchDimOffset + sizeof declared_dim) {
    std::memcpy(&declared_dim, data + kBatchDimOffset, sizeof declared_dim);
  }
  decode_batch(bytes, declared_dim);
  decode_batch(bytes, 4);
  return 0;
}
