// Fuzz target: decode_manifest (storage/manifest.h) on the input as a MANIFEST file.
//
// Each input is decoded twice: as it is, and with its body length and trailing crc recomputed
// (the fuzzer cannot forge CRC-32C by itself), so the body's checks are reached. The encoding has
// one spelling per manifest, so whatever decodes must encode back to exactly its input bytes.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "storage/crc32c.h"
#include "storage/manifest.h"
#include "support/check.h"

namespace omendb::fuzz {
namespace {

namespace layout = storage::manifest;

// `file` with its body length and crc set to match its size and bytes, when it has room for them.
std::vector<std::byte> with_fixed_frame(std::span<const std::byte> file) {
  std::vector<std::byte> out(file.begin(), file.end());
  if (out.size() < layout::kHeaderSize + layout::kTrailerSize) return out;
  const auto length =
      static_cast<std::uint32_t>(out.size() - layout::kHeaderSize - layout::kTrailerSize);
  std::memcpy(out.data() + layout::kLengthOffset, &length, sizeof length);
  const std::size_t crc_at = out.size() - layout::kTrailerSize;
  const std::uint32_t crc = storage::crc32c_mask(storage::crc32c(std::span(out).first(crc_at)));
  std::memcpy(out.data() + crc_at, &crc, sizeof crc);
  return out;
}

// Decodes `file`; aborts unless a decoded manifest is valid and encodes back to `file` (one of an
// older format version: encodes in the current one and decodes back to the same contents).
void decode(std::span<const std::byte> file) {
  Result<storage::Manifest> manifest = storage::decode_manifest(file);
  if (!manifest.is_ok()) {
    require(manifest.status().code() == StatusCode::kCorruption,
            "a bad manifest is not kCorruption");
    return;
  }
  for (const storage::ManifestCollection& collection : manifest.value().collections) {
    require(collection.options.validate().is_ok(), "invalid collection options decoded");
  }
  const bool current = manifest.value().format_version == storage::manifest::kFormatVersion;
  manifest.value().format_version = storage::manifest::kFormatVersion;
  Result<std::vector<std::byte>> encoded = storage::encode_manifest(manifest.value());
  require(encoded.is_ok(), "a decoded manifest does not encode: " + encoded.status().message());
  if (current) {
    require(std::equal(file.begin(), file.end(), encoded.value().begin(), encoded.value().end()),
            "a decoded manifest encodes to other bytes");
    return;
  }
  Result<storage::Manifest> upgraded = storage::decode_manifest(encoded.value());
  require(upgraded.is_ok() && upgraded.value().collections.size() ==
                                  manifest.value().collections.size(),
          "an upgraded manifest does not decode to the same collections");
  for (std::size_t i = 0; i < upgraded.value().collections.size(); ++i) {
    const storage::ManifestCollection& a = upgraded.value().collections[i];
    const storage::ManifestCollection& b = manifest.value().collections[i];
    require(a.name == b.name && a.snapshot_files == b.snapshot_files &&
                a.options.dim == b.options.dim && a.options.quantization == b.options.quantization,
            "an upgraded manifest changed a collection");
  }
}

}  // namespace
}  // namespace omendb::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace omendb::fuzz;
  const std::span<const std::byte> file = input_bytes(data, size);
  decode(file);
  decode(with_fixed_frame(file));
  return 0;
}
