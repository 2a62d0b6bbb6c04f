#include "index/space.h"

#include <cmath>

namespace omendb {

Space::Space(Metric metric, std::size_t dim) : metric_(metric), dim_(dim) {
  const simd::Kernels& kernels = simd::best_kernels();
  switch (metric) {
    case Metric::kL2:
      kernel_ = kernels.l2_squared, bias_ = 0.0f, scale_ = 1.0f;
      break;
    case Metric::kIp:
      kernel_ = kernels.dot, bias_ = 0.0f, scale_ = -1.0f;
      break;
    case Metric::kCosine:
      kernel_ = kernels.dot, bias_ = 1.0f, scale_ = -1.0f;
      break;
  }
}

void Space::prepare(const float* in, float* out) const noexcept {
  // A row whose norm is 1 to float precision is taken as it is: scaling it would only flip its
  // last bits, so a stored row read back (get(), an export) and added again stays bit for bit.
  constexpr double kUnitTolerance = 1e-6;
  float scale = 1.0f;
  if (metric_ == Metric::kCosine) {
    double squared_norm = 0;
    for (std::size_t i = 0; i < dim_; ++i) squared_norm += double{in[i]} * in[i];
    if (squared_norm > 0 && std::abs(squared_norm - 1.0) > kUnitTolerance) {
      scale = static_cast<float>(1.0 / std::sqrt(squared_norm));
    }
  }
  for (std::size_t i = 0; i < dim_; ++i) out[i] = in[i] * scale;
}

}  // namespace omendb
