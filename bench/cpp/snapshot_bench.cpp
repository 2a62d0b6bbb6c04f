// Snapshot write and load of collections of 128-d vectors at m = 16: write_snapshot (buffered
// appends, crc32c, one fdatasync per file) and load_snapshot with the files in the page cache
// (map, crc, structural checks, bulk copies, id map, payload index restored). The payload index
// alone: restored from its saved bytes (what loading does) against rebuilt from the metadata
// (what loading did before the payload file existed).
//
// The collections are synthetic but shaped like real ones: random vectors, full level-0 lists
// (32 random neighbours), node levels drawn as HNSW draws them, upper lists among the nodes of
// each level, 1% of slots deleted, 10-byte ids, and a small metadata record on every slot for the
// "meta" variants. They are restored through HnswIndex::restore, which takes seconds where
// building the graph would take minutes; what is measured depends on sizes, not on graph
// quality. Counters: bytes_per_second of files written or loaded, bytes_per_vector beyond the
// raw floats, payload_bytes_per_vector of the payload file.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <system_error>
#include <vector>

#include "db/collection_state.h"
#include "db/snapshot.h"

namespace omendb {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kDim = 128;
constexpr std::uint32_t kM = 16;

CollectionOptions bench_options() {
  CollectionOptions options;
  options.dim = kDim;
  options.m = kM;
  return options;
}

// A fresh directory under $TMPDIR (or /tmp), removed with its files at exit.
class BenchDir {
 public:
  BenchDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base != nullptr && *base != '\0' ? base : "/tmp") +
                          "/omendb-snapshot-bench-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) std::abort();
    path_ = pattern;
  }
  ~BenchDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  BenchDir(const BenchDir&) = delete;
  BenchDir& operator=(const BenchDir&) = delete;

  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void put_u32(std::vector<std::byte>& out, std::uint32_t value) {
  const auto* bytes = reinterpret_cast<const std::byte*>(&value);
  out.insert(out.end(), bytes, bytes + sizeof value);
}

// A saved image of n random slots in HnswImage's layout (docs/format.md, "Snapshots").
struct SyntheticImage {
  std::vector<float> vectors;
  std::vector<std::byte> graph;
  std::uint32_t entry_slot = 0;
  int entry_level = 0;
};

SyntheticImage synthetic_image(std::size_t n, std::mt19937_64& rng) {
  SyntheticImage image;
  std::normal_distribution<float> normal;
  image.vectors.resize(n * kDim);
  for (float& x : image.vectors) x = normal(rng);
  // Levels as HNSW draws them: floor(-ln(U) / ln(m)).
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::vector<int> levels(n);
  std::vector<std::vector<std::uint32_t>> by_level(1);
  for (std::size_t node = 0; node < n; ++node) {
    levels[node] = static_cast<int>(std::min(-std::log(1.0 - uniform(rng)) / std::log(double{kM}),
                                             double{HnswGraph::kMaxLevel}));
    if (levels[node] >= static_cast<int>(by_level.size())) by_level.resize(levels[node] + 1);
    for (int l = 1; l <= levels[node]; ++l) by_level[l].push_back(static_cast<std::uint32_t>(node));
    if (levels[node] > image.entry_level) {
      image.entry_level = levels[node];
      image.entry_slot = static_cast<std::uint32_t>(node);
    }
  }
  // A node's list on `level`: up to `degree` random nodes of that level, zeros after.
  const auto put_list = [&](int level, std::uint32_t degree) {
    const std::vector<std::uint32_t>* pool = level == 0 ? nullptr : &by_level[level];
    const std::size_t choices = pool == nullptr ? n : pool->size();
    const auto count = static_cast<std::uint32_t>(std::min<std::size_t>(degree, choices));
    std::uniform_int_distribution<std::size_t> pick(0, choices - 1);
    put_u32(image.graph, count);
    for (std::uint32_t i = 0; i < degree; ++i) {
      const std::size_t chosen = pick(rng);
      put_u32(image.graph,
              i >= count ? 0 : static_cast<std::uint32_t>(pool ? (*pool)[chosen] : chosen));
    }
  };
  for (std::size_t node = 0; node < n; ++node) put_list(0, 2 * kM);
  for (std::size_t node = 0; node < n; ++node) {
    if (levels[node] == 0) continue;
    put_u32(image.graph, static_cast<std::uint32_t>(node));
    put_u32(image.graph, static_cast<std::uint32_t>(levels[node]));
    for (int l = 1; l <= levels[node]; ++l) put_list(l, kM);
  }
  for (std::size_t node = 0; node < n; ++node) {
    const bool deleted = node % 100 == 7 && static_cast<std::uint32_t>(node) != image.entry_slot;
    image.graph.push_back(std::byte{static_cast<std::uint8_t>(deleted ? 1 : 0)});
  }
  return image;
}

// A typical small record of three fields: an int of a million values ("views"), a tag of four
// values and a year of 25, in key order (as normalize_metadata leaves them).
Metadata synthetic_metadata(std::size_t slot, std::mt19937_64& rng) {
  static const char* const kTags[] = {"news", "blog", "spam", "misc"};
  return {{"tag", std::string(kTags[rng() % 4])},
          {"views", static_cast<std::int64_t>(rng() % 1'000'000)},
          {"year", std::int64_t{2000 + static_cast<std::int64_t>(slot % 25)}}};
}

