// The collections building blocks against their standard-library equivalents, on the operations
// the engine uses. Each pair runs on identical data; compare items_per_second (or time) of the
// "Ours" and "Std" rows, and the bytes_per_id counters for memory.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <numeric>
#include <queue>
#include <random>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "collections/id_map.h"
#include "collections/row_arena.h"
#include "collections/top_k.h"
#include "collections/visited_set.h"

namespace omendb {
namespace {

constexpr std::size_t kIds = 1'000'000;
constexpr std::size_t kBatch = 1024;  // lookups per benchmark iteration

// An allocator that adds what it hands out to a counter, to measure a std container's memory.
std::size_t counted_bytes = 0;

template <class T>
struct CountingAllocator {
  using value_type = T;
  CountingAllocator() = default;
  template <class U>
  CountingAllocator(const CountingAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) {
    counted_bytes += n * sizeof(T);
    return std::allocator<T>().allocate(n);
  }
  void deallocate(T* p, std::size_t n) noexcept {
    counted_bytes -= n * sizeof(T);
    std::allocator<T>().deallocate(p, n);
  }
  friend bool operator==(const CountingAllocator&, const CountingAllocator&) { return true; }
};

// The standard-library way to do what IdMap does: a hash map one way, a vector the other.
struct StdIdMap {
  std::unordered_map<std::string, std::uint32_t, std::hash<std::string>, std::equal_to<std::string>,
                     CountingAllocator<std::pair<const std::string, std::uint32_t>>>
      slots;
  std::vector<std::string, CountingAllocator<std::string>> ids;

  void insert(const std::string& id) {
    slots.emplace(id, static_cast<std::uint32_t>(ids.size()));
    ids.push_back(id);
  }
};

// "doc-000000" ... "doc-999999" with the given prefix, shuffled.
std::vector<std::string> make_ids(const char* prefix, std::uint64_t seed) {
  std::vector<std::string> ids(kIds);
  char buffer[32];
  for (std::size_t i = 0; i < kIds; ++i) {
    std::snprintf(buffer, sizeof buffer, "%s-%06zu", prefix, i);
    ids[i] = buffer;
  }
  std::shuffle(ids.begin(), ids.end(), std::mt19937_64(seed));
  return ids;
}

const std::vector<std::string>& inserted_ids() {
  static const std::vector<std::string> ids = make_ids("doc", 1);
  return ids;
}
const std::vector<std::string>& hit_queries() {
  static const std::vector<std::string> ids = make_ids("doc", 2);
  return ids;
}
const std::vector<std::string>& miss_queries() {
  static const std::vector<std::string> ids = make_ids("dob", 3);
  return ids;
}
const std::vector<std::uint32_t>& random_slots() {
  static const std::vector<std::uint32_t> slots = [] {
    std::vector<std::uint32_t> s(kIds);
    std::iota(s.begin(), s.end(), 0u);
    std::shuffle(s.begin(), s.end(), std::mt19937_64(4));
    return s;
  }();
  return slots;
}

const IdMap& our_map() {
  static const IdMap map = [] {
    IdMap m;
    for (const std::string& id : inserted_ids()) m.insert(id);
    return m;
  }();
  return map;
}
const StdIdMap& std_map() {
  static const StdIdMap map = [] {
    StdIdMap m;
    for (const std::string& id : inserted_ids()) m.insert(id);
    return m;
  }();
  return map;
}

// ---- IdMap vs std::unordered_map + std::vector ------------------------------------------------

void BM_IdMapInsert_Ours(benchmark::State& state) {
  const auto& ids = inserted_ids();
  std::size_t memory = 0;
  for (auto _ : state) {
    IdMap map;
    for (const std::string& id : ids) map.insert(id);
    memory = map.memory_bytes();
    benchmark::DoNotOptimize(map);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kIds));
  state.counters["bytes_per_id"] = static_cast<double>(memory) / kIds;
}

void BM_IdMapInsert_Std(benchmark::State& state) {
  const auto& ids = inserted_ids();
  std::size_t memory = 0;
  const std::size_t sso_capacity = std::string().capacity();
  for (auto _ : state) {
    const std::size_t counted_before = counted_bytes;
    StdIdMap map;
    for (const std::string& id : ids) map.insert(id);
    memory = counted_bytes - counted_before;
    // Keys and reverse entries are std::string: only ids longer than the inline buffer allocate
    // (none of "doc-NNNNNN" does with libstdc++'s 15 bytes).
    for (const std::string& id : map.ids) {
      if (id.capacity() > sso_capacity) memory += 2 * (id.capacity() + 1);
    }
    benchmark::DoNotOptimize(map);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kIds));
  state.counters["bytes_per_id"] = static_cast<double>(memory) / kIds;
}

