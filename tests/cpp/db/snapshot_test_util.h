// Helpers of the snapshot tests: small collections written the way Collection writes them, and
// snapshot writes and loads that report failures through GoogleTest.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "db/collection_state.h"
#include "db/snapshot.h"
#include "storage/test_files.h"
#include "util/thread_pool.h"

namespace omendb::snapshot_test {

using storage::SnapshotFile;
using storage::testing::TempDir;

inline constexpr std::size_t kDim = 12;

inline CollectionOptions options_for(Metric metric) {
  CollectionOptions options;
  options.dim = kDim;
  options.metric = metric;
  options.ef_construction = 64;
  return options;
}

// Fixed-width ids ("doc-0042"), so tests can overwrite one id with another in place. i < 10,000.
inline std::string id_of(std::size_t i) {
  std::string digits = std::to_string(i);
  return "doc-" + std::string(4 - digits.size(), '0') + digits;
}

// Metadata for record i: none for every third record, else a tag and a year.
inline Metadata metadata_of(std::size_t i) {
  if (i % 3 == 0) return {};
  static const char* const kTags[] = {"news", "blog", "spam", "misc"};
  Metadata fields = {{"year", std::int64_t{2015 + static_cast<std::int64_t>(i % 10)}},
                     {"tag", std::string(kTags[i % 4])}};
  EXPECT_TRUE(normalize_metadata(fields).is_ok());
  return fields;
}

// Writes to a generation the way Collection::State::write and remove_chosen do.
class Records {
 public:
  Records(const CollectionOptions& options, ThreadPool& pool)
      : Records(std::make_shared<Generation>(std::make_unique<HnswIndex>(
                    options.metric, options.dim, index_params(options))),
                pool) {}
  Records(std::shared_ptr<Generation> generation, ThreadPool& pool)
      : g(std::move(generation)), pool_(pool) {}

  // Upserts records [first, first + count) of `rows` as id_of(i); with metadata_of(i) when
  // `with_metadata`.
  void upsert(const std::vector<float>& rows, std::size_t first, std::size_t count,
              bool with_metadata) {
    HnswIndex& index = *g->index;
    const std::size_t start = index.size();
    index.write_rows(std::span(rows).subspan(first * kDim, count * kDim), count);
    if (with_metadata || g->has_metadata) {
      g->metadata.resize(start);
      for (std::size_t i = first; i < first + count; ++i) {
        g->metadata.push_back(with_metadata ? metadata_of(i) : Metadata{});
      }
      g->has_metadata = true;
    }
    std::vector<std::uint32_t> replaced;
    for (std::size_t i = first; i < first + count; ++i) {
      if (const std::optional<std::uint32_t> old = g->ids.erase(id_of(i))) {
        g->retire(*old);
        replaced.push_back(*old);
      }
      g->ids.insert(id_of(i));
    }
    for (std::size_t i = 0; i < count; ++i) g->index_payload(static_cast<std::uint32_t>(start + i));
    index.publish(start + count);
    index.link(static_cast<std::uint32_t>(start), count, pool_);
    index.repair(replaced, pool_);
  }

  // Deletes the records id_of(i) for i in [first, end) step `step`.
  void remove(std::size_t first, std::size_t end, std::size_t step) {
    std::vector<std::uint32_t> removed;
    for (std::size_t i = first; i < end; i += step) {
      if (const std::optional<std::uint32_t> slot = g->ids.erase(id_of(i))) {
        g->retire(*slot);
        removed.push_back(*slot);
      }
    }
    g->index->repair(removed, pool_);
  }

  std::shared_ptr<Generation> g;

 private:
  ThreadPool& pool_;
};

inline std::shared_ptr<Generation> load(const TempDir& dir, const std::vector<SnapshotFile>& files,
                                        const CollectionOptions& options) {
  auto loaded = load_snapshot(storage::Env::posix(), dir.path(), files, options);
  EXPECT_TRUE(loaded.is_ok()) << loaded.status().message();
  return loaded.is_ok() ? std::move(loaded).value() : nullptr;
}

inline std::vector<SnapshotFile> write(const TempDir& dir, std::uint64_t number,
                                       const Generation& g, const CollectionOptions& options) {
  auto written = write_snapshot(storage::Env::posix(), dir.path(), number, g, options);
  EXPECT_TRUE(written.is_ok()) << written.status().message();
  return written.is_ok() ? std::move(written).value() : std::vector<SnapshotFile>{};
}

}  // namespace omendb::snapshot_test
