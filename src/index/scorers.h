// Distances from one query to the slots of an index, as graph walks use them: ExactScorer on the
// float rows, CodeScorer on the 8-bit codes of a quantized index (approximate; its walks are
// re-ranked with the floats). A walk is a template over the scorer, so each kind compiles to its
// own loop with no indirect call or branch per distance.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "index/space.h"
#include "index/vector_store.h"
#include "quant/sq8.h"
#include "util/prefetch.h"

namespace omendb {

class ExactScorer {
 public:
  // `query` is prepared for the metric and outlives the scorer.
  ExactScorer(const Space& space, const VectorStore& vectors, const float* query) noexcept
      : space_(space), vectors_(vectors), query_(query) {}
  float distance(std::uint32_t slot) const noexcept {
    return space_.distance(query_, vectors_.row(slot));
  }
  void prefetch(std::uint32_t slot) const noexcept {
    prefetch_bytes(vectors_.row(slot), space_.dim() * sizeof(float));
  }

 private:
  const Space& space_;
  const VectorStore& vectors_;
  const float* query_;
};

class CodeScorer {
 public:
  // `query` was prepared from the query and outlives the scorer.
  CodeScorer(const quant::Sq8Codes& codes, const quant::Sq8Query& query) noexcept
      : codes_(codes), query_(query) {}
  float distance(std::uint32_t slot) const noexcept { return query_.distance(codes_, slot); }
  void prefetch(std::uint32_t slot) const noexcept {
    prefetch_bytes(codes_.codes(slot), codes_.row_bytes());
  }

 private:
  const quant::Sq8Codes& codes_;
  const quant::Sq8Query& query_;
};

}  // namespace omendb
