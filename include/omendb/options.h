// Options of databases, collections and searches. Build-time settings (fixed when a collection is
// created) and search-time settings are separate structs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "omendb/status.h"

namespace omendb {

// How distances are measured. Smaller is closer for every metric.
enum class Metric {
  kL2,      // squared Euclidean distance
  kCosine,  // 1 - cos(a, b); vectors are normalised when stored, a zero vector stays zero
  kIp,      // -dot(a, b)
};

// "l2", "cosine" or "ip".
std::string_view metric_name(Metric metric) noexcept;
// The metric named `name`, or nothing when the name is unknown.
std::optional<Metric> parse_metric(std::string_view name) noexcept;

// Fixed when a collection is created.
struct CollectionOptions {
  std::size_t dim = 0;          // vector length; 1 to kMaxDim
  Metric metric = Metric::kL2;  // distance between vectors
  std::uint32_t m = 16;         // graph degree: links per node above level 0 (2m at level 0)
  std::uint32_t ef_construction =
      200;                  // candidate list size while inserting; larger = better graph
  std::uint64_t seed = 42;  // seeds the level of each node, so builds are reproducible

  static constexpr std::size_t kMaxDim = 65536;
  static constexpr std::uint32_t kMaxM = 128;

  // Ok, or kInvalidArgument naming the field out of range.
  Status validate() const;
};

struct FilterExpr;  // a metadata filter (src/filter/expression.h)

// Chosen per search call.
struct SearchOptions {
  std::size_t k = 10;  // hits wanted; fewer come back only when the collection holds fewer
  std::size_t ef = 0;  // candidate list size of the graph search; 0 = max(64, k); raised to k
  bool exact = false;  // true: scan every vector (exact, O(n)) instead of walking the graph
  const FilterExpr* filter = nullptr;  // only records matching it; must outlive the call

  static constexpr std::size_t kMaxK = 100000;
  static constexpr std::size_t kMaxEf = 100000;

  // Ok, or kInvalidArgument naming the field out of range.
  Status validate() const;
  // The ef a graph search uses: max(ef or 64, k).
  std::size_t effective_ef() const noexcept;
};

// Settings of an open database.
struct DatabaseOptions {
  std::size_t threads = 0;  // threads for batch inserts and batch searches; 0 = all cores
};

}  // namespace omendb
