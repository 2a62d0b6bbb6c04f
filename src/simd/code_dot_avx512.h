// Shared by the two AVX-512 code kernels' files (both compiled for AVX-512).
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "simd/distance.h"

namespace omendb::simd {

// Sum of the 16 int32 lanes of `v`. Masked extracts: GCC 12's unmasked ones trip a false
// -Wuninitialized inside its own header. Inline: a call costs a tenth of a 128-d kernel.
inline std::int32_t horizontal_sum_epi32(__m512i v) noexcept {
  const __m256i halves = _mm256_add_epi32(_mm512_maskz_extracti32x8_epi32(0xFF, v, 0),
                                          _mm512_maskz_extracti32x8_epi32(0xFF, v, 1));
  __m128i folded =
      _mm_add_epi32(_mm256_castsi256_si128(halves), _mm256_extracti128_si256(halves, 1));
  folded = _mm_add_epi32(folded, _mm_shuffle_epi32(folded, 0x4E));
  folded = _mm_add_epi32(folded, _mm_shuffle_epi32(folded, 0xB1));
  return _mm_cvtsi128_si32(folded);
}

}  // namespace omendb::simd
