// Loading a generation from mapped snapshot files after checking each file's size, checksum and
// structure (writing: snapshot_write.cpp).
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

using snapshot::id_problem;
using snapshot::is_kind;
using snapshot::live_slots;
using snapshot::magic_word;

// ---- Loading -----------------------------------------------------------------------------------

Status corrupt(const fs::path& path, const std::string& what) {
  return {StatusCode::kCorruption, path.string() + ": snapshot: " + what};
}

// A snapshot file, mapped and verified against its manifest entry; `in` reads it from the front.
struct LoadedFile {
  fs::path path;
  std::shared_ptr<storage::MappedFile> map;  // shared: a quantized index keeps its vectors mapped
  ByteReader in{{}};
};

// The file `entry` names in `dir`, mapped, once its size and crc32c match the entry.
Result<LoadedFile> map_checked(storage::Env& env, const fs::path& dir,
                               const storage::SnapshotFile& entry) {
  LoadedFile file;
  file.path = dir / entry.name;
  Result<bool> exists = env.file_exists(file.path);
  if (!exists.is_ok()) return exists.status();
  if (!exists.value()) return corrupt(file.path, "the file is missing");
  Result<std::unique_ptr<storage::MappedFile>> mapped = env.map_file(file.path);
  if (!mapped.is_ok()) return mapped.status();
  file.map = std::move(mapped).value();
  const std::span<const std::byte> bytes = file.map->bytes();
  if (bytes.size() != entry.size) {
    return corrupt(file.path, "the file is " + std::to_string(bytes.size()) +
                                  " bytes, the manifest says " + std::to_string(entry.size));
  }
  if (storage::crc32c(bytes) != entry.crc) return corrupt(file.path, "checksum mismatch");
  file.in = ByteReader(bytes);
  return file;
}

// Checks the magic and the version of `kind` at the front of `file` and reads past them.
Status read_magic(LoadedFile& file, const snapshot::FileKind& kind) {
  std::uint64_t magic = 0;
  std::uint32_t version = 0;
  if (!file.in.get_u64(magic) || magic != magic_word(kind)) return corrupt(file.path, "bad magic");
  if (!file.in.get_u32(version)) return corrupt(file.path, "header cut short");
  if (version != snapshot::kFormatVersion) {
    return corrupt(file.path, "format version " + std::to_string(version) + ", not " +
                                  std::to_string(snapshot::kFormatVersion));
  }
  return Status::ok();
}

// The files of a snapshot, mapped and verified, each read past its magic and version.
struct SnapshotFiles {
  LoadedFile vectors;
  LoadedFile graph;
  LoadedFile ids;
  LoadedFile meta;
  LoadedFile payload;
  std::vector<LoadedFile> more_vectors;  // of fields 1, 2, ...
  std::vector<LoadedFile> more_graphs;
  std::optional<LoadedFile> documents;   // a collection with text only
  std::optional<LoadedFile> text;
  std::vector<LoadedFile> sparse;        // of sparse fields 0, 1, ...
};

// The sparse field (below `fields`) whose file is called `name` ("<number>.sparse-<field>"), or
// nothing.
std::optional<std::size_t> sparse_field_of_file(std::string_view name, std::size_t fields) {
  for (std::size_t field = 0; field < fields; ++field) {
    const std::string suffix = snapshot::sparse_suffix(field);
    if (name.size() > suffix.size() + 1 && name.ends_with(suffix) &&
        name[name.size() - suffix.size() - 1] == '.') {
      return field;
    }
  }
  return std::nullopt;
}

// The number of the further field whose file of `kind` is called `name`
// ("<number>.<kind suffix>-<field>"), or 0 when `name` is no such file of a field below `fields`.
std::size_t field_of_file(std::string_view name, const snapshot::FileKind& kind,
                          std::size_t fields) {
  for (std::size_t field = 1; field < fields; ++field) {
    const std::string suffix = snapshot::field_suffix(kind, field);
    if (name.size() > suffix.size() + 1 && name.ends_with(suffix) &&
        name[name.size() - suffix.size() - 1] == '.') {
      return field;
    }
  }
  return 0;
}

