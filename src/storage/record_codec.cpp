#include "storage/record_codec.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>
#include <variant>

#include "omendb/collection.h"
#include "storage/batch_parts_codec.h"
#include "storage/codec_checks.h"
#include "util/text.h"

namespace omendb::storage {
namespace {

constexpr std::size_t kMaxU32 = std::numeric_limits<std::uint32_t>::max();
// The fewest bytes each encoded item can take. Decoding rejects a declared count larger than the
// bytes left divided by these before reserving anything.
constexpr std::size_t kMinIdBytes = 4 + 1;         // length, at least one byte
constexpr std::size_t kMinMetadataBytes = 4;       // field count
constexpr std::size_t kMinFieldBytes = 4 + 1 + 1;  // key length, one key byte, tag
constexpr std::size_t kMinStringBytes = 4;         // length

std::uint8_t tag(ValueTag value_tag) { return static_cast<std::uint8_t>(value_tag); }

// What is wrong with `id` as a record id ("" when nothing is).
std::string id_problem(std::string_view id) {
  if (id.empty()) return "is empty";
  if (id.size() > Collection::kMaxIdBytes) {
    return "is " + std::to_string(id.size()) + " bytes, more than the " +
           std::to_string(Collection::kMaxIdBytes) + " allowed";
  }
  if (id.find('\0') != std::string_view::npos) return "contains a NUL byte";
  return "";
}

// ---- Encoding ----------------------------------------------------------------------------------

Status put_value(const Field& field, ByteWriter& out) {
  const Value& value = field.value;
  if (std::holds_alternative<std::monostate>(value)) {
    out.put_u8(tag(ValueTag::kNull));
  } else if (const bool* flag = std::get_if<bool>(&value)) {
    out.put_u8(tag(*flag ? ValueTag::kTrue : ValueTag::kFalse));
  } else if (const std::int64_t* integer = std::get_if<std::int64_t>(&value)) {
    out.put_u8(tag(ValueTag::kInt));
    out.put_u64(static_cast<std::uint64_t>(*integer));
  } else if (const double* number = std::get_if<double>(&value)) {
    if (!std::isfinite(*number)) {
      return Status::invalid_argument("metadata value of " + quoted(field.key) + " is not finite");
    }
    out.put_u8(tag(ValueTag::kFloat));
    out.put_f64(*number);
  } else if (const std::string* text = std::get_if<std::string>(&value)) {
    if (text->size() > kMaxU32) {
      return Status::invalid_argument("metadata string of " + quoted(field.key) + " is over 4 GiB");
    }
    out.put_u8(tag(ValueTag::kString));
    out.put_string(*text);
  } else {
    const auto& list = std::get<std::vector<std::string>>(value);
    if (list.size() > kMaxU32) {
      return Status::invalid_argument("metadata list of " + quoted(field.key) + " is too long");
    }
    out.put_u8(tag(ValueTag::kStringList));
    out.put_u32(static_cast<std::uint32_t>(list.size()));
    for (const std::string& text : list) {
      if (text.size() > kMaxU32) {
        return Status::invalid_argument("metadata string of " + quoted(field.key) +
                                        " is over 4 GiB");
      }
      out.put_string(text);
    }
  }
  return Status::ok();
}

// Appends `fields`; on failure `out` holds a partial encoding that the caller cuts off.
Status put_metadata(const Metadata& fields, ByteWriter& out) {
  if (fields.size() > kMaxU32) return Status::invalid_argument("too many metadata fields");
  out.put_u32(static_cast<std::uint32_t>(fields.size()));
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const std::string& key = fields[i].key;
    if (key.empty()) return Status::invalid_argument("metadata keys must be non-empty");
    if (key.size() > kMaxU32) return Status::invalid_argument("metadata key is over 4 GiB");
    if (i > 0 && !(fields[i - 1].key < key)) {
      return Status::invalid_argument("metadata keys must be sorted and unique: " + quoted(key) +
                                      " follows " + quoted(fields[i - 1].key));
    }
    out.put_string(key);
    if (Status status = put_value(fields[i], out); !status.is_ok()) return status;
  }
  return Status::ok();
}

// The checks of encode_write_batch() that come before writing anything.
Status check_batch(const WriteBatch& batch) {
  const std::size_t count = batch.ids.size();
  if (count > kMaxU32) return Status::invalid_argument("a batch holds at most 2^32 - 1 records");
  if (batch.kind == WriteKind::kDelete) {
    if (batch.dim != 0 || !batch.vectors.empty() || !batch.metadata.empty()) {
      return Status::invalid_argument(
          "a delete batch carries ids only (dim 0, no vectors or metadata)");
    }
  } else if (batch.kind == WriteKind::kAdd || batch.kind == WriteKind::kUpsert) {
    if (batch.dim == 0) return Status::invalid_argument("an add or upsert batch needs dim >= 1");
    if (batch.vectors.size() % batch.dim != 0 || batch.vectors.size() / batch.dim != count) {
      return Status::invalid_argument("batch has " + std::to_string(batch.vectors.size()) +
                                      " floats for " + std::to_string(count) + " vectors of dim " +
                                      std::to_string(batch.dim));
    }
    if (!batch.metadata.empty() && batch.metadata.size() != count) {
      return Status::invalid_argument("batch has " + std::to_string(batch.metadata.size()) +
                                      " metadata entries for " + std::to_string(count) + " ids");
    }
  } else {
    return Status::invalid_argument("unknown write kind " +
                                    std::to_string(static_cast<int>(batch.kind)));
  }
  for (std::size_t i = 0; i < count; ++i) {
    if (std::string problem = id_problem(batch.ids[i]); !problem.empty()) {
      return Status::invalid_argument("id of record " + std::to_string(i) + " " + problem);
    }
  }
  if (const std::size_t bad = first_non_finite(batch.vectors); bad != batch.vectors.size()) {
    return Status::invalid_argument("vector of record " + std::to_string(bad / batch.dim) +
                                    " is not finite at index " + std::to_string(bad % batch.dim));
  }
  if (Status status = check_batch_parts(batch); !status.is_ok()) return status;
  if (batch.kind == WriteKind::kDelete && !batch.sparse.empty()) {
    return Status::invalid_argument("a delete batch carries no sparse vectors");
  }
  return check_sparse_blocks(batch.sparse, count, batch.sparse_fields);
}

// ---- Decoding ----------------------------------------------------------------------------------

// Reads the value of the field `key`, whose tag `value_tag` is at byte `at`. Messages are built
// only on failure: decoding a valid payload allocates nothing but the decoded values.
Status get_value(ByteReader& in, std::string_view context, std::string_view key,
                 std::uint8_t value_tag, std::size_t at, Value& out) {
  const auto fail = [&](const std::string& what) {
    return corrupt(context, at, "value of key " + quoted(key) + " " + what);
  };
  const auto truncated = [&] { return fail("runs past the end (" + left(in) + ")"); };
  switch (static_cast<ValueTag>(value_tag)) {
    case ValueTag::kNull:
      out = std::monostate{};
      return Status::ok();
    case ValueTag::kFalse:
    case ValueTag::kTrue:
      out = static_cast<ValueTag>(value_tag) == ValueTag::kTrue;
      return Status::ok();
    case ValueTag::kInt: {
      std::uint64_t bits = 0;
      if (!in.get_u64(bits)) return truncated();
      out = static_cast<std::int64_t>(bits);
      return Status::ok();
    }
    case ValueTag::kFloat: {
      double number = 0;
      if (!in.get_f64(number)) return truncated();
      if (!std::isfinite(number)) return fail("is a float that is not finite");
      out = number;
      return Status::ok();
    }
    case ValueTag::kString: {
      std::string_view text;
      if (!in.get_string(text)) return truncated();
      out = std::string(text);
      return Status::ok();
    }
    case ValueTag::kStringList: {
      std::uint32_t count = 0;
      if (!in.get_u32(count)) return truncated();
      if (count > in.remaining() / kMinStringBytes) {
        return fail("is a list of " + std::to_string(count) + " strings, more than the " +
                    left(in) + " can hold");
      }
      std::vector<std::string> list;
      list.reserve(count);
      for (std::uint32_t i = 0; i < count; ++i) {
        std::string_view text;
        if (!in.get_string(text)) {
          return fail("runs past the end in string " + std::to_string(i) + " (" + left(in) + ")");
        }
        list.emplace_back(text);
      }
      out = std::move(list);
      return Status::ok();
    }
  }
  return fail("has unknown tag " + std::to_string(value_tag));
}

Status get_metadata(ByteReader& in, std::string_view context, Metadata& out) {
  out.clear();
  std::uint32_t count = 0;
  if (!in.get_u32(count)) return corrupt(context, in.offset(), "field count runs past the end");
  if (count > in.remaining() / kMinFieldBytes) {
    return corrupt(context, in.offset() - sizeof count,
                   std::to_string(count) + " fields do not fit in the " + left(in));
  }
  out.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::size_t at = in.offset();
    std::string_view key;
    if (!in.get_string(key)) {
      return corrupt(context, at,
                     "key of field " + std::to_string(i) + " runs past the end (" + left(in) + ")");
    }
    if (key.empty()) return corrupt(context, at, "key of field " + std::to_string(i) + " is empty");
    if (i > 0 && !(out.back().key < key)) {
      return corrupt(context, at,
                     "key " + quoted(key) + " does not sort after " + quoted(out.back().key) +
                         " (keys must be sorted and unique)");
    }
    const std::size_t tag_at = in.offset();
    std::uint8_t value_tag = 0;
    if (!in.get_u8(value_tag)) {
      return corrupt(context, tag_at, "tag of key " + quoted(key) + " runs past the end");
    }
    Field& field = out.emplace_back(Field{std::string(key), Value{}});
    if (Status status = get_value(in, context, field.key, value_tag, tag_at, field.value);
        !status.is_ok()) {
      return status;
    }
  }
  return Status::ok();
}

