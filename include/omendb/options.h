// Options of databases, collections and searches. Build-time settings (fixed when a collection is
// created) and search-time settings are separate structs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "omendb/status.h"

namespace omendb {

// How distances are measured. Smaller is closer for every metric.
enum class Metric {
  kL2,      // squared Euclidean distance
  kCosine,  // 1 - cos(a, b); vectors are normalised when stored, a zero vector stays zero
  kIp,      // -dot(a, b)
};

// "l2", "cosine" or "ip".
std::string_view metric_name(Metric metric) noexcept;
// The metric named `name`, or nothing when the name is unknown.
std::optional<Metric> parse_metric(std::string_view name) noexcept;

// How a collection keeps its vectors besides the float32 rows (which stay the truth).
enum class Quantization {
  kNone,  // floats only: graph walks compute exact distances
  kSq8,   // also 8-bit codes (one byte per dimension and 16 bytes per vector): graph walks run on
          // the codes, and the best candidates are re-ranked with the floats
};

// "none" or "sq8".
std::string_view quantization_name(Quantization quantization) noexcept;
// The quantization named `name`, or nothing when the name is unknown.
std::optional<Quantization> parse_quantization(std::string_view name) noexcept;

// One named vector field of a collection, with its own graph index. Fixed at creation.
struct VectorFieldOptions {
  std::string name;             // 1 to kMaxFieldNameBytes letters, digits, '_', '-' or '.'
  std::size_t dim = 0;          // vector length; 1 to CollectionOptions::kMaxDim
  Metric metric = Metric::kL2;  // distance between vectors
  std::uint32_t m = 16;         // graph degree, as CollectionOptions::m
  std::uint32_t ef_construction = 100;              // as CollectionOptions::ef_construction
  Quantization quantization = Quantization::kSq8;  // as CollectionOptions::quantization

  static constexpr std::size_t kMaxFieldNameBytes = 64;
};

// The full-text settings of a collection (docs/hybrid.md). Fixed when it is created.
struct TextOptions {
  bool enabled = false;  // records may carry a document, indexed for BM25 search
  // "" for no stemming, else a Snowball language ("english", "french", "porter", ...).
  std::string stemmer;
  // Words dropped from documents and queries after normalisation (before stemming); empty: none.
  std::vector<std::string> stop_words;
  float k1 = 1.2f;   // BM25 term-frequency saturation, finite and >= 0
  float b = 0.75f;   // BM25 document-length normalisation, in [0, 1]
};

// Fixed when a collection is created. The fields from `dim` to `quantization` describe the
// collection's first vector field, named `vector_name`, which every record has; `more_vectors`
// declares further named fields, which a record may lack (docs/format.md, "Named vectors").
struct CollectionOptions {
  std::size_t dim = 0;          // vector length; 1 to kMaxDim
  Metric metric = Metric::kL2;  // distance between vectors
  std::uint32_t m = 16;         // graph degree: links per node above level 0 (2m at level 0)
  std::uint32_t ef_construction = 100;  // candidate list size while inserting; larger = better
                                        // graph, slower build (README, "Choosing ef_construction")
  std::uint64_t seed = 42;              // seeds the level of each node, so builds are reproducible
  Quantization quantization = Quantization::kSq8;  // codes the graph walks run on
  std::string vector_name = "default";             // the first vector field's name
  std::vector<VectorFieldOptions> more_vectors;     // further fields, in declaration order
  TextOptions text;                                 // full-text search, off by default
  // Sparse vector fields ({index: weight}, scored by inner product through an inverted index),
  // by name, in declaration order; a record may lack any of them (docs/hybrid.md, "Sparse
  // vectors"). Names follow the rules of vector field names and differ from them.
  std::vector<std::string> sparse_vectors;

  static constexpr std::size_t kMaxDim = 65536;
  static constexpr std::uint32_t kMaxM = 128;
  static constexpr std::size_t kMaxVectorFields = 64;

