// The manifest: the small file that says what a database folder holds (which log, which snapshot
// files of which collections, up to which LSN the snapshots reach). It is rewritten whole and
// switched atomically at each checkpoint; docs/format.md ("Manifest") gives the layout and the
// switch protocol with what a crash at each step leaves.
//
// file  := magic "OMENDBMF" | version u32 | body length u32 | body | crc u32
//          crc: masked crc32c of every byte before it
// body  := checkpoint lsn u64 | next file number u64 | log file name | collection count u32
//          | collections
// name  := length u32 (1..kMaxNameBytes) | bytes: letters, digits, '_', '-', '.'; not first '.'
// collection := name | dim u32 | metric u32 | m u32 | ef_construction u32 | seed u64
//               | quantization u32 (version 2 on; absent in version 1, which means none)
//               | vector fields (version 3 on; storage/vector_fields_codec.h; absent in
//                 versions 1 and 2, which means one field named "default")
//               | text settings (version 4 on; storage/text_options_codec.h; absent before,
//                 which means no text index)
//               | sparse fields (version 5 on; storage/vector_fields_codec.h; absent before,
//                 which means none)
//               | snapshot file count u32 | files
// file  := name | size u64 | masked crc32c u32 of the file's bytes
// Integers are little-endian.
//
// Thread safety: the functions share no state. One process writes a folder's manifest at a time
// (the database's write lock); any number may read it while it is being replaced.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "omendb/options.h"
#include "omendb/status.h"
#include "storage/env.h"

namespace omendb::storage {

namespace manifest {

inline constexpr std::string_view kFileName = "MANIFEST";          // the live manifest
inline constexpr std::string_view kTempFileName = "MANIFEST.tmp";  // the next one, being written
inline constexpr std::string_view kMagic = "OMENDBMF";
inline constexpr std::uint32_t kFormatVersion = 5;       // what this build writes
inline constexpr std::uint32_t kOldestReadableVersion = 1;  // the oldest it reads
inline constexpr std::size_t kVersionOffset = 8;
inline constexpr std::size_t kLengthOffset = 12;
inline constexpr std::size_t kHeaderSize = 16;  // magic, version, body length
inline constexpr std::size_t kTrailerSize = 4;  // the crc
inline constexpr std::size_t kMaxNameBytes = 128;

// Metric codes as stored; never renumber them.
inline constexpr std::uint32_t kMetricL2 = 1;
inline constexpr std::uint32_t kMetricCosine = 2;
inline constexpr std::uint32_t kMetricIp = 3;

// Quantization codes as stored; never renumber them.
inline constexpr std::uint32_t kQuantizationNone = 1;
inline constexpr std::uint32_t kQuantizationSq8 = 2;

// The stored code of `quantization`.
std::uint32_t quantization_code(Quantization quantization);
// The quantization stored as `code`, or nothing for an unknown code.
std::optional<Quantization> quantization_of_code(std::uint32_t code);

// The stored code of `metric`.
std::uint32_t metric_code(Metric metric);
// The metric stored as `code`, or nothing for an unknown code.
std::optional<Metric> metric_of_code(std::uint32_t code);

}  // namespace manifest

// One snapshot file of a collection, as the checkpoint that wrote it saw it.
struct SnapshotFile {
  std::string name;        // a file name (no directory part), resolved by the database
  std::uint64_t size = 0;  // bytes
  std::uint32_t crc = 0;   // crc32c of all its bytes (stored masked)

  bool operator==(const SnapshotFile&) const = default;
};

// One collection: its build options and the snapshot files that hold its state.
struct ManifestCollection {
  std::string name;  // the collection's name (the rules of validate_collection_name)
  CollectionOptions options;
  std::vector<SnapshotFile> snapshot_files;
};

// What a database folder holds: the contents of its MANIFEST file.
struct Manifest {
  std::uint32_t format_version = manifest::kFormatVersion;  // as read; encode takes no other
  std::uint64_t checkpoint_lsn = 0;    // log records with lsn <= this are in the snapshots
  std::uint64_t next_file_number = 1;  // the number the next new file (log, snapshot) takes
  std::string log_file;                // name of the current write-ahead log in the folder
  std::vector<ManifestCollection> collections;  // unique names, in the caller's order
};

// The bytes of `manifest`. kInvalidArgument, naming the field, when it breaks a rule decoding
// checks (a name's length or characters, a repeated collection name, options outside
// CollectionOptions::validate(), a format_version other than kFormatVersion), so whatever is
// written can be read back. Cost: one pass over the output.
Result<std::vector<std::byte>> encode_manifest(const Manifest& manifest);

// The manifest encoded in `bytes`, read as untrusted input: kCorruption ("manifest: <what> at
// byte <offset>") on a short or long file, a bad magic, checksum or version (it reads versions
// kOldestReadableVersion to kFormatVersion; an older one has no quantization field, which reads as
// none), a count larger than the bytes left can hold, a bad name, an unknown metric or
// quantization, options outside
// CollectionOptions::validate(), a repeated collection name or trailing bytes. Never reads out of
// bounds; allocates at most a small constant times bytes.size(). Cost: one pass over `bytes`.
Result<Manifest> decode_manifest(std::span<const std::byte> bytes);

// Replaces the manifest of the folder `dir` with `manifest`: writes kTempFileName, syncs it,
// renames it over kFileName, syncs `dir`. Returns once the new manifest is durable. Precondition:
// the files it names are durable already. A manifest encode_manifest refuses is kInvalidArgument,
// with nothing written. Cost: the encoding, two disk flushes.
// Guarantee: after a crash at any point a reader finds the complete old or the complete new
// manifest (none, if there was none before and the rename did not persist). On error, the live
// manifest is the old one and the temporary file is removed as far as the Env allows, except
// when the final sync of `dir` fails: the rename has then happened, so readers see the new
// manifest, and a crash may bring back either. After any error the caller must therefore keep
// the files of both manifests until a later write_manifest succeeds; a failed directory sync, like
// a failed fsync, also means the disk's state is unknown, so the database stops writing.
// `renamed` (when given) tells the two apart: false, the old manifest is live and durable; true,
// the rename happened and only the final sync failed.
Status write_manifest(Env& env, const std::filesystem::path& dir, const Manifest& manifest,
                      bool* renamed = nullptr);

// The manifest of the folder `dir`: kNotFound when it holds none yet (a leftover kTempFileName is
// ignored), kCorruption (prefixed with the file's path) for a bad one, kIoError when it cannot be
// read. Cost: one read of the file, and decode_manifest.
Result<Manifest> read_manifest(Env& env, const std::filesystem::path& dir);

}  // namespace omendb::storage
