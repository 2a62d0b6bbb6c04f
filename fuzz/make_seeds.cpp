// Writes the generated part of the seed corpus: valid inputs for each fuzz target, made with the
// real encoders (the journal and log writer, the manifest and payload codecs, the database's own
// checkpoint), plus a few damaged copies that reach the error paths. The filter-string seeds are
// written by hand and are not made here.
//
// Usage: fuzz_make_seeds CORPUS_DIR   (fuzz/corpus; existing files of the same names are replaced)
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "db/journal.h"
#include "storage/log_writer.h"
#include "storage/manifest.h"
#include "storage/record_codec.h"
#include "support/files.h"
#include "support/snapshot_fixture.h"
#include "text/text_index.h"

namespace omendb::fuzz {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<std::byte>;

// Writes one seed, CORPUS_DIR/target/name.
Status put_seed(const fs::path& corpus, std::string_view target, std::string_view name,
                std::span<const std::byte> bytes) {
  std::error_code error;
  fs::create_directories(corpus / target, error);
  return write_file(corpus / target / name, bytes);
}

// Metadata with every kind of value.
Metadata rich_metadata() {
  Metadata fields = {{"year", std::int64_t{2024}},
                     {"score", 0.75},
                     {"tag", std::string("news")},
                     {"tags", std::vector<std::string>{"a", "b"}},
                     {"flag", true},
                     {"off", false},
                     {"none", Value{}}};
  (void)normalize_metadata(fields);
  return fields;
}

// A batch of `kind` over ids "a", "b", "c" of dimension 4, with metadata when asked.
struct BatchSeed {
  std::vector<std::string_view> ids{"a", "b", "c"};
  std::vector<float> vectors{0.5f, -1, 2, 0, 1, 1, 1, 1, -0.0f, 3.5f, 1e-30f, 7};
  std::vector<Metadata> metadata{rich_metadata(), {}, {{"year", std::int64_t{1999}}}};