// Maps and verifies `files`, which must hold each kind of file exactly once, and the vectors and
// graph files of each further vector field of `options` exactly once.
Result<SnapshotFiles> map_all(storage::Env& env, const fs::path& dir,
                              std::span<const storage::SnapshotFile> files,
                              const CollectionOptions& options) {
  const std::size_t more = options.field_count() - 1;
  std::array<std::optional<LoadedFile>, snapshot::kFileKinds.size()> loaded;
  std::vector<std::optional<LoadedFile>> field_files(2 * more);  // vectors, graph of each field
  std::array<std::optional<LoadedFile>, 2> text_files;           // documents, text
  std::vector<std::optional<LoadedFile>> sparse_files(options.sparse_vectors.size());
  for (const storage::SnapshotFile& entry : files) {
    const auto kind =
        std::find_if(snapshot::kFileKinds.begin(), snapshot::kFileKinds.end(),
                     [&](const snapshot::FileKind& k) { return is_kind(entry.name, k); });
    std::optional<LoadedFile>* slot = nullptr;
    const snapshot::FileKind* file_kind = nullptr;
    std::string suffix;
    if (kind != snapshot::kFileKinds.end()) {
      slot = &loaded[static_cast<std::size_t>(kind - snapshot::kFileKinds.begin())];
      file_kind = &*kind;
      suffix = kind->suffix;
    } else if (options.text.enabled && is_kind(entry.name, snapshot::kDocuments)) {
      slot = &text_files[0];
      file_kind = &snapshot::kDocuments;
      suffix = snapshot::kDocuments.suffix;
    } else if (options.text.enabled && is_kind(entry.name, snapshot::kText)) {
      slot = &text_files[1];
      file_kind = &snapshot::kText;
      suffix = snapshot::kText.suffix;
    } else if (const std::size_t f = field_of_file(entry.name, snapshot::kVectors, more + 1)) {
      slot = &field_files[2 * (f - 1)];
      file_kind = &snapshot::kVectors;
      suffix = snapshot::field_suffix(snapshot::kVectors, f);
    } else if (const std::size_t f = field_of_file(entry.name, snapshot::kGraph, more + 1)) {
      slot = &field_files[2 * (f - 1) + 1];
      file_kind = &snapshot::kGraph;
      suffix = snapshot::field_suffix(snapshot::kGraph, f);
    } else if (const std::optional<std::size_t> f =
                   sparse_field_of_file(entry.name, sparse_files.size())) {
      slot = &sparse_files[*f];
      file_kind = &snapshot::kSparse;
      suffix = snapshot::sparse_suffix(*f);
    } else {
      return corrupt(dir / entry.name, "unknown kind of file");
    }
    if (*slot) return corrupt(dir / entry.name, "a second " + suffix + " file");
    Result<LoadedFile> file = map_checked(env, dir, entry);
    if (!file.is_ok()) return file.status();
    *slot = std::move(file).value();
    if (Status status = read_magic(**slot, *file_kind); !status.is_ok()) return status;
  }
  for (std::size_t k = 0; k < loaded.size(); ++k) {
    if (!loaded[k])
      return corrupt(dir, "no " + std::string(snapshot::kFileKinds[k].suffix) + " file");
  }
  SnapshotFiles result{std::move(*loaded[0]), std::move(*loaded[1]), std::move(*loaded[2]),
                       std::move(*loaded[3]), std::move(*loaded[4]), {}, {}, {}, {}, {}};
  for (std::size_t i = 0; i < field_files.size(); ++i) {
    if (!field_files[i]) {
      return corrupt(dir, "no " + std::string(i % 2 == 0 ? "vectors" : "graph") +
                              " file of vector field '" + options.field(i / 2 + 1).name + "'");
    }
    (i % 2 == 0 ? result.more_vectors : result.more_graphs).push_back(std::move(*field_files[i]));
  }
  if (options.text.enabled) {
    for (std::size_t i = 0; i < text_files.size(); ++i) {
      if (!text_files[i]) {
        return corrupt(dir, "no " + std::string(i == 0 ? "documents" : "text") + " file");
      }
    }
    result.documents = std::move(text_files[0]);
    result.text = std::move(text_files[1]);
  }
  for (std::size_t f = 0; f < sparse_files.size(); ++f) {
    if (!sparse_files[f]) {
      return corrupt(dir, "no file of sparse field '" + options.sparse_vectors[f] + "'");
    }
    result.sparse.push_back(std::move(*sparse_files[f]));
  }
  return result;
}

