// Snapshots: a generation written with write_snapshot and read back with load_snapshot is the
// same collection (rows, graph, ids, metadata, payload index answers, search results) and keeps
// working; the files are as docs/format.md says; a failed write leaves no files behind. Damaged
// and crafted files: snapshot_damage_test.cpp.
#include "db/snapshot.h"

#include <gtest/gtest.h>

#include <bit>
#include <cstring>
#include <string>
#include <vector>

#include "db/snapshot_test_util.h"
#include "filter/evaluate.h"
#include "filter/filter_string.h"
#include "storage/crc32c.h"
#include "storage/fault_injection_env.h"
#include "support/test_data.h"

namespace omendb::snapshot_test {
namespace {

namespace fs = std::filesystem;
using storage::testing::read_bytes;
using Bytes = std::vector<std::byte>;

// A collection history with upserts, deletes, ids deleted then added again, and (when
// `with_metadata`) metadata on some records and none on others: 3,260 slots.
void write_history(Records& records, const std::vector<float>& rows, bool with_metadata) {
  records.upsert(rows, 0, 1500, with_metadata);
  records.upsert(rows, 1500, 1500, false);
  records.remove(0, 3000, 13);
  records.upsert(rows, 10, 200, with_metadata);  // replaces 10..209, adds back 13, 26, ...
  records.upsert(rows, 3000, 60, with_metadata);
}

std::vector<FilterExpr> sample_filters() {
  std::vector<FilterExpr> filters;
  for (const char* text :
       {"year >= 2020", "tag IN ('news', 'blog')", "tag = 'spam' AND year < 2018", "tag NOT EXISTS",
        "year != 2016", "year > 2016 AND year <= 2020", "tag >= 'news'",
        "NOT (tag = 'misc' OR year = 2019)"}) {
    Result<FilterExpr> filter = parse_filter_string(text);
    EXPECT_TRUE(filter.is_ok()) << text;
    filters.push_back(std::move(filter).value());
  }
  return filters;
}

// Expects the same hits (slots and distance bits).
void expect_same_hits(const std::vector<Neighbor>& a, const std::vector<Neighbor>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].slot, b[i].slot);
    EXPECT_EQ(std::bit_cast<std::uint32_t>(a[i].distance),
              std::bit_cast<std::uint32_t>(b[i].distance));
  }
}

// Expects `b` to hold what `a` holds: rows bit for bit, deleted flags, ids both ways, metadata,
// payload index; and to answer searches, filtered ones included, identically.
void expect_same_generation(const Generation& a, const Generation& b,
                            const std::vector<float>& queries) {
  const HnswIndex& ia = *a.index;
  const HnswIndex& ib = *b.index;
  ASSERT_EQ(ia.size(), ib.size());
  EXPECT_EQ(ia.live_size(), ib.live_size());
  EXPECT_EQ(ia.entry_point(), ib.entry_point());
  ASSERT_EQ(a.ids.size(), b.ids.size());
  EXPECT_EQ(a.ids.live(), b.ids.live());
  EXPECT_EQ(a.has_metadata, b.has_metadata);
  for (std::uint32_t slot = 0; slot < ia.size(); ++slot) {
    ASSERT_EQ(std::memcmp(ia.row(slot), ib.row(slot), kDim * sizeof(float)), 0) << slot;
    ASSERT_EQ(ia.is_deleted(slot), ib.is_deleted(slot)) << slot;
    ASSERT_EQ(a.ids.id(slot), b.ids.id(slot)) << slot;
    ASSERT_EQ(a.ids.find(a.ids.id(slot)), b.ids.find(a.ids.id(slot))) << slot;
    ASSERT_EQ(a.metadata_of(slot), b.metadata_of(slot)) << slot;
  }
  EXPECT_TRUE(a.payload.live() == b.payload.live());
  const std::vector<FilterExpr> filters = sample_filters();
  for (const FilterExpr& filter : filters) {
    const PayloadIndex::Superset sa = a.payload.superset(filter);
    const PayloadIndex::Superset sb = b.payload.superset(filter);
    EXPECT_TRUE(sa.slots == sb.slots);
    EXPECT_EQ(sa.exact, sb.exact);
    EXPECT_EQ(a.payload.estimate(filter), b.payload.estimate(filter));
    // And both agree with the reference evaluator over the live records.
    for (std::uint32_t slot = 0; slot < ia.size(); ++slot) {
      const bool match = !ia.is_deleted(slot) && matches(filter, a.metadata_of(slot));
      ASSERT_EQ(sb.slots.contains(slot), match) << slot;
    }
  }
  std::vector<Neighbor> ha;
  std::vector<Neighbor> hb;
  for (std::size_t q = 0; q < queries.size() / kDim; ++q) {
    const std::span<const float> query(queries.data() + q * kDim, kDim);
    ia.search(query, 10, 64, false, ha);
    ib.search(query, 10, 64, false, hb);
    expect_same_hits(ha, hb);
    for (const FilterExpr& filter : filters) {
      ia.search_filtered(
          query, 10, 64, [&](std::uint32_t s) { return matches(filter, a.metadata_of(s)); }, ha);
      ib.search_filtered(
          query, 10, 64, [&](std::uint32_t s) { return matches(filter, b.metadata_of(s)); }, hb);
      expect_same_hits(ha, hb);
    }
  }
}

