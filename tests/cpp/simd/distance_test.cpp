// Tests of the SIMD distance kernels: every instruction set this CPU supports, against a
// double-precision reference, at every dimension a row is likely to have; and the run-time choice.
#include "simd/distance.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

namespace omendb::simd {
namespace {

constexpr std::size_t kMaxDim = 1100;
constexpr Isa kAllIsas[] = {Isa::scalar, Isa::avx2, Isa::avx512};

std::vector<Isa> supported_isas() {
  std::vector<Isa> isas;
  for (Isa isa : kAllIsas) {
    if (isa_supported(isa)) isas.push_back(isa);
  }
  return isas;
}

// The exact distances, computed in double. Float differences and products are exact in double; the
// double sum's own error (dim * 2^-53 relative) is negligible beside the float tolerance below.
struct Reference {
  double l2_squared = 0;  // its terms are squares, so this is also the sum of their magnitudes
  double dot = 0;
  double dot_magnitude = 0;  // sum over i of |a[i] * b[i]|
};

Reference reference(const float* a, const float* b, std::size_t dim) {
  Reference ref;
  for (std::size_t i = 0; i < dim; ++i) {
    const double diff = static_cast<double>(a[i]) - static_cast<double>(b[i]);
    const double product = static_cast<double>(a[i]) * static_cast<double>(b[i]);
    ref.l2_squared += diff * diff;
    ref.dot += product;
    ref.dot_magnitude += std::fabs(product);
  }
  return ref;
}

// How far a float32 kernel may be from the exact value, whatever order it sums in. A term carries
// at most three rounding factors (the difference, twice since it is squared, then the square or the
// product unless an FMA fuses it into the add), and any summation tree over `dim` terms is at most
// dim - 1 adds deep (adding zero lanes or zeroed accumulators is exact). So (Higham, "Accuracy and
// Stability of Numerical Algorithms", §3.1 and §4.2) the error is at most
// gamma(dim + 2) * sum |term|, where gamma(n) = n*u / (1 - n*u) and u = 2^-24 is float's unit
// roundoff: 1.8e-7 relative at dim 1, 6.6e-5 at dim 1100.
double tolerance(std::size_t dim, double magnitude) {
  const double unit_roundoff = std::numeric_limits<float>::epsilon() / 2;
  const double n_u = static_cast<double>(dim + 2) * unit_roundoff;
  return n_u / (1 - n_u) * magnitude;
}

std::vector<float> random_row(std::size_t dim, std::mt19937& rng) {
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  std::vector<float> row(dim);
  for (float& x : row) x = value(rng);
  return row;
}

// A copy of a row placed `offset` floats past a 64-byte boundary, with NaNs on both sides: a
// kernel that lets any float outside the row into its sum returns NaN.
class NanPaddedRow {
 public:
  NanPaddedRow(std::span<const float> values, std::size_t offset)
      : storage_(kAlignFloats + offset + values.size() + kPadFloats,
                 std::numeric_limits<float>::quiet_NaN()) {
    const auto address = reinterpret_cast<std::uintptr_t>(storage_.data());
    const std::size_t to_boundary = (kAlignBytes - address % kAlignBytes) % kAlignBytes;
    row_ = storage_.data() + to_boundary / sizeof(float) + offset;
    std::copy(values.begin(), values.end(), row_);
  }

  const float* data() const { return row_; }

 private:
  static constexpr std::size_t kAlignBytes = 64;
  static constexpr std::size_t kAlignFloats = kAlignBytes / sizeof(float);
  static constexpr std::size_t kPadFloats = 32;  // one AVX-512 step of two registers
  std::vector<float> storage_;
  float* row_;
};

// Readable pages between two PROT_NONE guard pages: touching a byte just outside them faults.
class GuardedPages {
 public:
  explicit GuardedPages(std::size_t bytes)
      : page_(static_cast<std::size_t>(sysconf(_SC_PAGESIZE))),
        data_bytes_((bytes + page_ - 1) / page_ * page_),
        mapped_bytes_(data_bytes_ + 2 * page_) {
    void* mapped =
        mmap(nullptr, mapped_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapped == MAP_FAILED) return;
    base_ = static_cast<std::byte*>(mapped);
    if (mprotect(base_, page_, PROT_NONE) != 0 ||
        mprotect(base_ + page_ + data_bytes_, page_, PROT_NONE) != 0) {
      munmap(base_, mapped_bytes_);
      base_ = nullptr;
    }
  }
  ~GuardedPages() {
    if (base_ != nullptr) munmap(base_, mapped_bytes_);
  }
  GuardedPages(const GuardedPages&) = delete;
  GuardedPages& operator=(const GuardedPages&) = delete;

  bool ok() const { return base_ != nullptr; }
  // First float after the leading guard page.
  float* begin() const { return reinterpret_cast<float*>(base_ + page_); }
  // One past the last float before the trailing guard page.
  float* end() const { return reinterpret_cast<float*>(base_ + page_ + data_bytes_); }