// Reads the vectors header: the slot count, once dim is the field's and the rows fill the rest of
// the file exactly.
Result<std::uint32_t> read_vectors_header(LoadedFile& file, std::size_t expected_dim) {
  std::uint32_t dim = 0;
  std::uint32_t slots = 0;
  if (!file.in.get_u32(dim) || !file.in.get_u32(slots))
    return corrupt(file.path, "header cut short");
  if (dim != expected_dim) {
    return corrupt(file.path, "dimension " + std::to_string(dim) + ", the collection's is " +
                                  std::to_string(expected_dim));
  }
  if (file.in.remaining() != std::uint64_t{slots} * dim * sizeof(float)) {
    return corrupt(file.path, std::to_string(file.in.remaining()) + " bytes of vectors, not " +
                                  std::to_string(slots) + " rows of " + std::to_string(dim) +
                                  " floats");
  }
  return slots;
}

// Restores the index of vector field `field` of `options` from its vectors and graph files.
// Graph-file problems are reported on it, problems with the vector values on the vectors file.
Result<std::unique_ptr<HnswIndex>> load_index(LoadedFile& vectors, LoadedFile& graph,
                                              const CollectionOptions& options, std::size_t field,
                                              bool map_floats) {
  const VectorFieldOptions settings = options.field(field);
  Result<std::uint32_t> slots = read_vectors_header(vectors, settings.dim);
  if (!slots.is_ok()) return slots.status();
  std::uint32_t m = 0;
  std::uint32_t graph_slots = 0;
  std::uint32_t entry_slot = 0;
  std::uint32_t entry_level = 0;
  if (!graph.in.get_u32(m) || !graph.in.get_u32(graph_slots) || !graph.in.get_u32(entry_slot) ||
      !graph.in.get_u32(entry_level)) {
    return corrupt(graph.path, "header cut short");
  }
  if (m != settings.m) {
    return corrupt(graph.path, "m " + std::to_string(m) + ", the collection's is " +
                                   std::to_string(settings.m));
  }
  if (graph_slots != slots.value()) {
    return corrupt(graph.path, std::to_string(graph_slots) + " slots, the vectors file holds " +
                                   std::to_string(slots.value()));
  }
  HnswImage image;
  image.size = graph_slots;
  image.entry_slot = entry_slot;
  image.entry_level = static_cast<std::int32_t>(entry_level);
  image.vectors = vectors.map->bytes().subspan(vectors.in.offset());
  image.vectors_file = vectors.map;
  image.map_floats = map_floats;
  image.graph = graph.map->bytes().subspan(graph.in.offset());
  Result<std::unique_ptr<HnswIndex>> index = HnswIndex::restore(
      settings.metric, settings.dim, index_params(options, field), image);
  if (index.is_ok()) return index;
  // restore() names the part at fault first: "vectors: <what>" or "graph: <what>".
  constexpr std::string_view kVectorsProblem = "vectors: ";
  constexpr std::string_view kGraphProblem = "graph: ";
  const std::string message = index.status().message();
  if (message.starts_with(kVectorsProblem)) {
    return corrupt(vectors.path, message.substr(kVectorsProblem.size()));
  }
  return corrupt(graph.path, message.starts_with(kGraphProblem)
                                 ? message.substr(kGraphProblem.size())
                                 : message);
}