constexpr std::string_view kBatchContext = "write batch";
constexpr std::string_view kMetadataContext = "metadata";

// Reads and checks the header; leaves `in` at the vector block.
// Which optional parts a batch holds (its header's flag bits).
struct BatchFlags {
  bool metadata = false;
  bool more_vectors = false;
  bool documents = false;
  bool sparse = false;
};

Status get_header(ByteReader& in, std::uint32_t expected_dim, DecodedBatch& batch,
                  BatchFlags& parts, std::uint32_t& count) {
  std::uint8_t kind = 0;
  std::uint8_t flags = 0;
  std::uint16_t reserved = 0;
  if (!in.get_u8(kind) || !in.get_u8(flags) || !in.get_u16(reserved) || !in.get_u32(count) ||
      !in.get_u32(batch.dim)) {
    return corrupt(kBatchContext, 0,
                   "header needs " + std::to_string(kBatchHeaderBytes) + " bytes, payload has " +
                       std::to_string(in.offset() + in.remaining()));
  }
  batch.kind = static_cast<WriteKind>(kind);
  if (batch.kind != WriteKind::kAdd && batch.kind != WriteKind::kUpsert &&
      batch.kind != WriteKind::kDelete) {
    return corrupt(kBatchContext, 0, "unknown operation kind " + std::to_string(kind));
  }
  if ((flags & ~(kBatchHasMetadata | kBatchHasMoreVectors | kBatchHasDocuments |
                 kBatchHasSparse)) != 0) {
    return corrupt(kBatchContext, 1, "unknown flags " + std::to_string(flags));
  }
  parts.metadata = (flags & kBatchHasMetadata) != 0;
  parts.more_vectors = (flags & kBatchHasMoreVectors) != 0;
  parts.documents = (flags & kBatchHasDocuments) != 0;
  parts.sparse = (flags & kBatchHasSparse) != 0;
  if (reserved != 0) return corrupt(kBatchContext, 2, "reserved field is not zero");
  if (batch.kind == WriteKind::kDelete) {
    if (parts.metadata) return corrupt(kBatchContext, 1, "delete batch has the metadata flag");
    if (parts.more_vectors) return corrupt(kBatchContext, 1, "delete batch has vector fields");
    if (parts.documents) return corrupt(kBatchContext, 1, "delete batch has documents");
    if (parts.sparse) return corrupt(kBatchContext, 1, "delete batch has sparse vectors");
    if (batch.dim != 0) {
      return corrupt(kBatchContext, 8,
                     "delete batch has dim " + std::to_string(batch.dim) + ", not 0");
    }
  } else if (batch.dim != expected_dim || batch.dim == 0) {
    return corrupt(
        kBatchContext, 8,
        "dim is " + std::to_string(batch.dim) + ", expected " + std::to_string(expected_dim));
  }
  return Status::ok();
}