// ---- Round trips ----------------------------------------------------------------------------

struct RoundTripCase {
  Metric metric;
  bool with_metadata;
};

class SnapshotRoundTrip : public ::testing::TestWithParam<RoundTripCase> {};

TEST_P(SnapshotRoundTrip, LoadedGenerationIsTheSameCollection) {
  const CollectionOptions options = options_for(GetParam().metric);
  ThreadPool pool(2);
  TempDir dir;
  const auto rows = testing::clustered_vectors(3100, kDim, 25, 5);
  Records records(options, pool);
  write_history(records, rows, GetParam().with_metadata);
  ASSERT_GT(records.g->index->size(), records.g->index->live_size());

  const auto files = write(dir, 7, *records.g, options);
  const auto loaded = load(dir, files, options);
  ASSERT_NE(loaded, nullptr);
  const std::vector<float> queries(rows.begin() + 3060 * kDim, rows.end());
  expect_same_generation(*records.g, *loaded, queries);

  // Get by id: the stored row, bit for bit (for l2, the vector as given).
  for (std::size_t i = 0; i < 3060; ++i) {
    const std::optional<std::uint32_t> slot = loaded->ids.find(id_of(i));
    ASSERT_EQ(slot.has_value(), i % 13 != 0 || (i >= 10 && i < 210) || i >= 3000) << i;
    if (!slot) continue;
    EXPECT_EQ(
        std::memcmp(loaded->index->row(*slot), records.g->index->row(*slot), kDim * sizeof(float)),
        0);
    if (GetParam().metric == Metric::kL2) {
      EXPECT_EQ(
          std::memcmp(loaded->index->row(*slot), rows.data() + i * kDim, kDim * sizeof(float)), 0);
    }
  }
}

TEST_P(SnapshotRoundTrip, LoadedGenerationKeepsWorking) {
  const CollectionOptions options = options_for(GetParam().metric);
  ThreadPool pool(2);
  TempDir dir;
  const auto rows = testing::clustered_vectors(4000, kDim, 25, 9);
  Records original(options, pool);
  write_history(original, rows, GetParam().with_metadata);
  Records loaded(load(dir, write(dir, 1, *original.g, options), options), pool);
  ASSERT_NE(loaded.g, nullptr);

  loaded.upsert(rows, 3060, 900, GetParam().with_metadata);  // grows past the loaded capacity
  loaded.upsert(rows, 100, 50, GetParam().with_metadata);
  loaded.remove(1000, 2000, 3);
  const HnswIndex& index = *loaded.g->index;
  EXPECT_EQ(index.size(), 3260u + 950u);
  EXPECT_EQ(loaded.g->ids.live(), index.live_size());
  EXPECT_EQ(loaded.g->payload.live().size(), index.live_size());
  // Every live record finds itself (except under ip, where a longer vector can be nearer).
  std::vector<Neighbor> hits;
  for (std::size_t i = 3060; i < 3960 && GetParam().metric != Metric::kIp; i += 37) {
    index.search(std::span(rows).subspan(i * kDim, kDim), 1, 64, false, hits);
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_EQ(loaded.g->ids.id(hits[0].slot), id_of(i));
  }
  // A second snapshot of the grown generation round trips too, also after compaction.
  const auto again = load(dir, write(dir, 2, *loaded.g, options), options);
  ASSERT_NE(again, nullptr);
  expect_same_generation(*loaded.g, *again, {rows.begin() + 3960 * kDim, rows.end()});
  HnswIndex::Compacted compacted = again->index->compacted(pool);
  EXPECT_EQ(compacted.index->size(), index.live_size());
}

