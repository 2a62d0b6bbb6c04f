#include "filter/match_cache.h"

#include <algorithm>

namespace omendb {

std::shared_ptr<const FilterMatches> FilterMatchCache::get(const FilterExpr& filter,
                                                           std::uint64_t version,
                                                           const Compute& compute) {
  {
    std::lock_guard guard(mutex_);
    for (Entry& entry : entries_) {
      if (entry.version == version && entry.filter == filter) {
        entry.last_used = ++clock_;
        return entry.matches;
      }
    }
  }
  std::shared_ptr<const FilterMatches> matches = compute();
  std::lock_guard guard(mutex_);
  Entry* slot = nullptr;
  if (entries_.size() < kEntries) {
    slot = &entries_.emplace_back();
  } else {
    slot = &*std::min_element(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
      return a.last_used < b.last_used;
    });
  }
  *slot = Entry{filter, version, ++clock_, matches};
  return matches;
}

}  // namespace omendb
