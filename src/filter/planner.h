// The planner of filtered searches: from the payload index's answer for a filter, decide whether to
// compute the distance of every matching record (few matches: exact, and cheaper than a walk) or to
// walk the graph keeping only matches, with a candidate list widened as the filter gets selective.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "collections/dense_bitset.h"
#include "filter/expression.h"
#include "filter/payload_index.h"

namespace omendb {

inline constexpr std::uint64_t kScanAlways = 2048;
inline constexpr double kScanShare = 0.05;

// What a filter matches in one state of a payload index. It does not depend on the query, so one
// computation serves every query with that filter until the index changes (FilterMatchCache).
struct FilterMatches {
  Bitmap candidates;   // every matching slot; exactly the matches when `exact`
  bool exact = false;  // false: each candidate's metadata must still be checked
  double share = 0;    // candidates / live records
  bool walk = false;   // true: many candidates, so searches walk the graph (else they scan them)
  DenseBitset dense;   // when `walk`: `candidates` again, for fast lookups during the walk
};

// The matches of `filter`. Walks when the candidates are more than kScanAlways and kScanShare of
// the live records (the walk needs about that density to stay connected through two-hop
// expansion). `slots` is the number of slots in the index (deleted ones included). Cost: the
// payload index's superset() of the filter and, for a walk, one pass over the candidates plus
// slots / 8 bytes.
std::shared_ptr<const FilterMatches> match_filter(const PayloadIndex& index,
                                                  const FilterExpr& filter, std::size_t slots);

// How to answer one filtered query.
struct FilterPlan {
  std::shared_ptr<const FilterMatches> matches;
  bool scan = false;   // true: scan the candidates; false: walk the graph
  std::size_t ef = 0;  // the walk's candidate list size: ef / share^kWidening
};

// Walks only when `matches` allow it and the candidates outnumber the walk's expected cost in
// distance computations: about kWalkCost * ef * degree (level-0 degree of the graph) at a share of
// 0.5, growing as (0.5 / share)^0.75 as the walk looks through more non-matching neighbours. On
// 200,000 x 128 (bench/filtered.py) that walks at 10% (0.49 ms against a 0.90 ms scan) and scans
// at 5.9% (0.42 ms against a 0.85 ms walk). Cost: O(1).
FilterPlan plan_filtered_search(std::shared_ptr<const FilterMatches> matches, std::size_t k,
                                std::size_t ef, std::size_t degree);

inline constexpr double kWalkCost = 2.0;
// How a walk's candidate list grows as the filter gets selective: ef / share^kWidening. 0.5 (ef /
// sqrt(share)) reached recall@10 0.997 at 10% on 200,000 x 128; 0.4 keeps 0.99 for about 25% less
// time per query (bench/filtered.py).
inline constexpr double kWidening = 0.4;

}  // namespace omendb
