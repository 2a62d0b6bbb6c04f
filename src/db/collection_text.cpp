// Collection operations on documents: analyzing a batch's documents, keeping the full-text index
// in step with writes, deletes and compaction, and BM25 search. The index changes only under the
// records lock held exclusively; searches read it under the lock held shared.
#include <algorithm>

#include "db/collection_state.h"

namespace omendb {
namespace {

// The BM25 settings of a collection built with `options`.
text::Bm25Params bm25_params(const CollectionOptions& options) {
  return {options.text.k1, options.text.b};
}

}  // namespace

std::shared_ptr<const text::Analyzer> make_analyzer(const CollectionOptions& options) {
  if (!options.text.enabled) return nullptr;
  // CollectionOptions::validate() accepted these options, so the analyzer can be made.
  Result<text::Analyzer> analyzer =
      text::Analyzer::create({options.text.stemmer, options.text.stop_words});
  return std::make_shared<const text::Analyzer>(std::move(analyzer).value());
}

Result<Collection::State::Terms> Collection::State::analyze_documents(
    const RecordBatch& batch) const {
  const std::size_t n = batch.ids.size();
  if (batch.documents.empty()) {
    if (!batch.has_document.empty()) {
      return Status::invalid_argument("document flags were given without documents");
    }
    return Terms(n);
  }
  if (!analyzer) {
    return Status::invalid_argument("collection '" + name +
                                    "' has no text index: create it with text enabled to add "
                                    "documents");
  }
  if (batch.documents.size() != n ||
      (!batch.has_document.empty() && batch.has_document.size() != n)) {
    return Status::invalid_argument(
        "documents must be omitted or hold one entry per id: " + std::to_string(n) + " ids, " +
        std::to_string(batch.documents.size()) + " documents");
  }
  Terms terms(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (!has_document(batch, i)) continue;
    if (Status status = analyzer->tokenize(batch.documents[i], terms[i]); !status.is_ok()) {
      return Status::invalid_argument("documents[" + std::to_string(i) + "]: " + status.message());
    }
  }
  return terms;
}

bool Collection::State::has_document(const RecordBatch& batch, std::size_t i) {
  return !batch.documents.empty() && (batch.has_document.empty() || batch.has_document[i] != 0);
}

Collection::State::Terms Collection::State::stored_terms(
    const Generation& g, std::span<const std::uint32_t> slots) const {
  Terms terms(slots.size());
  if (!g.text) return terms;
  for (std::size_t i = 0; i < slots.size(); ++i) {
    const std::optional<std::string>& document = g.text->documents[slots[i]];
    // Stored documents were analyzed when written, so they analyze again.
    if (document) (void)analyzer->tokenize(*document, terms[i]);
  }
  return terms;
}

void Collection::State::unindex_documents(Generation& g, std::span<const std::uint32_t> slots,
                                          const Terms& terms) {
  if (!g.text) return;
  for (std::size_t i = 0; i < slots.size(); ++i) {
    std::optional<std::string>& document = g.text->documents[slots[i]];
    if (!document) continue;
    // The terms are those add() got for the slot, which is live in the index: remove() succeeds.
    (void)g.text->index.remove(slots[i], terms[i]);
    document.reset();
  }
}

void Collection::State::index_documents(Generation& g, const RecordBatch& batch, std::size_t first,
                                        const Terms& terms) {
  if (!g.text) return;
  const std::size_t n = batch.ids.size();
  g.text->documents.resize(first + n);
  for (std::size_t i = 0; i < n; ++i) {
    if (!has_document(batch, i)) continue;
    const auto slot = static_cast<std::uint32_t>(first + i);
    g.text->documents[slot] = std::string(batch.documents[i]);
    // New slots exceed every slot indexed so far and analyzed terms are 1 to 255 bytes long, so
    // add() succeeds.
    (void)g.text->index.add(slot, terms[i]);
  }
}

std::unique_ptr<TextColumn> Collection::State::compacted_text(const Generation& old,
                                                              std::span<const std::uint32_t> kept) {
  if (!old.text) return nullptr;
  std::vector<std::uint32_t> new_slot_of_old(old.text->index.slot_count(),
                                             text::TextIndex::kDropped);
  auto fresh = std::make_unique<TextColumn>();
  fresh->documents.reserve(kept.size());
  for (std::uint32_t slot = 0; slot < kept.size(); ++slot) {
    if (kept[slot] < new_slot_of_old.size()) new_slot_of_old[kept[slot]] = slot;
    fresh->documents.push_back(old.text->documents[kept[slot]]);
  }
  // The map covers the index's slots and keeps their order, so compacted() succeeds.
  fresh->index = std::move(old.text->index.compacted(new_slot_of_old)).value();
  return fresh;
}

Result<std::vector<Hit>> Collection::search_text(std::string_view query,
                                                 const SearchOptions& options) const {
  const State& s = *state_;
  if (s.closed.load()) return closed_error(s.name);
  if (Status status = options.validate(); !status.is_ok()) return status;
  Result<std::vector<std::string>> terms = s.query_terms(query);
  if (!terms.is_ok()) return terms.status();
  const std::shared_ptr<const Generation> g = s.generation();
  std::shared_lock lock(s.records_mutex);
  std::vector<text::TextHit> found;
  if (Status status = s.text_search(*g, terms.value(), options, found); !status.is_ok())
    return status;
  return State::scored_hits(*g, found);
}

std::vector<Hit> Collection::State::scored_hits(const Generation& g,
                                                std::span<const text::TextHit> found) {
  g.prefetch_hits(found);
  std::vector<Hit> hits;
  hits.reserve(found.size());
  for (const text::TextHit& scored : found) {
    Hit& hit = hits.emplace_back(hit_of(g, scored.slot));
    hit.score = scored.score;
    hit.distance = -scored.score;
  }
  return hits;
}

Result<std::vector<std::string>> Collection::tokenize(std::string_view text) const {
  const State& s = *state_;
  if (s.closed.load()) return closed_error(s.name);
  if (!s.analyzer) {
    return Status::invalid_argument("collection '" + s.name + "' has no text index");
  }
  std::vector<std::string> terms;
  if (Status status = s.analyzer->tokenize(text, terms); !status.is_ok()) return status;
  return terms;
}

Result<std::vector<std::string>> Collection::State::query_terms(std::string_view query) const {
  if (!analyzer) {
    return Status::invalid_argument("collection '" + name +
                                    "' has no text index: create it with text enabled");
  }
  if (std::all_of(query.begin(), query.end(),
                  [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); })) {
    return Status::invalid_argument("the text query is empty");
  }
  std::vector<std::string> terms;
  if (Status status = analyzer->tokenize(query, terms); !status.is_ok()) {
    return Status::invalid_argument("text query: " + status.message());
  }
  return terms;
}

Status Collection::State::text_search(const Generation& g, std::span<const std::string> terms,
                                      const SearchOptions& options,
                                      std::vector<text::TextHit>& out) const {
  const text::Bm25Params params = bm25_params(this->options);
  if (options.filter == nullptr) return g.text->index.search(terms, options.k, params, out);
  const FilterPlan plan = this->plan(g, options);
  return g.text->index.search(
      terms, options.k, params,
      [&](std::uint32_t slot) { return plan_accepts(g, plan, *options.filter, slot); },
      out);
}

}  // namespace omendb
