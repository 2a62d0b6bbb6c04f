// A small valid snapshot of one collection, built through the public API: the snapshot target
// replaces one of its files with the fuzz input, and the seed maker writes its files out.
#pragma once

#include <cstddef>
#include <vector>

#include "omendb/options.h"
#include "omendb/status.h"
#include "storage/manifest.h"

namespace omendb::fuzz {

// What the fixture's collection holds.
struct FixtureShape {
  std::size_t records = 48;      // records added, ids "r0", "r1", ...
  bool with_metadata = true;     // metadata on two records in three (none on the third)
  std::size_t delete_every = 6;  // then every n-th record is deleted; 0: none (under a quarter,
                                 // so no compaction runs and deleted slots stay in the files)
  Metric metric = Metric::kL2;   // the collection's metric (dim is always kFixtureDim)
  bool with_second_field = true;  // a second vector field, "more" (kFixtureMoreDim, same
                                  // metric), which every fourth record lacks, and a sparse
                                  // field, "terms", which every third record lacks
};

inline constexpr std::size_t kFixtureDim = 4;
inline constexpr std::size_t kFixtureMoreDim = 3;

// One collection's snapshot, in memory.
struct SnapshotFixture {
  CollectionOptions options;                     // as the manifest stores them
  std::vector<storage::SnapshotFile> files;      // as the manifest lists them
  std::vector<std::vector<std::byte>> contents;  // the bytes of files[i]
};

// Writes a database holding one collection of `shape` to a scratch folder (Database::open, add,
// remove, checkpoint, close; one thread, so the graph is the same every time), reads the
// collection's manifest entry and snapshot files into memory and removes the folder.
// Errors: whatever the database or the file reads return. Cost: a few milliseconds.
Result<SnapshotFixture> build_snapshot_fixture(const FixtureShape& shape);

}  // namespace omendb::fuzz