 private:
  std::size_t page_;
  std::size_t data_bytes_;
  std::size_t mapped_bytes_;
  std::byte* base_ = nullptr;
};

// Checks both kernels of `isa` on one pair of rows against the exact values.
void expect_near_reference(Isa isa, const float* a, const float* b, std::size_t dim) {
  const Kernels& kernels = kernels_for(isa);
  const Reference ref = reference(a, b, dim);
  EXPECT_NEAR(kernels.l2_squared(a, b, dim), ref.l2_squared, tolerance(dim, ref.l2_squared));
  EXPECT_NEAR(kernels.dot(a, b, dim), ref.dot, tolerance(dim, ref.dot_magnitude));
}

// Sets an environment variable for one scope, then restores what was there.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    setenv(name, value, /*overwrite=*/1);
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// Random rows with negative values, aligned and one float off alignment, NaN on either side: each
// supported ISA is within the float32 error bound of the exact value, and of the scalar kernel.
TEST(DistanceKernels, MatchReferenceAtEveryDimAlignedAndUnaligned) {
  const std::vector<Isa> isas = supported_isas();
  for (std::size_t dim = 1; dim <= kMaxDim; ++dim) {
    std::mt19937 rng(static_cast<std::mt19937::result_type>(dim));
    const std::vector<float> a_values = random_row(dim, rng);
    const std::vector<float> b_values = random_row(dim, rng);
    for (std::size_t offset : {0, 1}) {
      const NanPaddedRow a(a_values, offset);
      const NanPaddedRow b(b_values, offset);
      const Reference ref = reference(a.data(), b.data(), dim);
      const double l2_tolerance = tolerance(dim, ref.l2_squared);
      const double dot_tolerance = tolerance(dim, ref.dot_magnitude);
      const float scalar_l2 = l2_squared_scalar(a.data(), b.data(), dim);
      const float scalar_dot = dot_scalar(a.data(), b.data(), dim);
      for (Isa isa : isas) {
        SCOPED_TRACE(testing::Message() << isa_name(isa) << " dim=" << dim << " offset=" << offset);
        const Kernels& kernels = kernels_for(isa);
        const float l2 = kernels.l2_squared(a.data(), b.data(), dim);
        const float dot = kernels.dot(a.data(), b.data(), dim);
        EXPECT_NEAR(l2, ref.l2_squared, l2_tolerance);
        EXPECT_NEAR(dot, ref.dot, dot_tolerance);
        // Each is within one tolerance of the exact value, so within two of each other.
        EXPECT_NEAR(l2, scalar_l2, 2 * l2_tolerance);
        EXPECT_NEAR(dot, scalar_dot, 2 * dot_tolerance);
      }
    }
    if (HasFailure()) return;  // the first failing dim says enough
  }
}

// Small integers (|difference| <= 16, |product| <= 128): every partial sum is an integer below
// 2^24, so any summation order is exact, and a term dropped or counted twice changes the result.
TEST(DistanceKernels, ExactOnSmallIntegers) {
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> magnitude(1, 8);
  std::bernoulli_distribution negative(0.5);
  const std::vector<Isa> isas = supported_isas();
  for (std::size_t dim = 1; dim <= kMaxDim; ++dim) {
    std::vector<float> a(dim);
    std::vector<float> b(dim);
    for (std::size_t i = 0; i < dim; ++i) {
      // b is either negative or above a, so every product and every difference is nonzero.
      a[i] = static_cast<float>(magnitude(rng));
      const auto step = static_cast<float>(magnitude(rng));
      b[i] = negative(rng) ? -step : a[i] + step;
    }
    const Reference ref = reference(a.data(), b.data(), dim);
    for (Isa isa : isas) {
      SCOPED_TRACE(testing::Message() << isa_name(isa) << " dim=" << dim);
      const Kernels& kernels = kernels_for(isa);
      EXPECT_EQ(kernels.l2_squared(a.data(), b.data(), dim), ref.l2_squared);
      EXPECT_EQ(kernels.dot(a.data(), b.data(), dim), ref.dot);
    }
    if (HasFailure()) return;  // the first failing dim says enough
  }
}

// Rows that end right before, or start right after, a PROT_NONE page: a kernel that reads even one
// float outside the row crashes the test.
TEST(DistanceKernels, NeverReadOutsideTheRow) {
  std::vector<std::size_t> dims;
  for (std::size_t dim = 1; dim <= 64; ++dim) dims.push_back(dim);
  for (std::size_t dim : {127, 128, 129, 383, 384, 385, 767, 768, 769, 1023, 1024, 1025, 1100}) {
    dims.push_back(dim);
  }
  const GuardedPages a_pages(kMaxDim * sizeof(float));
  const GuardedPages b_pages(kMaxDim * sizeof(float));
  ASSERT_TRUE(a_pages.ok() && b_pages.ok());
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  for (const GuardedPages* pages : {&a_pages, &b_pages}) {
    std::generate(pages->begin(), pages->end(), [&] { return value(rng); });
  }
  for (std::size_t dim : dims) {
    for (Isa isa : supported_isas()) {
      SCOPED_TRACE(testing::Message() << isa_name(isa) << " dim=" << dim);
      expect_near_reference(isa, a_pages.end() - dim, b_pages.end() - dim, dim);
      expect_near_reference(isa, a_pages.begin(), b_pages.begin(), dim);
    }
  }
}

// A row of no floats is at distance zero, and its dot product is zero.
TEST(DistanceKernels, EmptyRowsGiveZero) {
  const float a[1] = {1.0f};
  const float b[1] = {2.0f};
  for (Isa isa : supported_isas()) {
    SCOPED_TRACE(isa_name(isa));
    EXPECT_EQ(kernels_for(isa).l2_squared(a, b, 0), 0.0f);
    EXPECT_EQ(kernels_for(isa).dot(a, b, 0), 0.0f);
  }
}

// Reports, as a skip, each ISA whose kernels this machine cannot run and so leaves untested.
TEST(DistanceKernels, EveryIsaIsSupportedHere) {
  std::string unsupported;
  for (Isa isa : kAllIsas) {
    if (!isa_supported(isa)) unsupported += std::string(" ") + isa_name(isa);
  }
  if (!unsupported.empty()) {
    GTEST_SKIP() << "not supported by this CPU, so untested:" << unsupported;
  }
}

// Scalar runs everywhere, and each ISA implies the narrower ones.
TEST(Dispatch, SupportIsNested) {
  EXPECT_TRUE(isa_supported(Isa::scalar));
  if (isa_supported(Isa::avx512)) {
    EXPECT_TRUE(isa_supported(Isa::avx2));
  }
}

TEST(Dispatch, DetectedIsaIsSupported) { EXPECT_TRUE(isa_supported(detect_isa())); }

// kernels_for returns each ISA's own entry points.
TEST(Dispatch, KernelsForReturnsTheNamedEntryPoints) {
  EXPECT_EQ(kernels_for(Isa::scalar).isa, Isa::scalar);
  EXPECT_EQ(kernels_for(Isa::scalar).l2_squared, &l2_squared_scalar);
  EXPECT_EQ(kernels_for(Isa::scalar).dot, &dot_scalar);
  EXPECT_EQ(kernels_for(Isa::avx2).isa, Isa::avx2);
  EXPECT_EQ(kernels_for(Isa::avx2).l2_squared, &l2_squared_avx2);
  EXPECT_EQ(kernels_for(Isa::avx2).dot, &dot_avx2);
  EXPECT_EQ(kernels_for(Isa::avx512).isa, Isa::avx512);
  EXPECT_EQ(kernels_for(Isa::avx512).l2_squared, &l2_squared_avx512);
  EXPECT_EQ(kernels_for(Isa::avx512).dot, &dot_avx512);
}

// best_kernels is the kernel set of the detected ISA.
TEST(Dispatch, BestKernelsAreThoseOfTheDetectedIsa) {
  const Kernels& expected = kernels_for(detect_isa());
  const Kernels& best = best_kernels();
  EXPECT_EQ(best.isa, expected.isa);
  EXPECT_EQ(best.l2_squared, expected.l2_squared);
  EXPECT_EQ(best.dot, expected.dot);
}

TEST(Dispatch, IsaNames) {
  EXPECT_STREQ(isa_name(Isa::scalar), "scalar");
  EXPECT_STREQ(isa_name(Isa::avx2), "avx2");
  EXPECT_STREQ(isa_name(Isa::avx512), "avx512");
  EXPECT_STREQ(isa_name(static_cast<Isa>(42)), "unknown");
}

// OMENDB_SIMD lowers the choice to a supported ISA; an unknown name, or none, leaves the best.
TEST(Dispatch, EnvironmentLowersDetectedIsa) {
  Isa best = Isa::scalar;
  for (Isa isa : supported_isas()) best = isa;
  {
    const ScopedEnv env("OMENDB_SIMD", "scalar");
    EXPECT_EQ(detect_isa(), Isa::scalar);
  }
  {
    const ScopedEnv env("OMENDB_SIMD", "avx2");
    EXPECT_EQ(detect_isa(), isa_supported(Isa::avx2) ? Isa::avx2 : best);
  }
  {
    const ScopedEnv env("OMENDB_SIMD", "no-such-isa");
    EXPECT_EQ(detect_isa(), best);
  }
  {
    const ScopedEnv env("OMENDB_SIMD", isa_name(best));
    EXPECT_EQ(detect_isa(), best);
  }
}

}  // namespace
}  // namespace omendb::simd
