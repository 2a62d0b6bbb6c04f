// The encoding of a collection's full-text settings (TextOptions), shared by the manifest
// (format 4 on) and the journal's create-collection records (docs/format.md, "Manifest"):
//   text := flags u32 (bit 0: text enabled; no other bit)
//           | if enabled: stemmer name | stop word count u32 | stop words | k1 f32 | b f32
//   name := length u32 | bytes (a stemmer name may be empty; a stop word may not)
// Integers are little-endian, floats IEEE 754 binary32.
//
// Thread safety: the functions keep no state.
#pragma once

#include <string>

#include "omendb/options.h"
#include "storage/byte_io.h"

namespace omendb::storage {

// Appends `text`. Cost: O(bytes of the stop words).
void put_text_options(const TextOptions& text, ByteWriter& out);

// Reads what put_text_options wrote into `text`. Returns "" or, on hostile input, what is wrong
// (a truncation, an unknown flag, a count larger than the bytes left could hold); never reads
// past the end or reserves before checking a count. The caller validates the options as a whole
// (CollectionOptions::validate). Cost: O(bytes read).
std::string get_text_options(ByteReader& in, TextOptions& text);

}  // namespace omendb::storage
