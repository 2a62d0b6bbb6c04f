#include "db/fusion.h"

#include <algorithm>
#include <string_view>
#include <unordered_map>

namespace omendb {
namespace {

// What a list adds to the fused scores of its hits, by rank.
std::vector<double> contributions(const std::vector<Hit>& list, const FusionOptions& fusion) {
  std::vector<double> added(list.size(), 1.0);
  if (list.empty()) return added;
  if (fusion.kind == FusionOptions::Kind::kRrf) {
    for (std::size_t rank = 0; rank < list.size(); ++rank) {
      added[rank] = 1.0 / (fusion.rrf_k + static_cast<double>(rank + 1));
    }
    return added;
  }
  const auto [low, high] = std::minmax_element(
      list.begin(), list.end(), [](const Hit& a, const Hit& b) { return a.distance < b.distance; });
  const double range = static_cast<double>(high->distance) - static_cast<double>(low->distance);
  if (range <= 0) return added;
  for (std::size_t rank = 0; rank < list.size(); ++rank) {
    added[rank] =
        (static_cast<double>(high->distance) - static_cast<double>(list[rank].distance)) / range;
  }
  return added;
}

}  // namespace

std::vector<Hit> fuse(std::span<const std::vector<Hit>> lists, const FusionOptions& fusion,
                      std::size_t k) {
  std::vector<Hit> fused;
  std::vector<double> scores;
  std::unordered_map<std::string_view, std::size_t> position;  // id -> index in fused
  for (std::size_t l = 0; l < lists.size(); ++l) {
    const double weight = fusion.weights.empty() ? 1.0 : fusion.weights[l];
    const std::vector<double> added = contributions(lists[l], fusion);
    for (std::size_t rank = 0; rank < lists[l].size(); ++rank) {
      const Hit& hit = lists[l][rank];
      const auto [at, is_new] = position.try_emplace(hit.id, fused.size());
      if (is_new) {
        fused.push_back(hit);
        scores.push_back(0.0);
      }
      scores[at->second] += weight * added[rank];
    }
  }
  std::vector<std::size_t> order(fused.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  const std::size_t kept = std::min(k, order.size());
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(kept), order.end(),
                    [&](std::size_t a, std::size_t b) {
                      if (scores[a] != scores[b]) return scores[a] > scores[b];
                      return fused[a].id < fused[b].id;
                    });
  std::vector<Hit> best;
  best.reserve(kept);
  for (std::size_t i = 0; i < kept; ++i) {
    Hit& hit = best.emplace_back(std::move(fused[order[i]]));
    hit.score = static_cast<float>(scores[order[i]]);
    hit.distance = -hit.score;
  }
  return best;
}

}  // namespace omendb
