#include "support/round_trip.h"

#include <cstring>
#include <string_view>
#include <vector>

#include "support/check.h"

namespace omendb::fuzz {

void check_batch_round_trip(const storage::DecodedBatch& batch) {
  const std::vector<std::string_view> ids(batch.ids.begin(), batch.ids.end());
  storage::WriteBatch view;
  view.kind = batch.kind;
  view.dim = batch.dim;
  view.ids = ids;
  view.vectors = batch.vectors;
  view.metadata = batch.metadata;
  std::vector<std::byte> encoded;
  require(storage::encode_write_batch(view, encoded).is_ok(), "a decoded batch does not encode");
  Result<storage::DecodedBatch> again = storage::decode_write_batch(encoded, batch.dim);
  require(again.is_ok(), "an encoded batch does not decode");
  const storage::DecodedBatch& copy = again.value();
  require(copy.kind == batch.kind && copy.dim == batch.dim && copy.ids == batch.ids &&
              copy.metadata == batch.metadata,
          "a batch changed through encode and decode");
  require(copy.vectors.size() == batch.vectors.size() &&
              (batch.vectors.empty() || std::memcmp(copy.vectors.data(), batch.vectors.data(),
                                                    batch.vectors.size() * sizeof(float)) == 0),
          "a batch's vectors changed through encode and decode");
  for (const Metadata& fields : batch.metadata) check_metadata_round_trip(fields);
}

void check_metadata_round_trip(const Metadata& fields) {
  Metadata normalized = fields;
  require(normalize_metadata(normalized).is_ok() && normalized == fields,
          "decoded metadata is not as normalize_metadata leaves it");
  std::vector<std::byte> encoded;
  require(storage::encode_metadata(fields, encoded).is_ok(), "decoded metadata does not encode");
  Result<Metadata> again = storage::decode_metadata(encoded);
  require(again.is_ok(), "encoded metadata does not decode");
  require(again.value() == fields, "metadata changed through encode and decode");
}

}  // namespace omendb::fuzz
