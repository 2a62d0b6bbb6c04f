// Writing a generation to snapshot files through buffered appends (loading: snapshot_load.cpp).
#include "db/snapshot.h"
#include "db/snapshot_common.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include "db/collection_state.h"
#include "omendb/collection.h"
#include "storage/byte_io.h"
#include "storage/crc32c.h"
#include "storage/record_codec.h"

namespace omendb {
namespace {

namespace fs = std::filesystem;
using storage::ByteReader;
using storage::ByteWriter;

constexpr std::size_t kWriteBufferBytes = std::size_t{1} << 20;

using snapshot::id_problem;
using snapshot::is_kind;
using snapshot::live_slots;
using snapshot::magic_word;

// ---- Writing -----------------------------------------------------------------------------------

// One snapshot file being written: appends collect in a 1 MiB buffer, and each full buffer is
// appended to the file and added to the running crc32c. The first error is kept and later
// appends do nothing, so callers check once, in finish().
class BufferedFile {
 public:
  explicit BufferedFile(std::unique_ptr<storage::WritableFile> file) : file_(std::move(file)) {
    buffer_.reserve(kWriteBufferBytes);
  }

  void append(std::span<const std::byte> data) {
    while (!data.empty() && status_.is_ok()) {
      const std::size_t take = std::min(data.size(), kWriteBufferBytes - buffer_.size());
      buffer_.insert(buffer_.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(take));
      data = data.subspan(take);
      if (buffer_.size() == kWriteBufferBytes) flush();
    }
  }

  // Writes what is buffered, syncs and closes the file: its size and crc32c, or the first error.
  Result<storage::SnapshotFile> finish(std::string name) {
    flush();
    if (status_.is_ok()) status_ = file_->sync();
    if (Status closed = file_->close(); status_.is_ok()) status_ = closed;
    if (!status_.is_ok()) return status_;
    return storage::SnapshotFile{std::move(name), size_, crc_};
  }

 private:
  void flush() {
    if (buffer_.empty() || !status_.is_ok()) return;
    status_ = file_->append(buffer_);
    crc_ = storage::crc32c(buffer_, crc_);
    size_ += buffer_.size();
    buffer_.clear();
  }

