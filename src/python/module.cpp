// omendb._core: the C++ engine as a Python module. NumPy float32 arrays come in without a copy,
// results go out as NumPy arrays, and the GIL is released while the engine works. The public
// Python API (python/omendb) wraps these classes.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/unique_ptr.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include "omendb/database.h"
#include "python/convert.h"
#include "python/results.h"
#include "python/testing.h"
#include "simd/distance.h"
#include "storage/fault_injection_env.h"

namespace nb = nanobind;
using namespace nb::literals;

namespace omendb::python {
namespace {

using FloatMatrix = nb::ndarray<const float, nb::ndim<2>, nb::c_contig, nb::device::cpu>;
using FloatVector = nb::ndarray<const float, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
using FlagVector = nb::ndarray<const std::uint8_t, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
using IndexVector = nb::ndarray<const std::uint32_t, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
// The sparse vectors of one sparse field in add()/upsert(): (field number, presence flags or
// None, entries per present record, their indices, their values).
using PySparseRows =
    std::tuple<std::size_t, std::optional<FlagVector>, IndexVector, IndexVector, FloatVector>;
// One sparse query: (field, indices, values).
using PySparseQuery = std::tuple<std::string, IndexVector, FloatVector>;
// The rows of one further vector field in add()/upsert(): (field number, presence flags or None,
// rows of the present records).
using PyFieldRows = std::tuple<std::size_t, std::optional<FlagVector>, FloatMatrix>;
// A vector field's settings as Python passes and gets them:
// (name, dim, metric, m, ef_construction, quantization).
using PyFieldOptions =
    std::tuple<std::string, std::size_t, std::string, std::uint32_t, std::uint32_t, std::string>;
// A collection's text settings as Python passes them: (stemmer, stop words, k1, b).
using PyTextOptions = std::tuple<std::string, std::vector<std::string>, float, float>;
// A hybrid search's fusion as Python passes it: (kind "rrf" or "weighted", rrf_k, weights, hits
// taken from each signal or 0).
using PyFusion = std::tuple<std::string, double, std::vector<double>, std::size_t>;
// One hybrid query: its vector queries (field, vector), its sparse queries and its text ("" for
// none).
using PyHybridQuery = std::tuple<std::vector<std::tuple<std::string, FloatVector>>,
                                 std::vector<PySparseQuery>, std::string>;

template <class T>
T value_or_throw(Result<T>&& result) {
  throw_if_failed(result.status());
  return std::move(result).value();
}

// Runs `work` with the GIL released (other Python threads go on) and returns its result.
template <class Work>
auto without_gil(Work&& work) {
  nb::gil_scoped_release release;
  return work();
}

// add() and upsert(): converts the arguments with the GIL held, then writes without it.
void write(Collection& collection, nb::handle ids_object, FloatMatrix vectors,
           nb::handle metadata_object, const std::vector<PyFieldRows>& more,
           nb::handle documents_object, const std::vector<PySparseRows>& sparse, bool replace) {
  const std::vector<std::string> ids = to_ids(ids_object);
  std::vector<Metadata> metadata;
  if (!metadata_object.is_none()) {
    if (nb::isinstance<nb::str>(metadata_object) || !PySequence_Check(metadata_object.ptr())) {
      throw StatusError{
          Status::invalid_argument("metadata must be None or a list of dicts, got " +
                                   nb::cast<std::string>(nb::type_name(metadata_object.type())))};
    }
    std::size_t i = 0;
    for (nb::handle item : metadata_object) {
      metadata.push_back(to_metadata(item, "metadata[" + std::to_string(i++) + "]"));
    }
  }
  std::vector<std::string_view> id_views(ids.begin(), ids.end());
  RecordBatch batch;
  batch.ids = id_views;
  batch.vectors = {vectors.data(), vectors.size()};
  batch.metadata = metadata;
  std::vector<FieldRows> more_vectors;
  for (const auto& [field, present, rows] : more) {
    FieldRows& given = more_vectors.emplace_back();
    given.field = field;
    if (present) given.present = {present->data(), present->size()};
    given.vectors = {rows.data(), rows.size()};
  }
  batch.more_vectors = more_vectors;
  std::vector<std::string> documents;
  std::vector<std::uint8_t> has_document;
  to_documents(documents_object, documents, has_document);
  const std::vector<std::string_view> document_views(documents.begin(), documents.end());
  batch.documents = document_views;
  batch.has_document = has_document;
  std::vector<SparseRows> sparse_rows;
  for (const auto& [field, present, lengths, indices, values] : sparse) {
    SparseRows& given = sparse_rows.emplace_back();
    given.field = field;
    if (present) given.present = {present->data(), present->size()};
    given.lengths = {lengths.data(), lengths.size()};
    given.indices = {indices.data(), indices.size()};
    given.values = {values.data(), values.size()};
  }
  batch.sparse = sparse_rows;
  Status status;
  {
    nb::gil_scoped_release release;
    status = replace ? collection.upsert(batch) : collection.add(batch);
  }
  throw_if_failed(status);
}

std::size_t remove_records(Collection& collection, nb::handle ids_object) {
  const std::vector<std::string> ids = to_ids(ids_object);
  const std::vector<std::string_view> id_views(ids.begin(), ids.end());
  Result<std::size_t> removed = Status::invalid_argument("unreachable");
  {
    nb::gil_scoped_release release;
    removed = collection.remove(id_views);
  }
  return value_or_throw(std::move(removed));
}

// The settings of vector field `field` as Python gets them.
PyFieldOptions field_settings(const CollectionOptions& options, std::size_t field) {
  const VectorFieldOptions settings = options.field(field);
  return {settings.name,
          settings.dim,
          std::string(metric_name(settings.metric)),
          settings.m,
          settings.ef_construction,
          std::string(quantization_name(settings.quantization))};
}

// `settings` (from Python) as a field's options; InvalidArgumentError for an unknown metric or
// quantization.
VectorFieldOptions field_options(const PyFieldOptions& settings) {
  const auto& [name, dim, metric, m, ef_construction, quantization] = settings;
  const std::optional<Metric> parsed = parse_metric(metric);
  if (!parsed) {
    throw StatusError{
        Status::invalid_argument("metric must be 'l2', 'cosine' or 'ip', got '" + metric + "'")};
  }
  const std::optional<Quantization> codes = parse_quantization(quantization);
  if (!codes) {
    throw StatusError{Status::invalid_argument("quantization must be 'sq8' or 'none', got '" +
                                               quantization + "'")};
  }
  return {.name = name,
          .dim = dim,
          .metric = *parsed,
          .m = m,
          .ef_construction = ef_construction,
          .quantization = *codes};
}

// A list with a Record (or None) per id asked for.
nb::list get_records(const Collection& collection, nb::handle ids_object) {
  const std::vector<std::string> ids = to_ids(ids_object);
  const std::vector<std::string_view> id_views(ids.begin(), ids.end());
  Result<std::vector<std::optional<Record>>> records = Status::invalid_argument("unreachable");
  {
    nb::gil_scoped_release release;
    records = collection.get(id_views);
  }
  throw_if_failed(records.status());
  nb::list result;
  for (std::optional<Record>& record : records.value()) {
    if (!record) {
      result.append(nb::none());
      continue;
    }
    result.append(to_python(std::move(*record), collection.options()));
  }
  return result;
}

// The filter of a `where` argument: nothing for None.
std::optional<FilterExpr> optional_filter(nb::handle where) {
  if (where.is_none()) return std::nullopt;
  return to_filter(where);
}

SearchOptions search_options(std::size_t k, std::size_t ef, bool exact,
                             const std::optional<FilterExpr>& filter, std::string_view field) {
  SearchOptions options;
  options.k = k;
  options.ef = ef;
  options.exact = exact;
  options.filter = filter ? &*filter : nullptr;
  options.vector_field = field;
  return options;
}

nb::list search(const Collection& collection, FloatVector query, std::size_t k, std::size_t ef,
                bool exact, nb::handle where, const std::string& field) {
  const std::optional<FilterExpr> filter = optional_filter(where);
  Result<std::vector<Hit>> hits = Status::invalid_argument("unreachable");
  {
    nb::gil_scoped_release release;
    hits = collection.search({query.data(), query.size()},
                             search_options(k, ef, exact, filter, field));
  }
  throw_if_failed(hits.status());
  return hit_list(hits.value());
}

// A positive int (not a bool) as a size, or nothing.
std::optional<std::size_t> positive_size(nb::handle value) {
  if (!PyLong_CheckExact(value.ptr())) return std::nullopt;
  const long long n = PyLong_AsLongLong(value.ptr());
  if (n < 1) {  // also -1 on overflow, with an exception set
    PyErr_Clear();
    return std::nullopt;
  }
  return static_cast<std::size_t>(n);
}

// search() for the common call, with no Python-side conversion: the hits when the query is a
// float32 C-contiguous 1-D array of the collection's dim, k an int > 0, ef None or an int > 0 and
// exact a bool; else None, and the caller converts and checks the arguments (naming what is wrong)
// and calls search(). Cost: a few type checks beyond search().
nb::object search_fast(const Collection& collection, nb::handle vector, nb::handle k,
                       nb::handle ef, nb::handle exact, nb::handle where) {
  FloatVector query;
  const std::optional<std::size_t> k_size = positive_size(k);
  const std::optional<std::size_t> ef_size = ef.is_none() ? std::size_t{0} : positive_size(ef);
  if (!k_size || !ef_size || !PyBool_Check(exact.ptr()) ||
      !nb::try_cast(vector, query, /*convert=*/false) ||
      query.shape(0) != collection.options().dim) {
    return nb::none();
  }
  return search(collection, query, *k_size, *ef_size, exact.ptr() == Py_True, where, "");
}

// Returns (ids as a uint32 array of shape (n, k, width) holding UTF-32 code points, distances as a
// float32 array of shape (n, k)). The Python side views the first as a NumPy str array.
nb::tuple search_batch(const Collection& collection, FloatMatrix queries, std::size_t k,
                       std::size_t ef, bool exact, nb::handle where, const std::string& field) {
  const std::optional<FilterExpr> filter = optional_filter(where);
  Result<BatchHits> hits = Status::invalid_argument("unreachable");
  std::vector<std::uint32_t> code_points;
  std::size_t width = 1;
  {
    nb::gil_scoped_release release;
    hits = collection.search_batch({queries.data(), queries.size()},
                                   search_options(k, ef, exact, filter, field));
    if (hits.is_ok()) {
      for (const std::string& id : hits.value().ids) width = std::max(width, utf8_length(id));
      code_points.reserve(hits.value().ids.size() * width);
      for (const std::string& id : hits.value().ids) append_utf32(id, width, code_points);
    }
  }
  throw_if_failed(hits.status());
  BatchHits& batch = hits.value();
  return nb::make_tuple(owning_array(std::move(code_points), {batch.queries, batch.k, width}),
                        owning_array(std::move(batch.distances), {batch.queries, batch.k}));
}

nb::list search_text(const Collection& collection, const std::string& text, std::size_t k,
                     nb::handle where) {
  const std::optional<FilterExpr> filter = optional_filter(where);
  Result<std::vector<Hit>> hits = Status::invalid_argument("unreachable");
  {
    nb::gil_scoped_release release;
    hits = collection.search_text(text, search_options(k, 0, false, filter, ""));
  }
  throw_if_failed(hits.status());
  return hit_list(hits.value());
}

// `fusion` (from Python) as FusionOptions; InvalidArgumentError for an unknown kind.
FusionOptions fusion_options(const PyFusion& fusion) {
  const auto& [kind, rrf_k, weights, candidates] = fusion;
  if (kind != "rrf" && kind != "weighted") {
    throw StatusError{
        Status::invalid_argument("fusion must be 'rrf' or 'weighted', got '" + kind + "'")};
  }
  return {.kind = kind == "rrf" ? FusionOptions::Kind::kRrf : FusionOptions::Kind::kWeighted,
          .rrf_k = rrf_k,
          .weights = weights,
          .candidates = candidates};
}

// The engine's form of a query of the vector queries `fields`, the sparse queries `sparse` and
// `text`, viewing them (they must outlive the result); its VectorQuery and SparseQuery lists are
// written to `vectors` and `sparse_queries`, which must too.
HybridQuery hybrid_query(const std::vector<std::tuple<std::string, FloatVector>>& fields,
                         const std::vector<PySparseQuery>& sparse, const std::string& text,
                         const FusionOptions& fusion, std::vector<VectorQuery>& vectors,
                         std::vector<SparseQuery>& sparse_queries) {
  for (const auto& [field, vector] : fields) {
    vectors.push_back({field, {vector.data(), vector.size()}});
  }
  for (const auto& [field, indices, values] : sparse) {
    sparse_queries.push_back(
        {field, {indices.data(), indices.size()}, {values.data(), values.size()}});
  }
  return {.vectors = vectors, .sparse = sparse_queries, .text = text, .fusion = fusion};
}

nb::list search_hybrid(const Collection& collection,
                       const std::vector<std::tuple<std::string, FloatVector>>& vectors,
                       const std::string& text, std::size_t k, std::size_t ef, bool exact,
                       nb::handle where, const PyFusion& fusion,
                       const std::vector<PySparseQuery>& sparse) {
  const std::optional<FilterExpr> filter = optional_filter(where);
  std::vector<VectorQuery> vector_queries;
  std::vector<SparseQuery> sparse_queries;
  const HybridQuery query = hybrid_query(vectors, sparse, text, fusion_options(fusion),
                                         vector_queries, sparse_queries);
  Result<std::vector<Hit>> hits = Status::invalid_argument("unreachable");
  {
    nb::gil_scoped_release release;
    hits = collection.search_hybrid(query, search_options(k, ef, exact, filter, ""));
  }
  throw_if_failed(hits.status());
  return hit_list(hits.value());
}

// A list of hit lists, one per query.
nb::list search_hybrid_batch(const Collection& collection,
                             const std::vector<PyHybridQuery>& queries, std::size_t k,
                             std::size_t ef, bool exact, nb::handle where,
                             const PyFusion& fusion) {
  const std::optional<FilterExpr> filter = optional_filter(where);
  const FusionOptions fusion_settings = fusion_options(fusion);
  std::vector<std::vector<VectorQuery>> vector_queries(queries.size());
  std::vector<std::vector<SparseQuery>> sparse_queries(queries.size());
  std::vector<HybridQuery> engine_queries;
  for (std::size_t q = 0; q < queries.size(); ++q) {
    const auto& [fields, sparse, text] = queries[q];
    engine_queries.push_back(hybrid_query(fields, sparse, text, fusion_settings,
                                          vector_queries[q], sparse_queries[q]));
  }
  Result<std::vector<std::vector<Hit>>> hits = Status::invalid_argument("unreachable");
  {
    nb::gil_scoped_release release;
    hits = collection.search_hybrid_batch(engine_queries,
                                          search_options(k, ef, exact, filter, ""));
  }
  throw_if_failed(hits.status());
  nb::list result;
  for (std::vector<Hit>& row : hits.value()) result.append(hit_list(row));
  return result;
}

std::size_t count(const Collection& collection, nb::handle where) {
  const std::optional<FilterExpr> filter = optional_filter(where);
  Result<std::size_t> counted = Status::invalid_argument("unreachable");
  {
    nb::gil_scoped_release release;
    counted = collection.count(filter ? &*filter : nullptr);
  }
  return value_or_throw(std::move(counted));
}

nb::list find(const Collection& collection, nb::handle where, std::size_t limit) {
  const FilterExpr filter = to_filter(where);
  Result<std::vector<Record>> records = Status::invalid_argument("unreachable");
  {
    nb::gil_scoped_release release;
    records = collection.find(filter, limit);
  }
  throw_if_failed(records.status());
  nb::list result;
  for (Record& record : records.value()) {
    result.append(to_python(std::move(record), collection.options()));
  }
  return result;
}

std::size_t remove_where(Collection& collection, nb::handle where) {
  const FilterExpr filter = to_filter(where);
  Result<std::size_t> removed = Status::invalid_argument("unreachable");
  {
    nb::gil_scoped_release release;
    removed = collection.remove_where(filter);
  }
  return value_or_throw(std::move(removed));
}

}  // namespace
}  // namespace omendb::python

