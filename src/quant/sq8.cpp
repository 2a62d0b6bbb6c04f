#include "quant/sq8.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace omendb::quant {
namespace {

constexpr double kLevels = 255.0;       // codes 0..255
constexpr double kQueryLevels = 127.0;  // query codes -127..127

std::size_t round_up4(std::size_t n) noexcept { return (n + 3) / 4 * 4; }

// `value` as a float, saturated at +-FLT_MAX: a double past float's range would make the conversion
// undefined (sums of huge finite values, which users may store, get there).
float saturated(double value) noexcept {
  constexpr double kLargest = std::numeric_limits<float>::max();
  return static_cast<float>(std::clamp(value, -kLargest, kLargest));
}

}  // namespace

Sq8RowConstants encode_sq8(const float* row, std::size_t dim, std::uint8_t* codes) noexcept {
  double low = row[0];
  double high = row[0];
  for (std::size_t i = 1; i < dim; ++i) {
    low = std::min(low, double{row[i]});
    high = std::max(high, double{row[i]});
  }
  const double step = (high - low) / kLevels;
  const auto step_f = static_cast<float>(step);
  const bool usable = step_f > 0 && std::isfinite(step_f);
  double squared_norm = 0;
  std::uint32_t code_sum = 0;
  for (std::size_t i = 0; i < dim; ++i) {
    // Clamped before the conversion, so rounding at the ends never leaves [0, 255].
    const double code =
        usable ? std::clamp(std::nearbyint((row[i] - low) / step), 0.0, kLevels) : 0.0;
    codes[i] = static_cast<std::uint8_t>(code);
    code_sum += codes[i];
    const double decoded = low + step * code;
    squared_norm += decoded * decoded;
  }
  return {static_cast<float>(low), usable ? static_cast<float>(step) : 0.0f,
          saturated(squared_norm), static_cast<float>(code_sum)};
}

Sq8Codes::Sq8Codes(std::size_t dim)
    : dim_(dim),
      constants_offset_(round_up4(dim)),
      arena_(round_up4(dim) + sizeof(Sq8RowConstants), 16) {}

void Sq8Codes::encode(std::uint32_t slot, const float* row) noexcept {
  std::uint8_t* out = arena_.row_as<std::uint8_t>(slot);
  const Sq8RowConstants constants = encode_sq8(row, dim_, out);
  std::memcpy(out + constants_offset_, &constants, sizeof constants);
}

void Sq8Query::prepare(const float* query, std::size_t dim, Metric metric) {
  if (codes_.size() < dim) codes_.resize(dim);
  double largest = 0;
  double sum = 0;
  double squared_norm = 0;
  for (std::size_t i = 0; i < dim; ++i) {
    largest = std::max(largest, std::fabs(double{query[i]}));
    sum += query[i];
    squared_norm += double{query[i]} * query[i];
  }
  const double scale = largest / kQueryLevels;
  const bool usable = scale > 0 && std::isfinite(static_cast<float>(scale));
  for (std::size_t i = 0; i < dim; ++i) {
    const double code =
        usable ? std::clamp(std::nearbyint(query[i] / scale), -kQueryLevels, kQueryLevels) : 0.0;
    codes_[i] = static_cast<std::int8_t>(code);
  }
  scale_ = usable ? static_cast<float>(scale) : 0.0f;
  offset_ = 0;
  sum_ = saturated(sum);
  squared_norm_ = saturated(squared_norm);
  set_metric(metric);
}

void Sq8Query::prepare_from_codes(const Sq8Codes& rows, std::uint32_t slot, Metric metric) {
  const std::size_t dim = rows.dim();
  if (codes_.size() < dim) codes_.resize(dim);
  const std::uint8_t* codes = rows.codes(slot);
  for (std::size_t i = 0; i < dim; ++i) {
    // -128 would be exact for code 0; -127 keeps every query code in the kernels' stated range.
    codes_[i] = static_cast<std::int8_t>(std::max(int{codes[i]} - 128, -127));
  }
  const Sq8RowConstants& row = rows.constants(slot);
  scale_ = row.step;
  offset_ = row.low + 128.0f * row.step;
  // sum(query) = dim * offset + scale * sum(c - 128) = dim * low + step * sum(c).
  sum_ = saturated(static_cast<double>(dim) * row.low + double{row.step} * row.code_sum);
  squared_norm_ = row.squared_norm;
  set_metric(metric);
}

void Sq8Query::set_metric(Metric metric) noexcept {
  switch (metric) {
    case Metric::kL2:
      bias_ = 0, dot_weight_ = -2, norm_weight_ = 1;
      break;
    case Metric::kIp:
      bias_ = 0, dot_weight_ = -1, norm_weight_ = 0;
      break;
    case Metric::kCosine:
      bias_ = 1, dot_weight_ = -1, norm_weight_ = 0;
      break;
  }
}

}  // namespace omendb::quant
