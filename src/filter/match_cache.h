// The matches of the last few filters searched, so that a run of queries with one filter computes
// its matches once. Entries hold for one payload index version: any write makes them stale.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "filter/expression.h"
#include "filter/planner.h"

namespace omendb {

class FilterMatchCache {
 public:
  static constexpr std::size_t kEntries = 8;

  using Compute = std::function<std::shared_ptr<const FilterMatches>()>;

  // The matches of `filter` at payload index `version`: the cached ones when this filter was seen
  // at this version, else compute()'s, which are kept in place of the least recently used entry.
  // Thread-safe; compute() runs outside the lock, so concurrent misses may both compute. Cost: a
  // mutex and a comparison of `filter` with up to kEntries trees; memory: up to kEntries matches.
  std::shared_ptr<const FilterMatches> get(const FilterExpr& filter, std::uint64_t version,
                                           const Compute& compute);

 private:
  struct Entry {
    FilterExpr filter;
    std::uint64_t version = 0;
    std::uint64_t last_used = 0;
    std::shared_ptr<const FilterMatches> matches;
  };

  std::mutex mutex_;
  std::vector<Entry> entries_;
  std::uint64_t clock_ = 0;
};

}  // namespace omendb