  // The WriteBatch view of this seed.
  storage::WriteBatch view(storage::WriteKind kind, bool with_metadata) const {
    storage::WriteBatch batch;
    batch.kind = kind;
    batch.ids = ids;
    if (kind != storage::WriteKind::kDelete) {
      batch.dim = 4;
      batch.vectors = vectors;
      if (with_metadata) batch.metadata = metadata;
    }
    return batch;
  }
};

// Logs a representative journal: creates, writes of each kind, a drop.
Status write_journal(Journal& journal) {
  const BatchSeed seed;
  CollectionOptions options;
  options.dim = 4;
  if (Status s = journal.log_create("docs", options); !s.is_ok()) return s;
  if (Status s = journal.log_write("docs", seed.view(storage::WriteKind::kAdd, true)); !s.is_ok())
    return s;
  if (Status s = journal.log_write("docs", seed.view(storage::WriteKind::kUpsert, false));
      !s.is_ok())
    return s;
  if (Status s = journal.log_write("docs", seed.view(storage::WriteKind::kDelete, false));
      !s.is_ok())
    return s;
  if (Status s = journal.log_drop("docs"); !s.is_ok()) return s;
  options.metric = Metric::kCosine;
  options.m = 8;
  return journal.log_create("other.v2", options);
}

// Log seeds: a full journal, an empty log, a write to a missing collection, and damaged copies.
Status make_log_seeds(const fs::path& corpus) {
  const ScratchFolder folder;
  storage::Env& env = storage::Env::posix();
  const fs::path full = folder.path() / "full.log";
  const fs::path missing = folder.path() / "missing.log";
  {
    Result<storage::LogWriter> writer = storage::LogWriter::create(env, full);
    if (!writer.is_ok()) return writer.status();
    Journal journal(std::move(writer).value(), storage::SyncMode::kOff, 1);
    if (Status s = write_journal(journal); !s.is_ok()) return s;
    if (Status s = journal.close(); !s.is_ok()) return s;
  }
  {
    Result<storage::LogWriter> writer = storage::LogWriter::create(env, missing);
    if (!writer.is_ok()) return writer.status();
    Journal journal(std::move(writer).value(), storage::SyncMode::kOff, 7);
    const BatchSeed seed;
    if (Status s = journal.log_write("gone", seed.view(storage::WriteKind::kAdd, false));
        !s.is_ok())
      return s;
    if (Status s = journal.close(); !s.is_ok()) return s;
  }
  Result<Bytes> log = read_file(full);
  if (!log.is_ok()) return log.status();
  Result<Bytes> missing_log = read_file(missing);
  if (!missing_log.is_ok()) return missing_log.status();
  const Bytes& bytes = log.value();
  Bytes torn(bytes.begin(), bytes.end() - 7);
  Bytes corrupt = bytes;
  corrupt[bytes.size() / 2] ^= std::byte{0x40};  // inside a record, with valid ones after it
  const std::pair<std::string_view, std::span<const std::byte>> seeds[] = {
      {"journal.log", bytes},
      {"empty.log", std::span(bytes).first(16)},
      {"torn-file-header.log", std::span(bytes).first(10)},
      {"torn-tail.log", torn},
      {"corrupt-middle.log", corrupt},
      {"write-to-missing.log", missing_log.value()},
  };
  for (const auto& [name, seed] : seeds) {
    if (Status s = put_seed(corpus, "log_reader", name, seed); !s.is_ok()) return s;
  }
  return Status::ok();
}

// Manifest seeds: an empty database, and one of two collections with their snapshot files.
Status make_manifest_seeds(const fs::path& corpus) {
  storage::Manifest manifest;
  manifest.log_file = "1.log";
  Result<Bytes> empty = storage::encode_manifest(manifest);
  if (!empty.is_ok()) return empty.status();
  manifest.checkpoint_lsn = 42;
  manifest.next_file_number = 9;
  manifest.log_file = "8.log";
  storage::ManifestCollection docs{"docs", {}, {}};
  docs.options.dim = 4;
  for (const std::string_view kind : {"vectors", "graph", "ids", "meta"}) {
    docs.snapshot_files.push_back({"5." + std::string(kind), 1000, 0x12345678});
  }
  storage::ManifestCollection other{"other-1.b", {}, {}};
  other.options.dim = 65536;
  other.options.metric = Metric::kIp;
  other.options.m = 128;
  manifest.collections = {docs, other};
  Result<Bytes> full = storage::encode_manifest(manifest);
  if (!full.is_ok()) return full.status();
  if (Status s = put_seed(corpus, "manifest", "empty", empty.value()); !s.is_ok()) return s;
  return put_seed(corpus, "manifest", "two-collections", full.value());
}

// Metadata seeds: single encodings, encodings back to back, and write batches of each kind.
Status make_metadata_seeds(const fs::path& corpus) {
  Bytes rich;
  Bytes empty;
  Bytes several;
  if (Status s = storage::encode_metadata(rich_metadata(), rich); !s.is_ok()) return s;
  if (Status s = storage::encode_metadata({}, empty); !s.is_ok()) return s;
  const BatchSeed seed;
  for (const Metadata& fields : seed.metadata) {
    if (Status s = storage::encode_metadata(fields, several); !s.is_ok()) return s;
  }
  std::vector<std::pair<std::string, Bytes>> seeds = {
      {"metadata-rich", rich}, {"metadata-empty", empty}, {"metadata-several", several}};
  const std::pair<std::string, storage::WriteBatch> batches[] = {
      {"batch-add-metadata", seed.view(storage::WriteKind::kAdd, true)},
      {"batch-upsert", seed.view(storage::WriteKind::kUpsert, false)},
      {"batch-delete", seed.view(storage::WriteKind::kDelete, false)},
  };
  for (const auto& [name, batch] : batches) {
    Bytes encoded;
    if (Status s = storage::encode_write_batch(batch, encoded); !s.is_ok()) return s;
    seeds.emplace_back(name, std::move(encoded));
  }
  for (const auto& [name, bytes] : seeds) {
    if (Status s = put_seed(corpus, "metadata", name, bytes); !s.is_ok()) return s;
  }
  return Status::ok();
}

// Snapshot seeds: a selector byte and one file, for every file of the target's own fixture and
// of a differently shaped snapshot (few records, no metadata, no deletes, cosine).
Status make_snapshot_seeds(const fs::path& corpus) {
  FixtureShape small;
  small.records = 3;
  small.with_metadata = false;
  small.delete_every = 0;
  small.metric = Metric::kCosine;
  const std::pair<std::string_view, FixtureShape> shapes[] = {{"fixture", FixtureShape{}},
                                                              {"small", small}};
  for (const auto& [prefix, shape] : shapes) {
    Result<SnapshotFixture> fixture = build_snapshot_fixture(shape);
    if (!fixture.is_ok()) return fixture.status();
    for (std::size_t i = 0; i < fixture.value().files.size(); ++i) {
      const std::string& file = fixture.value().files[i].name;
      Bytes seed{static_cast<std::byte>(i)};
      seed.insert(seed.end(), fixture.value().contents[i].begin(),
                  fixture.value().contents[i].end());
      const std::string name = std::string(prefix) + "-" + file.substr(file.find('.') + 1);
      if (Status s = put_seed(corpus, "snapshot", name, seed); !s.is_ok()) return s;
    }
  }
  return Status::ok();
}

// Text index seeds: images of an empty index, a small one with a removed document, and one with
// full posting blocks over the vocabulary text_index_fuzz.cpp queries; plus a truncated copy.
Status make_text_index_seeds(const fs::path& corpus) {
  const auto image = [](const text::TextIndex& index) {
    Bytes bytes;
    index.save([&](std::span<const std::byte> piece) {
      bytes.insert(bytes.end(), piece.begin(), piece.end());
    });
    return bytes;
  };
  using Terms = std::vector<std::string>;
  text::TextIndex small;
  const Terms fox{"the", "quick", "fox"};
  for (const auto& [slot, terms] : {std::pair<std::uint32_t, Terms>{0, fox},
                                    {2, {"lazy", "dog", "dog"}},
                                    {3, {"a", "b", "c", "b"}},
                                    {4, {}}}) {
    if (Status s = small.add(slot, terms); !s.is_ok()) return s;
  }
  if (Status s = small.remove(0, fox); !s.is_ok()) return s;
  text::TextIndex blocks;
  for (std::uint32_t slot = 0; slot < 600; ++slot) {
    Terms terms{"a"};
    for (std::uint32_t letter = 0; letter < slot % 7; ++letter) {
      terms.emplace_back(1, static_cast<char>('b' + (slot * 7 + letter * 3) % 25));
    }
    if (slot % 5 == 0) terms.emplace_back("fox");
    if (slot % 9 == 0) terms.emplace_back("dog");
    if (Status s = blocks.add(slot, terms); !s.is_ok()) return s;
  }
  const Bytes blocks_image = image(blocks);
  const std::pair<std::string_view, Bytes> seeds[] = {
      {"empty", image(text::TextIndex())},
      {"small", image(small)},
      {"blocks", blocks_image},
      {"blocks-truncated", Bytes(blocks_image.begin(), blocks_image.begin() + 3000)},
  };
  for (const auto& [name, bytes] : seeds) {
    if (Status s = put_seed(corpus, "text_index", name, bytes); !s.is_ok()) return s;
  }
  return Status::ok();
}

}  // namespace
}  // namespace omendb::fuzz

// Writes every generated seed under argv[1].
int main(int argc, char** argv) {
  using namespace omendb::fuzz;
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  const std::filesystem::path corpus = argv[1];
  for (const auto make : {make_log_seeds, make_manifest_seeds, make_metadata_seeds,
                          make_snapshot_seeds, make_text_index_seeds}) {
    if (omendb::Status status = make(corpus); !status.is_ok()) {
      std::fprintf(stderr, "fuzz_make_seeds: %s\n", status.message().c_str());
      return 1;
    }
  }
  return 0;
}