template <class Map>
void find_batch(benchmark::State& state, const Map& map, const std::vector<std::string>& queries) {
  std::size_t next = 0;
  std::size_t found = 0;
  for (auto _ : state) {
    for (std::size_t i = 0; i < kBatch; ++i) {
      if constexpr (std::is_same_v<Map, IdMap>) {
        found += map.find(queries[next + i]).has_value();
      } else {
        found += map.slots.find(queries[next + i]) != map.slots.end();
      }
    }
    next = (next + kBatch) % (kIds - kBatch);
  }
  benchmark::DoNotOptimize(found);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBatch));
}

void BM_IdMapFindHit_Ours(benchmark::State& state) { find_batch(state, our_map(), hit_queries()); }
void BM_IdMapFindHit_Std(benchmark::State& state) { find_batch(state, std_map(), hit_queries()); }
void BM_IdMapFindMiss_Ours(benchmark::State& state) {
  find_batch(state, our_map(), miss_queries());
}
void BM_IdMapFindMiss_Std(benchmark::State& state) { find_batch(state, std_map(), miss_queries()); }

// slot -> id for random slots, reading the id's length and first byte as a caller copying it would.
template <class Lookup>
void slot_to_id_batch(benchmark::State& state, Lookup id_of) {
  const auto& slots = random_slots();
  std::size_t next = 0;
  std::size_t checksum = 0;
  for (auto _ : state) {
    for (std::size_t i = 0; i < kBatch; ++i) {
      const std::string_view id = id_of(slots[next + i]);
      checksum += id.size() + static_cast<unsigned char>(id.front());
    }
    next = (next + kBatch) % (kIds - kBatch);
  }
  benchmark::DoNotOptimize(checksum);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBatch));
}

void BM_IdMapSlotToId_Ours(benchmark::State& state) {
  const IdMap& map = our_map();
  slot_to_id_batch(state, [&](std::uint32_t slot) { return map.id(slot); });
}
void BM_IdMapSlotToId_Std(benchmark::State& state) {
  const StdIdMap& map = std_map();
  slot_to_id_batch(state, [&](std::uint32_t slot) { return std::string_view(map.ids[slot]); });
}

BENCHMARK(BM_IdMapInsert_Ours)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_IdMapInsert_Std)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_IdMapFindHit_Ours);
BENCHMARK(BM_IdMapFindHit_Std);
BENCHMARK(BM_IdMapFindMiss_Ours);
BENCHMARK(BM_IdMapFindMiss_Std);
BENCHMARK(BM_IdMapSlotToId_Ours);
BENCHMARK(BM_IdMapSlotToId_Std);

// ---- RowArena vs std::vector<float>: random 128-d rows, each summed as a distance would read it
// --

constexpr std::size_t kDim = 128;

std::vector<std::uint32_t> random_rows(std::size_t rows) {
  std::mt19937 rng(5);
  std::vector<std::uint32_t> picks(1 << 16);
  for (auto& r : picks) r = static_cast<std::uint32_t>(rng() % rows);
  return picks;
}

// Sums a row in 16 independent lanes, which the compiler vectorises as it would a distance kernel.
float sum_row(const float* row) {
  float lanes[16] = {};
  for (std::size_t d = 0; d < kDim; d += 16) {
    for (std::size_t j = 0; j < 16; ++j) lanes[j] += row[d + j];
  }
  return std::accumulate(std::begin(lanes), std::end(lanes), 0.0f);
}

template <class RowOf>
void random_row_sums(benchmark::State& state, std::size_t rows, RowOf row_of) {
  const std::vector<std::uint32_t> picks = random_rows(rows);
  std::size_t next = 0;
  float total = 0;
  for (auto _ : state) {
    for (std::size_t i = 0; i < kBatch; ++i) total += sum_row(row_of(picks[next + i]));
    next = (next + kBatch) % (picks.size() - kBatch);
  }
  benchmark::DoNotOptimize(total);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBatch));
}

void BM_RowAccess_Ours(benchmark::State& state) {
  const auto rows = static_cast<std::size_t>(state.range(0));
  RowArena arena(kDim * sizeof(float));
  arena.reserve(rows);
  for (std::size_t r = 0; r < rows; ++r) std::fill_n(arena.row_as<float>(r), kDim, 1.0f);
  random_row_sums(state, rows, [&](std::uint32_t r) { return arena.row_as<float>(r); });
}

void BM_RowAccess_Std(benchmark::State& state) {
  const auto rows = static_cast<std::size_t>(state.range(0));
  std::vector<float> vectors(rows * kDim, 1.0f);
  random_row_sums(state, rows, [&](std::uint32_t r) { return vectors.data() + r * kDim; });
}

