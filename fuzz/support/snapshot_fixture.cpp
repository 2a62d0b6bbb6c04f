#include "support/snapshot_fixture.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "omendb/collection.h"
#include "omendb/database.h"
#include "storage/env.h"
#include "support/files.h"

namespace omendb::fuzz {
namespace {

constexpr std::string_view kCollection = "c";
// Where the database keeps a collection's snapshot files (docs/format.md, "Folder layout").
constexpr std::string_view kCollectionsDir = "collections";

// The metadata of record i: every kind of value, a field missing here and there.
Metadata metadata_of(std::size_t i) {
  static const char* const kTags[] = {"news", "blog", "spam", "misc"};
  const auto n = static_cast<std::int64_t>(i);
  Metadata fields = {{"year", std::int64_t{2015} + n % 10},
                     {"tag", std::string(kTags[i % 4])},
                     {"tags", std::vector<std::string>{kTags[i % 4], kTags[(i + 1) % 4]}},
                     {"score", 0.25 * static_cast<double>(n % 7)},
                     {"flag", i % 2 == 0}};
  if (i % 5 == 0) fields.push_back({"note", Value{}});
  return fields;
}

// Adds `shape.records` records and deletes every shape.delete_every-th.
Status fill(Collection& collection, const FixtureShape& shape) {
  std::vector<std::string> ids;
  std::vector<float> vectors;
  std::vector<Metadata> metadata;
  for (std::size_t i = 0; i < shape.records; ++i) {
    ids.push_back(std::string("r").append(std::to_string(i)));  // not "r" + ...: GCC 12 -Wrestrict
    for (std::size_t j = 0; j < kFixtureDim; ++j) {
      vectors.push_back(static_cast<float>((i * 37 + j * 11) % 101) / 101.0f - 0.5f);
    }
    if (shape.with_metadata) metadata.push_back(i % 3 == 0 ? Metadata{} : metadata_of(i));
  }
  std::vector<std::uint8_t> present;
  std::vector<float> more;
  for (std::size_t i = 0; i < shape.records; ++i) {
    present.push_back(i % 4 != 1);
    for (std::size_t j = 0; present.back() && j < kFixtureMoreDim; ++j) {
      more.push_back(static_cast<float>((i * 13 + j * 5) % 97) / 97.0f - 0.25f);
    }
  }
  std::vector<FieldRows> more_vectors;
  if (shape.with_second_field) more_vectors.push_back({.field = 1, .present = present, .vectors = more});
  // Sparse vectors of 1 to 3 entries at increasing indices, weights of both signs.
  std::vector<std::uint8_t> has_terms;
  std::vector<std::uint32_t> lengths;
  std::vector<std::uint32_t> indices;
  std::vector<float> weights;
  for (std::size_t i = 0; i < shape.records; ++i) {
    has_terms.push_back(i % 3 != 2);
    if (!has_terms.back()) continue;
    lengths.push_back(static_cast<std::uint32_t>(1 + i % 3));
    for (std::uint32_t e = 0; e < lengths.back(); ++e) {
      indices.push_back(static_cast<std::uint32_t>(i % 7) + 5 * e);
      weights.push_back(static_cast<float>(i % 5) * 0.5f - 0.75f);
    }
  }
  std::vector<SparseRows> sparse;
  if (shape.with_second_field) {
    sparse.push_back(
        {.present = has_terms, .lengths = lengths, .indices = indices, .values = weights});
  }
  const std::vector<std::string_view> id_views(ids.begin(), ids.end());
  const RecordBatch batch{.ids = id_views,
                          .vectors = vectors,
                          .metadata = metadata,
                          .more_vectors = more_vectors,
                          .sparse = sparse};
  if (Status status = collection.add(batch); !status.is_ok()) return status;
  if (shape.delete_every == 0) return Status::ok();
  std::vector<std::string_view> doomed;
  for (std::size_t i = 0; i < shape.records; i += shape.delete_every) doomed.push_back(id_views[i]);
  Result<std::size_t> removed = collection.remove(doomed);
  return removed.status();
}

// Writes the database into `dir` and closes it.
Status write_database(const std::string& dir, const FixtureShape& shape) {
  DatabaseOptions options;
  options.threads = 1;
  options.sync = SyncMode::kOff;
  Result<std::unique_ptr<Database>> db = Database::open(dir, options);
  if (!db.is_ok()) return db.status();
  CollectionOptions collection_options;
  collection_options.dim = kFixtureDim;
  collection_options.metric = shape.metric;
  collection_options.m = 4;
  collection_options.ef_construction = 16;
  if (shape.with_second_field) {
    collection_options.more_vectors.push_back({.name = "more",
                                               .dim = kFixtureMoreDim,
                                               .metric = shape.metric,
                                               .m = 4,
                                               .ef_construction = 16});
    collection_options.sparse_vectors.push_back("terms");
  }
  Result<std::shared_ptr<Collection>> collection =
      db.value()->create_collection(kCollection, collection_options);
  if (!collection.is_ok()) return collection.status();
  if (Status status = fill(*collection.value(), shape); !status.is_ok()) return status;
  return db.value()->close();
}

}  // namespace

Result<SnapshotFixture> build_snapshot_fixture(const FixtureShape& shape) {
  const ScratchFolder folder;
  if (folder.path().empty()) return Status(StatusCode::kIoError, "cannot make a scratch folder");
  if (Status status = write_database(folder.path().string(), shape); !status.is_ok()) {
    return status;
  }
  Result<storage::Manifest> manifest = storage::read_manifest(storage::Env::posix(), folder.path());
  if (!manifest.is_ok()) return manifest.status();
  if (manifest.value().collections.size() != 1) {
    return Status(StatusCode::kCorruption, "the fixture's manifest does not list one collection");
  }
  SnapshotFixture fixture;
  fixture.options = manifest.value().collections[0].options;
  fixture.files = manifest.value().collections[0].snapshot_files;
  for (const storage::SnapshotFile& file : fixture.files) {
    Result<std::vector<std::byte>> bytes =
        read_file(folder.path() / kCollectionsDir / kCollection / file.name);
    if (!bytes.is_ok()) return bytes.status();
    fixture.contents.push_back(std::move(bytes).value());
  }
  return fixture;
}

}  // namespace omendb::fuzz
