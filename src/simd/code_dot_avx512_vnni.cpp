// AVX-512 VNNI 8-bit code kernel. This file alone is compiled with -mavx512vnni (besides the
// AVX-512 flags); dispatch.cpp calls it only when CPUID reports VNNI. vpdpbusd multiplies 64
// unsigned codes by 64 signed query values and adds each group of four products to a 32-bit lane:
// exact, with no 16-bit intermediate to saturate.
#include <immintrin.h>

#include "simd/code_dot_avx512.h"

namespace omendb::simd {

std::int32_t code_dot_avx512_vnni(const std::uint8_t* codes, const std::int8_t* query,
                                  std::size_t dim) noexcept {
  __m512i acc0 = _mm512_setzero_si512();
  __m512i acc1 = _mm512_setzero_si512();
  std::size_t i = 0;
  for (; i + 128 <= dim; i += 128) {
    acc0 = _mm512_dpbusd_epi32(acc0, _mm512_loadu_si512(codes + i), _mm512_loadu_si512(query + i));
    acc1 = _mm512_dpbusd_epi32(acc1, _mm512_loadu_si512(codes + i + 64),
                               _mm512_loadu_si512(query + i + 64));
  }
  if (i + 64 <= dim) {
    acc0 = _mm512_dpbusd_epi32(acc0, _mm512_loadu_si512(codes + i), _mm512_loadu_si512(query + i));
    i += 64;
  }
  if (i < dim) {
    const __mmask64 mask = (std::uint64_t{1} << (dim - i)) - 1;
    acc1 = _mm512_dpbusd_epi32(acc1, _mm512_maskz_loadu_epi8(mask, codes + i),
                               _mm512_maskz_loadu_epi8(mask, query + i));
  }
  return horizontal_sum_epi32(_mm512_add_epi32(acc0, acc1));
}

}  // namespace omendb::simd
