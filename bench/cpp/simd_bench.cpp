// Micro-benchmark of the distance kernels: one pair of rows, hot in L1, per call. Reports each
// ISA's l2_squared and dot, and a naive std::inner_product loop as a baseline, at common dims;
// then the 8-bit code kernels of quantized collections.
// Counters: items_per_second is distances per second; bytes_per_second counts both rows read.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "simd/distance.h"

namespace omendb::simd {
namespace {

// Two random rows of `dim` floats in [-1, 1].
struct RowPair {
  explicit RowPair(std::size_t dim) : a(dim), b(dim) {
    std::mt19937 rng(static_cast<std::mt19937::result_type>(dim));
    std::uniform_real_distribution<float> value(-1.0f, 1.0f);
    for (float& x : a) x = value(rng);
    for (float& x : b) x = value(rng);
  }
  std::vector<float> a;
  std::vector<float> b;
};

float naive_l2_squared(const float* a, const float* b, std::size_t dim) noexcept {
  return std::inner_product(a, a + dim, b, 0.0f, std::plus<>(), [](float x, float y) {
    const float d = x - y;
    return d * d;
  });
}

float naive_dot(const float* a, const float* b, std::size_t dim) noexcept {
  return std::inner_product(a, a + dim, b, 0.0f);
}

void set_counters(benchmark::State& state, std::size_t dim) {
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(2 * dim * sizeof(float)));
}

// Times `kernel`, an entry point of `isa`, on one pair of rows of state.range(0) floats.
void bm_kernel(benchmark::State& state, KernelFn kernel, Isa isa) {
  if (!isa_supported(isa)) {
    state.SkipWithError((std::string(isa_name(isa)) + " is not supported by this CPU").c_str());
    return;
  }
  const auto dim = static_cast<std::size_t>(state.range(0));
  const RowPair rows(dim);
  for (auto _ : state) {
    benchmark::DoNotOptimize(kernel(rows.a.data(), rows.b.data(), dim));
  }
  set_counters(state, dim);
}

// The naive loops inline into the timing loop; the clobber stops the compiler from hoisting them.
template <float (*kNaive)(const float*, const float*, std::size_t) noexcept>
void bm_naive(benchmark::State& state) {
  const auto dim = static_cast<std::size_t>(state.range(0));
  const RowPair rows(dim);
  for (auto _ : state) {
    benchmark::DoNotOptimize(kNaive(rows.a.data(), rows.b.data(), dim));
    benchmark::ClobberMemory();
  }
  set_counters(state, dim);
}

void common_dims(benchmark::internal::Benchmark* bench) {
  for (std::int64_t dim : {32, 128, 384, 768, 1536}) bench->Arg(dim);
}

BENCHMARK_CAPTURE(bm_kernel, l2_squared_scalar, l2_squared_scalar, Isa::scalar)->Apply(common_dims);
BENCHMARK_CAPTURE(bm_kernel, l2_squared_avx2, l2_squared_avx2, Isa::avx2)->Apply(common_dims);
BENCHMARK_CAPTURE(bm_kernel, l2_squared_avx512, l2_squared_avx512, Isa::avx512)->Apply(common_dims);
BENCHMARK_TEMPLATE(bm_naive, naive_l2_squared)->Apply(common_dims);
BENCHMARK_CAPTURE(bm_kernel, dot_scalar, dot_scalar, Isa::scalar)->Apply(common_dims);
BENCHMARK_CAPTURE(bm_kernel, dot_avx2, dot_avx2, Isa::avx2)->Apply(common_dims);
BENCHMARK_CAPTURE(bm_kernel, dot_avx512, dot_avx512, Isa::avx512)->Apply(common_dims);
BENCHMARK_TEMPLATE(bm_naive, naive_dot)->Apply(common_dims);

// One row of random 8-bit codes and one of signed query codes, as quantized searches pass them.
struct CodePair {
  explicit CodePair(std::size_t dim) : codes(dim), query(dim) {
    std::mt19937 rng(static_cast<std::mt19937::result_type>(dim));
    std::uniform_int_distribution<int> code(0, 255), value(-127, 127);
    for (auto& c : codes) c = static_cast<std::uint8_t>(code(rng));
    for (auto& q : query) q = static_cast<std::int8_t>(value(rng));
  }
  std::vector<std::uint8_t> codes;
  std::vector<std::int8_t> query;
};

// Times a code kernel; bytes_per_second counts the code row only (what a search reads per node).
void bm_code_kernel(benchmark::State& state, CodeDotFn kernel, bool supported) {
  if (!supported) {
    state.SkipWithError("not supported by this CPU");
    return;
  }
  const auto dim = static_cast<std::size_t>(state.range(0));
  const CodePair rows(dim);
  for (auto _ : state) {
    benchmark::DoNotOptimize(kernel(rows.codes.data(), rows.query.data(), dim));
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(dim));
}

BENCHMARK_CAPTURE(bm_code_kernel, code_dot_scalar, code_dot_scalar, true)->Apply(common_dims);
BENCHMARK_CAPTURE(bm_code_kernel, code_dot_avx2, code_dot_avx2, isa_supported(Isa::avx2))
    ->Apply(common_dims);
BENCHMARK_CAPTURE(bm_code_kernel, code_dot_avx512, code_dot_avx512, isa_supported(Isa::avx512))
    ->Apply(common_dims);
BENCHMARK_CAPTURE(bm_code_kernel, code_dot_avx512_vnni, code_dot_avx512_vnni,
                  avx512_vnni_supported())
    ->Apply(common_dims);

}  // namespace
}  // namespace omendb::simd
