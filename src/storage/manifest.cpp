#include "storage/manifest.h"

#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <set>
#include <utility>

#include "storage/byte_io.h"
#include "storage/crc32c.h"
#include "storage/text_options_codec.h"
#include "storage/vector_fields_codec.h"

namespace omendb::storage {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMaxU32 = std::numeric_limits<std::uint32_t>::max();
constexpr std::size_t kFrameSize = manifest::kHeaderSize + manifest::kTrailerSize;
// The fewest bytes each counted item can take. Decoding rejects a declared count larger than the
// bytes left divided by these before reserving anything.
constexpr std::size_t kMinNameBytes = 4 + 1;
constexpr std::size_t kMinSnapshotFileBytes = kMinNameBytes + 8 + 4;
constexpr std::size_t kMinCollectionBytes = kMinNameBytes + 4 * 4 + 8 + 4;

// What is wrong with `name` as a name in a manifest ("" when nothing is). The rule of collection
// names, which also keeps every name a plain file name: no '/', never "." or "..".
std::string name_problem(std::string_view name) {
  if (name.empty() || name.size() > manifest::kMaxNameBytes) {
    return "is " + std::to_string(name.size()) + " bytes, not 1 to " +
           std::to_string(manifest::kMaxNameBytes);
  }
  if (name.front() == '.') return "starts with '.'";
  for (const char c : name) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
    if (!allowed) return "holds a byte other than a letter, digit, '_', '-' or '.'";
  }
  return "";
}

std::uint32_t load_u32(std::span<const std::byte> bytes, std::size_t offset) {
  std::uint32_t value = 0;
  std::memcpy(&value, bytes.data() + offset, sizeof value);
  return value;
}

// ---- Encoding ----------------------------------------------------------------------------------

Status invalid(const std::string& field, const std::string& problem) {
  return Status::invalid_argument("manifest: " + field + " " + problem);
}

// kInvalidArgument naming the first field of `manifest` that decoding would reject.
Status check(const Manifest& manifest) {
  if (manifest.format_version != manifest::kFormatVersion) {
    return invalid("format_version", std::to_string(manifest.format_version) + " is not " +
                                         std::to_string(manifest::kFormatVersion));
  }
  if (std::string problem = name_problem(manifest.log_file); !problem.empty()) {
    return invalid("log_file", problem);
  }
  if (manifest.collections.size() > kMaxU32) return invalid("collections", "are too many");
  std::set<std::string_view> names;
  for (std::size_t i = 0; i < manifest.collections.size(); ++i) {
    const ManifestCollection& collection = manifest.collections[i];
    const std::string field = "collection " + std::to_string(i);
    if (std::string problem = name_problem(collection.name); !problem.empty()) {
      return invalid(field + " name", problem);
    }
    if (!names.insert(collection.name).second) {
      return invalid(field + " name", "'" + collection.name + "' repeats an earlier one");
    }
    if (Status status = collection.options.validate(); !status.is_ok()) {
      return invalid(field + " options:", status.message());
    }
    if (collection.snapshot_files.size() > kMaxU32) {
      return invalid(field + " snapshot files", "are too many");
    }
    for (std::size_t j = 0; j < collection.snapshot_files.size(); ++j) {
      const std::string problem = name_problem(collection.snapshot_files[j].name);
      if (!problem.empty()) {
        return invalid(field + " snapshot file " + std::to_string(j) + " name", problem);
      }
    }
  }
  return Status::ok();
}

void put_collection(const ManifestCollection& collection, ByteWriter& out) {
  const CollectionOptions& options = collection.options;
  out.put_string(collection.name);
  out.put_u32(static_cast<std::uint32_t>(options.dim));
  out.put_u32(manifest::metric_code(options.metric));
  out.put_u32(options.m);
  out.put_u32(options.ef_construction);
  out.put_u64(options.seed);
  out.put_u32(manifest::quantization_code(options.quantization));
  put_vector_fields(options, out);
  put_text_options(options.text, out);
  put_sparse_fields(options, out);
  out.put_u32(static_cast<std::uint32_t>(collection.snapshot_files.size()));
  for (const SnapshotFile& file : collection.snapshot_files) {
    out.put_string(file.name);
    out.put_u64(file.size);
    out.put_u32(crc32c_mask(file.crc));
  }
}

// ---- Decoding ----------------------------------------------------------------------------------

