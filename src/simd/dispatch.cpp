// Picks the kernels once per process from what the CPU supports.
#include <cstdlib>
#include <cstring>
#include <initializer_list>

#include "simd/cpu_features.h"
#include "simd/distance.h"

namespace omendb::simd {
namespace {

constexpr Kernels kScalar{Isa::scalar, l2_squared_scalar, dot_scalar, code_dot_scalar};
constexpr Kernels kAvx2{Isa::avx2, l2_squared_avx2, dot_avx2, code_dot_avx2};
constexpr Kernels kAvx512{Isa::avx512, l2_squared_avx512, dot_avx512, code_dot_avx512};
constexpr Kernels kAvx512Vnni{Isa::avx512, l2_squared_avx512, dot_avx512, code_dot_avx512_vnni};

const CpuFeatures& cpu_features() noexcept {
  static const CpuFeatures features = read_cpu_features();
  return features;
}

}  // namespace

const char* isa_name(Isa isa) noexcept {
  switch (isa) {
    case Isa::scalar:
      return "scalar";
    case Isa::avx2:
      return "avx2";
    case Isa::avx512:
      return "avx512";
  }
  return "unknown";
}

bool isa_supported(Isa isa) noexcept {
  switch (isa) {
    case Isa::scalar:
      return true;
    case Isa::avx2:
      return cpu_features().avx2_fma;
    case Isa::avx512:
      return cpu_features().avx512;
  }
  return false;
}

Isa detect_isa() noexcept {
  Isa best = Isa::scalar;
  for (Isa isa : {Isa::avx2, Isa::avx512}) {
    if (isa_supported(isa)) best = isa;
  }
  if (const char* wanted = std::getenv("OMENDB_SIMD")) {
    for (Isa isa : {Isa::scalar, Isa::avx2, Isa::avx512}) {
      if (std::strcmp(wanted, isa_name(isa)) == 0 &&
          static_cast<int>(isa) <= static_cast<int>(best)) {
        return isa;
      }
    }
  }
  return best;
}

bool avx512_vnni_supported() noexcept { return cpu_features().avx512_vnni; }

const Kernels& kernels_for(Isa isa) noexcept {
  switch (isa) {
    case Isa::avx2:
      return kAvx2;
    case Isa::avx512:
      return avx512_vnni_supported() ? kAvx512Vnni : kAvx512;
    case Isa::scalar:
      break;
  }
  return kScalar;
}

const Kernels& best_kernels() noexcept {
  static const Kernels& chosen = kernels_for(detect_isa());
  return chosen;
}

}  // namespace omendb::simd