// Restores g.text from the documents and text files; both must have g.index's slots and agree
// with its deleted flags (check_text_column).
Status load_text(SnapshotFiles& files, Generation& g) {
  const std::size_t slots = g.index->size();
  for (LoadedFile* file : {&*files.documents, &*files.text}) {
    std::uint32_t file_slots = 0;
    if (!file->in.get_u32(file_slots)) return corrupt(file->path, "header cut short");
    if (file_slots != slots) {
      return corrupt(file->path, std::to_string(file_slots) + " slots, the vectors file holds " +
                                     std::to_string(slots));
    }
  }
  auto text = std::make_unique<TextColumn>();
  LoadedFile& documents = *files.documents;
  if (const std::string problem = restore_documents(
          documents.map->bytes().subspan(documents.in.offset()), slots, *text);
      !problem.empty()) {
    return corrupt(documents.path, problem);
  }
  LoadedFile& image = *files.text;
  Result<text::TextIndex> index =
      text::TextIndex::restore(image.map->bytes().subspan(image.in.offset()));
  if (!index.is_ok()) return corrupt(image.path, index.status().message());
  text->index = std::move(index).value();
  if (const std::string problem = check_text_column(*text, *g.index); !problem.empty()) {
    return corrupt(image.path, problem);
  }
  g.text = std::move(text);
  return Status::ok();
}

// Restores g.sparse from the sparse fields' files: each must have g.index's slots, no vector for
// a deleted record; the indexes are rebuilt from the vectors.
Status load_sparse(SnapshotFiles& files, Generation& g) {
  const std::size_t slots = g.index->size();
  g.sparse.resize(files.sparse.size());
  for (std::size_t field = 0; field < files.sparse.size(); ++field) {
    LoadedFile& file = files.sparse[field];
    std::uint32_t file_slots = 0;
    if (!file.in.get_u32(file_slots)) return corrupt(file.path, "header cut short");
    if (file_slots != slots) {
      return corrupt(file.path, std::to_string(file_slots) + " slots, the vectors file holds " +
                                    std::to_string(slots));
    }
    if (const std::string problem = restore_sparse_rows(
            file.map->bytes().subspan(file.in.offset()), slots, *g.index, g.sparse[field]);
        !problem.empty()) {
      return corrupt(file.path, problem);
    }
  }
  return Status::ok();
}

// Restores g.more from the further fields' files: each must have g.index's slots, and every slot
// deleted there (a deleted record) deleted too.
Status load_more_vectors(SnapshotFiles& files, const CollectionOptions& options, bool map_floats,
                         Generation& g) {
  for (std::size_t field = 1; field < options.field_count(); ++field) {
    LoadedFile& graph = files.more_graphs[field - 1];
    Result<std::unique_ptr<HnswIndex>> index =
        load_index(files.more_vectors[field - 1], graph, options, field, map_floats);
    if (!index.is_ok()) return index.status();
    const HnswIndex& more = *index.value();
    if (more.size() != g.index->size()) {
      return corrupt(graph.path, std::to_string(more.size()) + " slots, the collection has " +
                                     std::to_string(g.index->size()));
    }
    for (std::uint32_t slot = 0; slot < more.size(); ++slot) {
      if (g.index->is_deleted(slot) && !more.is_deleted(slot)) {
        return corrupt(graph.path, "slot " + std::to_string(slot) +
                                       " is live, but its record is deleted");
      }
    }
    g.more.push_back(std::move(index).value());
  }
  return Status::ok();
}

// Rebuilds g.ids from the ids file: slot by slot, each id inserted and, when its slot is deleted,
// erased again at once, so find() reaches the live slots only.
Status load_ids(LoadedFile& file, Generation& g) {
  const HnswIndex& index = *g.index;
  std::uint32_t slots = 0;
  std::uint64_t id_bytes = 0;
  if (!file.in.get_u32(slots) || !file.in.get_u64(id_bytes)) {
    return corrupt(file.path, "header cut short");
  }
  if (slots != index.size()) {
    return corrupt(file.path, std::to_string(slots) + " slots, the vectors file holds " +
                                  std::to_string(index.size()));
  }
  const std::size_t lengths_bytes = std::size_t{slots} * sizeof(std::uint32_t);
  if (file.in.remaining() < lengths_bytes || file.in.remaining() - lengths_bytes != id_bytes) {
    return corrupt(file.path, std::to_string(file.in.remaining()) + " bytes of ids, not " +
                                  std::to_string(slots) + " lengths and " +
                                  std::to_string(id_bytes) + " bytes");
  }
  g.ids.reserve(slots, id_bytes);
  for (std::uint32_t slot = 0; slot < slots; ++slot) {
    const auto where = [slot] { return "id of slot " + std::to_string(slot); };
    std::string_view id;
    if (!file.in.get_string(id)) return corrupt(file.path, where() + " runs past the end");
    if (const std::string problem = id_problem(id); !problem.empty()) {
      return corrupt(file.path, where() + " " + problem);
    }
    if (!g.ids.insert_new(id)) {
      return corrupt(file.path,
                     where() + " is also the id of live slot " + std::to_string(*g.ids.find(id)));
    }
    if (index.is_deleted(slot)) g.ids.erase(id);
  }
  if (file.in.remaining() != 0) return corrupt(file.path, "trailing bytes");
  return Status::ok();
}

