// Hybrid search: several vector queries and a text query, each run as its own search and fused.
#include "db/collection_state.h"
#include "db/fusion.h"

namespace omendb {

Result<std::vector<Hit>> Collection::search_hybrid(const HybridQuery& query,
                                                   const SearchOptions& options) const {
  const State& s = *state_;
  if (s.closed.load()) return closed_error(s.name);
  if (Status status = options.validate(); !status.is_ok()) return status;
  const std::size_t signals =
      query.vectors.size() + query.sparse.size() + (query.text.empty() ? 0 : 1);
  if (signals == 0) {
    return Status::invalid_argument(
        "a hybrid search needs a vector query, a sparse query or a text query");
  }
  if (Status status = query.fusion.validate(signals); !status.is_ok()) return status;
  SearchOptions each = options;
  each.k = std::min(query.fusion.candidates_for(options.k), SearchOptions::kMaxK);
  each.ef = std::max(options.effective_ef(), each.k);
  std::vector<std::vector<Hit>> rankings;
  rankings.reserve(signals);
  for (const VectorQuery& vector : query.vectors) {
    each.vector_field = vector.field;
    Result<std::vector<Hit>> hits = search(vector.vector, each);
    if (!hits.is_ok()) return hits.status();
    rankings.push_back(std::move(hits).value());
  }
  for (const SparseQuery& sparse : query.sparse) {
    Result<std::vector<Hit>> hits = search_sparse(sparse, each);
    if (!hits.is_ok()) return hits.status();
    rankings.push_back(std::move(hits).value());
  }
  if (!query.text.empty()) {
    Result<std::vector<Hit>> hits = search_text(query.text, each);
    if (!hits.is_ok()) return hits.status();
    rankings.push_back(std::move(hits).value());
  }
  if (rankings.size() == 1) {  // one signal: its own ranking and scores, nothing to fuse
    std::vector<Hit>& hits = rankings.front();
    if (hits.size() > options.k) hits.resize(options.k);
    return std::move(hits);
  }
  return fuse(rankings, query.fusion, options.k);
}

Result<std::vector<std::vector<Hit>>> Collection::search_hybrid_batch(
    std::span<const HybridQuery> queries, const SearchOptions& options) const {
  const State& s = *state_;
  std::vector<Result<std::vector<Hit>>> answers(queries.size(),
                                                Status::invalid_argument("not searched"));
  s.pool->parallel_for(queries.size(), 1, [&](std::size_t, std::size_t q) {
    answers[q] = search_hybrid(queries[q], options);
  });
  std::vector<std::vector<Hit>> hits;
  hits.reserve(queries.size());
  for (Result<std::vector<Hit>>& answer : answers) {
    if (!answer.is_ok()) return answer.status();
    hits.push_back(std::move(answer).value());
  }
  return hits;
}

}  // namespace omendb
