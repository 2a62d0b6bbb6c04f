// Space: the distance of each metric and the preparation of stored rows.
#include "index/space.h"

#include <gtest/gtest.h>

#include <vector>

namespace omendb {
namespace {

TEST(Space, L2IsSquaredEuclidean) {
  const Space space(Metric::kL2, 3);
  const float a[3] = {1, 2, 3}, b[3] = {4, 6, 3};
  EXPECT_FLOAT_EQ(space.distance(a, b), 25.0f);
}

TEST(Space, InnerProductIsNegatedDot) {
  const Space space(Metric::kIp, 2);
  const float a[2] = {1, 2}, b[2] = {3, 4};
  EXPECT_FLOAT_EQ(space.distance(a, b), -11.0f);
}

TEST(Space, CosineIsOneMinusCosineOfPreparedRows) {
  const Space space(Metric::kCosine, 2);
  float a[2] = {2, 0}, b[2] = {1, 1};
  space.prepare(a, a);
  space.prepare(b, b);
  EXPECT_NEAR(space.distance(a, b), 1.0f - 0.70710678f, 1e-6f);
  EXPECT_NEAR(space.distance(a, a), 0.0f, 1e-6f);
}

TEST(Space, PrepareLeavesL2AndIpRowsUnchanged) {
  for (Metric metric : {Metric::kL2, Metric::kIp}) {
    const Space space(metric, 3);
    const float in[3] = {3, -4, 12};
    float out[3];
    space.prepare(in, out);
    EXPECT_EQ(std::vector<float>(out, out + 3), std::vector<float>(in, in + 3));
  }
}

TEST(Space, PrepareKeepsZeroVectorZeroUnderCosine) {
  const Space space(Metric::kCosine, 4);
  float row[4] = {0, 0, 0, 0};
  space.prepare(row, row);
  for (float x : row) EXPECT_EQ(x, 0.0f);
}

TEST(Space, PrepareNormalisesTinyAndHugeVectorsUnderCosine) {
  const Space space(Metric::kCosine, 2);
  for (float scale : {1e-30f, 1e30f}) {
    float row[2] = {3 * scale, 4 * scale};
    space.prepare(row, row);
    EXPECT_NEAR(row[0], 0.6f, 1e-6f);
    EXPECT_NEAR(row[1], 0.8f, 1e-6f);
  }
}

TEST(Space, PreparingAPreparedRowUnderCosineChangesNoBit) {
  for (std::size_t dim : {3, 16, 128, 768}) {
    const Space space(Metric::kCosine, dim);
    std::vector<float> row(dim);
    for (std::size_t i = 0; i < dim; ++i) row[i] = 0.37f * static_cast<float>(i % 7) - 1.1f;
    space.prepare(row.data(), row.data());
    std::vector<float> again = row;
    space.prepare(again.data(), again.data());
    EXPECT_EQ(again, row) << "dim " << dim;
  }
}

}  // namespace
}  // namespace omendb
