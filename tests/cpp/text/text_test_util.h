// Shared by the text tests: random corpora with Zipf-distributed vocabularies, a brute-force
// double-precision BM25 reference, and a check of search hits against it.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "text/text_index.h"

namespace omendb::text::testing {

using Terms = std::vector<std::string>;

// The term of rank `rank`: "t<rank>". (Built by appending: GCC 12 warns falsely (-Wrestrict)
// on "t" + std::to_string(...).)
inline std::string term_of(std::size_t rank) {
  std::string term(1, 't');
  term += std::to_string(rank);
  return term;
}

// Draws term ranks 1..vocabulary with probability proportional to 1 / rank^exponent.
class ZipfTerms {
 public:
  ZipfTerms(std::size_t vocabulary, double exponent) {
    double sum = 0;
    for (std::size_t rank = 1; rank <= vocabulary; ++rank) {
      sum += 1.0 / std::pow(static_cast<double>(rank), exponent);
      cumulative_.push_back(sum);
    }
  }

  std::string draw(std::mt19937_64& rng) const {
    std::uniform_real_distribution<double> uniform(0, cumulative_.back());
    const auto it = std::lower_bound(cumulative_.begin(), cumulative_.end(), uniform(rng));
    return term_of(static_cast<std::size_t>(it - cumulative_.begin()));
  }

  // `count` terms.
  Terms draw(std::mt19937_64& rng, std::size_t count) const {
    Terms terms;
    for (std::size_t i = 0; i < count; ++i) terms.push_back(draw(rng));
    return terms;
  }

 private:
  std::vector<double> cumulative_;
};

// The documents of an index as the reference sees them: the live ones by slot.
using Documents = std::map<std::uint32_t, Terms>;

// BM25 (bm25.h) of live documents by brute force, in double precision.
class Reference {
 public:
  explicit Reference(const Documents& live) : live_(live) {
    for (const auto& [slot, terms] : live) {
      total_ += static_cast<double>(terms.size());
      std::vector<std::string> distinct = terms;
      std::sort(distinct.begin(), distinct.end());
      distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
      for (const std::string& t : distinct) ++df_[t];
    }
  }

  // The score of every live document matching `query` and `accept` (when set).
  std::map<std::uint32_t, double> scores(const Terms& query, const Bm25Params& params,
                                         const std::function<bool(std::uint32_t)>& accept) const {
    std::map<std::uint32_t, double> out;
    if (live_.empty() || total_ == 0) return out;
    const double n = static_cast<double>(live_.size());
    const double avgdl = total_ / n;
    const double k1 = params.k1;
    const double b = params.b;
    for (const auto& [slot, terms] : live_) {
      if (accept && !accept(slot)) continue;
      double score = 0;
      bool matched = false;
      for (const std::string& q : query) {
        const double tf = static_cast<double>(std::count(terms.begin(), terms.end(), q));
        if (tf == 0) continue;
        matched = true;
        const double d = static_cast<double>(df_.at(q));
        const double idf = std::log(1 + (n - d + 0.5) / (d + 0.5));
        const double dl = static_cast<double>(terms.size());
        score += idf * tf / (tf + k1 * (1 - b + b * dl / avgdl));
      }
      if (matched) out[slot] = score;
    }
    return out;
  }

 private:
  const Documents& live_;
  double total_ = 0;
  std::map<std::string, std::uint64_t> df_;
};

// Expects `hits` to be the top k of `scores`: scores within 1e-5 relative, best first, ties by
// slot, and a slot other than the reference's at a rank only where their scores are tied within
// rounding.
inline void expect_top_k(const std::vector<TextHit>& hits,
                         const std::map<std::uint32_t, double>& scores, std::size_t k) {
  std::vector<std::pair<double, std::uint32_t>> ranked;
  for (const auto& [slot, score] : scores) ranked.emplace_back(-score, slot);
  std::sort(ranked.begin(), ranked.end());
  ASSERT_EQ(hits.size(), std::min(k, ranked.size()));
  for (std::size_t i = 0; i < hits.size(); ++i) {
    const auto found = scores.find(hits[i].slot);
    ASSERT_NE(found, scores.end()) << "hit " << i << " slot " << hits[i].slot << " matches nothing";
    const double expected = -ranked[i].first;
    EXPECT_NEAR(hits[i].score, found->second, 1e-5 * found->second) << "rank " << i;
    if (hits[i].slot != ranked[i].second) {
      EXPECT_NEAR(found->second, expected, 1e-12 * expected)
          << "rank " << i << ": slot " << hits[i].slot << " instead of " << ranked[i].second;
    }
    if (i > 0) {
      EXPECT_TRUE(hits[i - 1].score > hits[i].score ||
                  (hits[i - 1].score == hits[i].score && hits[i - 1].slot < hits[i].slot))
          << "rank " << i;
    }
  }
}

}  // namespace omendb::text::testing