INSTANTIATE_TEST_SUITE_P(Cases, SnapshotRoundTrip,
                         ::testing::Values(RoundTripCase{Metric::kL2, true},
                                           RoundTripCase{Metric::kCosine, true},
                                           RoundTripCase{Metric::kL2, false},
                                           RoundTripCase{Metric::kIp, false}),
                         [](const auto& info) {
                           return std::string(metric_name(info.param.metric)) +
                                  (info.param.with_metadata ? "_metadata" : "_no_metadata");
                         });

TEST(Snapshot, EmptyCollectionRoundTrips) {
  const CollectionOptions options = options_for(Metric::kCosine);
  ThreadPool pool(2);
  TempDir dir;
  Records empty(options, pool);
  const auto files = write(dir, 3, *empty.g, options);
  ASSERT_EQ(files.size(), snapshot::kFileKinds.size());
  Records loaded(load(dir, files, options), pool);
  ASSERT_NE(loaded.g, nullptr);
  EXPECT_EQ(loaded.g->index->size(), 0u);
  EXPECT_EQ(loaded.g->ids.size(), 0u);
  EXPECT_FALSE(loaded.g->has_metadata);
  const auto rows = testing::clustered_vectors(50, kDim, 3, 1);
  loaded.upsert(rows, 0, 50, true);
  EXPECT_EQ(loaded.g->index->live_size(), 50u);
}

TEST(Snapshot, FilesAreAsDocumented) {
  const CollectionOptions options = options_for(Metric::kL2);
  ThreadPool pool(2);
  TempDir dir;
  const auto rows = testing::clustered_vectors(3100, kDim, 25, 5);
  Records records(options, pool);
  write_history(records, rows, true);
  const auto files = write(dir, 42, *records.g, options);
  ASSERT_EQ(files.size(), snapshot::kFileKinds.size());
  const std::size_t slots = records.g->index->size();
  std::uint64_t total = 0;
  for (std::size_t k = 0; k < files.size(); ++k) {
    const snapshot::FileKind& kind = snapshot::kFileKinds[k];
    EXPECT_EQ(files[k].name, "42." + std::string(kind.suffix));
    const Bytes bytes = read_bytes(dir / files[k].name);
    EXPECT_EQ(bytes.size(), files[k].size);
    EXPECT_EQ(storage::crc32c(bytes), files[k].crc);
    ASSERT_GE(bytes.size(), 12u);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(bytes.data()), 8), kind.magic);
    EXPECT_EQ(bytes[8], std::byte{1});  // format version 1, little-endian
    total += bytes.size();
  }
  EXPECT_EQ(files[0].size, snapshot::kVectorsHeaderBytes + slots * kDim * sizeof(float));
  const std::size_t level0 = slots * (1 + 2 * options.m) * 4;
  EXPECT_GT(files[1].size, snapshot::kGraphHeaderBytes + level0 + slots);
  EXPECT_EQ(files[2].size, snapshot::kIdsHeaderBytes + slots * (4 + 8));
  // Bytes per vector beyond the raw floats, at m = 16 with 8-byte ids and small metadata.
  const double overhead =
      static_cast<double>(total - slots * kDim * sizeof(float)) / static_cast<double>(slots);
  EXPECT_LE(overhead, 200.0);
  RecordProperty("bytes_per_vector_beyond_floats", std::to_string(overhead));
}