// A generation of n synthetic slots; with a small metadata record per slot when `with_metadata`.
std::shared_ptr<Generation> synthetic_generation(std::size_t n, bool with_metadata) {
  std::mt19937_64 rng(n);
  const SyntheticImage image = synthetic_image(n, rng);
  const HnswImage view{n, image.entry_slot, image.entry_level,
                       std::as_bytes(std::span(image.vectors)), image.graph, nullptr};
  auto index = HnswIndex::restore(Metric::kL2, kDim, index_params(bench_options()), view);
  if (!index.is_ok()) {
    std::fprintf(stderr, "synthetic image refused: %s\n", index.status().message().c_str());
    std::abort();
  }
  auto g = std::make_shared<Generation>(std::move(index).value());
  g->has_metadata = with_metadata;
  char id[32];
  for (std::size_t slot = 0; slot < n; ++slot) {
    std::snprintf(id, sizeof id, "id-%07zu", slot);
    g->ids.insert(id);
    if (with_metadata) g->metadata.push_back(synthetic_metadata(slot, rng));
    if (g->index->is_deleted(static_cast<std::uint32_t>(slot))) {
      g->ids.erase(id);
    } else {
      g->index_payload(static_cast<std::uint32_t>(slot));
    }
  }
  return g;
}

// A generation and its snapshot, made once per (n, metadata) and kept for the process.
struct Written {
  std::shared_ptr<Generation> g;
  BenchDir dir;
  std::vector<storage::SnapshotFile> files;
  std::uint64_t bytes = 0;
};

Written& written(std::size_t n, bool with_metadata) {
  static std::map<std::pair<std::size_t, bool>, std::unique_ptr<Written>> cache;
  std::unique_ptr<Written>& entry = cache[{n, with_metadata}];
  if (!entry) {
    entry = std::make_unique<Written>();
    entry->g = synthetic_generation(n, with_metadata);
    auto files =
        write_snapshot(storage::Env::posix(), entry->dir.path(), 1, *entry->g, bench_options());
    if (!files.is_ok()) std::abort();
    entry->files = std::move(files).value();
    for (const storage::SnapshotFile& file : entry->files) entry->bytes += file.size;
  }
  return *entry;
}

void set_counters(benchmark::State& state, const Written& w, std::size_t n) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * w.bytes));
  state.counters["bytes_per_vector"] =
      static_cast<double>(w.bytes - n * kDim * sizeof(float)) / static_cast<double>(n);
  state.counters["payload_bytes_per_vector"] =
      static_cast<double>(w.files.back().size) / static_cast<double>(n);
}

void BM_SnapshotWrite(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  Written& w = written(n, state.range(1) != 0);
  BenchDir dir;
  for (auto _ : state) {
    auto files = write_snapshot(storage::Env::posix(), dir.path(), 2, *w.g, bench_options());
    if (!files.is_ok()) state.SkipWithError(files.status().message().c_str());
  }
  set_counters(state, w, n);
}

void BM_SnapshotLoad(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const Written& w = written(n, state.range(1) != 0);
  for (auto _ : state) {
    auto loaded = load_snapshot(storage::Env::posix(), w.dir.path(), w.files, bench_options());
    if (!loaded.is_ok()) state.SkipWithError(loaded.status().message().c_str());
    state.PauseTiming();  // freeing the loaded generation is not part of loading
    loaded = Status(StatusCode::kNotFound, "freed");
    state.ResumeTiming();
  }
  set_counters(state, w, n);
}

// The payload index built from the metadata of the live slots, as loading did before the payload
// file (Generation::index_payload per live slot).
void BM_PayloadRebuild(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const Written& w = written(n, true);
  for (auto _ : state) {
    PayloadIndex index;
    for (std::uint32_t slot = 0; slot < n; ++slot) {
      if (!w.g->index->is_deleted(slot)) index.add(slot, w.g->metadata_of(slot));
    }
    benchmark::DoNotOptimize(index.live().size());
  }
  set_counters(state, w, n);
}

// The payload index restored from the bytes PayloadIndex::save wrote, as loading does.
void BM_PayloadRestore(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const Written& w = written(n, true);
  std::vector<std::byte> bytes;
  w.g->payload.save([&](std::span<const std::byte> piece) {
    bytes.insert(bytes.end(), piece.begin(), piece.end());
  });
  for (auto _ : state) {
    Result<PayloadIndex> index = PayloadIndex::restore(bytes, static_cast<std::uint32_t>(n));
    if (!index.is_ok()) state.SkipWithError(index.status().message().c_str());
  }
  set_counters(state, w, n);
}

BENCHMARK(BM_SnapshotWrite)
    ->ArgNames({"n", "meta"})
    ->Args({200'000, 0})
    ->Args({200'000, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_SnapshotLoad)
    ->ArgNames({"n", "meta"})
    ->Args({200'000, 0})
    ->Args({200'000, 1})
    ->Args({1'000'000, 0})
    ->Args({1'000'000, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_PayloadRebuild)
    ->ArgNames({"n"})
    ->Arg(200'000)
    ->Arg(1'000'000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_PayloadRestore)
    ->ArgNames({"n"})
    ->Arg(200'000)
    ->Arg(1'000'000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace omendb
