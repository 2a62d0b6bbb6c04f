// Tests of 8-bit scalar quantization: the decoding error of a row, and the code distance against a
// double-precision reference, for every metric at every dimension 1..1100, within the error bound
// that the two roundings (row codes, query codes) allow.
#include "quant/sq8.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "index/space.h"

namespace omendb::quant {
namespace {

constexpr std::size_t kMaxDim = 1100;

std::vector<float> random_row(std::size_t dim, std::mt19937& rng, float offset) {
  std::normal_distribution<float> value(offset, 1.0f);
  std::vector<float> row(dim);
  for (float& x : row) x = value(rng);
  return row;
}

TEST(Sq8, DecodedRowIsWithinHalfAStep) {
  std::mt19937 rng(1);
  for (std::size_t dim : {1, 2, 7, 128, 768, 1100}) {
    const std::vector<float> row = random_row(dim, rng, 3.0f);
    std::vector<std::uint8_t> codes(dim);
    const Sq8RowConstants c = encode_sq8(row.data(), dim, codes.data());
    double squared_norm = 0;
    for (std::size_t i = 0; i < dim; ++i) {
      const double decoded = double{c.low} + double{c.step} * codes[i];
      EXPECT_LE(std::fabs(decoded - row[i]), c.step * 0.5 + 1e-5) << dim << " " << i;
      squared_norm += decoded * decoded;
    }
    EXPECT_NEAR(c.squared_norm, squared_norm, 1e-5 * squared_norm);
  }
}

TEST(Sq8, ConstantAndHugeRowsGiveFiniteConstants) {
  std::vector<std::uint8_t> codes(4);
  const std::vector<float> constant{2.5f, 2.5f, 2.5f, 2.5f};
  Sq8RowConstants c = encode_sq8(constant.data(), 4, codes.data());
  EXPECT_EQ(c.step, 0.0f);
  EXPECT_EQ(c.low, 2.5f);
  const float huge = std::numeric_limits<float>::max();
  const std::vector<float> extreme{huge, -huge, 0.0f, huge};
  c = encode_sq8(extreme.data(), 4, codes.data());
  EXPECT_TRUE(std::isfinite(c.low) && std::isfinite(c.step) && std::isfinite(c.squared_norm));
  // A query of huge values: sums past float's range saturate, and the distance is never NaN.
  Sq8Codes rows(4);
  rows.reserve(1);
  rows.encode(0, extreme.data());
  for (Metric metric : {Metric::kL2, Metric::kIp, Metric::kCosine}) {
    Sq8Query query;
    query.prepare(extreme.data(), 4, metric);
    EXPECT_FALSE(std::isnan(query.distance(rows, 0))) << metric_name(metric);
  }
}

// |estimate - exact| for query . x is at most sum |q| * step / 2 (row rounding) plus
// scale / 2 * sum |x^| (query rounding), plus float rounding of the few terms combined.
double dot_error_bound(const std::vector<float>& query, const Sq8RowConstants& c,
                       const std::vector<std::uint8_t>& codes) {
  double query_abs = 0, decoded_abs = 0, largest = 0;
  for (std::size_t i = 0; i < query.size(); ++i) {
    query_abs += std::fabs(query[i]);
    decoded_abs += std::fabs(double{c.low} + double{c.step} * codes[i]);
    largest = std::max(largest, std::fabs(double{query[i]}));
  }
  return query_abs * c.step / 2 + largest / 127 / 2 * decoded_abs;
}

TEST(Sq8, CodeDistanceIsWithinTheBoundForEveryMetricAndDimension) {
  std::mt19937 rng(2);
  for (Metric metric : {Metric::kL2, Metric::kIp, Metric::kCosine}) {
    for (std::size_t dim = 1; dim <= kMaxDim; ++dim) {
      const Space space(metric, dim);
      std::vector<float> row = random_row(dim, rng, 0.5f);
      std::vector<float> query = random_row(dim, rng, 0.5f);
      space.prepare(row.data(), row.data());
      space.prepare(query.data(), query.data());
      Sq8Codes rows(dim);
      rows.reserve(1);
      rows.encode(0, row.data());
      Sq8Query prepared;
      prepared.prepare(query.data(), dim, metric);

      double exact_dot = 0, exact_l2 = 0, magnitude = 0;
      for (std::size_t i = 0; i < dim; ++i) {
        exact_dot += double{query[i]} * row[i];
        exact_l2 += (double{query[i]} - row[i]) * (double{query[i]} - row[i]);
        magnitude += double{query[i]} * query[i] + double{row[i]} * row[i];
      }
      std::vector<std::uint8_t> codes(rows.codes(0), rows.codes(0) + dim);
      const double dot_bound = dot_error_bound(query, rows.constants(0), codes);
      double exact = 0, bound = 0;
      switch (metric) {
        case Metric::kL2: {
          // |x^|^2 differs from |x|^2 by at most 2 sum |x| step/2 + dim (step/2)^2.
          double row_abs = 0;
          for (float x : row) row_abs += std::fabs(x);
          const double step = rows.constants(0).step;
          exact = exact_l2;
          bound = 2 * dot_bound + row_abs * step + dim * step * step / 4;
          break;
        }
        case Metric::kIp:
          exact = -exact_dot, bound = dot_bound;
          break;
        case Metric::kCosine:
          exact = 1 - exact_dot, bound = dot_bound;
          break;
      }
      bound += 1e-5 * (magnitude + 1);  // float rounding of the terms
      ASSERT_NEAR(prepared.distance(rows, 0), exact, bound)
          << metric_name(metric) << " dim " << dim;
    }
  }
}

// A stored row as the query (prepare_from_codes): the distance between the two decoded rows,
// off only where the query row's code is 0 (its query code is clamped to -127: one step higher)
// and by float rounding of the terms, for every metric at every dimension 1..1100.
TEST(Sq8, RowAsQueryIsWithinTheBoundForEveryMetricAndDimension) {
  std::mt19937 rng(4);
  for (Metric metric : {Metric::kL2, Metric::kIp, Metric::kCosine}) {
    for (std::size_t dim = 1; dim <= kMaxDim; ++dim) {
      const Space space(metric, dim);
      std::vector<float> a = random_row(dim, rng, 0.5f);
      std::vector<float> b = random_row(dim, rng, -0.25f);
      space.prepare(a.data(), a.data());
      space.prepare(b.data(), b.data());
      Sq8Codes rows(dim);
      rows.reserve(2);
      rows.encode(0, a.data());
      rows.encode(1, b.data());
      Sq8Query prepared;
      prepared.prepare_from_codes(rows, 0, metric);

      const Sq8RowConstants& ca = rows.constants(0);
      const Sq8RowConstants& cb = rows.constants(1);
      double dot = 0, l2 = 0, clamp_error = 0, largest_a = 0, largest_b = 0;
      for (std::size_t i = 0; i < dim; ++i) {
        const double x = double{ca.low} + double{ca.step} * rows.codes(0)[i];
        const double y = double{cb.low} + double{cb.step} * rows.codes(1)[i];
        dot += x * y;
        l2 += (x - y) * (x - y);
        // The integer dot sees one more step there; sum(query) does not: off by step * (y - low).
        if (rows.codes(0)[i] == 0) clamp_error += ca.step * (y - cb.low);
        largest_a = std::max(largest_a, std::fabs(x) + ca.step * 128);
        largest_b = std::max(largest_b, std::fabs(y));
      }
      const double exact = metric == Metric::kL2 ? l2 : metric == Metric::kIp ? -dot : 1 - dot;
      const double weight = metric == Metric::kL2 ? 2 : 1;
      const double rounding = 1e-5 * (4 * dim * largest_a * largest_b + ca.squared_norm +
                                      cb.squared_norm + 1);
      ASSERT_NEAR(prepared.distance(rows, 1), exact, weight * clamp_error + rounding)
          << metric_name(metric) << " dim " << dim;
    }
  }
}

TEST(Sq8, RanksNeighboursLikeTheFloats) {
  // On 2,000 random 128-d rows, the code distance's 10 nearest to a query hold most of the true 10.
  std::mt19937 rng(3);
  constexpr std::size_t kDim = 128, kRows = 2000;
  const Space space(Metric::kL2, kDim);
  Sq8Codes rows(kDim);
  rows.reserve(kRows);
  std::vector<std::vector<float>> data;
  for (std::size_t r = 0; r < kRows; ++r) {
    data.push_back(random_row(kDim, rng, 0.0f));
    rows.encode(static_cast<std::uint32_t>(r), data.back().data());
  }
  const std::vector<float> query = random_row(kDim, rng, 0.0f);
  Sq8Query prepared;
  prepared.prepare(query.data(), kDim, Metric::kL2);
  std::vector<std::pair<float, std::uint32_t>> exact, approx;
  for (std::uint32_t r = 0; r < kRows; ++r) {
    exact.push_back({space.distance(query.data(), data[r].data()), r});
    approx.push_back({prepared.distance(rows, r), r});
  }
  std::sort(exact.begin(), exact.end());
  std::sort(approx.begin(), approx.end());
  int found = 0;
  for (int i = 0; i < 10; ++i) {
    for (int j = 0; j < 10; ++j) found += exact[i].second == approx[j].second;
  }
  EXPECT_GE(found, 8);
}

}  // namespace
}  // namespace omendb::quant
