// Fusion of ranked hit lists into one ranking: reciprocal rank fusion or weighted normalised
// scores (docs/hybrid.md, "Fusion"). Pure functions; any thread may call them.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "omendb/collection.h"
#include "omendb/options.h"

namespace omendb {

// The top `k` of the fused ranking of `lists` (each best first, ranked by distance: smaller is
// better; a record appears at most once per list). A record's fused score:
//   kRrf:      sum over the lists holding it of w / (rrf_k + rank), rank counted from 1;
//   kWeighted: sum over the lists holding it of w * (max - distance) / (max - min), the list's
//              largest and smallest distances (1 when they are equal);
// with w = fusion.weights[list] (1 when weights is empty). Hits come best first, ties broken by
// id (bytewise), with .score the fused score and .distance its negative; each keeps the metadata
// and document of its first appearance. Precondition: fusion.validate(lists.size()) is ok.
// Cost: O(total hits * log) and one hash entry per distinct id.
std::vector<Hit> fuse(std::span<const std::vector<Hit>> lists, const FusionOptions& fusion,
                      std::size_t k);

}  // namespace omendb
