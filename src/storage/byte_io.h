// Fixed-width little-endian encoding for the storage layer's payloads: a writer that appends to a
// byte vector and a reader over a span whose every read checks the bytes left first.
//
// Fixed widths, no varints: encoding and decoding are one memcpy per value, the vector block (the
// bulk of every payload) is stored raw either way, and a fixed-width length costs at most three
// bytes more than a varint per string.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <string_view>
#include <vector>

namespace omendb::storage {

static_assert(
    std::endian::native == std::endian::little,
    "OmenDB files are little-endian and read by memcpy: big-endian hosts are unsupported");
static_assert(std::numeric_limits<float>::is_iec559 && std::numeric_limits<double>::is_iec559,
              "vectors and metadata numbers are stored as IEEE 754 binary32 / binary64");

// Appends encoded values to a byte vector it does not own. Cost: amortised O(bytes appended).
class ByteWriter {
 public:
  explicit ByteWriter(std::vector<std::byte>& out) noexcept : out_(out) {}

  void put_u8(std::uint8_t value) { put_raw(&value, sizeof value); }
  void put_u16(std::uint16_t value) { put_raw(&value, sizeof value); }
  void put_u32(std::uint32_t value) { put_raw(&value, sizeof value); }
  void put_u64(std::uint64_t value) { put_raw(&value, sizeof value); }
  // The IEEE 754 bits, so -0.0, denormals and NaN payloads come back unchanged.
  void put_f64(double value) { put_u64(std::bit_cast<std::uint64_t>(value)); }
  // The floats back to back, 4 bytes each, in one copy.
  void put_f32s(std::span<const float> values) { put_raw(values.data(), values.size_bytes()); }
  void put_u8s(std::span<const std::uint8_t> values) { put_raw(values.data(), values.size()); }
  // A u32 byte length, then the bytes. Precondition: text.size() <= UINT32_MAX.
  void put_string(std::string_view text) {
    put_u32(static_cast<std::uint32_t>(text.size()));
    put_raw(text.data(), text.size());
  }

 private:
  void put_raw(const void* data, std::size_t size) {
    const auto* bytes = static_cast<const std::byte*>(data);
    out_.insert(out_.end(), bytes, bytes + size);
  }

  std::vector<std::byte>& out_;
};

// Reads encoded values from the front of a span it does not own. Every get_* returns false,
// consuming nothing and leaving `out` unchanged, when fewer bytes are left than the value needs;
// it never reads past the end and never allocates. Cost: O(1) per value, O(n) for n bytes.
class ByteReader {
 public:
  explicit ByteReader(std::span<const std::byte> bytes) noexcept : bytes_(bytes) {}

  // Bytes consumed so far: the offset of the next value in the span.
  std::size_t offset() const noexcept { return offset_; }
  std::size_t remaining() const noexcept { return bytes_.size() - offset_; }

  [[nodiscard]] bool get_u8(std::uint8_t& out) noexcept { return get_raw(&out, sizeof out); }
  [[nodiscard]] bool get_u16(std::uint16_t& out) noexcept { return get_raw(&out, sizeof out); }
  [[nodiscard]] bool get_u32(std::uint32_t& out) noexcept { return get_raw(&out, sizeof out); }
  [[nodiscard]] bool get_u64(std::uint64_t& out) noexcept { return get_raw(&out, sizeof out); }
  [[nodiscard]] bool get_f64(double& out) noexcept {
    std::uint64_t bits = 0;
    if (!get_u64(bits)) return false;
    out = std::bit_cast<double>(bits);
    return true;
  }
  // Copies the next out.size() floats into `out`.
  [[nodiscard]] bool get_f32s(std::span<float> out) noexcept {
    return get_raw(out.data(), out.size_bytes());
  }
  // Copies the next out.size() bytes into `out`.
  [[nodiscard]] bool get_u8s(std::span<std::uint8_t> out) noexcept {
    return get_raw(out.data(), out.size());
  }
  // A u32 byte length, then that many bytes, returned as a view into the span.
  [[nodiscard]] bool get_string(std::string_view& out) noexcept {
    std::uint32_t size = 0;
    if (sizeof size > remaining()) return false;
    std::memcpy(&size, bytes_.data() + offset_, sizeof size);
    if (size > remaining() - sizeof size) return false;
    out = std::string_view(reinterpret_cast<const char*>(bytes_.data() + offset_ + sizeof size),
                           size);
    offset_ += sizeof size + size;
    return true;
  }

 private:
  bool get_raw(void* out, std::size_t size) noexcept {
    if (size > remaining()) return false;
    if (size != 0) std::memcpy(out, bytes_.data() + offset_, size);
    offset_ += size;
    return true;
  }

  std::span<const std::byte> bytes_;
  std::size_t offset_ = 0;
};

}  // namespace omendb::storage
