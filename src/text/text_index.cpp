#include "text/text_index.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "text/analyzer.h"

namespace omendb::text {
namespace {

// The distinct values of sorted `ids`, each with how often it occurs.
std::vector<std::pair<std::uint32_t, std::uint32_t>> count_runs(
    std::span<const std::uint32_t> ids) {
  std::vector<std::pair<std::uint32_t, std::uint32_t>> runs;
  for (std::size_t i = 0; i < ids.size();) {
    std::size_t j = i + 1;
    while (j < ids.size() && ids[j] == ids[i]) ++j;
    runs.emplace_back(ids[i], static_cast<std::uint32_t>(j - i));
    i = j;
  }
  return runs;
}

Status check_terms(std::span<const std::string> terms) {
  if (terms.size() >= std::numeric_limits<std::uint32_t>::max()) {
    return Status::invalid_argument("a text has 2^32 or more terms");
  }
  for (const std::string& term : terms) {
    if (term.empty() || term.size() > kMaxTermBytes) {
      return Status::invalid_argument("a term must have 1 to 255 bytes");
    }
  }
  return Status::ok();
}

Status corrupt(const std::string& what) {
  return {StatusCode::kCorruption, "text index check: " + what};
}

}  // namespace

void TextIndex::set_live(std::uint32_t slot, bool live) noexcept {
  const std::uint64_t bit = std::uint64_t{1} << (slot % 64);
  live_[slot / 64] = live ? (live_[slot / 64] | bit) : (live_[slot / 64] & ~bit);
}

void TextIndex::grow_slots(std::uint64_t count) {
  doc_length_.resize(count, 0);
  live_.resize((count + 63) / 64, 0);
}

Status TextIndex::add(std::uint32_t slot, std::span<const std::string> terms) {
  if (slot < slot_count()) {
    return Status::invalid_argument("text slot " + std::to_string(slot) +
                                    " is not above the last slot added");
  }
  if (Status s = check_terms(terms); !s.is_ok()) return s;
  std::vector<std::uint32_t> ids;
  ids.reserve(terms.size());
  for (const std::string& term : terms) {
    const auto [it, inserted] = ids_.try_emplace(term, static_cast<std::uint32_t>(terms_.size()));
    if (inserted) terms_.emplace_back();
    ids.push_back(it->second);
  }
  std::sort(ids.begin(), ids.end());
  const auto length = static_cast<std::uint32_t>(terms.size());
  for (const auto& [id, tf] : count_runs(ids)) {
    terms_[id].postings.append(slot, tf, length);
    ++terms_[id].live_documents;
  }
  grow_slots(std::uint64_t{slot} + 1);
  doc_length_[slot] = length;
  set_live(slot, true);
  ++live_count_;
  total_length_ += length;
  return Status::ok();
}

Status TextIndex::remove(std::uint32_t slot, std::span<const std::string> terms) {
  if (!is_live(slot)) {
    return Status::invalid_argument("text slot " + std::to_string(slot) + " is not live");
  }
  if (terms.size() != doc_length_[slot]) {
    return Status::invalid_argument("the terms given for text slot " + std::to_string(slot) +
                                    " are not those it was added with");
  }
  std::vector<std::uint32_t> ids;
  ids.reserve(terms.size());
  for (const std::string& term : terms) {
    const auto it = ids_.find(term);
    if (it == ids_.end()) {
      return Status::invalid_argument("text slot " + std::to_string(slot) + " has no term '" +
                                      term + "'");
    }
    ids.push_back(it->second);
  }
  std::sort(ids.begin(), ids.end());
  const auto runs = count_runs(ids);
  for (const auto& [id, tf] : runs) {
    if (terms_[id].postings.tf_of(slot) != tf) {
      return Status::invalid_argument("the terms given for text slot " + std::to_string(slot) +
                                      " are not those it was added with");
    }
  }
  for (const auto& [id, tf] : runs) --terms_[id].live_documents;
  set_live(slot, false);
  --live_count_;
  total_length_ -= doc_length_[slot];
  return Status::ok();
}

std::uint32_t TextIndex::document_frequency(const std::string& term) const {
  const auto it = ids_.find(term);
  return it == ids_.end() ? 0 : terms_[it->second].live_documents;
}

std::vector<const std::string*> TextIndex::texts_by_id() const {
  std::vector<const std::string*> texts(terms_.size());
  for (const auto& [text, id] : ids_) texts[id] = &text;
  return texts;
}

Result<TextIndex> TextIndex::compacted(std::span<const std::uint32_t> new_slot_of_old) const {
  Result<std::uint64_t> new_slots =
      compacted_slot_count(new_slot_of_old, slot_count(), "text index");
  if (!new_slots.is_ok()) return new_slots.status();
  const auto kept = [&](std::uint32_t slot) {
    return is_live(slot) && new_slot_of_old[slot] != kDropped;
  };
  TextIndex out;
  out.grow_slots(new_slots.value());
  for (std::uint64_t slot = 0; slot < slot_count(); ++slot) {
    const auto old_slot = static_cast<std::uint32_t>(slot);
    if (!kept(old_slot)) continue;
    const std::uint32_t target = new_slot_of_old[old_slot];
    out.doc_length_[target] = doc_length_[old_slot];
    out.set_live(target, true);
    ++out.live_count_;
    out.total_length_ += doc_length_[old_slot];
  }
  const std::vector<const std::string*> texts = texts_by_id();
  std::uint32_t slots[kBlockPostings];
  std::uint32_t tfs[kBlockPostings];
  for (std::size_t id = 0; id < terms_.size(); ++id) {
    if (terms_[id].live_documents == 0) continue;
    Term term;
    const PostingList& postings = terms_[id].postings;
    for (std::size_t block = 0; block < postings.block_count(); ++block) {
      const std::size_t count = postings.decode(block, slots, tfs);
      for (std::size_t i = 0; i < count; ++i) {
        if (!kept(slots[i])) continue;
        const std::uint32_t target = new_slot_of_old[slots[i]];
        term.postings.append(target, tfs[i], out.doc_length_[target]);
        ++term.live_documents;
      }
    }
    if (term.live_documents == 0) continue;
    out.ids_.emplace(*texts[id], static_cast<std::uint32_t>(out.terms_.size()));
    out.terms_.push_back(std::move(term));
  }
  return out;
}

Status TextIndex::check() const {
  if (live_.size() != (slot_count() + 63) / 64) return corrupt("live set size");
  if (ids_.size() != terms_.size()) return corrupt("dictionary size");
  std::uint64_t live = 0;
  std::uint64_t total = 0;
  for (std::uint64_t slot = 0; slot < slot_count(); ++slot) {
    if (!is_live(static_cast<std::uint32_t>(slot))) continue;
    ++live;
    total += doc_length_[slot];
  }
  if (slot_count() % 64 != 0 && !live_.empty() && (live_.back() >> (slot_count() % 64)) != 0) {
    return corrupt("live bits past the last slot");
  }
  if (live != live_count_) return corrupt("live count");
  if (total != total_length_) return corrupt("total length");
  std::vector<std::uint64_t> tf_sums(slot_count(), 0);
  std::uint32_t slots[kBlockPostings];
  std::uint32_t tfs[kBlockPostings];
  for (const auto& [text, id] : ids_) {
    if (id >= terms_.size()) return corrupt("term id of '" + text + "'");
    if (text.empty() || text.size() > kMaxTermBytes) return corrupt("term length");
    const PostingList& postings = terms_[id].postings;
    std::uint64_t next_slot = 0;
    std::uint32_t live_documents = 0;
    for (std::size_t block = 0; block < postings.block_count(); ++block) {
      const std::size_t count = postings.decode(block, slots, tfs);
      if (count == 0 || (block + 1 < postings.block_count() && count != kBlockPostings)) {
        return corrupt("block size of '" + text + "'");
      }
      BlockSkip skip{slots[count - 1], 0, doc_length_[slots[0]], tfs[0]};
      for (std::size_t i = 0; i < count; ++i) {
        if (slots[i] < next_slot || slots[i] >= slot_count() || tfs[i] == 0) {
          return corrupt("posting of '" + text + "'");
        }
        next_slot = std::uint64_t{slots[i]} + 1;
        skip.max_tf = std::max(skip.max_tf, tfs[i]);
        if (skip.lower_ratio(doc_length_[slots[i]], tfs[i])) {
          skip.ratio_length = doc_length_[slots[i]];
          skip.ratio_tf = tfs[i];
        }
        if (!is_live(slots[i])) continue;
        ++live_documents;
        tf_sums[slots[i]] += tfs[i];
      }
      if (!(postings.skip(block) == skip)) {
        return corrupt("block skip data of '" + text + "'");
      }
    }
    if (live_documents != terms_[id].live_documents) {
      return corrupt("document frequency of '" + text + "'");
    }
  }
  for (std::uint64_t slot = 0; slot < slot_count(); ++slot) {
    if (is_live(static_cast<std::uint32_t>(slot)) && tf_sums[slot] != doc_length_[slot]) {
      return corrupt("length of slot " + std::to_string(slot));
    }
  }
  return Status::ok();
}

std::size_t TextIndex::memory_bytes() const noexcept {
  // A dictionary node: the string, the id, the cached hash and the next pointer.
  constexpr std::size_t kNodeBytes = sizeof(std::string) + 3 * sizeof(void*);
  std::size_t bytes = doc_length_.capacity() * sizeof(std::uint32_t) +
                      live_.capacity() * sizeof(std::uint64_t) +
                      terms_.capacity() * sizeof(Term) + ids_.bucket_count() * sizeof(void*) +
                      ids_.size() * kNodeBytes;
  for (const auto& [text, id] : ids_) {
    if (text.capacity() > 15) bytes += text.capacity() + 1;
  }
  for (const Term& term : terms_) bytes += term.postings.memory_bytes();
  return bytes;
}

}  // namespace omendb::text
