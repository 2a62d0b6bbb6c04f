// The vectors of a collection, one 64-byte-aligned row of dim floats per slot. Rows never move,
// so searches read them while a writer appends.
#pragma once

#include <cstddef>
#include <cstdint>

#include "collections/row_arena.h"

namespace omendb {

class VectorStore {
 public:
  explicit VectorStore(std::size_t dim) : dim_(dim), arena_(dim * sizeof(float)) {}

  std::size_t dim() const noexcept { return dim_; }

  // Precondition: slot < capacity(). Cost: a few integer instructions.
  const float* row(std::uint32_t slot) const noexcept { return arena_.row_as<float>(slot); }
  float* mutable_row(std::uint32_t slot) noexcept { return arena_.row_as<float>(slot); }

  std::size_t capacity() const noexcept { return arena_.capacity(); }
  // Makes slots [0, rows) writable. Writer only; safe while readers use existing rows.
  void reserve(std::size_t rows) { arena_.reserve(rows); }
  // Copies `count` rows of dim floats, packed back to back at `packed` (any alignment), to slots
  // [first, first + count) as they are (not prepared again). Precondition: first + count <=
  // capacity(), no reader uses those slots yet. Cost: one memcpy per arena chunk (per row when
  // rows are padded).
  void copy_in(std::size_t first, const std::byte* packed, std::size_t count) noexcept {
    arena_.copy_in(first, packed, count);
  }
  // Bytes of one row including alignment padding.
  std::size_t stride() const noexcept { return arena_.stride(); }
  std::size_t allocated_bytes() const noexcept { return arena_.allocated_bytes(); }

 private:
  std::size_t dim_;
  RowArena arena_;
};

}  // namespace omendb
