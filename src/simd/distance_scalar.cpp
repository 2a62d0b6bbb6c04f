// Portable kernels: the reference every wider variant is tested against.
#include "simd/distance.h"

namespace omendb::simd {

// Four independent accumulators let the compiler pipeline the adds without -ffast-math.
float l2_squared_scalar(const float* a, const float* b, std::size_t dim) noexcept {
  float acc[4] = {0, 0, 0, 0};
  std::size_t i = 0;
  for (; i + 4 <= dim; i += 4) {
    for (std::size_t lane = 0; lane < 4; ++lane) {
      const float d = a[i + lane] - b[i + lane];
      acc[lane] += d * d;
    }
  }
  for (; i < dim; ++i) {
    const float d = a[i] - b[i];
    acc[0] += d * d;
  }
  return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

float dot_scalar(const float* a, const float* b, std::size_t dim) noexcept {
  float acc[4] = {0, 0, 0, 0};
  std::size_t i = 0;
  for (; i + 4 <= dim; i += 4) {
    for (std::size_t lane = 0; lane < 4; ++lane) acc[lane] += a[i + lane] * b[i + lane];
  }
  for (; i < dim; ++i) acc[0] += a[i] * b[i];
  return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

}  // namespace omendb::simd
