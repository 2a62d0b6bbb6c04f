#include "filter/planner.h"

#include <algorithm>
#include <cmath>

#include "omendb/options.h"

namespace omendb {

FilterPlan plan_filtered_search(const PayloadIndex& index, const FilterExpr& filter, std::size_t k,
                                std::size_t ef, std::size_t slots) {
  FilterPlan plan;
  PayloadIndex::Superset superset = index.superset(filter);
  plan.candidates = std::move(superset.slots);
  plan.exact = superset.exact;
  const double live = static_cast<double>(std::max<std::uint64_t>(index.live().size(), 1));
  const double share = static_cast<double>(plan.candidates.size()) / live;
  plan.scan = plan.candidates.size() <= kScanAlways || share <= kScanShare;
  const double widened =
      static_cast<double>(std::max(ef, k)) / std::sqrt(std::max(share, kScanShare));
  plan.ef = std::min<std::size_t>(static_cast<std::size_t>(widened), SearchOptions::kMaxEf);
  if (!plan.scan) {
    plan.walk_candidates = DenseBitset(slots);
    for (const std::uint32_t slot : plan.candidates.to_vector()) {  // faster than iterating
      if (slot < slots) plan.walk_candidates.insert(slot);
    }
  }
  return plan;
}

}  // namespace omendb
