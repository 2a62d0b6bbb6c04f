#include "storage/batch_parts_codec.h"

#include <limits>
#include <string>

#include "storage/codec_checks.h"

namespace omendb::storage {
namespace {

constexpr std::size_t kMaxU32 = std::numeric_limits<std::uint32_t>::max();
constexpr std::size_t kMinStringBytes = 4;  // a length
constexpr std::string_view kBatchContext = "write batch";

// Ok when batch.more_vectors is well formed (what decoding checks).
Status check_field_blocks(const WriteBatch& batch) {
  if (batch.kind == WriteKind::kDelete && !batch.more_vectors.empty()) {
    return Status::invalid_argument("a delete batch carries no vector fields");
  }
  if (batch.more_vectors.size() > kMaxU32) return Status::invalid_argument("too many fields");
  std::uint32_t previous = 0;
  for (const FieldBlock& block : batch.more_vectors) {
    const std::string name = "vector field " + std::to_string(block.field);
    if (block.field <= previous) {
      return Status::invalid_argument(name + " is 0 or not after the field before it");
    }
    previous = block.field;
    if (block.dim == 0) return Status::invalid_argument(name + " has dim 0");
    if (block.present.size() != batch.ids.size()) {
      return Status::invalid_argument(name + " has " + std::to_string(block.present.size()) +
                                      " presence flags for " + std::to_string(batch.ids.size()) +
                                      " records");
    }
    std::size_t present = 0;
    for (const std::uint8_t flag : block.present) {
      if (flag > 1) return Status::invalid_argument(name + " has a presence flag other than 0/1");
      present += flag;
    }
    if (block.vectors.size() != present * block.dim) {
      return Status::invalid_argument(name + " has " + std::to_string(block.vectors.size()) +
                                      " floats for " + std::to_string(present) + " rows of dim " +
                                      std::to_string(block.dim));
    }
    if (first_non_finite(block.vectors) != block.vectors.size()) {
      return Status::invalid_argument(name + " has a non-finite value");
    }
  }
  return Status::ok();
}

// Ok when batch.documents and batch.has_document are well formed (what decoding checks).
Status check_documents(const WriteBatch& batch) {
  if (batch.documents.empty()) {
    if (!batch.has_document.empty()) return Status::invalid_argument("flags without documents");
    return Status::ok();
  }
  if (batch.kind == WriteKind::kDelete) {
    return Status::invalid_argument("a delete batch carries no documents");
  }
  if (batch.documents.size() != batch.ids.size() ||
      (!batch.has_document.empty() && batch.has_document.size() != batch.ids.size())) {
    return Status::invalid_argument("a batch needs one document (and flag) per id");
  }
  for (std::size_t i = 0; i < batch.documents.size(); ++i) {
    const bool present = batch.has_document.empty() || batch.has_document[i] == 1;
    if (!batch.has_document.empty() && batch.has_document[i] > 1) {
      return Status::invalid_argument("a document flag other than 0/1");
    }
    if (present && batch.documents[i].size() > kMaxU32) {
      return Status::invalid_argument("a document of 4 GiB or more");
    }
  }
  return Status::ok();
}

}  // namespace

Status check_batch_parts(const WriteBatch& batch) {
  if (Status status = check_field_blocks(batch); !status.is_ok()) return status;
  return check_documents(batch);
}

void put_batch_parts(const WriteBatch& batch, ByteWriter& writer) {
  if (!batch.more_vectors.empty()) {
    writer.put_u32(static_cast<std::uint32_t>(batch.more_vectors.size()));
    for (const FieldBlock& block : batch.more_vectors) {
      writer.put_u32(block.field);
      writer.put_u32(block.dim);
      writer.put_u32(static_cast<std::uint32_t>(block.vectors.size() / block.dim));
      writer.put_u8s(block.present);
      writer.put_f32s(block.vectors);
    }
  }
  if (batch.documents.empty()) return;
  for (std::size_t i = 0; i < batch.documents.size(); ++i) {
    writer.put_u8(batch.has_document.empty() ? 1 : batch.has_document[i]);
  }
  for (std::size_t i = 0; i < batch.documents.size(); ++i) {
    if (batch.has_document.empty() || batch.has_document[i] == 1) {
      writer.put_string(batch.documents[i]);
    }
  }
}

// Reads the further vector fields' blocks of a batch of `count` records.
Status get_field_blocks(ByteReader& in, std::uint32_t count, std::span<const std::uint32_t> dims,
                        DecodedBatch& batch) {
  const std::size_t count_at = in.offset();
  std::uint32_t blocks = 0;
  if (!in.get_u32(blocks)) return corrupt(kBatchContext, count_at, "field block count is missing");
  if (blocks == 0 || blocks > dims.size()) {
    return corrupt(kBatchContext, count_at,
                   "field block count is " + std::to_string(blocks) + "; the collection has " +
                       std::to_string(dims.size()) + " further vector fields");
  }
  batch.more_vectors.resize(blocks);
  std::uint32_t previous = 0;
  for (DecodedFieldBlock& block : batch.more_vectors) {
    const std::size_t at = in.offset();
    std::uint32_t present_count = 0;
    if (!in.get_u32(block.field) || !in.get_u32(block.dim) || !in.get_u32(present_count)) {
      return corrupt(kBatchContext, at, "field block header runs past the end");
    }
    const std::string name = "vector field " + std::to_string(block.field);
    if (block.field <= previous || block.field > dims.size()) {
      return corrupt(kBatchContext, at, name + " is out of order or unknown");
    }
    previous = block.field;
    if (block.dim != dims[block.field - 1]) {
      return corrupt(kBatchContext, at + 4,
                     name + " has dim " + std::to_string(block.dim) + ", expected " +
                         std::to_string(dims[block.field - 1]));
    }
    if (count > in.remaining() || present_count > count ||
        present_count > (in.remaining() - count) / sizeof(float) / block.dim) {
      return corrupt(kBatchContext, at + 8,
                     name + ": " + std::to_string(count) + " flags and " +
                         std::to_string(present_count) + " rows do not fit in " + left(in));
    }
    block.present.resize(count);
    if (!in.get_u8s(block.present)) {
      return corrupt(kBatchContext, in.offset(), name + " flags run past the end");
    }
    std::size_t ones = 0;
    for (const std::uint8_t flag : block.present) {
      if (flag > 1) return corrupt(kBatchContext, in.offset(), name + " has a flag other than 0/1");
      ones += flag;
    }
    if (ones != present_count) {
      return corrupt(kBatchContext, at + 8,
                     name + " declares " + std::to_string(present_count) + " rows but flags " +
                         std::to_string(ones));
    }
    const std::size_t rows_at = in.offset();
    block.vectors.resize(std::size_t{present_count} * block.dim);
    if (!in.get_f32s(block.vectors))
      return corrupt(kBatchContext, rows_at, name + " rows run past the end");
    if (const std::size_t bad = first_non_finite(block.vectors); bad != block.vectors.size()) {
      return corrupt(kBatchContext, rows_at + bad * sizeof(float),
                     name + " has a non-finite value");
    }
  }
  return Status::ok();
}

// Reads the documents of a batch of `count` records: flags, then the present ones' texts.
Status get_documents(ByteReader& in, std::uint32_t count, DecodedBatch& batch) {
  const std::size_t flags_at = in.offset();
  if (count > in.remaining()) {
    return corrupt(kBatchContext, flags_at, "document flags run past the end (" + left(in) + ")");
  }
  batch.has_document.resize(count);
  if (!in.get_u8s(batch.has_document)) {
    return corrupt(kBatchContext, flags_at, "document flags run past the end");
  }
  std::size_t present = 0;
  for (const std::uint8_t flag : batch.has_document) {
    if (flag > 1) return corrupt(kBatchContext, flags_at, "a document flag other than 0/1");
    present += flag;
  }
  if (present > in.remaining() / kMinStringBytes) {
    return corrupt(kBatchContext, in.offset(),
                   std::to_string(present) + " documents do not fit in " + left(in));
  }
  batch.documents.resize(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    if (batch.has_document[i] == 0) continue;
    const std::size_t at = in.offset();
    std::string_view text;
    if (!in.get_string(text)) {
      return corrupt(
          kBatchContext, at,
          "document of record " + std::to_string(i) + " runs past the end (" + left(in) + ")");
    }
    batch.documents[i] = text;
  }
  return Status::ok();
}

}  // namespace omendb::storage
