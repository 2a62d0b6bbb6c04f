// Fixed-size rows in chunks that never move: growing adds a chunk, so a pointer to a row stays
// valid for the arena's lifetime and readers may use rows while a writer grows the arena.
#pragma once

#include <sys/mman.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

namespace omendb {

// The size of a transparent huge page on x86-64.
inline constexpr std::uintptr_t kHugePage = std::uintptr_t{2} << 20;

// Asks the OS to back the 2 MiB-aligned part of [memory, memory + bytes) with huge pages: a graph
// walk touches rows all over its arenas, and with 4 KiB pages most of those touches also missed
// the TLB. Memory stays unpopulated until written (then 2 MiB at a time). Nothing for blocks under
// 4 MiB, or where the OS declines.
inline void prefer_huge_pages(void* memory, std::size_t bytes) noexcept {
  if (bytes < 2 * kHugePage) return;
  const auto start = (reinterpret_cast<std::uintptr_t>(memory) + kHugePage - 1) & ~(kHugePage - 1);
  const auto end = (reinterpret_cast<std::uintptr_t>(memory) + bytes) & ~(kHugePage - 1);
  if (end > start) ::madvise(reinterpret_cast<void*>(start), end - start, MADV_HUGEPAGE);
}

class RowArena {
 public:
  // Rows of `row_bytes` bytes, each starting on a multiple of `alignment` (a power of two).
  // Chunk c holds first_chunk_rows * 2^c rows, so c chunks hold first_chunk_rows * (2^c - 1).
  explicit RowArena(std::size_t row_bytes, std::size_t alignment = 64,
                    std::size_t first_chunk_rows = 1024)
      : row_bytes_(row_bytes),
        alignment_(alignment),
        stride_((row_bytes + alignment - 1) / alignment * alignment),
        first_chunk_shift_(std::bit_width(std::bit_ceil(first_chunk_rows)) - 1) {
    assert(std::has_single_bit(alignment) && row_bytes > 0);
  }

  RowArena(const RowArena&) = delete;
  RowArena& operator=(const RowArena&) = delete;

  std::size_t row_bytes() const noexcept { return row_bytes_; }
  // Distance in bytes between consecutive rows of one chunk.
  std::size_t stride() const noexcept { return stride_; }
  // Rows that exist now (allocated, zero-filled).
  std::size_t capacity() const noexcept { return capacity_; }

  // Makes rows [0, rows) exist, zero-filled. Never moves existing rows. Not safe to call from two
  // threads at once; safe while other threads read rows below the previous capacity.
  // Throws std::bad_alloc when memory runs out (the arena is unchanged then).
  void reserve(std::size_t rows) {
    while (capacity_ < rows) {
      const std::size_t chunk = chunk_count_;
      const std::size_t chunk_rows = rows_of(chunk);
      // calloc hands out large blocks as fresh zero pages from the OS: only the pages rows are
      // written to become resident, so the unused tail of the newest chunk costs no memory.
      void* memory = std::calloc(chunk_rows * stride_ + alignment_, 1);
      if (memory == nullptr) throw std::bad_alloc();
      prefer_huge_pages(memory, chunk_rows * stride_ + alignment_);
      allocations_[chunk].reset(memory);
      const auto address = reinterpret_cast<std::uintptr_t>(memory);
      chunks_[chunk] = reinterpret_cast<std::byte*>((address + alignment_ - 1) & ~(alignment_ - 1));
      chunk_count_ = chunk + 1;
      capacity_ += chunk_rows;
    }
  }

  // As reserve(rows), for an arena about to be filled with exactly `rows` rows at once (a
  // restore, a compaction): the 2 MiB page holding the end of row rows - 1 is backed by 4 KiB
  // pages, so that filling it does not make the unused rest of that huge page resident (up to
  // 2 MiB an arena: 35 B/vector for a reopened 100,000 x 128 collection). Rows added later past
  // that page get huge pages again. Cost: reserve() plus at most one system call.
  void reserve_to_fill(std::size_t rows) {
    reserve(rows);
    if (rows == 0) return;
    const std::size_t chunk = chunk_of(rows - 1);
    const auto chunk_start = reinterpret_cast<std::uintptr_t>(allocations_[chunk].get());
    const std::size_t chunk_bytes = rows_of(chunk) * stride_ + alignment_;
    if (chunk_bytes < 2 * kHugePage) return;  // prefer_huge_pages left it on small pages
    const auto end = reinterpret_cast<std::uintptr_t>(row(rows - 1)) + stride_;
    const std::uintptr_t page = end & ~(kHugePage - 1);
    if (page == end || page < chunk_start) return;  // ends on a boundary, or in the unadvised head
    const std::uintptr_t limit = std::min(page + kHugePage, chunk_start + chunk_bytes);
    ::madvise(reinterpret_cast<void*>(page), limit - page, MADV_NOHUGEPAGE);
  }

