#include "python/results.h"

#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>

#include "python/convert.h"

namespace omendb::python {

nb::object metadata_of(PyHit& hit) {
  if (!hit.metadata.is_valid()) {
    hit.metadata = to_dict(hit.fields);
    hit.fields = {};
  }
  return hit.metadata;
}

PyRecord to_python(Record&& record, const CollectionOptions& options) {
  const std::size_t dim = record.vector.size();
  PyRecord result{nb::str(record.id.data(), record.id.size()),
                  nb::cast(owning_array(std::move(record.vector), {dim})),
                  to_dict(record.metadata), nb::dict(), nb::none()};
  result.vectors[options.vector_name.c_str()] = result.vector;
  for (std::size_t i = 0; i < record.more_vectors.size(); ++i) {
    std::optional<std::vector<float>>& vector = record.more_vectors[i];
    if (!vector) continue;
    const std::size_t field_dim = vector->size();
    result.vectors[options.more_vectors[i].name.c_str()] =
        nb::cast(owning_array(std::move(*vector), {field_dim}));
  }
  for (std::size_t i = 0; i < record.sparse.size(); ++i) {
    if (!record.sparse[i]) continue;
    nb::dict weights;
    const SparseVector& sparse = *record.sparse[i];
    for (std::size_t e = 0; e < sparse.indices.size(); ++e) {
      weights[nb::int_(sparse.indices[e])] = nb::float_(sparse.values[e]);
    }
    result.vectors[options.sparse_vectors[i].c_str()] = weights;
  }
  if (record.document) {
    result.document = nb::str(record.document->data(), record.document->size());
  }
  return result;
}

nb::list hit_list(std::vector<Hit>& hits) {
  const nb::handle type = nb::type<PyHit>();
  nb::list result = nb::steal<nb::list>(PyList_New(static_cast<Py_ssize_t>(hits.size())));
  for (std::size_t i = 0; i < hits.size(); ++i) {
    nb::object instance = nb::inst_alloc(type);
    new (nb::inst_ptr<PyHit>(instance))
        PyHit{nb::str(hits[i].id.data(), hits[i].id.size()), hits[i].distance,
              std::move(hits[i].metadata),                   nb::object(),
              hits[i].score,                                 std::move(hits[i].document)};
    nb::inst_mark_ready(instance);
    PyList_SET_ITEM(result.ptr(), static_cast<Py_ssize_t>(i), instance.release().ptr());
  }
  return result;
}

void bind_results(nb::module_& m) {
  nb::class_<PyHit>(m, "Hit",
                    "One search result: id, distance (smaller is closer), score (BM25 or fused "
                    "for text and hybrid searches, -distance otherwise), metadata and document.")
      .def_ro("id", &PyHit::id)
      .def_ro("distance", &PyHit::distance)
      .def_ro("score", &PyHit::score)
      .def_ro("document", &PyHit::document)
      .def_prop_ro("metadata", &metadata_of)
      .def("__repr__", [](PyHit& hit) {
        return nb::str("Hit(id={!r}, distance={}, metadata={!r})")
            .format(hit.id, hit.distance, metadata_of(hit));
      });

  nb::class_<PyRecord>(m, "Record",
                       "A stored record: id, vector (float32, as stored), metadata, vectors (every "
                       "vector field it has) and document.")
      .def_ro("id", &PyRecord::id)
      .def_ro("vector", &PyRecord::vector)
      .def_ro("metadata", &PyRecord::metadata)
      .def_ro("vectors", &PyRecord::vectors)
      .def_ro("document", &PyRecord::document)
      .def("__repr__", [](const PyRecord& record) {
        return nb::str("Record(id={!r}, metadata={!r})").format(record.id, record.metadata);
      });
}

}  // namespace omendb::python
