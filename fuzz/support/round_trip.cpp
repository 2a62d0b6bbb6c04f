#include "support/round_trip.h"

#include <cstring>
#include <string_view>
#include <vector>

#include "support/check.h"

namespace omendb::fuzz {

void check_batch_round_trip(const storage::DecodedBatch& batch,
                            std::span<const std::uint32_t> more_dims) {
  const std::vector<std::string_view> ids(batch.ids.begin(), batch.ids.end());
  const std::vector<std::string_view> documents(batch.documents.begin(), batch.documents.end());
  std::vector<storage::FieldBlock> blocks;
  for (const storage::DecodedFieldBlock& block : batch.more_vectors) {
    blocks.push_back({block.field, block.dim, block.present, block.vectors});
  }
  storage::WriteBatch view;
  view.kind = batch.kind;
  view.dim = batch.dim;
  view.ids = ids;
  view.vectors = batch.vectors;
  view.metadata = batch.metadata;
  view.more_vectors = blocks;
  view.documents = documents;
  view.has_document = batch.has_document;
  std::vector<std::byte> encoded;
  require(storage::encode_write_batch(view, encoded).is_ok(), "a decoded batch does not encode");
  Result<storage::DecodedBatch> again = storage::decode_write_batch(encoded, batch.dim, more_dims);
  require(again.is_ok(), "an encoded batch does not decode");
  const storage::DecodedBatch& copy = again.value();
  require(copy.kind == batch.kind && copy.dim == batch.dim && copy.ids == batch.ids &&
              copy.metadata == batch.metadata && copy.documents == batch.documents &&
              copy.has_document == batch.has_document &&
              copy.more_vectors.size() == batch.more_vectors.size(),
          "a batch changed through encode and decode");
  for (std::size_t i = 0; i < batch.more_vectors.size(); ++i) {
    const storage::DecodedFieldBlock& a = batch.more_vectors[i];
    const storage::DecodedFieldBlock& b = copy.more_vectors[i];
    require(a.field == b.field && a.dim == b.dim && a.present == b.present &&
                a.vectors.size() == b.vectors.size() &&
                (a.vectors.empty() || std::memcmp(a.vectors.data(), b.vectors.data(),
                                                  a.vectors.size() * sizeof(float)) == 0),
            "a batch's vector field changed through encode and decode");
  }
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
