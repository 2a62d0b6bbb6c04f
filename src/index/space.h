// Distance between two stored rows under a metric: one SIMD kernel call and an affine map, so the
// hot path has no branch on the metric.
//   l2:     kernel = squared L2, distance = kernel
//   ip:     kernel = dot,        distance = -kernel
//   cosine: kernel = dot,        distance = 1 - kernel   (rows are normalised when stored)
#pragma once

#include <cstddef>

#include "omendb/options.h"
#include "simd/distance.h"

namespace omendb {

class Space {
 public:
  Space(Metric metric, std::size_t dim);

  Metric metric() const noexcept { return metric_; }
  std::size_t dim() const noexcept { return dim_; }

  // Distance between two prepared rows of dim() floats. Smaller is closer. Cost: one kernel call.
  float distance(const float* a, const float* b) const noexcept {
    return bias_ + scale_ * kernel_(a, b, dim_);
  }

  // Writes `in` to `out` as stored and searched: unchanged for l2 and ip; scaled to unit length for
  // cosine, where a zero vector stays zero (its cosine distance to everything is 1). `in` and `out`
  // may alias. Cost: O(dim).
  void prepare(const float* in, float* out) const noexcept;

 private:
  Metric metric_;
  std::size_t dim_;
  simd::KernelFn kernel_;
  float bias_;
  float scale_;
};

}  // namespace omendb