  std::unique_ptr<storage::WritableFile> file_;
  std::vector<std::byte> buffer_;
  std::uint32_t crc_ = 0;
  std::uint64_t size_ = 0;
  Status status_;
};

// Appends the header fields written by `fields` after the kind's magic and the format version.
void put_header(BufferedFile& out, const snapshot::FileKind& kind,
                const std::function<void(ByteWriter&)>& fields) {
  std::vector<std::byte> header;
  header.reserve(snapshot::kMaxHeaderBytes);
  ByteWriter writer(header);
  writer.put_u64(magic_word(kind));
  writer.put_u32(snapshot::kFormatVersion);
  fields(writer);
  out.append(header);
}

std::uint32_t u32(std::size_t value) { return static_cast<std::uint32_t>(value); }

Status write_index_vectors(BufferedFile& out, const HnswIndex& index) {
  put_header(out, snapshot::kVectors, [&](ByteWriter& w) {
    w.put_u32(u32(index.space().dim()));
    w.put_u32(u32(index.size()));
  });
  index.save_vectors([&](std::span<const std::byte> bytes) { out.append(bytes); });
  return Status::ok();
}

Status write_index_graph(BufferedFile& out, const HnswIndex& index) {
  const auto [entry_slot, entry_level] = index.entry_point();
  put_header(out, snapshot::kGraph, [&](ByteWriter& w) {
    w.put_u32(index.params().m);
    w.put_u32(u32(index.size()));
    w.put_u32(entry_slot);
    w.put_u32(static_cast<std::uint32_t>(entry_level));  // two's complement: -1 is 0xFFFFFFFF
  });
  index.save_graph([&](std::span<const std::byte> bytes) { out.append(bytes); });
  return Status::ok();
}

Status write_vectors(BufferedFile& out, const Generation& g) {
  return write_index_vectors(out, *g.index);
}

Status write_graph(BufferedFile& out, const Generation& g) {
  return write_index_graph(out, *g.index);
}

Status write_documents(BufferedFile& out, const Generation& g) {
  const std::size_t slots = g.index->size();
  put_header(out, snapshot::kDocuments, [&](ByteWriter& w) { w.put_u32(u32(slots)); });
  save_documents(*g.text, slots, [&](std::span<const std::byte> bytes) { out.append(bytes); });
  return Status::ok();
}

Status write_text(BufferedFile& out, const Generation& g) {
  put_header(out, snapshot::kText, [&](ByteWriter& w) { w.put_u32(u32(g.index->size())); });
  g.text->index.save([&](std::span<const std::byte> bytes) { out.append(bytes); });
  return Status::ok();
}

Status write_sparse(BufferedFile& out, const Generation& g, std::size_t field) {
  const std::size_t slots = g.index->size();
  put_header(out, snapshot::kSparse, [&](ByteWriter& w) { w.put_u32(u32(slots)); });
  save_sparse_rows(g.sparse[field], slots,
                   [&](std::span<const std::byte> bytes) { out.append(bytes); });
  return Status::ok();
}

Status write_ids(BufferedFile& out, const Generation& g) {
  const std::size_t slots = g.ids.size();
  for (std::uint32_t slot = 0; slot < slots; ++slot) {
    if (const std::string problem = id_problem(g.ids.id(slot)); !problem.empty()) {
      return Status::invalid_argument("snapshot: id of slot " + std::to_string(slot) + " " +
                                      problem);
    }
  }
  put_header(out, snapshot::kIds, [&](ByteWriter& w) {
    w.put_u32(u32(slots));
    w.put_u64(g.ids.id_bytes());
  });
  std::vector<std::byte> encoded;
  for (std::uint32_t slot = 0; slot < slots; ++slot) {
    encoded.clear();
    ByteWriter(encoded).put_string(g.ids.id(slot));
    out.append(encoded);
  }
  return Status::ok();
}

Status write_meta(BufferedFile& out, const Generation& g) {
  const std::size_t slots = g.index->size();
  put_header(out, snapshot::kMeta, [&](ByteWriter& w) {
    w.put_u32(u32(slots));
    w.put_u32(g.has_metadata ? snapshot::kMetaHasMetadata : 0);
  });
  if (!g.has_metadata) return Status::ok();
  std::vector<std::byte> encoded;
  for (std::size_t slot = 0; slot < slots; ++slot) {
    encoded.clear();
    if (Status status = storage::encode_metadata(g.metadata[slot], encoded); !status.is_ok()) {
      return Status::invalid_argument("snapshot: metadata of slot " + std::to_string(slot) + ": " +
                                      status.message());
    }
    out.append(encoded);
  }
  return Status::ok();
}

Status write_payload(BufferedFile& out, const Generation& g) {
  put_header(out, snapshot::kPayload, [&](ByteWriter& w) { w.put_u32(u32(g.index->size())); });
  g.payload.save([&](std::span<const std::byte> bytes) { out.append(bytes); });
  return Status::ok();
}

// kInvalidArgument unless `g` is a consistent generation built with `options`.
Status check_generation(const Generation& g, const CollectionOptions& options) {
  const HnswIndex& index = *g.index;
  const std::size_t slots = index.size();
  if (index.space().dim() != options.dim || index.space().metric() != options.metric ||
      index.params().m != options.m) {
    return Status::invalid_argument("snapshot: the index was not built with these options");
  }
  if (slots > std::numeric_limits<std::uint32_t>::max() || g.ids.size() != slots ||
      (g.has_metadata && g.metadata.size() != slots)) {
    return Status::invalid_argument(
        "snapshot: the generation's ids, metadata and index disagree "
        "on the number of slots");
  }
  if (!(g.payload.live() == live_slots(index))) {
    return Status::invalid_argument(
        "snapshot: the payload index's live slots are not the index's live slots");
  }
  if ((g.text != nullptr) != options.text.enabled) {
    return Status::invalid_argument("snapshot: the generation's text does not match the options");
  }
  if (g.text) {
    if (const std::string problem = check_text_column(*g.text, index); !problem.empty()) {
      return Status::invalid_argument("snapshot: " + problem);
    }
  }
  if (g.sparse.size() != options.sparse_vectors.size()) {
    return Status::invalid_argument("snapshot: the generation does not have the sparse fields");
  }
  for (const SparseColumn& column : g.sparse) {
    if (const std::string problem = check_sparse_column(column, index); !problem.empty()) {
      return Status::invalid_argument("snapshot: " + problem);
    }
  }
  if (g.more.size() + 1 != options.field_count()) {
    return Status::invalid_argument("snapshot: the generation does not have the vector fields");
  }
  for (std::size_t field = 1; field < options.field_count(); ++field) {
    const HnswIndex& more = *g.more[field - 1];
    const VectorFieldOptions settings = options.field(field);
    if (more.size() != slots || more.space().dim() != settings.dim ||
        more.space().metric() != settings.metric || more.params().m != settings.m) {
      return Status::invalid_argument("snapshot: vector field '" + settings.name +
                                      "' does not match the collection");
    }
  }
  return Status::ok();
}

using WriteBody = std::function<Status(BufferedFile&)>;

// Writes one file at `path` with `body`, syncs and closes it.
Result<storage::SnapshotFile> write_file(storage::Env& env, const fs::path& path,
                                         const WriteBody& body) {
  Result<std::unique_ptr<storage::WritableFile>> created = env.new_writable_file(path);
  if (!created.is_ok()) return created.status();
  BufferedFile out(std::move(created).value());
  if (Status status = body(out); !status.is_ok()) return status;
  return out.finish(path.filename().string());
}

}  // namespace

Result<std::vector<storage::SnapshotFile>> write_snapshot(storage::Env& env, const fs::path& dir,
                                                          std::uint64_t file_number,
                                                          const Generation& g,
                                                          const CollectionOptions& options) {
  if (Status status = check_generation(g, options); !status.is_ok()) return status;
  std::vector<std::pair<std::string, WriteBody>> bodies;
  const auto of_generation = [&g](Status (*body)(BufferedFile&, const Generation&)) {
    return [&g, body](BufferedFile& out) { return body(out, g); };
  };
  bodies.emplace_back(snapshot::kVectors.suffix, of_generation(write_vectors));
  bodies.emplace_back(snapshot::kGraph.suffix, of_generation(write_graph));
  bodies.emplace_back(snapshot::kIds.suffix, of_generation(write_ids));
  bodies.emplace_back(snapshot::kMeta.suffix, of_generation(write_meta));
  bodies.emplace_back(snapshot::kPayload.suffix, of_generation(write_payload));
  if (g.text) {
    bodies.emplace_back(snapshot::kDocuments.suffix, of_generation(write_documents));
    bodies.emplace_back(snapshot::kText.suffix, of_generation(write_text));
  }
  for (std::size_t field = 1; field < options.field_count(); ++field) {
    const HnswIndex& index = *g.more[field - 1];
    bodies.emplace_back(snapshot::field_suffix(snapshot::kVectors, field),
                        [&index](BufferedFile& out) { return write_index_vectors(out, index); });
    bodies.emplace_back(snapshot::field_suffix(snapshot::kGraph, field),
                        [&index](BufferedFile& out) { return write_index_graph(out, index); });
  }
  for (std::size_t field = 0; field < g.sparse.size(); ++field) {
    bodies.emplace_back(snapshot::sparse_suffix(field), [&g, field](BufferedFile& out) {
      return write_sparse(out, g, field);
    });
  }
  std::vector<storage::SnapshotFile> written;
  for (const auto& [suffix, body] : bodies) {
    const fs::path path = dir / (std::to_string(file_number) + "." + suffix);
    Result<storage::SnapshotFile> file = write_file(env, path, body);
    if (!file.is_ok()) {
      // Best effort: a file that cannot be removed is an unreferenced leftover, never read.
      for (const storage::SnapshotFile& done : written) (void)env.remove_file(dir / done.name);
      (void)env.remove_file(path);
      return file.status();
    }
    written.push_back(std::move(file).value());
  }
  return written;
}

}  // namespace omendb