Status get_vectors(ByteReader& in, std::uint32_t count, DecodedBatch& batch) {
  if (batch.dim == 0) return Status::ok();
  const std::size_t at = in.offset();
  if (count > in.remaining() / sizeof(float) / batch.dim) {
    return corrupt(kBatchContext, at,
                   std::to_string(count) + " vectors of " + std::to_string(batch.dim) +
                       " floats do not fit in the " + std::to_string(in.remaining()) +
                       " bytes left");
  }
  batch.vectors.resize(std::size_t{count} * batch.dim);
  if (!in.get_f32s(batch.vectors))
    return corrupt(kBatchContext, at, "vector block runs past the end");
  if (const std::size_t bad = first_non_finite(batch.vectors); bad != batch.vectors.size()) {
    return corrupt(kBatchContext, at + bad * sizeof(float),
                   "component " + std::to_string(bad % batch.dim) + " of the vector of record " +
                       std::to_string(bad / batch.dim) + " is not finite");
  }
  return Status::ok();
}

Status get_ids(ByteReader& in, std::uint32_t count, bool has_metadata, DecodedBatch& batch) {
  const std::size_t record_bytes = kMinIdBytes + (has_metadata ? kMinMetadataBytes : 0);
  if (count > in.remaining() / record_bytes) {
    return corrupt(kBatchContext, in.offset(),
                   std::to_string(count) + " records need at least " +
                       std::to_string(std::size_t{count} * record_bytes) +
                       " bytes after the vectors, " + std::to_string(in.remaining()) + " left");
  }
  batch.ids.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::size_t at = in.offset();
    std::string_view id;
    if (!in.get_string(id)) {
      return corrupt(kBatchContext, at,
                     "id of record " + std::to_string(i) + " runs past the end (" + left(in) + ")");
    }
    if (std::string problem = id_problem(id); !problem.empty()) {
      return corrupt(kBatchContext, at, "id of record " + std::to_string(i) + " " + problem);
    }
    batch.ids.emplace_back(id);
  }
  return Status::ok();
}

}  // namespace

