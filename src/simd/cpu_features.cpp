#include "simd/cpu_features.h"

#include <cpuid.h>

#include <cstdint>

namespace omendb::simd {
namespace {

// Leaf 1, ECX.
constexpr std::uint32_t kFma = 1u << 12;
constexpr std::uint32_t kOsxsave = 1u << 27;
constexpr std::uint32_t kAvx = 1u << 28;
// Leaf 7 sub-leaf 0, EBX.
constexpr std::uint32_t kAvx2 = 1u << 5;
constexpr std::uint32_t kAvx512F = 1u << 16;
constexpr std::uint32_t kAvx512DQ = 1u << 17;
constexpr std::uint32_t kAvx512BW = 1u << 30;
constexpr std::uint32_t kAvx512VL = 1u << 31;
// Leaf 7 sub-leaf 0, ECX.
constexpr std::uint32_t kAvx512Vnni = 1u << 11;
// XCR0: SSE and AVX (YMM) state; opmask, ZMM0-15 upper halves, ZMM16-31.
constexpr std::uint64_t kXcr0Ymm = 0x6;
constexpr std::uint64_t kXcr0Zmm = 0xE0;

std::uint64_t read_xcr0() noexcept {
  std::uint32_t eax = 0;
  std::uint32_t edx = 0;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<std::uint64_t>(edx) << 32) | eax;
}

bool all_set(std::uint64_t bits, std::uint64_t wanted) noexcept {
  return (bits & wanted) == wanted;
}

}  // namespace

CpuFeatures read_cpu_features() noexcept {
  CpuFeatures features;
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return features;
  if (!all_set(ecx, kOsxsave | kAvx | kFma)) return features;
  const std::uint64_t xcr0 = read_xcr0();
  if (!all_set(xcr0, kXcr0Ymm)) return features;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return features;
  features.avx2_fma = all_set(ebx, kAvx2);
  features.avx512 = features.avx2_fma &&
                    all_set(ebx, kAvx512F | kAvx512DQ | kAvx512BW | kAvx512VL) &&
                    all_set(xcr0, kXcr0Ymm | kXcr0Zmm);
  features.avx512_vnni = features.avx512 && all_set(ecx, kAvx512Vnni);
  return features;
}

}  // namespace omendb::simd
