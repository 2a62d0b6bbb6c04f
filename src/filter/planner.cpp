#include "filter/planner.h"

#include <algorithm>
#include <cmath>

#include "omendb/options.h"

namespace omendb {

std::shared_ptr<const FilterMatches> match_filter(const PayloadIndex& index,
                                                  const FilterExpr& filter, std::size_t slots) {
  auto matches = std::make_shared<FilterMatches>();
  PayloadIndex::Superset superset = index.superset(filter);
  matches->candidates = std::move(superset.slots);
  matches->exact = superset.exact;
  const double live = static_cast<double>(std::max<std::uint64_t>(index.live().size(), 1));
  const std::uint64_t count = matches->candidates.size();
  matches->share = static_cast<double>(count) / live;
  matches->walk = count > kScanAlways && matches->share > kScanShare;
  if (matches->walk) {
    matches->dense = DenseBitset(slots);
    for (const std::uint32_t slot : matches->candidates.to_vector()) {  // faster than iterating
      if (slot < slots) matches->dense.insert(slot);
    }
  }
  return matches;
}

FilterPlan plan_filtered_search(std::shared_ptr<const FilterMatches> matches, std::size_t k,
                                std::size_t ef, std::size_t degree) {
  FilterPlan plan;
  const double list = static_cast<double>(std::max(ef, k));
  const double share = std::max(matches->share, kScanShare);
  const double walk_cost =
      kWalkCost * list * static_cast<double>(degree) * std::pow(0.5 / share, 0.75);
  plan.scan = !matches->walk || static_cast<double>(matches->candidates.size()) <= walk_cost;
  plan.ef = std::min<std::size_t>(static_cast<std::size_t>(list * std::pow(share, -kWidening)),
                                  SearchOptions::kMaxEf);
  plan.matches = std::move(matches);
  return plan;
}

}  // namespace omendb
