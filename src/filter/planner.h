// The planner of filtered searches: from the payload index's answer for a filter, decide whether to
// compute the distance of every matching record (few matches: exact, and cheaper than a walk) or to
// walk the graph keeping only matches, with a candidate list widened as the filter gets selective.
#pragma once

#include <cstddef>
#include <cstdint>

#include "collections/dense_bitset.h"
#include "filter/expression.h"
#include "filter/payload_index.h"

namespace omendb {

struct FilterPlan {
  Bitmap candidates;   // every matching slot; exactly the matches when `exact`
  bool exact = false;  // false: each candidate's metadata must still be checked
  bool scan = false;   // true: scan the candidates; false: walk the graph
  std::size_t ef = 0;  // the walk's candidate list size
  DenseBitset walk_candidates;  // when walking: `candidates` again, for fast lookups
};

// Scans when the candidates are at most kScanAlways or kScanShare of the live records (the walk
// needs about that density to stay connected through two-hop expansion); otherwise walks with
// ef / sqrt(share of candidates). `slots` is the number of slots in the index (deleted ones
// included). Cost: the payload index's superset() of the filter and, for a walk, one pass over
// the candidates plus slots / 8 bytes.
FilterPlan plan_filtered_search(const PayloadIndex& index, const FilterExpr& filter, std::size_t k,
                                std::size_t ef, std::size_t slots);

inline constexpr std::uint64_t kScanAlways = 2048;
inline constexpr double kScanShare = 0.05;

}  // namespace omendb