Status corrupt(std::size_t offset, const std::string& what) {
  return {StatusCode::kCorruption, "manifest: " + what + " at byte " + std::to_string(offset)};
}

// Reads the body, which starts at byte manifest::kHeaderSize of the file; messages give file
// offsets.
class BodyDecoder {
 public:
  BodyDecoder(std::span<const std::byte> body, std::uint32_t version) noexcept
      : in_(body), version_(version) {}

  Status decode(Manifest& out) {
    if (Status s = fixed(out.checkpoint_lsn, "checkpoint lsn"); !s.is_ok()) return s;
    if (Status s = fixed(out.next_file_number, "next file number"); !s.is_ok()) return s;
    if (Status s = name(out.log_file, "log file name"); !s.is_ok()) return s;
    std::uint32_t count = 0;
    if (Status s = counted(count, "collection count", kMinCollectionBytes); !s.is_ok()) return s;
    out.collections.resize(count);
    for (std::uint32_t i = 0; i < count; ++i) {
      if (Status s = collection(out.collections[i], i); !s.is_ok()) return s;
    }
    if (in_.remaining() != 0) {
      return corrupt(offset(), std::to_string(in_.remaining()) + " trailing bytes");
    }
    return Status::ok();
  }

 private:
  std::size_t offset() const noexcept { return manifest::kHeaderSize + in_.offset(); }

  template <class T>
  Status fixed(T& out, const std::string& field) {
    const std::size_t at = offset();
    bool read = false;
    if constexpr (sizeof(T) == sizeof(std::uint32_t)) {
      read = in_.get_u32(out);
    } else {
      read = in_.get_u64(out);
    }
    return read ? Status::ok() : corrupt(at, field + " is cut short");
  }

  // A count of items of at least `min_item_bytes` each, checked against the bytes left.
  Status counted(std::uint32_t& out, const std::string& field, std::size_t min_item_bytes) {
    const std::size_t at = offset();
    if (Status s = fixed(out, field); !s.is_ok()) return s;
    if (out > in_.remaining() / min_item_bytes) {
      return corrupt(at, field + " " + std::to_string(out) + " is more than the " +
                             std::to_string(in_.remaining()) + " bytes left can hold");
    }
    return Status::ok();
  }

  // A name as a view into the body, checked by name_problem().
  Status name_view(std::string_view& out, const std::string& field) {
    const std::size_t at = offset();
    if (!in_.get_string(out)) return corrupt(at, field + " is cut short");
    if (std::string problem = name_problem(out); !problem.empty()) {
      return corrupt(at, field + " " + problem);
    }
    return Status::ok();
  }

  Status name(std::string& out, const std::string& field) {
    std::string_view view;
    if (Status s = name_view(view, field); !s.is_ok()) return s;
    out = view;
    return Status::ok();
  }

  Status collection(ManifestCollection& out, std::uint32_t index) {
    const std::string field = "collection " + std::to_string(index);
    const std::size_t name_at = offset();
    std::string_view name_in_body;
    if (Status s = name_view(name_in_body, field + " name"); !s.is_ok()) return s;
    if (!names_.insert(name_in_body).second) {
      return corrupt(name_at, field + " name repeats an earlier one");
    }
    out.name = name_in_body;
    if (Status s = options(out.options, field); !s.is_ok()) return s;
    std::uint32_t count = 0;
    const std::string files = field + " snapshot file";
    if (Status s = counted(count, files + " count", kMinSnapshotFileBytes); !s.is_ok()) return s;
    out.snapshot_files.resize(count);
    for (std::uint32_t j = 0; j < count; ++j) {
      SnapshotFile& file = out.snapshot_files[j];
      const std::string item = files + " " + std::to_string(j);
      if (Status s = name(file.name, item + " name"); !s.is_ok()) return s;
      if (Status s = fixed(file.size, item + " size"); !s.is_ok()) return s;
      std::uint32_t masked_crc = 0;
      if (Status s = fixed(masked_crc, item + " crc"); !s.is_ok()) return s;
      file.crc = crc32c_unmask(masked_crc);
    }
    return Status::ok();
  }

