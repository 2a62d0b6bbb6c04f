// Fuzz target: the filter-string parser (filter/filter_string.h) and, for what parses, the
// evaluator (filter/evaluate.h) and the payload index (filter/payload_index.h).
//
// The input is a filter string. One that parses is evaluated against a fixed set of records whose
// metadata holds every kind of value (one record removed again, so the live set matters); the
// payload index over the same records must agree with the evaluator, the reference: its superset
// holds every match (exactly the matches when it says exact), exact() answers the matches or
// nothing, and estimate() counts them (an upper bound when exact() cannot answer).
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "filter/evaluate.h"
#include "filter/filter_string.h"
#include "filter/payload_index.h"
#include "support/check.h"

namespace omendb::fuzz {
namespace {

using Strings = std::vector<std::string>;

// The metadata of the fixed records, slot by slot; sorted by key as normalize_metadata leaves it.
std::vector<Metadata> make_records() {
  std::vector<Metadata> records = {
      {{"year", std::int64_t{2020}}, {"tag", std::string("news")}, {"tags", Strings{"a", "b"}}},
      {{"year", 2020.0}, {"tag", std::string("blog")}, {"score", 0.5}, {"flag", true}},
      {{"year", std::int64_t{2019}}, {"tag", std::string("")}, {"tags", Strings{}}},
      {{"year", std::int64_t{9007199254740993}}, {"score", -0.0}, {"flag", false}},
      {{"year", Value{}}, {"tag", std::string("news blog")}, {"note", std::string("x'y\"z")}},
      {{"tags", Strings{"news", "blog", "news"}}, {"score", 1e300}, {"a b", std::int64_t{1}}},
      {{"a.b", std::string("ü€😀")}, {"score", std::int64_t{-3}}, {"flag", std::int64_t{1}}},
      {},
      {{"year", std::int64_t{std::numeric_limits<std::int64_t>::min()}}, {"tag", Strings{"news"}}},
      {{"year", 2021.5}, {"tag", std::string("spam")}, {"tags", Strings{"b", "a"}}},
  };
  for (Metadata& fields : records) require(normalize_metadata(fields).is_ok(), "a bad record");
  return records;
}

// The slot added to the payload index and removed again: never a match.
constexpr std::uint32_t kRemovedSlot = 4;

// The fixed records and their payload index.
struct Records {
  // Indexes every record, then removes kRemovedSlot.
  Records() : metadata(make_records()) {
    for (std::uint32_t slot = 0; slot < metadata.size(); ++slot) index.add(slot, metadata[slot]);
    index.remove(kRemovedSlot, metadata[kRemovedSlot]);
  }

  std::vector<Metadata> metadata;
  PayloadIndex index;
};

// Aborts unless the payload index agrees with matches() on `filter`.
void check_index(const Records& records, const FilterExpr& filter) {
  Bitmap matching;
  for (std::uint32_t slot = 0; slot < records.metadata.size(); ++slot) {
    if (slot != kRemovedSlot && matches(filter, records.metadata[slot])) matching.add(slot);
  }
  const PayloadIndex::Superset superset = records.index.superset(filter);
  require((matching - superset.slots).empty(), "the payload index's superset misses a match");
  require(!superset.exact || superset.slots == matching, "an exact superset is not the matches");
  const std::optional<Bitmap> exact = records.index.exact(filter);
  require(!exact || *exact == matching, "exact() answered other slots than the matches");
  const std::uint64_t estimate = records.index.estimate(filter);
  require(exact ? estimate == matching.size() : estimate >= matching.size(),
          "estimate() undercounts the matches");
}

}  // namespace
}  // namespace omendb::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace omendb;
  using namespace omendb::fuzz;
  static const Records records;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Result<FilterExpr> filter = parse_filter_string(text);
  if (!filter.is_ok()) {
    require(filter.status().code() == StatusCode::kFilterError, "a bad filter is not kFilterError");
    return 0;
  }
  check_index(records, filter.value());
  return 0;
}
