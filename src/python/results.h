// What searches and get() return to Python: the Hit and Record classes, and the conversions of
// the engine's hits and records into them. All functions need the GIL.
#pragma once

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "omendb/collection.h"

namespace omendb::python {

namespace nb = nanobind;

// One stored record as Python sees it (from get()).
struct PyRecord {
  nb::str id;
  nb::object vector;  // float32 NumPy array of dim values: the first vector field
  nb::dict metadata;
  nb::dict vectors;   // every vector field the record has, by name (the first one included);
                      // a sparse field's vector as a dict {index: weight}
  nb::object document;  // str, or None when the record has no document
};

// One search result as Python sees it. Its metadata dict is built on first access (metadata_of):
// most callers read ids and distances only, and a dict per hit was a fifth of the fixed cost of a
// search() call.
struct PyHit {
  nb::str id;
  float distance;
  Metadata fields;      // the metadata until the dict is built
  nb::object metadata;  // the dict, once built (the same object on every later access)
  float score;          // BM25 or fused score (text and hybrid searches); -distance otherwise
  std::optional<std::string> document;  // the record's document, in a collection with text
};

// The hit's metadata dict, built from its fields on first access.
nb::object metadata_of(PyHit& hit);

// A NumPy array that owns `values` (moved to the heap and freed with the array).
template <class T>
nb::ndarray<nb::numpy, T> owning_array(std::vector<T>&& values,
                                       std::initializer_list<std::size_t> shape) {
  auto* owned = new std::vector<T>(std::move(values));
  nb::capsule owner(owned, [](void* p) noexcept { delete static_cast<std::vector<T>*>(p); });
  return nb::ndarray<nb::numpy, T>(owned->data(), shape, owner);
}

// A Python Record for a record of a collection built with `options`; its vectors become NumPy
// arrays without a copy.
PyRecord to_python(Record&& record, const CollectionOptions& options);

// `hits` as a list of Hit objects. The Hit type is looked up once per call and each instance is
// built in place (not cast from a temporary, which looks the type up and moves the hit again):
// the list is most of the fixed cost of a small search. Cost per hit: an instance and its id str.
nb::list hit_list(std::vector<Hit>& hits);

// Registers the Hit and Record classes in `m`.
void bind_results(nb::module_& m);

}  // namespace omendb::python