// 4,096 rows (2 MiB, cache-resident) and 262,144 rows (128 MiB, memory-bound).
BENCHMARK(BM_RowAccess_Ours)->Arg(4096)->Arg(262'144);
BENCHMARK(BM_RowAccess_Std)->Arg(4096)->Arg(262'144);

// ---- TopK vs std::priority_queue: the k nearest of 10,000 random distances, then sorted --------

constexpr std::size_t kStream = 10'000;

const std::vector<float>& random_distances() {
  static const std::vector<float> distances = [] {
    std::mt19937 rng(6);
    std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
    std::vector<float> d(kStream);
    for (float& x : d) x = uniform(rng);
    return d;
  }();
  return distances;
}

void BM_TopK_Ours(benchmark::State& state) {
  const auto k = static_cast<std::size_t>(state.range(0));
  const auto& distances = random_distances();
  TopK top;
  for (auto _ : state) {
    top.reset(k);
    for (std::size_t i = 0; i < kStream; ++i)
      top.push({distances[i], static_cast<std::uint32_t>(i)});
    benchmark::DoNotOptimize(top.sort().data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kStream));
}

void BM_TopK_Std(benchmark::State& state) {
  using Candidate = std::pair<float, std::uint32_t>;
  const auto k = static_cast<std::size_t>(state.range(0));
  const auto& distances = random_distances();
  std::vector<Candidate> sorted;
  for (auto _ : state) {
    std::priority_queue<Candidate> heap;
    for (std::size_t i = 0; i < kStream; ++i) {
      const Candidate candidate{distances[i], static_cast<std::uint32_t>(i)};
      if (heap.size() < k) {
        heap.push(candidate);
      } else if (k > 0 && candidate < heap.top()) {
        heap.pop();
        heap.push(candidate);
      }
    }
    sorted.resize(heap.size());
    for (std::size_t i = heap.size(); i-- > 0; heap.pop()) sorted[i] = heap.top();
    benchmark::DoNotOptimize(sorted.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kStream));
}

BENCHMARK(BM_TopK_Ours)->Arg(10)->Arg(64);
BENCHMARK(BM_TopK_Std)->Arg(10)->Arg(64);

// ---- VisitedSet vs std::vector<bool> and std::unordered_set: clear, then 2,000 inserts ---------

constexpr std::size_t kSlots = 1'000'000;
constexpr std::size_t kInsertsPerClear = 2000;

const std::vector<std::uint32_t>& random_visits() {
  static const std::vector<std::uint32_t> visits = [] {
    std::mt19937 rng(7);
    std::vector<std::uint32_t> v(64 * kInsertsPerClear);
    for (auto& s : v) s = static_cast<std::uint32_t>(rng() % kSlots);
    return v;
  }();
  return visits;
}

// Clears `set` and inserts the next 2,000 random slots, counting the new ones; one iteration
// is one search's worth of visited-set work.
template <class ClearAndInsert>
void visit_rounds(benchmark::State& state, ClearAndInsert clear_and_insert) {
  const auto& visits = random_visits();
  std::size_t next = 0;
  std::size_t fresh = 0;
  for (auto _ : state) {
    fresh += clear_and_insert(&visits[next]);
    next = (next + kInsertsPerClear) % visits.size();
  }
  benchmark::DoNotOptimize(fresh);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kInsertsPerClear));
}

void BM_Visited_Ours(benchmark::State& state) {
  VisitedSet visited;
  visit_rounds(state, [&](const std::uint32_t* slots) {
    visited.clear(kSlots);
    std::size_t fresh = 0;
    for (std::size_t i = 0; i < kInsertsPerClear; ++i) fresh += visited.insert(slots[i]);
    return fresh;
  });
}

void BM_Visited_StdVectorBool(benchmark::State& state) {
  std::vector<bool> visited(kSlots);
  visit_rounds(state, [&](const std::uint32_t* slots) {
    std::fill(visited.begin(), visited.end(), false);
    std::size_t fresh = 0;
    for (std::size_t i = 0; i < kInsertsPerClear; ++i) {
      auto bit = visited[slots[i]];
      fresh += !bit;
      bit = true;
    }
    return fresh;
  });
}

void BM_Visited_StdUnorderedSet(benchmark::State& state) {
  std::unordered_set<std::uint32_t> visited;
  visit_rounds(state, [&](const std::uint32_t* slots) {
    visited.clear();
    std::size_t fresh = 0;
    for (std::size_t i = 0; i < kInsertsPerClear; ++i) fresh += visited.insert(slots[i]).second;
    return fresh;
  });
}

BENCHMARK(BM_Visited_Ours);
BENCHMARK(BM_Visited_StdVectorBool);
BENCHMARK(BM_Visited_StdUnorderedSet);

}  // namespace
}  // namespace omendb
