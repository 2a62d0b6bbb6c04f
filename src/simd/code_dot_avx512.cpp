// AVX-512BW 8-bit code kernel, for AVX-512 CPUs without VNNI. Compiled with the flags of
// distance_avx512.cpp. Codes and query widen to 16 bits and vpmaddwd sums adjacent products into
// 32-bit lanes, exactly; the tail is read with masked loads, never past `dim`.
#include <immintrin.h>

#include "simd/code_dot_avx512.h"

namespace omendb::simd {
namespace {

// 32 products of codes[0..32) and query[0..32) under `mask`, summed in pairs into 16 lanes.
__m512i products32(const std::uint8_t* codes, const std::int8_t* query, __mmask32 mask) noexcept {
  const __m512i c = _mm512_cvtepu8_epi16(_mm256_maskz_loadu_epi8(mask, codes));
  const __m512i q = _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(mask, query));
  return _mm512_madd_epi16(c, q);
}

}  // namespace

std::int32_t code_dot_avx512(const std::uint8_t* codes, const std::int8_t* query,
                             std::size_t dim) noexcept {
  constexpr __mmask32 kAll = ~__mmask32{0};
  __m512i acc0 = _mm512_setzero_si512();
  __m512i acc1 = _mm512_setzero_si512();
  std::size_t i = 0;
  for (; i + 64 <= dim; i += 64) {
    acc0 = _mm512_add_epi32(acc0, products32(codes + i, query + i, kAll));
    acc1 = _mm512_add_epi32(acc1, products32(codes + i + 32, query + i + 32, kAll));
  }
  if (i + 32 <= dim) {
    acc0 = _mm512_add_epi32(acc0, products32(codes + i, query + i, kAll));
    i += 32;
  }
  if (i < dim) {
    const auto mask = static_cast<__mmask32>((std::uint64_t{1} << (dim - i)) - 1);
    acc1 = _mm512_add_epi32(acc1, products32(codes + i, query + i, mask));
  }
  return horizontal_sum_epi32(_mm512_add_epi32(acc0, acc1));
}

}  // namespace omendb::simd