using namespace omendb;          // NOLINT: the module body below names many engine types
using namespace omendb::python;  // NOLINT

NB_MODULE(_core, m) {
  m.doc() = "OmenDB engine (C++). Use the omendb package, not this module.";
  register_status_translator();
  bind_testing(m);

  m.def(
      "simd_isa", [] { return std::string(simd::isa_name(simd::best_kernels().isa)); },
      "The instruction set of the distance kernels in use: scalar, avx2 or avx512.");

  bind_results(m);

  nb::class_<Collection>(m, "Collection")
      .def_prop_ro("name", &Collection::name)
      .def_prop_ro("dim", [](const Collection& c) { return c.options().dim; })
      .def_prop_ro("metric",
                   [](const Collection& c) { return std::string(metric_name(c.options().metric)); })
      .def_prop_ro("m", [](const Collection& c) { return c.options().m; })
      .def_prop_ro("ef_construction",
                   [](const Collection& c) { return c.options().ef_construction; })
      .def_prop_ro("quantization",
                   [](const Collection& c) {
                     return std::string(quantization_name(c.options().quantization));
                   })
      .def_prop_ro("sparse_fields",
                   [](const Collection& c) { return c.options().sparse_vectors; })
      .def_prop_ro("vector_fields",
                   [](const Collection& c) {
                     std::vector<PyFieldOptions> fields;
                     for (std::size_t i = 0; i < c.options().field_count(); ++i) {
                       fields.push_back(field_settings(c.options(), i));
                     }
                     return fields;
                   })
      .def("__len__", &Collection::size)
      .def_prop_ro("closed", &Collection::closed)
      .def_prop_ro("text",
                   [](const Collection& c) {
                     const TextOptions& text = c.options().text;
                     return nb::make_tuple(text.enabled, text.stemmer, text.stop_words, text.k1,
                                           text.b);
                   })
      .def(
          "add",
          [](Collection& c, nb::handle ids, FloatMatrix vectors, nb::handle metadata,
             const std::vector<PyFieldRows>& more, nb::handle documents,
             const std::vector<PySparseRows>& sparse) {
            write(c, ids, vectors, metadata, more, documents, sparse, /*replace=*/false);
          },
          "ids"_a, "vectors"_a, "metadata"_a.none(), "more"_a = std::vector<PyFieldRows>(),
          "documents"_a.none() = nb::none(), "sparse"_a = std::vector<PySparseRows>())
      .def(
          "upsert",
          [](Collection& c, nb::handle ids, FloatMatrix vectors, nb::handle metadata,
             const std::vector<PyFieldRows>& more, nb::handle documents,
             const std::vector<PySparseRows>& sparse) {
            write(c, ids, vectors, metadata, more, documents, sparse, /*replace=*/true);
          },
          "ids"_a, "vectors"_a, "metadata"_a.none(), "more"_a = std::vector<PyFieldRows>(),
          "documents"_a.none() = nb::none(), "sparse"_a = std::vector<PySparseRows>())
      .def("search_text", &search_text, "text"_a, "k"_a, "where"_a.none())
      .def("search_hybrid", &search_hybrid, "vectors"_a, "text"_a, "k"_a, "ef"_a, "exact"_a,
           "where"_a.none(), "fusion"_a, "sparse"_a = std::vector<PySparseQuery>())
      .def("search_hybrid_batch", &search_hybrid_batch, "queries"_a, "k"_a, "ef"_a, "exact"_a,
           "where"_a.none(), "fusion"_a)
      .def("tokenize",
           [](const Collection& c, const std::string& text) {
             return value_or_throw(c.tokenize(text));
           })
      .def("delete", &remove_records, "ids"_a)
      .def("get", &get_records, "ids"_a)
      .def("compact",
           [](Collection& c) {
             Result<std::size_t> reclaimed = Status::invalid_argument("unreachable");
             {
               nb::gil_scoped_release release;
               reclaimed = c.compact();
             }
             return value_or_throw(std::move(reclaimed));
           })
      .def("search", &search, "query"_a, "k"_a, "ef"_a, "exact"_a, "where"_a.none(),
           "field"_a = "")
      .def("search_fast", &search_fast, "query"_a.none(), "k"_a.none(), "ef"_a.none(),
           "exact"_a.none(), "where"_a.none())
      .def("search_batch", &search_batch, "queries"_a, "k"_a, "ef"_a, "exact"_a, "where"_a.none(),
           "field"_a = "")
      .def("count", &count, "where"_a.none())
      .def("find", &find, "where"_a, "limit"_a)
      .def("delete_where", &remove_where, "where"_a);

  nb::class_<Database>(m, "Database")
      .def_static(
          "open",
          [](const std::string& path, std::size_t threads, bool read_only, const std::string& sync,
             std::uint64_t checkpoint_log_bytes, bool map_floats, storage::FaultInjectionEnv* env) {
            DatabaseOptions options;
            options.env = env;
            options.threads = threads;
            options.read_only = read_only;
            const std::optional<SyncMode> mode = parse_sync_mode(sync);
            if (!mode) {
              throw StatusError{Status::invalid_argument(
                  "sync must be 'full', 'normal' or 'off', got '" + sync + "'")};
            }
            options.sync = *mode;
            options.checkpoint_log_bytes = checkpoint_log_bytes;
            options.map_floats = map_floats;
            Result<std::unique_ptr<Database>> opened = Status::invalid_argument("unreachable");
            {
              nb::gil_scoped_release release;
              opened = Database::open(path, options);
            }
            return value_or_throw(std::move(opened));
          },
          "path"_a, "threads"_a, "read_only"_a, "sync"_a, "checkpoint_log_bytes"_a, "map_floats"_a,
          "env"_a.none() = nb::none(), nb::keep_alive<0, 7>())
      .def(
          "create_collection",
          [](Database& db, const std::string& name, std::size_t dim, const std::string& metric,
             std::uint32_t m, std::uint32_t ef_construction, const std::string& quantization,
             const std::string& vector_name, const std::vector<PyFieldOptions>& more_vectors,
             const std::optional<PyTextOptions>& text,
             const std::vector<std::string>& sparse_vectors) {
            const VectorFieldOptions first =
                field_options({vector_name, dim, metric, m, ef_construction, quantization});
            CollectionOptions options;
            options.dim = first.dim;
            options.metric = first.metric;
            options.m = first.m;
            options.ef_construction = first.ef_construction;
            options.quantization = first.quantization;
            options.vector_name = first.name;
            for (const PyFieldOptions& field : more_vectors) {
              options.more_vectors.push_back(field_options(field));
            }
            if (text) {
              const auto& [stemmer, stop_words, k1, b] = *text;
              options.text = {.enabled = true,
                              .stemmer = stemmer,
                              .stop_words = stop_words,
                              .k1 = k1,
                              .b = b};
            }
            options.sparse_vectors = sparse_vectors;
            return value_or_throw(db.create_collection(name, options));
          },
          "name"_a, "dim"_a, "metric"_a, "m"_a, "ef_construction"_a, "quantization"_a,
          "vector_name"_a = "default", "more_vectors"_a = std::vector<PyFieldOptions>(),
          "text"_a.none() = nb::none(), "sparse_vectors"_a = std::vector<std::string>())
      .def("get_collection",
           [](const Database& db, const std::string& name) {
             return value_or_throw(db.get_collection(name));
           })
      .def("collection_names",
           [](const Database& db) { return value_or_throw(db.collection_names()); })
      .def("drop_collection",
           [](Database& db, const std::string& name) { throw_if_failed(db.drop_collection(name)); })
      .def("checkpoint", [](Database& db) { throw_if_failed(without_gil([&] { return db.checkpoint(); })); })
      .def("refresh", [](Database& db) { throw_if_failed(without_gil([&] { return db.refresh(); })); })
      .def("backup",
           [](Database& db, const std::string& path) {
             throw_if_failed(without_gil([&] { return db.backup(path); }));
           })
      .def("close", [](Database& db) { throw_if_failed(without_gil([&] { return db.close(); })); })
      .def_prop_ro("read_only", &Database::read_only)
      .def_prop_ro("closed", &Database::closed);
}
