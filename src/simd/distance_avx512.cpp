// AVX-512 kernels. This file alone is compiled with -mavx512f (and DQ/BW/VL) -mfma.
#include <immintrin.h>

#include "simd/distance.h"

namespace omendb::simd {
namespace {

// Mask with the low `count` (< 16) lanes set: the tail is read with a masked load, never past it.
__mmask16 tail_mask(std::size_t count) noexcept {
  return static_cast<__mmask16>((1u << count) - 1u);
}

// Sum of the 16 lanes. GCC 12's _mm512_reduce_add_ps (and the unmasked 256-bit extracts) trip a
// false -Wuninitialized inside its own header; the masked extracts compile to the same code.
float horizontal_sum(__m512 v) noexcept {
  const __m256 halves = _mm256_add_ps(_mm512_maskz_extractf32x8_ps(0xFF, v, 0),
                                      _mm512_maskz_extractf32x8_ps(0xFF, v, 1));
  const __m128 quarters =
      _mm_add_ps(_mm256_castps256_ps128(halves), _mm256_extractf128_ps(halves, 1));
  const __m128 pairs = _mm_add_ps(quarters, _mm_movehl_ps(quarters, quarters));
  return _mm_cvtss_f32(_mm_add_ss(pairs, _mm_movehdup_ps(pairs)));
}

}  // namespace

float l2_squared_avx512(const float* a, const float* b, std::size_t dim) noexcept {
  __m512 acc0 = _mm512_setzero_ps();
  __m512 acc1 = _mm512_setzero_ps();
  std::size_t i = 0;
  for (; i + 32 <= dim; i += 32) {
    const __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
    const __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16));
    acc0 = _mm512_fmadd_ps(d0, d0, acc0);
    acc1 = _mm512_fmadd_ps(d1, d1, acc1);
  }
  if (i + 16 <= dim) {
    const __m512 d = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
    acc0 = _mm512_fmadd_ps(d, d, acc0);
    i += 16;
  }
  if (i < dim) {
    const __mmask16 mask = tail_mask(dim - i);
    const __m512 d =
        _mm512_sub_ps(_mm512_maskz_loadu_ps(mask, a + i), _mm512_maskz_loadu_ps(mask, b + i));
    acc1 = _mm512_fmadd_ps(d, d, acc1);
  }
  return horizontal_sum(_mm512_add_ps(acc0, acc1));
}

float dot_avx512(const float* a, const float* b, std::size_t dim) noexcept {
  __m512 acc0 = _mm512_setzero_ps();
  __m512 acc1 = _mm512_setzero_ps();
  std::size_t i = 0;
  for (; i + 32 <= dim; i += 32) {
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
    acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), acc1);
  }
  if (i + 16 <= dim) {
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
    i += 16;
  }
  if (i < dim) {
    const __mmask16 mask = tail_mask(dim - i);
    acc1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, a + i), _mm512_maskz_loadu_ps(mask, b + i),
                           acc1);
  }
  return horizontal_sum(_mm512_add_ps(acc0, acc1));
}

}  // namespace omendb::simd
