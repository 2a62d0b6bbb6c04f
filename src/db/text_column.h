// A collection's documents and their full-text index, and the snapshot encoding of the documents
// (docs/format.md, "Documents file" and "Text file").
//
// Documents encoding: slots x (flag u8: 1 = the record has a document | if 1: length u32 | UTF-8
// bytes); integers little-endian.
//
// Thread safety: as Generation's other parts (the collection's records lock).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "index/hnsw_index.h"
#include "text/text_index.h"

namespace omendb {

struct TextColumn {
  std::vector<std::optional<std::string>> documents;  // by slot; nothing: the record has none
  text::TextIndex index;                              // the documents of the live records, by slot
};

// Writes the documents of slots [0, slots) (a slot past documents.size() has none) to `sink`.
// Cost: one pass over the documents, in pieces of at most about 1 MiB.
void save_documents(const TextColumn& text, std::size_t slots,
                    const std::function<void(std::span<const std::byte>)>& sink);

// Reads what save_documents wrote for `slots` slots into text.documents, as hostile input:
// returns "" or what is wrong and where ("document of slot 7 runs past the end"); never reads out
// of bounds or reserves beyond the bytes present. Cost: O(bytes).
std::string restore_documents(std::span<const std::byte> bytes, std::size_t slots,
                              TextColumn& text);

// Whether `text` agrees with the records of `records` (the collection's first vector field,
// whose deleted flags say which records are deleted): a deleted record has no document, and a
// slot is live in the text index exactly when its record is live and has a document. Returns ""
// or the first disagreement. Cost: O(slots).
std::string check_text_column(const TextColumn& text, const HnswIndex& records);

}  // namespace omendb
