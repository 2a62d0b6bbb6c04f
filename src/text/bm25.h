// BM25 as Lucene (since 8.0) and bm25s's "lucene" method define it, with exact document lengths:
//
//   score(d, q) = sum over the terms t of q of  idf(t) * tf / (tf + k1 * (1 - b + b * dl / avgdl))
//   idf(t)      = ln(1 + (N - n + 0.5) / (n + 0.5))
//
// tf: occurrences of t in d; dl: the terms of d; avgdl: the mean dl over the N live documents;
// n: the live documents holding t. A term repeated in the query counts once per occurrence (its
// score is multiplied by its count), as in bm25s, which adds a term's scores once for each
// occurrence of its id in the query, and in Lucene's BooleanQuery of one clause per term.
// Sums are kept in double; results are reported as float.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "omendb/status.h"

namespace omendb::text {

// Search-time BM25 settings.
struct Bm25Params {
  float k1 = 1.2f;   // term frequency saturation, finite and >= 0 (0: tf is ignored)
  float b = 0.75f;   // document length normalisation, in [0, 1] (0: length is ignored)

  // kInvalidArgument naming the field out of range.
  Status validate() const {
    if (!std::isfinite(k1) || k1 < 0) return Status::invalid_argument("bm25 k1 must be >= 0");
    if (!(b >= 0 && b <= 1)) return Status::invalid_argument("bm25 b must be in [0, 1]");
    return Status::ok();
  }
};

// One search result.
struct TextHit {
  std::uint32_t slot;
  float score;
  friend bool operator==(const TextHit&, const TextHit&) = default;
};

// What one search did, for tests and tuning: how much the block-max pruning skipped.
struct SearchStats {
  std::size_t postings_scored = 0;  // (document, term) pairs whose BM25 score was computed
  std::size_t documents_scored = 0; // documents fully scored (live and accepted by the filter)
  std::size_t blocks_decoded = 0;   // posting blocks unpacked
};

// The inverse document frequency of a term held by `n` of `live` documents (n <= live).
inline double bm25_idf(std::uint64_t live, std::uint64_t n) {
  return std::log(1.0 + (static_cast<double>(live) - static_cast<double>(n) + 0.5) /
                            (static_cast<double>(n) + 0.5));
}

}  // namespace omendb::text
