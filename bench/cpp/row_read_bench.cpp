// What one float row costs to read from a file the page cache holds, at random rows: through a
// shared read-only memory map (how a quantized collection's re-rank reads its floats) against a
// pread into a buffer (which maps nothing into the process). Rows of 512 B (128-d) and 3 KiB
// (768-d); 100,000 rows in a temporary file, read once before timing so every page is cached. Each
// read row meets a query in the dispatched L2 kernel, as in the re-rank.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "simd/distance.h"

namespace omendb::simd {
namespace {

constexpr std::size_t kRows = 100'000;

// A cached file of kRows rows of `row_bytes`, mapped; removed (and unmapped) at exit.
class CachedRowFile {
 public:
  explicit CachedRowFile(std::size_t row_bytes) : row_bytes_(row_bytes) {
    std::string path = "/tmp/omendb_row_read_XXXXXX";
    fd_ = mkstemp(path.data());
    if (fd_ < 0) std::abort();
    unlink(path.c_str());
    const std::vector<float> rows(kRows * row_bytes / sizeof(float), 0.5f);
    const std::size_t bytes = kRows * row_bytes;
    if (write(fd_, rows.data(), bytes) != static_cast<ssize_t>(bytes)) std::abort();
    std::vector<char> scratch(row_bytes);
    for (std::size_t r = 0; r < kRows; ++r) {  // every page into the page cache
      if (pread(fd_, scratch.data(), row_bytes, static_cast<off_t>(r * row_bytes)) < 0) std::abort();
    }
    map_ = static_cast<const float*>(mmap(nullptr, bytes, PROT_READ, MAP_SHARED, fd_, 0));
    if (map_ == MAP_FAILED) std::abort();
    madvise(const_cast<float*>(map_), bytes, MADV_RANDOM);  // as the collection maps its floats
  }
  ~CachedRowFile() {
    munmap(const_cast<float*>(map_), kRows * row_bytes_);
    close(fd_);
  }
  CachedRowFile(const CachedRowFile&) = delete;
  CachedRowFile& operator=(const CachedRowFile&) = delete;

  int fd() const { return fd_; }
  std::size_t row_bytes() const { return row_bytes_; }
  const float* row(std::size_t r) const { return map_ + r * row_bytes_ / sizeof(float); }

 private:
  std::size_t row_bytes_;
  int fd_ = -1;
  const float* map_ = nullptr;
};

std::vector<std::size_t> random_rows() {
  std::mt19937_64 rng(7);
  std::vector<std::size_t> rows(1 << 16);
  for (std::size_t& r : rows) r = rng() % kRows;
  return rows;
}

// Times random rows of state.range(0) bytes, each got by read_row(file, row, buffer) (the row's
// floats, or null on a failed read) and met with a query in the L2 kernel.
template <typename ReadRow>
void time_row_reads(benchmark::State& state, ReadRow read_row) {
  const CachedRowFile file(static_cast<std::size_t>(state.range(0)));
  const std::vector<std::size_t> rows = random_rows();
  const std::size_t dim = file.row_bytes() / sizeof(float);
  const std::vector<float> query(dim, 0.25f);
  std::vector<float> buffer(dim);
  const KernelFn l2 = best_kernels().l2_squared;
  std::size_t next = 0;
  for (auto _ : state) {
    const float* row = read_row(file, rows[next++ & (rows.size() - 1)], buffer.data());
    if (row == nullptr) {
      state.SkipWithError("short pread");
      break;
    }
    benchmark::DoNotOptimize(l2(query.data(), row, dim));
  }
}

void BM_RowReadMapped(benchmark::State& state) {
  time_row_reads(state, [](const CachedRowFile& file, std::size_t row, float*) {
    return file.row(row);
  });
}

void BM_RowReadPread(benchmark::State& state) {
  time_row_reads(state, [](const CachedRowFile& file, std::size_t row, float* buffer) {
    const std::size_t bytes = file.row_bytes();
    const ssize_t got = pread(file.fd(), buffer, bytes, static_cast<off_t>(row * bytes));
    return got == static_cast<ssize_t>(bytes) ? static_cast<const float*>(buffer) : nullptr;
  });
}

BENCHMARK(BM_RowReadMapped)->Arg(512)->Arg(3072);
BENCHMARK(BM_RowReadPread)->Arg(512)->Arg(3072);

}  // namespace
}  // namespace omendb::simd