// Loads the metadata file into g (nothing when it says the generation has none).
Status load_meta(LoadedFile& file, Generation& g) {
  const std::size_t size = g.index->size();
  std::uint32_t slots = 0;
  std::uint32_t flags = 0;
  if (!file.in.get_u32(slots) || !file.in.get_u32(flags)) {
    return corrupt(file.path, "header cut short");
  }
  if (slots != size) {
    return corrupt(file.path, std::to_string(slots) + " slots, the vectors file holds " +
                                  std::to_string(size));
  }
  if ((flags & ~snapshot::kMetaHasMetadata) != 0) return corrupt(file.path, "unknown flags");
  g.has_metadata = flags == snapshot::kMetaHasMetadata;
  if (g.has_metadata) {
    // Every encoding takes at least its 4-byte field count: check before allocating.
    if (file.in.remaining() / sizeof(std::uint32_t) < slots) {
      return corrupt(file.path, "too few bytes for " + std::to_string(slots) + " records");
    }
    g.metadata.resize(slots);
    for (std::uint32_t slot = 0; slot < slots; ++slot) {
      if (Status status = storage::decode_metadata(file.in, g.metadata[slot]); !status.is_ok()) {
        return corrupt(file.path, "slot " + std::to_string(slot) + " " + status.message());
      }
    }
  }
  if (file.in.remaining() != 0) return corrupt(file.path, "trailing bytes");
  return Status::ok();
}

// Restores g.payload from the payload file; its live set must be the index's live slots.
Status load_payload(LoadedFile& file, Generation& g) {
  const std::size_t size = g.index->size();
  std::uint32_t slots = 0;
  if (!file.in.get_u32(slots)) return corrupt(file.path, "header cut short");
  if (slots != size) {
    return corrupt(file.path, std::to_string(slots) + " slots, the vectors file holds " +
                                  std::to_string(size));
  }
  Result<PayloadIndex> payload =
      PayloadIndex::restore(file.map->bytes().subspan(file.in.offset()), slots);
  if (!payload.is_ok()) return corrupt(file.path, payload.status().message());
  if (!(payload.value().live() == live_slots(*g.index))) {
    return corrupt(file.path, "the live set is not the graph's live slots");
  }
  g.payload = std::move(payload).value();
  return Status::ok();
}

}  // namespace

Result<std::shared_ptr<Generation>> load_snapshot(storage::Env& env, const fs::path& dir,
                                                  std::span<const storage::SnapshotFile> files,
                                                  const CollectionOptions& options,
                                                  bool map_floats) {
  Result<SnapshotFiles> mapped = map_all(env, dir, files, options);
  if (!mapped.is_ok()) return mapped.status();
  SnapshotFiles& snapshot_files = mapped.value();
  Result<std::unique_ptr<HnswIndex>> index =
      load_index(snapshot_files.vectors, snapshot_files.graph, options, 0, map_floats);
  if (!index.is_ok()) return index.status();
  auto g = std::make_shared<Generation>(std::move(index).value());
  if (Status status = load_more_vectors(snapshot_files, options, map_floats, *g);
      !status.is_ok())
    return status;
  if (options.text.enabled) {
    if (Status status = load_text(snapshot_files, *g); !status.is_ok()) return status;
  }
  if (Status status = load_sparse(snapshot_files, *g); !status.is_ok()) return status;
  if (Status status = load_ids(snapshot_files.ids, *g); !status.is_ok()) return status;
  if (Status status = load_meta(snapshot_files.meta, *g); !status.is_ok()) return status;
  if (Status status = load_payload(snapshot_files.payload, *g); !status.is_ok()) return status;
  return g;
}

}  // namespace omendb