// Bytes from hex text ("4f 4d ..."); spaces and newlines ignored.
Bytes hex(const std::string& text) {
  Bytes bytes;
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] == ' ' || text[i] == '\n') {
      ++i;
      continue;
    }
    bytes.push_back(static_cast<std::byte>(std::stoi(text.substr(i, 2), nullptr, 16)));
    i += 2;
  }
  return bytes;
}

// The example of docs/format.md, "Snapshots": dim 2, l2, m 2, seed 42; "a" = (1, -2) with
// metadata {"k": 7}, then "b" = (0.5, 4) without, then "b" deleted.
TEST(Snapshot, FilesMatchTheDocumentedLayout) {
  CollectionOptions options;
  options.dim = 2;
  options.m = 2;
  ThreadPool pool(1);
  Generation g(std::make_unique<HnswIndex>(options.metric, options.dim, index_params(options)));
  const std::vector<float> rows = {1.0f, -2.0f, 0.5f, 4.0f};
  g.index->write_rows(rows, 2);
  g.ids.insert("a");
  g.ids.insert("b");
  g.has_metadata = true;
  g.metadata = {{{"k", std::int64_t{7}}}, {}};
  g.index->publish(2);
  g.index->link(0, 2, pool);
  g.index_payload(0);
  g.index_payload(1);
  g.ids.erase("b");
  g.retire(1);
  TempDir dir;
  const auto files = write(dir, 9, g, options);
  ASSERT_EQ(files.size(), 5u);
  EXPECT_EQ(read_bytes(dir / "9.vectors"), hex("4f 4d 45 4e 44 42 56 43  01 00 00 00  02 00 00 00"
                                               "02 00 00 00  00 00 80 3f 00 00 00 c0"
                                               "00 00 00 3f 00 00 80 40"));
  EXPECT_EQ(read_bytes(dir / "9.graph"),
            hex("4f 4d 45 4e 44 42 47 52  01 00 00 00  02 00 00 00"
                "02 00 00 00  00 00 00 00  01 00 00 00"
                "01 00 00 00  01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
                "01 00 00 00  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
                "00 00 00 00  01 00 00 00  01 00 00 00  01 00 00 00 00 00 00 00"
                "01 00 00 00  01 00 00 00  01 00 00 00  00 00 00 00 00 00 00 00"
                "00 01"));
  EXPECT_EQ(read_bytes(dir / "9.ids"), hex("4f 4d 45 4e 44 42 49 44  01 00 00 00  02 00 00 00"
                                           "02 00 00 00 00 00 00 00  01 00 00 00 61"
                                           "01 00 00 00 62"));
  EXPECT_EQ(read_bytes(dir / "9.meta"), hex("4f 4d 45 4e 44 42 4d 44  01 00 00 00  02 00 00 00"
                                            "01 00 00 00  01 00 00 00  01 00 00 00 6b  03"
                                            "07 00 00 00 00 00 00 00  00 00 00 00"));
  EXPECT_EQ(read_bytes(dir / "9.payload"),
            hex("4f 4d 45 4e 44 42 50 49  01 00 00 00  02 00 00 00"
                "01 00 00 00 00 00 00 00  01 00 00 00  01 00 00 00 6b"
                "01 00 00 00 00 00 00 00  00 00 00 00  00 00 00 00  00 00 00 00"
                "00 00 00 00  00 00 00 00  00 00 00 00"
                "01 00 00 00  01 00 00 00  07 00 00 00 00 00 00 00  00  00 00 00 00"));
  EXPECT_EQ(files[0], (SnapshotFile{"9.vectors", 36, 0x29e4433b}));
  EXPECT_EQ(files[1], (SnapshotFile{"9.graph", 110, 0xa57d429b}));
  EXPECT_EQ(files[2], (SnapshotFile{"9.ids", 34, 0xd20cb683}));
  EXPECT_EQ(files[3], (SnapshotFile{"9.meta", 42, 0xf1689f3b}));
  EXPECT_EQ(files[4], (SnapshotFile{"9.payload", 86, 0xbe4e4243}));
}

// ---- Failed writes --------------------------------------------------------------------------

