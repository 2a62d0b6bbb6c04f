// Conversions between Python objects and the C++ API's types, and the translation of a failed
// Status into the omendb exception named by its code. All functions need the GIL.
#pragma once

#include <nanobind/nanobind.h>

#include <cstdint>
#include <string>
#include <vector>

#include "filter/expression.h"
#include "omendb/metadata.h"
#include "omendb/status.h"

namespace omendb::python {

namespace nb = nanobind;

// Thrown by the bindings for a failed Status; the registered translator raises the matching
// omendb exception (DimensionError, DuplicateIdError, ...).
struct StatusError {
  Status status;
};

// Throws StatusError when `status` failed.
void throw_if_failed(const Status& status);

// Installs the translator of StatusError. Call once when the module loads.
void register_status_translator();

// A list (or other sequence) of str as UTF-8 strings; InvalidArgument names the first bad item.
std::vector<std::string> to_ids(nb::handle ids);

// A dict of str keys to None, bool, int, float, str or a list of str. `where` names the argument
// in error messages (e.g. "metadata[3]").
Metadata to_metadata(nb::handle dict, const std::string& where);

// A filter from `where`: a dict (Mongo-style) or a str (the string grammar of docs/filters.md).
// Throws StatusError(kFilterError) naming what is wrong.
FilterExpr to_filter(nb::handle where);

// A dict of the fields.
nb::dict to_dict(const Metadata& metadata);

// The documents of add()/upsert(): None (no record has one) or a list of one str or None per
// record, as UTF-8 texts and presence flags (the texts of absent ones are empty). InvalidArgument
// names the first item that is neither.
void to_documents(nb::handle documents, std::vector<std::string>& texts,
                  std::vector<std::uint8_t>& present);

// Appends the UTF-32 code points of a UTF-8 string (valid UTF-8, as produced from a Python str) to
// `out`, padded with zeros to `width` code points.
void append_utf32(std::string_view utf8, std::size_t width, std::vector<std::uint32_t>& out);
// Number of code points in a valid UTF-8 string.
std::size_t utf8_length(std::string_view utf8) noexcept;

}  // namespace omendb::python
