// AVX2 8-bit code kernel. This file alone (with distance_avx2.cpp) is compiled with -mavx2.
// Codes and query widen to 16 bits and vpmaddwd sums adjacent products into 32-bit lanes: exact
// (a pair is at most 2 * 255 * 127), unlike vpmaddubsw, whose 16-bit pair sums saturate.
#include <immintrin.h>

#include "simd/distance.h"

namespace omendb::simd {
namespace {

std::int32_t horizontal_sum(__m256i v) noexcept {
  __m128i folded = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  folded = _mm_add_epi32(folded, _mm_shuffle_epi32(folded, 0x4E));
  folded = _mm_add_epi32(folded, _mm_shuffle_epi32(folded, 0xB1));
  return _mm_cvtsi128_si32(folded);
}

// 16 products of codes[i..i+16) and query[i..i+16), summed in pairs into 8 lanes.
__m256i products16(const std::uint8_t* codes, const std::int8_t* query) noexcept {
  const __m256i c = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(codes)));
  const __m256i q = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(query)));
  return _mm256_madd_epi16(c, q);
}

}  // namespace

std::int32_t code_dot_avx2(const std::uint8_t* codes, const std::int8_t* query,
                           std::size_t dim) noexcept {
  __m256i acc0 = _mm256_setzero_si256();
  __m256i acc1 = _mm256_setzero_si256();
  std::size_t i = 0;
  for (; i + 32 <= dim; i += 32) {
    acc0 = _mm256_add_epi32(acc0, products16(codes + i, query + i));
    acc1 = _mm256_add_epi32(acc1, products16(codes + i + 16, query + i + 16));
  }
  if (i + 16 <= dim) {
    acc0 = _mm256_add_epi32(acc0, products16(codes + i, query + i));
    i += 16;
  }
  std::int32_t sum = horizontal_sum(_mm256_add_epi32(acc0, acc1));
  for (; i < dim; ++i) sum += std::int32_t{codes[i]} * std::int32_t{query[i]};
  return sum;
}

}  // namespace omendb::simd
