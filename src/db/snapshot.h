// Snapshots: a collection's state (vectors, graph, ids, metadata, payload index) written to files
// at a checkpoint and loaded back at open without per-vector parsing, a graph rebuild or a
// payload index rebuild.
// Layout: docs/format.md, "Snapshots".
//
// One file per kind, named "<file number>.<kind>", each starting with its own magic and the
// format version; integers little-endian:
//   vectors := magic "OMENDBVC" | version u32 | dim u32 | slots u32 | slots x dim f32
//   graph   := magic "OMENDBGR" | version u32 | m u32 | slots u32 | entry slot u32
//              | entry level i32 | level-0 records | upper-level records | deleted flags
//              (the graph image of HnswIndex::save_graph)
//   ids     := magic "OMENDBID" | version u32 | slots u32 | id bytes u64
//              | slots x (length u32, bytes)
//   meta    := magic "OMENDBMD" | version u32 | slots u32 | flags u32
//              | if flags bit 0: slots x metadata encoding (storage/record_codec.h)
//   payload := magic "OMENDBPI" | version u32 | slots u32
//              | the payload index as PayloadIndex::save writes it
//   documents := magic "OMENDBDC" | version u32 | slots u32
//              | the documents as db/text_column.h encodes them          (collections with text)
//   text    := magic "OMENDBTI" | version u32 | slots u32
//              | the text index image of text::TextIndex::save           (collections with text)
// and, for each further vector field f = 1, 2, ... (CollectionOptions::more_vectors), a vectors
// file "<file number>.vectors-<f>" and a graph file "<file number>.graph-<f>" laid out as above,
// with the collection's slots: a record that lacks the field has a zero row there and its slot is
// deleted in that graph; and for each sparse field s = 0, 1, ... (CollectionOptions::
// sparse_vectors) a file "<file number>.sparse-<s>":
//   sparse  := magic "OMENDBSP" | version u32 | slots u32
//              | the vectors as db/sparse_column.h encodes them (its index is rebuilt at load)
//
// Thread safety: write_snapshot reads a generation no writer changes meanwhile (the caller holds
// the collection's write lock); searches may run concurrently. load_snapshot shares nothing.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "db/generation.h"
#include "omendb/options.h"
#include "omendb/status.h"
#include "storage/env.h"
#include "storage/manifest.h"

namespace omendb {

namespace snapshot {

inline constexpr std::uint32_t kFormatVersion = 1;  // of every snapshot file
inline constexpr std::size_t kMagicBytes = 8;

// The kinds of file, in the order write_snapshot writes and returns them: name suffix and magic.
struct FileKind {
  std::string_view suffix;
  std::string_view magic;
};
inline constexpr FileKind kVectors{"vectors", "OMENDBVC"};
inline constexpr FileKind kGraph{"graph", "OMENDBGR"};
inline constexpr FileKind kIds{"ids", "OMENDBID"};
inline constexpr FileKind kMeta{"meta", "OMENDBMD"};
inline constexpr FileKind kPayload{"payload", "OMENDBPI"};
inline constexpr std::array<FileKind, 5> kFileKinds{kVectors, kGraph, kIds, kMeta, kPayload};
// A collection with text has these two as well, after the five above.
inline constexpr FileKind kDocuments{"documents", "OMENDBDC"};
inline constexpr FileKind kText{"text", "OMENDBTI"};
// One per sparse field, named with sparse_suffix().
inline constexpr FileKind kSparse{"sparse", "OMENDBSP"};

// The name suffix of the file of `kind` (kVectors or kGraph) of further vector field `field`
// (>= 1): "<kind suffix>-<field>". Its layout is the kind's.
inline std::string field_suffix(const FileKind& kind, std::size_t field) {
  return std::string(kind.suffix) + "-" + std::to_string(field);
}

// The name suffix of the file of sparse field `field` (from 0): "sparse-<field>".
inline std::string sparse_suffix(std::size_t field) {
  return std::string(kSparse.suffix) + "-" + std::to_string(field);
}

// Header sizes: magic, version, then each kind's fields.
inline constexpr std::size_t kVectorsHeaderBytes = 8 + 4 + 4 + 4;        // dim, slots
inline constexpr std::size_t kGraphHeaderBytes = 8 + 4 + 4 + 4 + 4 + 4;  // m, slots, entry
inline constexpr std::size_t kIdsHeaderBytes = 8 + 4 + 4 + 8;            // slots, id bytes
inline constexpr std::size_t kMetaHeaderBytes = 8 + 4 + 4 + 4;           // slots, flags
inline constexpr std::size_t kPayloadHeaderBytes = 8 + 4 + 4;            // slots
inline constexpr std::size_t kMaxHeaderBytes =
    std::max({kVectorsHeaderBytes, kGraphHeaderBytes, kIdsHeaderBytes, kMetaHeaderBytes,
              kPayloadHeaderBytes});
// Meta flag bit: one metadata encoding per slot follows the header. No other bit is defined.
inline constexpr std::uint32_t kMetaHasMetadata = 1;

}  // namespace snapshot

// Writes `g` (built with `options`) to new files in the folder `dir` (which exists), named
// "<file_number>.<kind>", and returns them as the manifest lists them (name, size, crc32c), in
// the order of snapshot::kFileKinds, then the documents and text files of a collection with text,
// then each further vector field's vectors and graph files, then each sparse field's file.
// Each file is fdatasynced; `dir` is not (the caller syncs it once for all files). Precondition:
// every published slot of g is linked (no batch is half applied). kInvalidArgument, leaving no
// files, when g does not match `options` or breaks a rule load_snapshot checks (ids, metadata, the
// payload index's live set), so whatever is written loads back. Cost: one sequential write of the
// vectors, the graph, the ids, the metadata and the payload index (each numeric column merged into
// one sorted run) through 1 MiB appends, and a disk flush per file. On error, the files written so
// far are removed as far as the Env allows.
Result<std::vector<storage::SnapshotFile>> write_snapshot(storage::Env& env,
                                                          const std::filesystem::path& dir,
                                                          std::uint64_t file_number,
                                                          const Generation& g,
                                                          const CollectionOptions& options);

// The generation stored in `files` (as write_snapshot returned them, from the manifest) in the
// folder `dir`. Every file's size and crc32c are checked before it is used, and every count,
// slot, level, flag, id, metadata record and payload posting read from it is checked against the
// bytes present, the other files and the collection's options (HnswIndex::restore for the graph,
// PayloadIndex::restore for the payload index, whose live set must be the graph's live slots), so
// damaged or hostile files give kCorruption ("<path>: snapshot: <what>"; also for a missing file,
// or a kind of file missing, repeated or unknown), never a crash or an allocation beyond a small
// constant times the files' size; kIoError when a file cannot be mapped. The result is a full
// generation: writes go on from it. Cost: a crc pass and a check pass over the mapped files, bulk
// copies into the index (one memcpy per arena chunk), one hash insert per id, the payload index
// restored from its file (bitmaps copied, columns read in order, no sorting); about 0.55 s for
// 1M x 128 floats in the page cache (docs/format.md, "Loading and validation", for more).
// A quantized index keeps serving its float rows from the mapped vectors file; `map_floats` is
// DatabaseOptions::map_floats (how it reads them when it re-ranks).
Result<std::shared_ptr<Generation>> load_snapshot(storage::Env& env,
                                                  const std::filesystem::path& dir,
                                                  std::span<const storage::SnapshotFile> files,
                                                  const CollectionOptions& options,
                                                  bool map_floats = false);

}  // namespace omendb