  // Ok, or kInvalidArgument naming the field out of range (or a field name that is empty, too
  // long, badly formed or repeated; an unknown stemmer; BM25 parameters out of range).
  Status validate() const;
  // Number of vector fields: 1 + more_vectors.size().
  std::size_t field_count() const noexcept { return 1 + more_vectors.size(); }
  // Field `i` (0 = the first) as options of its own. Precondition: i < field_count().
  VectorFieldOptions field(std::size_t i) const;
  // The number of the field named `name` (0 for the first; "" also means the first), or nothing.
  // Cost: O(field_count()) string compares.
  std::optional<std::size_t> field_number(std::string_view name) const noexcept;
  // The number of the sparse field named `name` (its index in sparse_vectors), or nothing.
  std::optional<std::size_t> sparse_number(std::string_view name) const noexcept;
};

struct FilterExpr;  // a metadata filter (src/filter/expression.h)

// Chosen per search call.
struct SearchOptions {
  std::size_t k = 10;  // hits wanted; fewer come back only when the collection holds fewer
  std::size_t ef = 0;  // candidate list size of the graph search; 0 = max(64, k); raised to k
  bool exact = false;  // true: scan every vector (exact, O(n)) instead of walking the graph
  const FilterExpr* filter = nullptr;  // only records matching it; must outlive the call
  std::string_view vector_field;       // the vector field searched; "" = the first

  static constexpr std::size_t kMaxK = 100000;
  static constexpr std::size_t kMaxEf = 100000;

  // Ok, or kInvalidArgument naming the field out of range.
  Status validate() const;
  // The ef a graph search uses: max(ef or 64, k).
  std::size_t effective_ef() const noexcept;
};

// How a hybrid search (Collection::search_hybrid) merges the rankings of its signals: each vector
// query and the text query (docs/hybrid.md, "Fusion").
struct FusionOptions {
  enum class Kind {
    kRrf,       // reciprocal rank fusion: a hit at rank r (from 1) of a signal adds w / (rrf_k + r)
    kWeighted,  // each signal's values min-max normalised to [0, 1] (1 = best), summed times w
  };
  Kind kind = Kind::kRrf;
  double rrf_k = 60;            // RRF's rank constant, > 0
  std::vector<double> weights;  // w per signal: the vector queries in order, then the text;
                                // empty: 1 each. Finite and >= 0.
  std::size_t candidates = 0;   // hits taken from each signal; 0 = max(2k, 64)

  // kInvalidArgument naming what is out of range, for a search of `signals` signals.
  Status validate(std::size_t signals) const;
  // The hits taken from each signal of a search for k.
  std::size_t candidates_for(std::size_t k) const noexcept;
};

namespace storage {
class Env;  // the file system a database uses (src/storage/env.h)
}

// When a write returns, relative to the disk (docs/format.md, "Sync modes").
enum class SyncMode {
  kFull,    // after its log record is on disk (fdatasync): survives a power failure
  kNormal,  // after its log record is in the OS's cache: survives a crash of the process; the log
            // is synced at checkpoints and on close
  kOff,     // as kNormal, but the log is never synced (checkpoints still are)
};

// "full", "normal" or "off".
std::string_view sync_mode_name(SyncMode mode) noexcept;
// The sync mode named `name`, or nothing when the name is unknown.
std::optional<SyncMode> parse_sync_mode(std::string_view name) noexcept;

// Settings of an open database.
struct DatabaseOptions {
  std::size_t threads = 0;  // threads for batch inserts and batch searches; 0 = all cores
  bool read_only = false;   // on disk only: open without the write lock; writes fail (kReadOnly)
  SyncMode sync = SyncMode::kFull;
  // A checkpoint runs by itself once the write-ahead log holds this many bytes: a larger log
  // means fewer snapshot writes but a longer replay after a crash.
  std::uint64_t checkpoint_log_bytes = std::uint64_t{64} << 20;
  // How a quantized collection reads the float rows it serves from its snapshot file when it
  // re-ranks (rows written since the last checkpoint are in memory either way). false: one read
  // system call per row, so the floats stay in the OS page cache, outside this process, whose
  // resident memory is the codes, the graph and the ids (about 1.4 us per row, 20 us per 10-hit
  // query, on the 2-core VM of docs/benchmarks.md). true: through the memory map, which halved
  // that cost at 128-d, but the kernel maps the file into the process 64 KiB to 2 MiB at a time
  // around each row read, so resident memory grows toward the whole vectors file.
  bool map_floats = false;
  storage::Env* env = nullptr;  // the file system; null = the real one (tests inject failures)
};

}  // namespace omendb
