// Tests of the 8-bit code kernels: every variant this CPU runs must return the exact integer sum,
// at every dimension 1..1100, on random values and on the extremes, without reading past the row.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "simd/distance.h"

namespace omendb::simd {
namespace {

constexpr std::size_t kMaxDim = 1100;

struct Variant {
  std::string name;
  CodeDotFn kernel;
};

std::vector<Variant> supported_variants() {
  std::vector<Variant> variants{{"scalar", code_dot_scalar}};
  if (isa_supported(Isa::avx2)) variants.push_back({"avx2", code_dot_avx2});
  if (isa_supported(Isa::avx512)) variants.push_back({"avx512", code_dot_avx512});
  if (avx512_vnni_supported()) variants.push_back({"avx512_vnni", code_dot_avx512_vnni});
  return variants;
}

std::int64_t reference(const std::uint8_t* codes, const std::int8_t* query, std::size_t dim) {
  std::int64_t sum = 0;
  for (std::size_t i = 0; i < dim; ++i) sum += std::int64_t{codes[i]} * std::int64_t{query[i]};
  return sum;
}

TEST(CodeDot, EveryVariantIsExactAtEveryDimension) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> code(0, 255);
  std::uniform_int_distribution<int> query_value(-127, 127);
  for (std::size_t dim = 1; dim <= kMaxDim; ++dim) {
    std::vector<std::uint8_t> codes(dim);
    std::vector<std::int8_t> query(dim);
    for (auto& c : codes) c = static_cast<std::uint8_t>(code(rng));
    for (auto& q : query) q = static_cast<std::int8_t>(query_value(rng));
    const std::int64_t want = reference(codes.data(), query.data(), dim);
    for (const Variant& variant : supported_variants()) {
      ASSERT_EQ(variant.kernel(codes.data(), query.data(), dim), want)
          << variant.name << " dim " << dim;
    }
  }
}

TEST(CodeDot, ExtremesDoNotSaturate) {
  // 255 * 127 in every lane: vpmaddubsw would saturate pairs at 32767; the sum must stay exact.
  for (std::size_t dim : {1, 2, 31, 64, 65, 1024, 1100}) {
    for (const std::int8_t q : {std::int8_t{127}, std::int8_t{-127}}) {
      const std::vector<std::uint8_t> codes(dim, 255);
      const std::vector<std::int8_t> query(dim, q);
      for (const Variant& variant : supported_variants()) {
        EXPECT_EQ(variant.kernel(codes.data(), query.data(), dim),
                  reference(codes.data(), query.data(), dim))
            << variant.name << " dim " << dim;
      }
    }
  }
}

TEST(CodeDot, LargestDimensionFitsInt32) {
  constexpr std::size_t kDim = 65536;
  const std::vector<std::uint8_t> codes(kDim, 255);
  const std::vector<std::int8_t> query(kDim, -127);
  for (const Variant& variant : supported_variants()) {
    EXPECT_EQ(variant.kernel(codes.data(), query.data(), kDim), -255LL * 127 * 65536)
        << variant.name;
  }
}

TEST(CodeDot, NeverReadsPastTheRow) {
  // Rows end right before an inaccessible page: a read past `dim` would fault.
  const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  auto* memory = static_cast<std::byte*>(
      mmap(nullptr, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(memory, MAP_FAILED);
  ASSERT_EQ(mprotect(memory + page, page, PROT_NONE), 0);
  ASSERT_EQ(mprotect(memory + 3 * page, page, PROT_NONE), 0);
  for (std::size_t dim = 1; dim <= 200; ++dim) {
    auto* codes = reinterpret_cast<std::uint8_t*>(memory + page - dim);
    auto* query = reinterpret_cast<std::int8_t*>(memory + 3 * page - dim);
    std::memset(codes, 3, dim);
    std::memset(query, -2, dim);
    for (const Variant& variant : supported_variants()) {
      ASSERT_EQ(variant.kernel(codes, query, dim), -6 * static_cast<std::int32_t>(dim))
          << variant.name << " dim " << dim;
    }
  }
  munmap(memory, 4 * page);
}

TEST(CodeDot, DispatchedKernelMatchesScalar) {
  const std::vector<std::uint8_t> codes{1, 2, 3, 250, 0, 9, 77};
  const std::vector<std::int8_t> query{-1, 5, 127, -127, 3, 0, 9};
  EXPECT_EQ(best_kernels().code_dot(codes.data(), query.data(), codes.size()),
            code_dot_scalar(codes.data(), query.data(), codes.size()));
}

}  // namespace
}  // namespace omendb::simd