  // Rows from row `i` to the end of the chunk that holds (or will hold) it: rows [i, i + n) are
  // contiguous in memory for n up to this. Any i (it need not exist yet).
  std::size_t rows_to_chunk_end(std::size_t i) const noexcept {
    return first_row_of(chunk_of(i) + 1) - i;
  }

  // Row `i`. Precondition: i < capacity(). Cost: a few integer instructions, no branch.
  std::byte* row(std::size_t i) noexcept {
    const std::size_t chunk = chunk_of(i);
    return chunks_[chunk] + (i - first_row_of(chunk)) * stride_;
  }
  const std::byte* row(std::size_t i) const noexcept { return const_cast<RowArena*>(this)->row(i); }

  // Row `i` viewed as an array of T. Precondition: alignment and row_bytes suit T.
  template <class T>
  T* row_as(std::size_t i) noexcept {
    return reinterpret_cast<T*>(row(i));
  }
  template <class T>
  const T* row_as(std::size_t i) const noexcept {
    return reinterpret_cast<const T*>(row(i));
  }

  // Bytes allocated for rows (capacity * stride).
  std::size_t allocated_bytes() const noexcept { return capacity_ * stride_; }

  // Copies `count` rows of row_bytes() bytes each, packed back to back at `packed` (any
  // alignment), to rows [first, first + count); row padding is left as it is. For restoring saved
  // rows in bulk. Precondition: first + count <= capacity(), and no other thread uses those rows.
  // Cost: one memcpy per chunk when rows have no padding, else one per row.
  void copy_in(std::size_t first, const std::byte* packed, std::size_t count) noexcept {
    while (count > 0) {
      const std::size_t chunk = chunk_of(first);
      const std::size_t chunk_end = first_row_of(chunk + 1);
      const std::size_t run = std::min(chunk_end - first, count);
      std::byte* out = row(first);
      if (stride_ == row_bytes_) {
        std::memcpy(out, packed, run * row_bytes_);
      } else {
        for (std::size_t r = 0; r < run; ++r) {
          std::memcpy(out + r * stride_, packed + r * row_bytes_, row_bytes_);
        }
      }
      packed += run * row_bytes_;
      first += run;
      count -= run;
    }
  }

 private:
  // The chunk holding row `i`: chunk c covers (i >> first_chunk_shift_) + 1 in [2^c, 2^(c+1)).
  std::size_t chunk_of(std::size_t i) const noexcept {
    const auto chunk = static_cast<std::size_t>(std::bit_width((i >> first_chunk_shift_) + 1)) - 1;
    // Rows below capacity() lie in the chunks; saying so costs nothing and spares GCC's
    // -Warray-bounds the case i = SIZE_MAX (chunk = -1) that the precondition excludes.
    if (chunk >= kMaxChunks) __builtin_unreachable();
    return chunk;
  }
  // The rows chunk `chunk` holds.
  std::size_t rows_of(std::size_t chunk) const noexcept {
    return std::size_t{1} << (first_chunk_shift_ + chunk);
  }
  // The first row of chunk `chunk`.
  std::size_t first_row_of(std::size_t chunk) const noexcept {
    return ((std::size_t{1} << chunk) - 1) << first_chunk_shift_;
  }

  struct FreeDeleter {
    void operator()(void* p) const noexcept { std::free(p); }
  };
  static constexpr std::size_t kMaxChunks = 48;

  std::size_t row_bytes_;
  std::size_t alignment_;
  std::size_t stride_;
  std::size_t first_chunk_shift_;
  std::size_t chunk_count_ = 0;
  std::size_t capacity_ = 0;
  std::array<std::byte*, kMaxChunks> chunks_{};  // aligned start of each chunk's rows
  std::array<std::unique_ptr<void, FreeDeleter>, kMaxChunks> allocations_;
};

}  // namespace omendb
