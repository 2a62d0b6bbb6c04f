// What the CPU and the OS let us run, read once from CPUID and XCR0.
#pragma once

namespace omendb::simd {

struct CpuFeatures {
  bool avx2_fma = false;  // AVX2 and FMA, with YMM state enabled by the OS
  bool avx512 = false;    // AVX-512 F/DQ/BW/VL, with ZMM and opmask state enabled by the OS
  bool avx512_vnni = false;  // avx512 and AVX-512 VNNI (vpdpbusd)
};

// Reads CPUID leaves 1 and 7 and XCR0. Cost: a few hundred cycles; call once.
CpuFeatures read_cpu_features() noexcept;

}  // namespace omendb::simd
