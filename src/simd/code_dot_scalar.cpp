// Portable 8-bit code kernel: the reference the wider variants are tested against.
#include "simd/distance.h"

namespace omendb::simd {

std::int32_t code_dot_scalar(const std::uint8_t* codes, const std::int8_t* query,
                             std::size_t dim) noexcept {
  std::int32_t acc[4] = {0, 0, 0, 0};
  std::size_t i = 0;
  for (; i + 4 <= dim; i += 4) {
    for (std::size_t lane = 0; lane < 4; ++lane) {
      acc[lane] += std::int32_t{codes[i + lane]} * std::int32_t{query[i + lane]};
    }
  }
  for (; i < dim; ++i) acc[0] += std::int32_t{codes[i]} * std::int32_t{query[i]};
  return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

}  // namespace omendb::simd
