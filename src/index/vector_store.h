// The vectors of a collection, one row of dim floats per slot. Rows never move, so searches read
// them while a writer appends. Rows live in 64-byte-aligned memory, except that a store may serve
// its first rows from a mapped snapshot file (map_rows): a quantized collection on disk does, so
// its floats are read through the page cache instead of held in memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "collections/row_arena.h"
#include "storage/env.h"

namespace omendb {

class VectorStore {
 public:
  explicit VectorStore(std::size_t dim) : dim_(dim), arena_(dim * sizeof(float)) {}

  std::size_t dim() const noexcept { return dim_; }

  // Precondition: slot < capacity(). Cost: a compare and a few integer instructions.
  const float* row(std::uint32_t slot) const noexcept {
    return slot < mapped_rows_ ? mapped_ + std::size_t{slot} * dim_
                               : arena_.row_as<float>(slot - mapped_rows_);
  }
  // Row `slot` as row() returns it, except that a mapped row (unless map_rows was told to read
  // through the map) is copied into `buffer` (room for dim floats) by a read of its file, and
  // `buffer` returned: a read that leaves the page cache's copy of the row out of this process's
  // resident memory (MappedFile::copy_out). For a few rows read at random, as a re-rank reads
  // them. Precondition: slot < capacity(). Cost: row()'s, or a system call (about 1.5 us).
  const float* read_row(std::uint32_t slot, float* buffer) const noexcept {
    if (slot >= mapped_rows_ || read_through_map_) return row(slot);
    const std::size_t row_bytes = dim_ * sizeof(float);
    file_->copy_out(mapped_offset_ + std::size_t{slot} * row_bytes,
                    {reinterpret_cast<std::byte*>(buffer), row_bytes});
    return buffer;
  }
  // Precondition: mapped_rows() <= slot < capacity() (mapped rows are read-only).
  float* mutable_row(std::uint32_t slot) noexcept {
    return arena_.row_as<float>(slot - mapped_rows_);
  }

  std::size_t capacity() const noexcept { return mapped_rows_ + arena_.capacity(); }
  // Makes slots [0, rows) writable. Writer only; safe while readers use existing rows.
  void reserve(std::size_t rows) { arena_.reserve(rows > mapped_rows_ ? rows - mapped_rows_ : 0); }
  // As reserve(rows), before copying in exactly slots [0, rows) at once (RowArena::reserve_to_fill).
  void reserve_to_fill(std::size_t rows) {
    arena_.reserve_to_fill(rows > mapped_rows_ ? rows - mapped_rows_ : 0);
  }
  // Copies `count` rows of dim floats, packed back to back at `packed` (any alignment), to slots
  // [first, first + count) as they are (not prepared again). Precondition: mapped_rows() <= first,
  // first + count <= capacity(), no reader uses those slots yet. Cost: one memcpy per arena chunk
  // (per row when rows are padded).
  void copy_in(std::size_t first, const std::byte* packed, std::size_t count) noexcept {
    arena_.copy_in(first - mapped_rows_, packed, count);
  }

  // Serves slots [0, count) from `rows`: count packed rows of dim floats (4-byte aligned) inside
  // `file`, which the store keeps mapped; read_row reads them through the map when
  // `read_through_map`, else from the file. Precondition: the store is empty (nothing reserved).
  // Cost: O(1); the rows are read (and paged in) only when used.
  void map_rows(std::shared_ptr<const storage::MappedFile> file, const float* rows,
                std::size_t count, bool read_through_map) noexcept {
    file_ = std::move(file);
    mapped_ = rows;
    mapped_offset_ =
        static_cast<std::size_t>(reinterpret_cast<const std::byte*>(rows) - file_->bytes().data());
    mapped_rows_ = count;
    read_through_map_ = read_through_map;
  }
  std::size_t mapped_rows() const noexcept { return mapped_rows_; }
  // Drops the mapped rows from the process's resident memory (they stay in the OS page cache and
  // come back when read). Nothing when no rows are mapped. Cost: one system call.
  void release_mapped_pages() const noexcept {
    if (file_) file_->release_resident_pages();
  }

  // Bytes allocated in memory (mapped rows not included).
  std::size_t allocated_bytes() const noexcept { return arena_.allocated_bytes(); }

 private:
  std::size_t dim_;
  std::shared_ptr<const storage::MappedFile> file_;  // holds the mapped rows, if any
  const float* mapped_ = nullptr;
  std::size_t mapped_offset_ = 0;  // of mapped_ in the file
  std::size_t mapped_rows_ = 0;
  bool read_through_map_ = false;
  RowArena arena_;
};

}  // namespace omendb
