// Fuzz target: the full-text index image (text/text_index.h) as hostile input.
//
// The input is restored. A failure must be kCorruption. An index that restores must pass
// check(), answer searches (plain, filtered, with repeated and unknown terms) with hits sorted
// best first, and save to an image that restores to an index saving the very same bytes and
// answering the same; its compaction (every other slot dropped) must pass check() too.
#include <cstdint>
#include <string>
#include <vector>

#include "support/check.h"
#include "text/text_index.h"

namespace omendb::fuzz {
namespace {

using Bytes = std::vector<std::byte>;

Bytes saved(const text::TextIndex& index) {
  Bytes bytes;
  index.save([&](std::span<const std::byte> piece) {
    bytes.insert(bytes.end(), piece.begin(), piece.end());
  });
  return bytes;
}

// The hits of a few queries over the seeds' vocabulary.
std::vector<text::TextHit> answers(const text::TextIndex& index) {
  const std::vector<std::vector<std::string>> queries = {
      {"a"}, {"b", "c", "b"}, {"fox", "dog", "unknown"}, {"z", "y", "x", "w", "v", "a"}};
  std::vector<text::TextHit> all;
  std::vector<text::TextHit> hits;
  for (const auto& query : queries) {
    for (const std::size_t k : {1, 10}) {
      require(index.search(query, k, {}, hits).is_ok(), "search failed");
      require(hits.size() <= k, "too many hits");
      for (std::size_t i = 0; i < hits.size(); ++i) {
        require(index.is_live(hits[i].slot), "a hit is not live");
        require(i == 0 || hits[i - 1].score > hits[i].score ||
                    (hits[i - 1].score == hits[i].score && hits[i - 1].slot < hits[i].slot),
                "hits out of order");
      }
      all.insert(all.end(), hits.begin(), hits.end());
      const text::TextIndex::SlotFilter odd = [](std::uint32_t slot) { return slot % 2 == 1; };
      require(index.search(query, k, {}, odd, hits).is_ok(), "filtered search failed");
      for (const text::TextHit& hit : hits) require(hit.slot % 2 == 1, "a filtered-out hit");
      all.insert(all.end(), hits.begin(), hits.end());
    }
  }
  return all;
}

}  // namespace
}  // namespace omendb::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace omendb;
  using namespace omendb::fuzz;
  Result<text::TextIndex> index = text::TextIndex::restore(input_bytes(data, size));
  if (!index.is_ok()) {
    require(index.status().code() == StatusCode::kCorruption, "a bad image is not kCorruption");
    return 0;
  }
  require(index.value().check().is_ok(), "a restored index fails check()");
  const std::vector<text::TextHit> before = answers(index.value());
  const Bytes image = saved(index.value());
  Result<text::TextIndex> again = text::TextIndex::restore(image);
  require(again.is_ok(), "a saved image does not restore");
  require(saved(again.value()) == image, "a restored image saves other bytes");
  require(answers(again.value()) == before, "a restored image answers otherwise");

  std::vector<std::uint32_t> map(index.value().slot_count());
  std::uint32_t next = 0;
  for (std::size_t slot = 0; slot < map.size(); ++slot) {
    map[slot] = slot % 2 == 0 ? next++ : text::TextIndex::kDropped;
  }
  Result<text::TextIndex> compacted = index.value().compacted(map);
  require(compacted.is_ok() && compacted.value().check().is_ok(), "compaction failed");
  return 0;
}
