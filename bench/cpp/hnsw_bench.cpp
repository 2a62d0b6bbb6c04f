// HNSW micro-benchmarks on seeded clustered data: insert throughput on 1 and 2 threads and search
// latency at several ef, in the float mode and on sq8 codes (the default). Used to compare changes
// to the index; peers are compared in bench/vs_hnswlib.py.
#include <benchmark/benchmark.h>

#include <cmath>
#include <memory>
#include <random>
#include <vector>

#include "index/hnsw_index.h"
#include "util/thread_pool.h"

namespace omendb {
namespace {

constexpr std::size_t kDim = 128;
constexpr std::size_t kRows = 20000;
constexpr std::size_t kQueries = 1000;

// Points of a 16-d Gaussian mixture mapped linearly to kDim dims: embedding-like, low intrinsic
// dimension (as shared/BENCHMARKS.md asks).
std::vector<float> embedding_like(std::size_t n, std::uint32_t seed) {
  constexpr std::size_t kLatent = 16;
  constexpr std::size_t kClusters = 64;
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> centres(kClusters * kLatent), projection(kLatent * kDim);
  for (float& x : centres) x = 4 * normal(rng);
  for (float& x : projection) x = normal(rng) / 4;
  std::vector<float> rows(n * kDim);
  std::uniform_int_distribution<std::size_t> pick(0, kClusters - 1);
  float latent[kLatent];
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t c = pick(rng);
    for (std::size_t j = 0; j < kLatent; ++j) latent[j] = centres[c * kLatent + j] + normal(rng);
    for (std::size_t d = 0; d < kDim; ++d) {
      float x = 0.05f * normal(rng);
      for (std::size_t j = 0; j < kLatent; ++j) x += latent[j] * projection[j * kDim + d];
      rows[i * kDim + d] = x;
    }
  }
  return rows;
}

const std::vector<float>& data() {
  static const std::vector<float> rows = embedding_like(kRows + kQueries, 7);
  return rows;
}

// An index of the kRows rows built on `threads` threads, on sq8 codes when `quantized`.
std::unique_ptr<HnswIndex> build(std::size_t threads, bool quantized) {
  ThreadPool pool(threads);
  HnswParams params;
  params.quantization = quantized ? Quantization::kSq8 : Quantization::kNone;
  auto index = std::make_unique<HnswIndex>(Metric::kL2, kDim, params);
  index->write_rows({data().data(), kRows * kDim}, kRows);
  index->publish(kRows);
  index->link(0, kRows, pool);
  return index;
}

// Arguments: threads, quantized (0 or 1).
void BM_Insert(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(build(static_cast<std::size_t>(state.range(0)), state.range(1) != 0));
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kRows));
}
BENCHMARK(BM_Insert)
    ->ArgsProduct({{1, 2}, {0, 1}})
    ->ArgNames({"threads", "sq8"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// Arguments: ef, quantized (0 or 1).
void BM_Search(benchmark::State& state) {
  static const std::unique_ptr<HnswIndex> floats = build(2, false);
  static const std::unique_ptr<HnswIndex> codes = build(2, true);
  const HnswIndex* index = state.range(1) != 0 ? codes.get() : floats.get();
  const auto ef = static_cast<std::size_t>(state.range(0));
  std::vector<Neighbor> hits;
  std::size_t q = 0;
  for (auto _ : state) {
    const float* query = data().data() + (kRows + q++ % kQueries) * kDim;
    index->search({query, kDim}, 10, ef, false, hits);
    benchmark::DoNotOptimize(hits.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_Search)
    ->ArgsProduct({{16, 64, 128}, {0, 1}})
    ->ArgNames({"ef", "sq8"})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace omendb