  Status options(CollectionOptions& out, const std::string& field) {
    const std::size_t at = offset();
    std::uint32_t dim = 0;
    std::uint32_t code = 0;
    if (Status s = fixed(dim, field + " dim"); !s.is_ok()) return s;
    const std::size_t metric_at = offset();
    if (Status s = fixed(code, field + " metric"); !s.is_ok()) return s;
    if (Status s = fixed(out.m, field + " m"); !s.is_ok()) return s;
    if (Status s = fixed(out.ef_construction, field + " ef_construction"); !s.is_ok()) return s;
    if (Status s = fixed(out.seed, field + " seed"); !s.is_ok()) return s;
    const std::optional<Metric> metric = manifest::metric_of_code(code);
    if (!metric)
      return corrupt(metric_at, field + " metric has unknown code " + std::to_string(code));
    out.quantization = Quantization::kNone;  // version 1 has no field: its collections have none
    if (version_ >= 2) {
      const std::size_t quantization_at = offset();
      if (Status s = fixed(code, field + " quantization"); !s.is_ok()) return s;
      const std::optional<Quantization> quantization = manifest::quantization_of_code(code);
      if (!quantization) {
        return corrupt(quantization_at,
                       field + " quantization has unknown code " + std::to_string(code));
      }
      out.quantization = *quantization;
    }
    if (version_ >= 3) {  // versions 1 and 2 have one vector field, "default"
      const std::size_t fields_at = offset();
      if (std::string problem = get_vector_fields(in_, out); !problem.empty())
        return corrupt(fields_at, field + " " + problem);
    }
    if (version_ >= 4) {  // older versions have no text index
      const std::size_t text_at = offset();
      if (std::string problem = get_text_options(in_, out.text); !problem.empty())
        return corrupt(text_at, field + " " + problem);
    }
    if (version_ >= 5) {  // older versions have no sparse fields
      const std::size_t sparse_at = offset();
      if (std::string problem = get_sparse_fields(in_, out); !problem.empty())
        return corrupt(sparse_at, field + " " + problem);
    }
    out.dim = dim;
    out.metric = *metric;
    if (Status s = out.validate(); !s.is_ok())
      return corrupt(at, field + " options: " + s.message());
    return Status::ok();
  }

  ByteReader in_;
  std::uint32_t version_;             // the file's format version
  std::set<std::string_view> names_;  // collection names so far, viewing the body
};

// Writes `bytes` to a new file at `path` and syncs it. On failure the file may be left behind.
Status write_synced_file(Env& env, const fs::path& path, std::span<const std::byte> bytes) {
  Result<std::unique_ptr<WritableFile>> file = env.new_writable_file(path);
  if (!file.is_ok()) return file.status();
  Status status = file.value()->append(bytes);
  if (status.is_ok()) status = file.value()->sync();
  Status closed = file.value()->close();
  return status.is_ok() ? closed : status;
}

}  // namespace

Result<std::vector<std::byte>> encode_manifest(const Manifest& manifest) {
  if (Status status = check(manifest); !status.is_ok()) return status;
  std::vector<std::byte> out;
  const auto* magic = reinterpret_cast<const std::byte*>(manifest::kMagic.data());
  out.assign(magic, magic + manifest::kMagic.size());
  ByteWriter writer(out);
  writer.put_u32(manifest::kFormatVersion);
  writer.put_u32(0);  // the body length, set below
  writer.put_u64(manifest.checkpoint_lsn);
  writer.put_u64(manifest.next_file_number);
  writer.put_string(manifest.log_file);
  writer.put_u32(static_cast<std::uint32_t>(manifest.collections.size()));
  for (const ManifestCollection& collection : manifest.collections) {
    put_collection(collection, writer);
  }
  const std::size_t body_size = out.size() - manifest::kHeaderSize;
  if (body_size > kMaxU32) return invalid("body", "exceeds 4 GiB");
  const auto length = static_cast<std::uint32_t>(body_size);
  std::memcpy(out.data() + manifest::kLengthOffset, &length, sizeof length);
  writer.put_u32(crc32c_mask(crc32c(out)));
  return out;
}

