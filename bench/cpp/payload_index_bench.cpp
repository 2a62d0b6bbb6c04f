// PayloadIndex over 200,000 records: the cost of building it, and of exact() for filters that
// match 50%, 10%, 1% and 0.1% of the records (the benchmark argument, in per mille). The
// `matches` counter is the size of the answer; estimate() rows show the planner's cheap path.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "filter/payload_index.h"

namespace omendb {
namespace {

constexpr std::uint32_t kRecords = 200'000;

// prefix + number. (Not `"p" + std::to_string(n)`: GCC 12 at -O3 warns falsely on it.)
std::string name(const char* prefix, std::uint64_t number) {
  std::string out(prefix);
  out += std::to_string(number);
  return out;
}

// Fields with known selectivities: `tag` is "p500" for half the records, "p100" for a tenth,
// "p10" and "p1" for 1% and 0.1%; `cat` is uniform over 1000 ints; `score` and `score2` are
// uniform in [0, 1) (distinct floats); `flag` is a fair bool; `tags` two words of 100.
std::vector<Metadata> make_records() {
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<Metadata> records(kRecords);
  for (Metadata& record : records) {
    const double u = unit(rng);
    std::string tag = u < 0.5     ? "p500"
                      : u < 0.6   ? "p100"
                      : u < 0.61  ? "p10"
                      : u < 0.611 ? "p1"
                                  : name("other", rng() % 50);
    record = {{"cat", static_cast<std::int64_t>(rng() % 1000)},
              {"flag", rng() % 2 == 0},
              {"score", unit(rng)},
              {"score2", unit(rng)},
              {"tag", std::move(tag)},
              {"tags", std::vector<std::string>{name("w", rng() % 100), name("w", rng() % 100)}}};
    (void)normalize_metadata(record);
  }
  return records;
}

const std::vector<Metadata>& records() {
  static const std::vector<Metadata> kRecordsData = make_records();
  return kRecordsData;
}

const PayloadIndex& index() {
  static const PayloadIndex kIndex = [] {
    PayloadIndex index;
    for (std::uint32_t slot = 0; slot < kRecords; ++slot) index.add(slot, records()[slot]);
    return index;
  }();
  return kIndex;
}

FilterExpr leaf(FilterOp op, std::string field, Value operand) {
  FilterExpr e;
  e.op = op;
  e.field = std::move(field);
  e.operand = std::move(operand);
  return e;
}

FilterExpr node(FilterOp op, std::vector<FilterExpr> children) {
  FilterExpr e;
  e.op = op;
  e.children = std::move(children);
  return e;
}

double fraction(const benchmark::State& state) {
  return static_cast<double>(state.range(0)) / 1000;
}

// tag == "p<permille>"
FilterExpr eq_filter(const benchmark::State& state) {
  return leaf(FilterOp::kEq, "tag", name("p", static_cast<std::uint64_t>(state.range(0))));
}

// cat in [0, 1, ..., permille - 1]
FilterExpr in_filter(const benchmark::State& state) {
  FilterExpr e = leaf(FilterOp::kIn, "cat", Value());
  for (std::int64_t c = 0; c < state.range(0); ++c) e.operands.emplace_back(c);
  return e;
}

// score < fraction
FilterExpr range_filter(const benchmark::State& state) {
  return leaf(FilterOp::kLt, "score", fraction(state));
}

// score >= 0.5 - fraction && score < 0.5 + fraction && flag == true
FilterExpr and_filter(const benchmark::State& state) {
  return node(FilterOp::kAnd, {leaf(FilterOp::kGte, "score", 0.5 - fraction(state)),
                               leaf(FilterOp::kLt, "score", 0.5 + fraction(state)),
                               leaf(FilterOp::kEq, "flag", true)});
}

// score < fraction / 2 || score2 < fraction / 2 (a bit under fraction, by the overlap)
FilterExpr or_filter(const benchmark::State& state) {
  return node(FilterOp::kOr, {leaf(FilterOp::kLt, "score", fraction(state) / 2),
                              leaf(FilterOp::kLt, "score2", fraction(state) / 2)});
}

// tag in [p<permille>, "w"] && !(cat < 0) — a string posting, a no-op complement and a $not.
FilterExpr not_filter(const benchmark::State& state) {
  FilterExpr tag = leaf(FilterOp::kIn, "tag", Value());
  tag.operands = {Value(name("p", static_cast<std::uint64_t>(state.range(0)))),
                  Value(std::string("w"))};
  return node(FilterOp::kAnd,
              {tag, node(FilterOp::kNot, {leaf(FilterOp::kLt, "cat", std::int64_t{0})})});
}

template <FilterExpr (*kMake)(const benchmark::State&)>
void BM_Exact(benchmark::State& state) {
  const PayloadIndex& idx = index();
  const FilterExpr filter = kMake(state);
  std::uint64_t matches = 0;
  for (auto _ : state) {
    std::optional<Bitmap> slots = idx.exact(filter);
    matches = slots ? slots->size() : 0;
    benchmark::DoNotOptimize(slots);
  }
  state.counters["matches"] = static_cast<double>(matches);
  state.counters["selectivity_%"] = 100.0 * static_cast<double>(matches) / kRecords;
}

template <FilterExpr (*kMake)(const benchmark::State&)>
void BM_Estimate(benchmark::State& state) {
  const PayloadIndex& idx = index();
  const FilterExpr filter = kMake(state);
  std::uint64_t count = 0;
  for (auto _ : state) {
    count = idx.estimate(filter);
    benchmark::DoNotOptimize(count);
  }
  state.counters["matches"] = static_cast<double>(count);
}

void BM_Build(benchmark::State& state) {
  const std::vector<Metadata>& data = records();
  for (auto _ : state) {
    PayloadIndex idx;
    for (std::uint32_t slot = 0; slot < kRecords; ++slot) idx.add(slot, data[slot]);
    benchmark::DoNotOptimize(idx);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * kRecords);
}

void selectivities(benchmark::internal::Benchmark* b) {
  b->ArgName("permille")->Arg(500)->Arg(100)->Arg(10)->Arg(1)->Unit(benchmark::kMicrosecond);
}

BENCHMARK(BM_Build)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Exact<eq_filter>)->Name("Exact/eq")->Apply(selectivities);
BENCHMARK(BM_Exact<in_filter>)->Name("Exact/in")->Apply(selectivities);
BENCHMARK(BM_Exact<range_filter>)->Name("Exact/range")->Apply(selectivities);
BENCHMARK(BM_Exact<and_filter>)->Name("Exact/and_range_eq")->Apply(selectivities);
BENCHMARK(BM_Exact<or_filter>)->Name("Exact/or_ranges")->Apply(selectivities);
BENCHMARK(BM_Exact<not_filter>)->Name("Exact/and_in_not")->Apply(selectivities);
BENCHMARK(BM_Estimate<eq_filter>)->Name("Estimate/eq")->Apply(selectivities);
BENCHMARK(BM_Estimate<range_filter>)->Name("Estimate/range")->Apply(selectivities);

}  // namespace
}  // namespace omendb
