// Distance kernels over float32 rows, with one implementation per instruction set and a run-time
// choice of the best one the CPU and OS support.
#pragma once

#include <cstddef>
#include <cstdint>

namespace omendb::simd {

// A kernel over two rows of `dim` floats. Rows need no particular alignment.
using KernelFn = float (*)(const float* a, const float* b, std::size_t dim) noexcept;

// A kernel over a row of `dim` unsigned 8-bit codes and a row of `dim` signed 8-bit query codes:
// the exact sum over i of codes[i] * query[i]. Preconditions: every query value is in
// [-127, 127] and dim <= 65536, so the sum fits an int32 (255 * 127 * 65536 < 2^31). Rows need no
// particular alignment; nothing past `dim` bytes is read.
using CodeDotFn = std::int32_t (*)(const std::uint8_t* codes, const std::int8_t* query,
                                   std::size_t dim) noexcept;

// Instruction sets we ship kernels for, from least to most capable.
enum class Isa { scalar = 0, avx2 = 1, avx512 = 2 };

// The kernels of one instruction set.
struct Kernels {
  Isa isa;
  KernelFn l2_squared;  // sum over i of (a[i] - b[i])^2
  KernelFn dot;         // sum over i of a[i] * b[i]
  CodeDotFn code_dot;   // sum over i of codes[i] * query[i], 8-bit codes (quantized collections)
};

// Name of an instruction set ("scalar", "avx2", "avx512").
const char* isa_name(Isa isa) noexcept;

// True when this CPU and OS can run `isa`'s kernels (CPUID feature bits and, for the wide
// registers, the OS-enabled state in XCR0). Cost: a few CPUID instructions.
bool isa_supported(Isa isa) noexcept;

// The most capable supported instruction set, lowered to the one named by the environment variable
// OMENDB_SIMD ("scalar", "avx2", "avx512") when that is set and supported.
Isa detect_isa() noexcept;

// The kernels of `isa`. Precondition: isa_supported(isa).
const Kernels& kernels_for(Isa isa) noexcept;

// The kernels chosen once, on first call, by detect_isa(). Thread-safe; cost after the first call:
// one load.
const Kernels& best_kernels() noexcept;

// Per-ISA entry points, exposed for tests and benchmarks. Call the *_avx2 and *_avx512 ones only
// when isa_supported() says so.
float l2_squared_scalar(const float* a, const float* b, std::size_t dim) noexcept;
float dot_scalar(const float* a, const float* b, std::size_t dim) noexcept;
float l2_squared_avx2(const float* a, const float* b, std::size_t dim) noexcept;
float dot_avx2(const float* a, const float* b, std::size_t dim) noexcept;
float l2_squared_avx512(const float* a, const float* b, std::size_t dim) noexcept;
float dot_avx512(const float* a, const float* b, std::size_t dim) noexcept;
// The 8-bit code kernels. The avx512 one widens to 16 bits (AVX-512BW); the avx512_vnni one uses
// vpdpbusd, 64 products per instruction: call it only when avx512_vnni_supported().
std::int32_t code_dot_scalar(const std::uint8_t* codes, const std::int8_t* query,
                             std::size_t dim) noexcept;
std::int32_t code_dot_avx2(const std::uint8_t* codes, const std::int8_t* query,
                           std::size_t dim) noexcept;
std::int32_t code_dot_avx512(const std::uint8_t* codes, const std::int8_t* query,
                             std::size_t dim) noexcept;
std::int32_t code_dot_avx512_vnni(const std::uint8_t* codes, const std::int8_t* query,
                                  std::size_t dim) noexcept;
// True when the CPU has AVX-512 VNNI besides what Isa::avx512 needs; the avx512 kernels then use
// code_dot_avx512_vnni. Cost: one load after the first call.
bool avx512_vnni_supported() noexcept;

}  // namespace omendb::simd