Result<Manifest> decode_manifest(std::span<const std::byte> bytes) {
  if (bytes.size() < kFrameSize) {
    return corrupt(bytes.size(), "file of " + std::to_string(bytes.size()) +
                                     " bytes ends before its header and checksum");
  }
  if (std::memcmp(bytes.data(), manifest::kMagic.data(), manifest::kMagic.size()) != 0) {
    return corrupt(0, "bad magic");
  }
  const std::uint32_t length = load_u32(bytes, manifest::kLengthOffset);
  if (length != bytes.size() - kFrameSize) {
    return corrupt(manifest::kLengthOffset, "body length " + std::to_string(length) +
                                                " disagrees with the file size " +
                                                std::to_string(bytes.size()));
  }
  const std::size_t crc_at = bytes.size() - manifest::kTrailerSize;
  if (crc32c_unmask(load_u32(bytes, crc_at)) != crc32c(bytes.first(crc_at))) {
    return corrupt(crc_at, "checksum mismatch");
  }
  Manifest out;
  out.format_version = load_u32(bytes, manifest::kVersionOffset);
  if (out.format_version < manifest::kOldestReadableVersion ||
      out.format_version > manifest::kFormatVersion) {
    return corrupt(manifest::kVersionOffset,
                   "unsupported format version " + std::to_string(out.format_version) +
                       " (this build reads " + std::to_string(manifest::kOldestReadableVersion) +
                       " to " + std::to_string(manifest::kFormatVersion) + ")");
  }
  if (Status status =
          BodyDecoder(bytes.subspan(manifest::kHeaderSize, length), out.format_version).decode(out);
      !status.is_ok()) {
    return status;
  }
  return out;
}

Status write_manifest(Env& env, const fs::path& dir, const Manifest& manifest, bool* renamed) {
  if (renamed != nullptr) *renamed = false;
  Result<std::vector<std::byte>> bytes = encode_manifest(manifest);
  if (!bytes.is_ok()) return bytes.status();
  const fs::path temp = dir / manifest::kTempFileName;
  Status status = write_synced_file(env, temp, bytes.value());
  if (status.is_ok()) status = env.rename_file(temp, dir / manifest::kFileName);
  if (!status.is_ok()) {
    // Best effort: the error to report is `status`, and a leftover temporary file is never read.
    static_cast<void>(env.remove_file(temp));
    return status;
  }
  if (renamed != nullptr) *renamed = true;
  return env.sync_dir(dir);
}

Result<Manifest> read_manifest(Env& env, const fs::path& dir) {
  const fs::path path = dir / manifest::kFileName;
  Result<bool> exists = env.file_exists(path);
  if (!exists.is_ok()) return exists.status();
  if (!exists.value()) {
    return Status(StatusCode::kNotFound, "no manifest in " + dir.string());
  }
  Result<std::unique_ptr<RandomAccessFile>> file = env.new_random_access_file(path);
  if (!file.is_ok()) return file.status();
  const std::uint64_t size = file.value()->size();
  if (size > kFrameSize + kMaxU32) {
    return Status(StatusCode::kCorruption, path.string() + ": manifest: file of " +
                                               std::to_string(size) + " bytes is too long");
  }
  std::vector<std::byte> bytes(size);  // at most the file's size: bytes that are present
  std::size_t bytes_read = 0;
  if (Status status = file.value()->read(0, bytes, bytes_read); !status.is_ok()) return status;
  bytes.resize(bytes_read);
  Result<Manifest> manifest = decode_manifest(bytes);
  if (!manifest.is_ok() && manifest.status().code() == StatusCode::kCorruption) {
    return Status(StatusCode::kCorruption, path.string() + ": " + manifest.status().message());
  }
  return manifest;
}

std::uint32_t manifest::metric_code(Metric metric) {
  switch (metric) {
    case Metric::kL2:
      return manifest::kMetricL2;
    case Metric::kCosine:
      return manifest::kMetricCosine;
    case Metric::kIp:
      return manifest::kMetricIp;
  }
  return 0;
}

std::optional<Metric> manifest::metric_of_code(std::uint32_t code) {
  switch (code) {
    case manifest::kMetricL2:
      return Metric::kL2;
    case manifest::kMetricCosine:
      return Metric::kCosine;
    case manifest::kMetricIp:
      return Metric::kIp;
    default:
      return std::nullopt;
  }
}

std::uint32_t manifest::quantization_code(Quantization quantization) {
  return quantization == Quantization::kSq8 ? manifest::kQuantizationSq8
                                            : manifest::kQuantizationNone;
}

std::optional<Quantization> manifest::quantization_of_code(std::uint32_t code) {
  switch (code) {
    case manifest::kQuantizationNone:
      return Quantization::kNone;
    case manifest::kQuantizationSq8:
      return Quantization::kSq8;
    default:
      return std::nullopt;
  }
}

}  // namespace omendb::storage
