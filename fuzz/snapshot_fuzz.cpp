// Fuzz target: load_snapshot (db/snapshot.h) with one file of a valid snapshot replaced.
//
// Input: a selector byte, which picks the file (modulo the number of files), then the bytes that
// replace it. The manifest entry passed along carries the input's real size and crc32c, so the
// structural checks behind the checksum are what is fuzzed. A snapshot that loads must be usable:
// the target checks the generation's invariants, then reads every id and metadata record, runs
// each kind of search (sparse fields' too), queries the payload index and writes to the index (an insert, a delete
// with repair, a compaction), so that a check the loader missed shows up as a sanitizer report.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "db/snapshot.h"
#include "filter/filter_string.h"
#include "storage/crc32c.h"
#include "support/check.h"
#include "support/memory_env.h"
#include "support/snapshot_fixture.h"
#include "util/thread_pool.h"

namespace omendb::fuzz {
namespace {

const std::filesystem::path kDir = "snapshot";

// The fixture snapshot, with its files in a MemoryEnv under kDir.
struct Loaded {
  // Builds the fixture; aborts if it cannot.
  Loaded() {
    Result<SnapshotFixture> built = build_snapshot_fixture(FixtureShape{});
    require(built.is_ok(), "the snapshot fixture cannot be built: " + built.status().message());
    fixture = std::move(built).value();
    for (std::size_t i = 0; i < fixture.files.size(); ++i) {
      env.put(kDir / fixture.files[i].name, fixture.contents[i]);
    }
  }

  SnapshotFixture fixture;
  MemoryEnv env;
};

// The fixture, built on first use.
Loaded& loaded() {
  static Loaded instance;
  return instance;
}

// Aborts unless every hit in `hits` is a live slot of `index`, best first.
void check_hits(const HnswIndex& index, const std::vector<Neighbor>& hits) {
  for (std::size_t i = 0; i < hits.size(); ++i) {
    require(hits[i].slot < index.size() && !index.is_deleted(hits[i].slot),
            "a search returned a slot that is not live");
    require(i == 0 || !(hits[i].distance < hits[i - 1].distance), "search hits are out of order");
  }
}

// Checks what the rest of the engine assumes of a loaded generation.
void check_generation(const Generation& g) {
  const HnswIndex& index = *g.index;
  const auto slots = static_cast<std::uint32_t>(index.size());
  require(g.ids.size() == slots, "ids and index disagree on the number of slots");
  require(g.ids.live() == index.live_size(), "ids and index disagree on the live slots");
  require(!g.has_metadata || g.metadata.size() == slots, "metadata missing for some slots");
  require(g.payload.live().size() == index.live_size(), "payload index and index disagree");
  for (const std::unique_ptr<HnswIndex>& field : g.more) {
    require(field->size() == slots, "a vector field and the index disagree on the slots");
  }
  for (const SparseColumn& column : g.sparse) {
    require(check_sparse_column(column, index).empty(), "a sparse field disagrees with the index");
    require(column.index.check().is_ok(), "a loaded sparse index is inconsistent");
  }
  for (std::uint32_t slot = 0; slot < slots; ++slot) {
    if (index.is_deleted(slot)) {
      for (const std::unique_ptr<HnswIndex>& field : g.more) {
        require(field->is_deleted(slot), "a deleted record is live in a vector field");
      }
      continue;
    }
    require(g.ids.find(g.ids.id(slot)) == slot, "a live slot's id finds another slot");
    require(g.payload.live().contains(slot), "a live slot is missing from the payload index");
    (void)g.metadata_of(slot).size();
  }
}

// Runs every kind of search and a payload-index query on `g`, checking the hits.
void search(const Generation& g, std::span<const float> query) {
  const HnswIndex& index = *g.index;
  std::vector<Neighbor> hits;
  index.search(query, 5, 16, false, hits);
  check_hits(index, hits);
  index.search(query, 5, 16, true, hits);
  check_hits(index, hits);
  require(hits.size() == std::min<std::size_t>(5, index.live_size()), "exact search missed hits");
  index.search_filtered(
      query, 5, 16, [](std::uint32_t slot) { return slot % 2 == 0; }, hits);
  check_hits(index, hits);
  index.search_slots(query, 5, g.payload.live().to_vector(), hits);
  check_hits(index, hits);
  Result<FilterExpr> filter = parse_filter_string("tag = 'news' OR year >= 2020");
  require(filter.is_ok(), "the fixed filter does not parse");
  for (const std::uint32_t slot : g.payload.superset(filter.value()).slots) {
    require(slot < index.size() && !index.is_deleted(slot),
            "the payload index returned a slot that is not live");
  }
}

// Writes to the loaded index as a collection would: an insert, a delete, a compaction.
void write(HnswIndex& index, std::span<const float> row) {
  static ThreadPool pool(1);
  const std::size_t slots = index.size();
  index.write_rows(row, 1);
  index.publish(slots + 1);
  index.link(static_cast<std::uint32_t>(slots), 1, pool);
  for (std::uint32_t slot = 0; slot < slots; ++slot) {
    if (index.is_deleted(slot)) continue;
    index.mark_deleted(slot);
    const std::uint32_t deleted[] = {slot};
    index.repair(deleted, pool);
    break;
  }
  HnswIndex::Compacted compacted = index.compacted(pool);
  std::vector<Neighbor> hits;
  compacted.index->search(row, 3, 16, false, hits);
  check_hits(*compacted.index, hits);
}

}  // namespace
}  // namespace omendb::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace omendb;
  using namespace omendb::fuzz;
  Loaded& fixture = loaded();
  if (size == 0) return 0;
  const std::size_t chosen = data[0] % fixture.fixture.files.size();
  const std::span<const std::byte> bytes = input_bytes(data + 1, size - 1);
  std::vector<storage::SnapshotFile> files = fixture.fixture.files;
  const std::string& name = files[chosen].name;
  files[chosen] = {"fuzz" + name.substr(name.find('.')), bytes.size(), storage::crc32c(bytes)};
  fixture.env.put(kDir / files[chosen].name, bytes);

  Result<std::shared_ptr<Generation>> g =
      load_snapshot(fixture.env, kDir, files, fixture.fixture.options);
  if (!g.is_ok()) {
    const std::vector<std::byte>& original = fixture.fixture.contents[chosen];
    require(!std::equal(bytes.begin(), bytes.end(), original.begin(), original.end()),
            "the valid snapshot does not load: " + g.status().message());
    return 0;
  }
  check_generation(*g.value());
  const float query[kFixtureDim] = {0.1f, -0.2f, 0.3f, 0.05f};
  search(*g.value(), query);
  const float more_query[kFixtureMoreDim] = {0.2f, 0.1f, -0.3f};
  for (const std::unique_ptr<HnswIndex>& field : g.value()->more) {
    std::vector<Neighbor> hits;
    field->search(more_query, 5, 16, false, hits);
    check_hits(*field, hits);
    field->search(more_query, 5, 16, true, hits);
    check_hits(*field, hits);
  }
  const text::SparseEntry sparse_query[] = {{1, 1.0f}, {5, -0.5f}, {7, 2.0f}};
  for (const SparseColumn& column : g.value()->sparse) {
    std::vector<text::TextHit> hits;
    require(column.index.search(sparse_query, 5, {}, hits).is_ok(), "a sparse search failed");
    for (const text::TextHit& hit : hits) {
      require(hit.slot < column.rows.size() && column.rows[hit.slot].has_value() &&
                  !g.value()->index->is_deleted(hit.slot),
              "a sparse search returned a slot without a live vector");
    }
  }
  write(*g.value()->index, query);
  return 0;
}