Status encode_write_batch(const WriteBatch& batch, std::vector<std::byte>& out) {
  if (Status status = check_batch(batch); !status.is_ok()) return status;
  std::size_t fixed_bytes = kBatchHeaderBytes + batch.vectors.size_bytes();
  for (const std::string_view id : batch.ids) fixed_bytes += sizeof(std::uint32_t) + id.size();
  const std::size_t start = out.size();
  out.reserve(start + fixed_bytes);

  ByteWriter writer(out);
  writer.put_u8(static_cast<std::uint8_t>(batch.kind));
  writer.put_u8(static_cast<std::uint8_t>((batch.metadata.empty() ? 0 : kBatchHasMetadata) |
                                          (batch.more_vectors.empty() ? 0 : kBatchHasMoreVectors) |
                                          (batch.documents.empty() ? 0 : kBatchHasDocuments) |
                                          (batch.sparse.empty() ? 0 : kBatchHasSparse)));
  writer.put_u16(0);
  writer.put_u32(static_cast<std::uint32_t>(batch.ids.size()));
  writer.put_u32(batch.dim);
  writer.put_f32s(batch.vectors);
  for (const std::string_view id : batch.ids) writer.put_string(id);
  for (std::size_t i = 0; i < batch.metadata.size(); ++i) {
    if (Status status = put_metadata(batch.metadata[i], writer); !status.is_ok()) {
      out.resize(start);
      return Status::invalid_argument("metadata of record " + std::to_string(i) + ": " +
                                      status.message());
    }
  }
  put_batch_parts(batch, writer);
  if (!batch.sparse.empty()) put_sparse_blocks(batch.sparse, batch.ids.size(), writer);
  return Status::ok();
}

Result<DecodedBatch> decode_write_batch(std::span<const std::byte> payload,
                                        std::uint32_t expected_dim,
                                        std::span<const std::uint32_t> more_dims,
                                        std::size_t sparse_fields) {
  ByteReader in(payload);
  DecodedBatch batch;
  BatchFlags flags;
  std::uint32_t count = 0;
  if (Status status = get_header(in, expected_dim, batch, flags, count); !status.is_ok()) {
    return status;
  }
  const bool has_metadata = flags.metadata;
  if (Status status = get_vectors(in, count, batch); !status.is_ok()) return status;
  if (Status status = get_ids(in, count, has_metadata, batch); !status.is_ok()) return status;
  if (has_metadata) {
    // get_ids checked that count * kMinMetadataBytes bytes were left for these.
    batch.metadata.resize(count);
    for (std::uint32_t i = 0; i < count; ++i) {
      if (Status status = get_metadata(in, kMetadataContext, batch.metadata[i]); !status.is_ok()) {
        return Status(StatusCode::kCorruption,
                      "write batch: record " + std::to_string(i) + " " + status.message());
      }
    }
  }
  if (flags.more_vectors) {
    if (Status status = get_field_blocks(in, count, more_dims, batch); !status.is_ok())
      return status;
  }
  if (flags.documents) {
    if (Status status = get_documents(in, count, batch); !status.is_ok()) return status;
  }
  if (flags.sparse) {
    if (Status status = get_sparse_blocks(in, count, sparse_fields, batch.sparse); !status.is_ok())
      return status;
  }
  if (in.remaining() != 0) {
    return corrupt(kBatchContext, in.offset(),
                   std::to_string(in.remaining()) + " bytes follow the end of the batch");
  }
  return batch;
}

Status encode_metadata(const Metadata& fields, std::vector<std::byte>& out) {
  const std::size_t start = out.size();
  ByteWriter writer(out);
  Status status = put_metadata(fields, writer);
  if (!status.is_ok()) out.resize(start);
  return status;
}

Status decode_metadata(ByteReader& in, Metadata& out) {
  return get_metadata(in, kMetadataContext, out);
}

Result<Metadata> decode_metadata(std::span<const std::byte> bytes) {
  ByteReader in(bytes);
  Metadata fields;
  if (Status status = decode_metadata(in, fields); !status.is_ok()) return status;
  if (in.remaining() != 0) {
    return corrupt(kMetadataContext, in.offset(),
                   std::to_string(in.remaining()) + " bytes follow the end of the metadata");
  }
  return fields;
}

}  // namespace omendb::storage
