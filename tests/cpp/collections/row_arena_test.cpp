#include "collections/row_arena.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace omendb {
namespace {

bool is_aligned(const void* p, std::size_t alignment) {
  return reinterpret_cast<std::uintptr_t>(p) % alignment == 0;
}

bool is_zero(const std::byte* p, std::size_t bytes) {
  return std::all_of(p, p + bytes, [](std::byte b) { return b == std::byte{0}; });
}

// A byte pattern that differs between rows and between positions inside a row.
std::byte pattern_byte(std::size_t row, std::size_t offset) {
  return static_cast<std::byte>((row * 131 + offset * 7 + (row >> 8)) & 0xFF);
}

void write_pattern(RowArena& arena, std::size_t row) {
  std::byte* p = arena.row(row);
  for (std::size_t b = 0; b < arena.row_bytes(); ++b) p[b] = pattern_byte(row, b);
}

bool has_pattern(const RowArena& arena, std::size_t row) {
  const std::byte* p = arena.row(row);
  for (std::size_t b = 0; b < arena.row_bytes(); ++b) {
    if (p[b] != pattern_byte(row, b)) return false;
  }
  return true;
}

// Stride is row_bytes rounded up to the alignment; row_bytes is kept as given.
TEST(RowArenaTest, StrideRoundsRowBytesUpToAlignment) {
  struct Case {
    std::size_t row_bytes, alignment, stride;
  };
  for (const Case& c : {Case{1, 64, 64}, Case{63, 64, 64}, Case{64, 64, 64}, Case{65, 64, 128},
                        Case{512, 64, 512}, Case{513, 64, 576}, Case{12, 4, 12}, Case{12, 16, 16},
                        Case{3, 1, 3}, Case{100, 4096, 4096}}) {
    const RowArena arena(c.row_bytes, c.alignment);
    EXPECT_EQ(arena.row_bytes(), c.row_bytes);
    EXPECT_EQ(arena.stride(), c.stride) << c.row_bytes << " bytes aligned to " << c.alignment;
  }
}

// A new arena has no rows; reserve() adds whole chunks that double in size, and
// allocated_bytes() is capacity * stride.
TEST(RowArenaTest, CapacityGrowsByDoublingChunks) {
  RowArena arena(16, 64, 8);
  EXPECT_EQ(arena.capacity(), 0u);
  EXPECT_EQ(arena.allocated_bytes(), 0u);
  arena.reserve(0);
  EXPECT_EQ(arena.capacity(), 0u);
  arena.reserve(1);
  EXPECT_EQ(arena.capacity(), 8u);
  arena.reserve(8);
  EXPECT_EQ(arena.capacity(), 8u);
  arena.reserve(9);
  EXPECT_EQ(arena.capacity(), 8u + 16u);
  arena.reserve(100);  // chunks of 8, 16, 32, 64
  EXPECT_EQ(arena.capacity(), 120u);
  arena.reserve(50);  // never shrinks
  EXPECT_EQ(arena.capacity(), 120u);
  EXPECT_EQ(arena.allocated_bytes(), 120u * 64u);
}

// A first chunk size that is not a power of two is rounded up to one.
TEST(RowArenaTest, FirstChunkRowsRoundsUpToPowerOfTwo) {
  RowArena seven(4, 64, 7);
  seven.reserve(1);
  EXPECT_EQ(seven.capacity(), 8u);
  RowArena zero(4, 64, 0);
  zero.reserve(1);
  EXPECT_EQ(zero.capacity(), 1u);
}

// Every row starts on a multiple of the alignment, for several alignments and row sizes.
TEST(RowArenaTest, RowsAreAligned) {
  for (std::size_t alignment : {8u, 16u, 64u, 128u, 4096u}) {
    for (std::size_t row_bytes : {1u, 12u, 512u, 1000u}) {
      RowArena arena(row_bytes, alignment, 4);
      arena.reserve(200);
      for (std::size_t i = 0; i < arena.capacity(); ++i) {
        ASSERT_TRUE(is_aligned(arena.row(i), alignment))
            << "row " << i << ", " << row_bytes << " bytes aligned to " << alignment;
      }
    }
  }
}

// New rows read as zero, including rows added after earlier rows were written, and the padding
// up to the stride.
TEST(RowArenaTest, NewRowsAreZeroFilled) {
  RowArena arena(40, 64, 4);
  arena.reserve(4);
  for (std::size_t i = 0; i < arena.capacity(); ++i) {
    ASSERT_TRUE(is_zero(arena.row(i), arena.stride())) << "row " << i;
    std::memset(arena.row(i), 0xAB, arena.row_bytes());
  }
  const std::size_t written = arena.capacity();
  arena.reserve(1000);
  for (std::size_t i = written; i < arena.capacity(); ++i) {
    ASSERT_TRUE(is_zero(arena.row(i), arena.stride())) << "row " << i;
  }
}

// Pointers taken to rows stay valid and their contents intact while the arena grows a
// thousandfold one row at a time.
TEST(RowArenaTest, RowsKeepAddressesAndContentsWhileGrowing) {
  RowArena arena(24, 64, 16);
  arena.reserve(16);
  std::vector<const std::byte*> addresses;
  for (std::size_t i = 0; i < 16; ++i) {
    write_pattern(arena, i);
    addresses.push_back(arena.row(i));
  }
  for (std::size_t rows = 17; rows <= 16'000; ++rows) arena.reserve(rows);
  ASSERT_GE(arena.capacity(), 16'000u);
  for (std::size_t i = 0; i < 16; ++i) {
    EXPECT_EQ(arena.row(i), addresses[i]) << "row " << i;
    EXPECT_TRUE(has_pattern(arena, i)) << "row " << i;
  }
}

// row(i) addresses distinct, non-overlapping memory for every i across many chunk boundaries:
// a unique pattern written to every row reads back intact, and rows of one chunk are one
// stride apart.
TEST(RowArenaTest, RowLookupIsCorrectAcrossChunkBoundaries) {
  constexpr std::size_t kRows = 300'000;
  for (std::size_t first_chunk_rows : {1u, 7u, 1024u}) {
    SCOPED_TRACE(first_chunk_rows);
    RowArena arena(12, 64, first_chunk_rows);
    arena.reserve(kRows);
    for (std::size_t i = 0; i < kRows; ++i) write_pattern(arena, i);
    for (std::size_t i = 0; i < kRows; ++i) ASSERT_TRUE(has_pattern(arena, i)) << "row " << i;

    // Chunk c starts at row f * (2^c - 1) with f the first chunk's rows, rounded to a power of 2.
    const std::size_t f = std::bit_ceil(first_chunk_rows);
    for (std::size_t chunk_start = 0, chunk_rows = f; chunk_start < kRows;
         chunk_start += chunk_rows, chunk_rows *= 2) {
      const std::size_t chunk_end = std::min(kRows, chunk_start + chunk_rows);
      for (std::size_t i = chunk_start + 1; i < chunk_end; ++i) {
        ASSERT_EQ(arena.row(i) - arena.row(i - 1), static_cast<std::ptrdiff_t>(arena.stride()))
            << "row " << i;
      }
    }
  }
}

// row_as<T> views a row as T[], through both the mutable and the const accessor.
TEST(RowArenaTest, RowAsViewsRowAsTypedArray) {
  constexpr std::size_t kDim = 128;
  RowArena arena(kDim * sizeof(float));
  arena.reserve(3000);
  for (std::size_t i = 0; i < 3000; ++i) {
    float* v = arena.row_as<float>(i);
    for (std::size_t d = 0; d < kDim; ++d) v[d] = static_cast<float>(i * kDim + d);
  }
  const RowArena& reader = arena;
  for (std::size_t i = 0; i < 3000; ++i) {
    const float* v = reader.row_as<float>(i);
    ASSERT_EQ(static_cast<const void*>(v), static_cast<const void*>(reader.row(i)));
    for (std::size_t d = 0; d < kDim; ++d) ASSERT_EQ(v[d], static_cast<float>(i * kDim + d));
  }
}

// A reader may use rows below a capacity published to it while the writer keeps growing the
// arena (the documented single-writer, many-reader guarantee; meaningful under -fsanitize=thread).
TEST(RowArenaTest, ReadersSeeStableRowsWhileWriterGrows) {
  RowArena arena(8, 64, 1);
  std::atomic<std::size_t> published{0};
  std::thread reader([&] {
    std::size_t checked = 0;
    while (checked < 20'000) {
      const std::size_t limit = published.load(std::memory_order_acquire);
      for (; checked < limit; ++checked) {
        std::uint64_t value;
        std::memcpy(&value, arena.row(checked), sizeof value);
        ASSERT_EQ(value, checked * 3 + 1);
      }
    }
  });
  for (std::size_t i = 0; i < 20'000; ++i) {
    arena.reserve(i + 1);
    const std::uint64_t value = i * 3 + 1;
    std::memcpy(arena.row(i), &value, sizeof value);
    published.store(i + 1, std::memory_order_release);
  }
  reader.join();
}

// Rows [i, i + rows_to_chunk_end(i)) lie back to back in one chunk; the next row starts a chunk.
TEST(RowArenaTest, RowsToChunkEndCountsTheContiguousRowsLeft) {
  RowArena arena(4, 4, 8);  // chunks of 8, 16, 32 rows
  arena.reserve(56);
  EXPECT_EQ(arena.rows_to_chunk_end(0), 8u);
  EXPECT_EQ(arena.rows_to_chunk_end(7), 1u);
  EXPECT_EQ(arena.rows_to_chunk_end(8), 16u);
  EXPECT_EQ(arena.rows_to_chunk_end(20), 4u);
  EXPECT_EQ(arena.rows_to_chunk_end(56), 64u);  // the next chunk, not reserved yet
  for (std::size_t i = 8; i + 1 < 24; ++i) {
    EXPECT_EQ(arena.row(i + 1), arena.row(i) + arena.stride());
  }
}

// The VmFlags line of the mapping holding `address` in /proc/self/smaps ("" when none holds it).
std::string vm_flags_at(const void* address) {
  const auto target = reinterpret_cast<std::uintptr_t>(address);
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    std::uintptr_t start = 0;
    std::uintptr_t end = 0;
    char dash = 0;
    std::istringstream range(line);
    if (range >> std::hex >> start >> dash >> end && dash == '-' &&
        line.find(':') > line.find(' ')) {
      inside = start <= target && target < end;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line;
    }
  }
  return "";
}

// A bulk fill keeps huge pages for the whole 2 MiB pages it fills and asks for small pages on the
// one it fills in part, so that the rest of that page is not made resident.
TEST(RowArenaTest, ReserveToFillAdvisesSmallPagesWhereTheRowsEnd) {
  RowArena arena(64, 64, std::size_t{1} << 17);  // one 8 MiB chunk
  const std::size_t rows = 70'000;               // 4.48 MB: ends inside a 2 MiB page
  arena.reserve_to_fill(rows);
  for (std::size_t row = 0; row < rows; ++row) write_pattern(arena, row);
  EXPECT_TRUE(has_pattern(arena, 0));
  EXPECT_TRUE(has_pattern(arena, rows - 1));
  EXPECT_TRUE(is_zero(arena.row(rows), arena.row_bytes()));

  const auto end = reinterpret_cast<std::uintptr_t>(arena.row(rows - 1)) + arena.stride();
  const std::uintptr_t last_page = end & ~(kHugePage - 1);
  const std::string tail_flags = vm_flags_at(reinterpret_cast<const void*>(end));
  ASSERT_FALSE(tail_flags.empty());
  EXPECT_NE(tail_flags.find(" nh"), std::string::npos) << tail_flags;
  const std::string full_flags = vm_flags_at(reinterpret_cast<const void*>(last_page - 1));
  EXPECT_NE(full_flags.find(" hg"), std::string::npos) << full_flags;
  // Rows past the fill still grow as before.
  arena.reserve(rows + 1);
  write_pattern(arena, rows);
  EXPECT_TRUE(has_pattern(arena, rows));
}

}  // namespace
}  // namespace omendb