// Every failing create, append or sync, and a full disk at several points, fails the write and
// leaves no file.
TEST(SnapshotWrite, AFailedWriteLeavesNoFiles) {
  const CollectionOptions options = options_for(Metric::kL2);
  ThreadPool pool(2);
  // Big enough for two 1 MiB appends to the graph file (ids stay 8 bytes up to 9,999).
  const std::size_t n = 9000;
  const auto rows = testing::clustered_vectors(n, kDim, 30, 4);
  Records records(options, pool);
  records.upsert(rows, 0, n, true);
  TempDir dir;
  storage::FaultInjectionEnv env(storage::Env::posix());
  auto ok = write_snapshot(env, dir.path(), 1, *records.g, options);
  ASSERT_TRUE(ok.is_ok()) << ok.status().message();
  std::uint64_t total = 0;
  for (const SnapshotFile& file : ok.value()) {
    total += file.size;
    ASSERT_TRUE(env.remove_file(dir / file.name).is_ok());
  }
  const std::uint64_t creates = env.calls(storage::FaultOp::kCreate);
  const std::uint64_t appends = env.calls(storage::FaultOp::kAppend);
  const std::uint64_t syncs = env.calls(storage::FaultOp::kSync);
  ASSERT_EQ(creates, snapshot::kFileKinds.size());
  ASSERT_GT(appends, snapshot::kFileKinds.size());
  ASSERT_EQ(syncs, snapshot::kFileKinds.size());

  const auto expect_failure_leaves_nothing = [&](const std::string& what) {
    auto written = write_snapshot(env, dir.path(), 2, *records.g, options);
    env.clear_faults();
    ASSERT_FALSE(written.is_ok()) << what;
    EXPECT_EQ(written.status().code(), StatusCode::kIoError) << what;
    auto left = env.list_dir(dir.path());
    ASSERT_TRUE(left.is_ok());
    EXPECT_TRUE(left.value().empty()) << what << ": " << left.value().front();
  };
  for (std::uint64_t i = 1; i <= creates; ++i) {
    env.fail_nth(storage::FaultOp::kCreate, i);
    expect_failure_leaves_nothing("create " + std::to_string(i));
  }
  for (std::uint64_t i = 1; i <= appends; ++i) {
    env.fail_nth(storage::FaultOp::kAppend, i);
    expect_failure_leaves_nothing("append " + std::to_string(i));
  }
  for (std::uint64_t i = 1; i <= syncs; ++i) {
    env.fail_nth(storage::FaultOp::kSync, i);
    expect_failure_leaves_nothing("sync " + std::to_string(i));
  }
  for (const std::uint64_t space : {std::uint64_t{0}, std::uint64_t{100}, total / 2, total - 1}) {
    env.set_space_left(space);
    expect_failure_leaves_nothing("space " + std::to_string(space));
  }
}

TEST(SnapshotWrite, WhatCouldNotLoadBackIsRefusedWithNoFilesLeft) {
  const CollectionOptions options = options_for(Metric::kL2);
  ThreadPool pool(2);
  const auto rows = testing::clustered_vectors(20, kDim, 2, 4);
  TempDir dir;
  const auto expect_refused = [&](const Generation& g, const CollectionOptions& with) {
    auto written = write_snapshot(storage::Env::posix(), dir.path(), 1, g, with);
    ASSERT_FALSE(written.is_ok());
    EXPECT_EQ(written.status().code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(fs::is_empty(dir.path())) << written.status().message();
  };
  Records records(options, pool);
  records.upsert(rows, 0, 20, true);
  CollectionOptions other = options;
  other.dim = kDim + 1;
  expect_refused(*records.g, other);
  other = options;
  other.metric = Metric::kIp;
  expect_refused(*records.g, other);
  // Keys out of order: metadata normalize_metadata never leaves.
  records.g->metadata[3] = {{"z", std::int64_t{1}}, {"a", std::int64_t{2}}};
  expect_refused(*records.g, options);
  // A payload index whose live slots are not the index's.
  records.g->metadata[3] = {};
  records.g->payload.remove(5, records.g->metadata[5]);
  expect_refused(*records.g, options);
}

}  // namespace
}  // namespace omendb::snapshot_test
