// 8-bit scalar quantization with a scale and offset per vector (in the manner of Intel's LVQ,
// without its mean-centring): a row x of dim floats becomes dim unsigned codes
//   c[i] = round((x[i] - low) / step),  low = min(x), step = (max(x) - min(x)) / 255,
// so x[i] is within step / 2 of low + step * c[i]. It needs no training and cannot drift as
// inserts change the data, and every row uses the whole 0..255 range of its own values.
//
// A query is quantized once per search to signed codes q[i] = round(query[i] / scale) in
// [-127, 127], scale = max |query[i]| / 127; then
//   query . x  ~  low * sum(query) + step * scale * sum_i c[i] * q[i],
// the integer sum being one simd::CodeDotFn call (VNNI vpdpbusd where the CPU has it), and
//   l2:     |query|^2 + |x^|^2 - 2 query . x     (|x^|^2 of the decoded row, stored per row)
//   ip:     -(query . x)
//   cosine: 1 - query . x                          (rows and query are unit length)
// These distances only steer the graph walk: the hits are re-ranked with the float rows.
//
// A stored row can be the query too (prepare_from_codes, for the neighbour choices of inserts):
// its decoded values are query[i] = offset + scale * q[i], with q[i] = c[i] - 128, scale = its step
// and offset = its low + 128 * step, so in general
//   query . x  ~  low * sum(query) + step * (scale * sum_i c[i] * q[i] + offset * sum_i c[i]),
// where sum_i c[i] is stored per row (code_sum) and offset is 0 for a float query.
//
// Code row layout (Sq8Codes): dim codes, padding to a multiple of 4 bytes, then low, step,
// |x^|^2 and sum(c) as f32 (Sq8RowConstants); rows 16-byte aligned. 144 bytes at dim 128, 784 at
// dim 768.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "collections/row_arena.h"
#include "omendb/options.h"
#include "simd/distance.h"

namespace omendb::quant {

// The per-row constants stored after the codes.
struct Sq8RowConstants {
  float low;           // the row's smallest value: code 0
  float step;          // the value of one code unit: (max - min) / 255; 0 for a constant row
  float squared_norm;  // |decoded row|^2, for l2
  float code_sum;      // sum of the row's codes (exact: at most 255 * 65,536 < 2^24)
};

// Encodes one row of `dim` floats into `codes` (dim bytes) and returns its constants. Rows whose
// range overflows float (values near +-3.4e38) get step 0 and all codes 0: they still decode to
// finite constants, and the float re-rank keeps their distances exact. Cost: two passes over the
// row.
Sq8RowConstants encode_sq8(const float* row, std::size_t dim, std::uint8_t* codes) noexcept;

// The code rows of an index, one per slot. Rows never move, so searches read them while a writer
// appends (the same contract as VectorStore).
class Sq8Codes {
 public:
  explicit Sq8Codes(std::size_t dim);

  std::size_t dim() const noexcept { return dim_; }
  // Makes slots [0, rows) writable. Writer only; safe while readers use existing rows.
  void reserve(std::size_t rows) { arena_.reserve(rows); }
  // As reserve(rows), before encoding exactly slots [0, rows) at once (RowArena::reserve_to_fill).
  void reserve_to_fill(std::size_t rows) { arena_.reserve_to_fill(rows); }
  // Encodes the (prepared) float row of `slot`. Precondition: slot < reserved rows, no reader
  // uses the slot yet. Cost: O(dim).
  void encode(std::uint32_t slot, const float* row) noexcept;
  // The codes of `slot` (dim bytes) and, right after them, its constants.
  const std::uint8_t* codes(std::uint32_t slot) const noexcept {
    return arena_.row_as<std::uint8_t>(slot);
  }
  const Sq8RowConstants& constants(std::uint32_t slot) const noexcept {
    return *reinterpret_cast<const Sq8RowConstants*>(codes(slot) + constants_offset_);
  }
  // Bytes of one stored row (codes, padding, constants): what a search reads per node.
  std::size_t row_bytes() const noexcept { return arena_.row_bytes(); }
  std::size_t allocated_bytes() const noexcept { return arena_.allocated_bytes(); }

 private:
  std::size_t dim_;
  std::size_t constants_offset_;  // dim rounded up to a multiple of 4
  RowArena arena_;
};

// A query quantized for code distances, and the metric's affine map. Reused across searches
// (prepare allocates only when dim grows).
class Sq8Query {
 public:
  // Quantizes `query` (dim floats, prepared for the metric as stored rows are). Cost: two passes.
  void prepare(const float* query, std::size_t dim, Metric metric);
  // Makes the decoded code row of `slot` the query: no float row is read, and its codes are
  // reused shifted by 128 (so the query's error is the row's own quantization error, plus one
  // code unit where a code is 0). Cost: one pass over dim bytes.
  void prepare_from_codes(const Sq8Codes& rows, std::uint32_t slot, Metric metric);

  // Approximate distance from the prepared query to the code row of `slot`: smaller is closer,
  // never NaN. Cost: one code kernel call and a few flops.
  float distance(const Sq8Codes& rows, std::uint32_t slot) const noexcept {
    const Sq8RowConstants& row = rows.constants(slot);
    const std::int32_t integer_dot = code_dot_(rows.codes(slot), codes_.data(), rows.dim());
    const float dot =
        row.low * sum_ + row.step * (scale_ * static_cast<float>(integer_dot) + offset_ * row.code_sum);
    const float distance =
        bias_ + dot_weight_ * dot + norm_weight_ * (squared_norm_ + row.squared_norm);
    return distance == distance ? distance : kFarthest;  // NaN reads as the farthest
  }

 private:
  static constexpr float kFarthest = std::numeric_limits<float>::infinity();

  std::vector<std::int8_t> codes_;
  simd::CodeDotFn code_dot_ = simd::best_kernels().code_dot;
  void set_metric(Metric metric) noexcept;

  float scale_ = 0;         // query[i] ~ offset + scale * codes[i]
  float offset_ = 0;        // 0 for a float query
  float sum_ = 0;           // sum of query[i]
  float squared_norm_ = 0;  // |query|^2
  float bias_ = 0;          // distance = bias + dot_weight * dot + norm_weight * (norms)
  float dot_weight_ = 0;
  float norm_weight_ = 0;
};

}  // namespace omendb::quant
