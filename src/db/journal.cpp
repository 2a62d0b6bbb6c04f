#include "db/journal.h"

#include <string>

#include "omendb/database.h"
#include "storage/byte_io.h"
#include "storage/manifest.h"
#include "storage/text_options_codec.h"
#include "storage/vector_fields_codec.h"

namespace omendb {
namespace {

using storage::ByteReader;
using storage::ByteWriter;

// The batch after a collection name starts on a multiple of 4 bytes, so its vector block does.
constexpr std::size_t kNameAlignment = 4;

void put_name(std::string_view name, std::vector<std::byte>& out) {
  ByteWriter writer(out);
  writer.put_string(name);
  while (out.size() % kNameAlignment != 0) writer.put_u8(0);
}

Status corrupt(std::uint64_t lsn, const std::string& what) {
  return {StatusCode::kCorruption, "log record at lsn " + std::to_string(lsn) + ": " + what};
}

// Reads a collection name (and, with `padded`, the zero bytes after it).
Status get_name(ByteReader& in, bool padded, std::uint64_t lsn, std::string& out) {
  std::string_view name;
  if (!in.get_string(name)) return corrupt(lsn, "truncated collection name");
  if (Status status = validate_collection_name(name); !status.is_ok()) {
    return corrupt(lsn, status.message());
  }
  while (padded && in.offset() % kNameAlignment != 0) {
    std::uint8_t zero = 0;
    if (!in.get_u8(zero) || zero != 0) return corrupt(lsn, "bad padding after collection name");
  }
  out = name;
  return Status::ok();
}

Status get_options(ByteReader& in, std::uint64_t lsn, CollectionOptions& out) {
  std::uint32_t dim = 0;
  std::uint32_t metric = 0;
  if (!in.get_u32(dim) || !in.get_u32(metric) || !in.get_u32(out.m) ||
      !in.get_u32(out.ef_construction) || !in.get_u64(out.seed)) {
    return corrupt(lsn, "truncated collection options");
  }
  const std::optional<Metric> known = storage::manifest::metric_of_code(metric);
  if (!known) return corrupt(lsn, "unknown metric code " + std::to_string(metric));
  out.dim = dim;
  out.metric = *known;
  // Records written before quantization existed (manifest format 1) end here: none.
  out.quantization = Quantization::kNone;
  if (in.remaining() != 0) {
    std::uint32_t code = 0;
    if (!in.get_u32(code)) return corrupt(lsn, "truncated collection options");
    const std::optional<Quantization> quantization = storage::manifest::quantization_of_code(code);
    if (!quantization) return corrupt(lsn, "unknown quantization code " + std::to_string(code));
    out.quantization = *quantization;
  }
  // Records written before named vector fields existed end here: one field, "default".
  if (in.remaining() != 0) {
    if (std::string problem = storage::get_vector_fields(in, out); !problem.empty())
      return corrupt(lsn, problem);
  }
  // Records written before full-text search existed end here: no text index.
  if (in.remaining() != 0) {
    if (std::string problem = storage::get_text_options(in, out.text); !problem.empty())
      return corrupt(lsn, problem);
  }
  // Records written before sparse vectors existed end here: no sparse field.
  if (in.remaining() != 0) {
    if (std::string problem = storage::get_sparse_fields(in, out); !problem.empty())
      return corrupt(lsn, problem);
  }
  if (Status status = out.validate(); !status.is_ok()) return corrupt(lsn, status.message());
  return Status::ok();
}

}  // namespace

FieldShapes field_shapes(const CollectionOptions& options) {
  FieldShapes shapes{.dims = {static_cast<std::uint32_t>(options.dim)},
                     .sparse_fields = options.sparse_vectors.size()};
  for (const VectorFieldOptions& field : options.more_vectors) {
    shapes.dims.push_back(static_cast<std::uint32_t>(field.dim));
  }
  return shapes;
}

Result<JournalEntry> decode_journal_record(const storage::LogRecord& record,
                                           const FieldShapesOf& shapes_of) {
  JournalEntry entry;
  entry.lsn = record.lsn;
  ByteReader in(record.payload);
  switch (static_cast<JournalRecordType>(record.type)) {
    case JournalRecordType::kWrite: {
      entry.type = JournalRecordType::kWrite;
      if (Status s = get_name(in, true, record.lsn, entry.collection); !s.is_ok()) return s;
      const std::optional<FieldShapes> shapes = shapes_of(entry.collection);
      if (!shapes) return corrupt(record.lsn, "write to unknown collection '" + entry.collection + "'");
      Result<storage::DecodedBatch> batch =
          storage::decode_write_batch(std::span(record.payload).subspan(in.offset()),
                                      shapes->dims.front(), std::span(shapes->dims).subspan(1),
                                      shapes->sparse_fields);
      if (!batch.is_ok()) return corrupt(record.lsn, batch.status().message());
      entry.batch = std::move(batch).value();
      return entry;
    }
    case JournalRecordType::kCreateCollection:
      entry.type = JournalRecordType::kCreateCollection;
      if (Status s = get_name(in, false, record.lsn, entry.collection); !s.is_ok()) return s;
      if (Status s = get_options(in, record.lsn, entry.options); !s.is_ok()) return s;
      break;
    case JournalRecordType::kDropCollection:
      entry.type = JournalRecordType::kDropCollection;
      if (Status s = get_name(in, false, record.lsn, entry.collection); !s.is_ok()) return s;
      break;
    default:
      return corrupt(record.lsn, "unknown record type " + std::to_string(record.type));
  }
  if (in.remaining() != 0) return corrupt(record.lsn, "trailing bytes");
  return entry;
}

Journal::Journal(storage::LogWriter writer, storage::SyncMode mode, std::uint64_t first_lsn)
    : writer_(std::move(writer)),
      mode_(mode),
      next_lsn_(std::max(first_lsn, writer_.last_lsn() + 1)) {}

Status Journal::append(JournalRecordType type,
                       const std::function<Status(std::vector<std::byte>&)>& encode) {
  std::lock_guard lock(mutex_);
  if (!refused_.is_ok()) return refused_;
  scratch_.clear();
  Status status = encode(scratch_);
  if (status.is_ok()) status = writer_.append(next_lsn_, static_cast<std::uint32_t>(type), scratch_, mode_);
  if (status.is_ok()) ++next_lsn_;
  // Kept for the next record when small; a large batch's buffer (512 bytes per 128-d vector)
  // would otherwise stay resident for the life of the database.
  if (scratch_.capacity() > kKeptScratchBytes) std::vector<std::byte>().swap(scratch_);
  return status;
}

Status Journal::log_write(std::string_view collection, const storage::WriteBatch& batch) {
  return append(JournalRecordType::kWrite, [&](std::vector<std::byte>& out) {
    put_name(collection, out);
    return storage::encode_write_batch(batch, out);
  });
}

Status Journal::log_create(std::string_view collection, const CollectionOptions& options) {
  return append(JournalRecordType::kCreateCollection, [&](std::vector<std::byte>& out) {
    ByteWriter writer(out);
    writer.put_string(collection);
    writer.put_u32(static_cast<std::uint32_t>(options.dim));
    writer.put_u32(storage::manifest::metric_code(options.metric));
    writer.put_u32(options.m);
    writer.put_u32(options.ef_construction);
    writer.put_u64(options.seed);
    writer.put_u32(storage::manifest::quantization_code(options.quantization));
    storage::put_vector_fields(options, writer);
    storage::put_text_options(options.text, writer);
    storage::put_sparse_fields(options, writer);
    return Status::ok();
  });
}

Status Journal::log_drop(std::string_view collection) {
  return append(JournalRecordType::kDropCollection, [&](std::vector<std::byte>& out) {
    ByteWriter(out).put_string(collection);
    return Status::ok();
  });
}

Status Journal::sync() {
  std::lock_guard lock(mutex_);
  return writer_.sync();
}

void Journal::switch_to(storage::LogWriter writer) {
  std::lock_guard lock(mutex_);
  writer_ = std::move(writer);
}

void Journal::refuse_writes(Status why) {
  std::lock_guard lock(mutex_);
  refused_ = std::move(why);
}

Status Journal::close() {
  std::lock_guard lock(mutex_);
  return writer_.close();
}

std::uint64_t Journal::last_lsn() const {
  std::lock_guard lock(mutex_);
  return next_lsn_ - 1;
}

std::uint64_t Journal::log_bytes() const {
  std::lock_guard lock(mutex_);
  return writer_.size();
}

std::filesystem::path Journal::path() const {
  std::lock_guard lock(mutex_);
  return writer_.path();
}

}  // namespace omendb
