// The encoding of a collection's named vector fields, shared by the manifest (format 3 on) and
// the journal's create-collection records (docs/format.md, "Named vectors"):
//   fields := first field's name | further field count u32 | further fields
//   field  := name | dim u32 | metric u32 | m u32 | ef_construction u32 | quantization u32
//   name   := length u32 | bytes
//   sparse := sparse field count u32 | names        (after the text settings, format 5 on)
// Integers are little-endian; metric and quantization use the manifest's codes.
//
// Thread safety: the functions keep no state.
#pragma once

#include <string>

#include "omendb/options.h"
#include "storage/byte_io.h"

namespace omendb::storage {

// Appends options.vector_name and options.more_vectors. Cost: O(fields).
void put_vector_fields(const CollectionOptions& options, ByteWriter& out);

// Reads what put_vector_fields wrote into options.vector_name and options.more_vectors. Returns ""
// or, on hostile input, what is wrong (a truncation, an unknown code, a count larger than the
// bytes left could hold); it never reads past the end and reserves nothing before checking the
// count. The caller validates the options as a whole. Cost: O(bytes read).
std::string get_vector_fields(ByteReader& in, CollectionOptions& options);

// Appends options.sparse_vectors. Cost: O(fields).
void put_sparse_fields(const CollectionOptions& options, ByteWriter& out);

// Reads what put_sparse_fields wrote into options.sparse_vectors, as get_vector_fields reads.
std::string get_sparse_fields(ByteReader& in, CollectionOptions& options);

}  // namespace omendb::storage
