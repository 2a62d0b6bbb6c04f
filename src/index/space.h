// Distance between two stored rows under a metric: one SIMD kernel call and an affine map, so the
// hot path has no branch on the metric.
//   l2:     kernel = squared L2, distance = kernel
//   ip:     kernel = dot,        distance = -kernel
//   cosine: kernel = dot,        distance = 1 - kernel   (rows are normalised when stored)
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>

#include "omendb/options.h"
#include "simd/distance.h"

namespace omendb {

class Space {
 public:
  Space(Metric metric, std::size_t dim);

  Metric metric() const noexcept { return metric_; }
  std::size_t dim() const noexcept { return dim_; }

  // Distance between two prepared rows of dim() floats. Smaller is closer; never NaN: rows of huge
  // finite values can overflow the kernel (a dot product summing +inf and -inf), and NaN, which
  // compares false with everything, broke the ordering of top-k heaps and candidate lists, so it
  // reads as +infinity, the farthest. Cost: one kernel call and a compare.
  float distance(const float* a, const float* b) const noexcept {
    const float distance = bias_ + scale_ * kernel_(a, b, dim_);
    return std::isnan(distance) ? std::numeric_limits<float>::infinity() : distance;
  }

  // Writes `in` to `out` as stored and searched: unchanged for l2 and ip; scaled to unit length for
  // cosine, where a zero vector stays zero (its cosine distance to everything is 1) and a vector of
  // norm 1 within 1e-6 (squared) stays bit for bit, so preparing a prepared row changes nothing.
  // `in` and `out` may alias. Cost: O(dim).
  void prepare(const float* in, float* out) const noexcept;

 private:
  Metric metric_;
  std::size_t dim_;
  simd::KernelFn kernel_;
  float bias_;
  float scale_;
};

}  // namespace omendb
