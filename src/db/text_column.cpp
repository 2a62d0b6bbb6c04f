#include "db/text_column.h"

#include "storage/byte_io.h"

namespace omendb {
namespace {

constexpr std::size_t kFlushBytes = std::size_t{1} << 20;

}  // namespace

void save_documents(const TextColumn& text, std::size_t slots,
                    const std::function<void(std::span<const std::byte>)>& sink) {
  std::vector<std::byte> buffer;
  storage::ByteWriter writer(buffer);
  for (std::size_t slot = 0; slot < slots; ++slot) {
    const bool present = slot < text.documents.size() && text.documents[slot].has_value();
    writer.put_u8(present ? 1 : 0);
    if (present) writer.put_string(*text.documents[slot]);
    if (buffer.size() >= kFlushBytes) {
      sink(buffer);
      buffer.clear();
    }
  }
  if (!buffer.empty()) sink(buffer);
}

std::string restore_documents(std::span<const std::byte> bytes, std::size_t slots,
                              TextColumn& text) {
  storage::ByteReader in(bytes);
  if (slots > in.remaining()) {
    return std::to_string(slots) + " slots need at least as many bytes, " +
           std::to_string(in.remaining()) + " present";
  }
  text.documents.assign(slots, std::nullopt);
  for (std::size_t slot = 0; slot < slots; ++slot) {
    std::uint8_t flag = 0;
    if (!in.get_u8(flag)) return "the flag of slot " + std::to_string(slot) + " is missing";
    if (flag > 1) return "slot " + std::to_string(slot) + " has a flag other than 0/1";
    if (flag == 0) continue;
    std::string_view document;
    if (!in.get_string(document)) {
      return "the document of slot " + std::to_string(slot) + " runs past the end";
    }
    text.documents[slot].emplace(document);
  }
  if (in.remaining() != 0) return std::to_string(in.remaining()) + " trailing bytes";
  return "";
}

std::string check_text_column(const TextColumn& text, const HnswIndex& records) {
  const std::size_t slots = records.size();
  if (text.documents.size() != slots) return "the documents do not cover the slots";
  if (text.index.slot_count() > slots) return "the text index has slots the collection has not";
  for (std::uint32_t slot = 0; slot < slots; ++slot) {
    const bool live = !records.is_deleted(slot);
    const bool has_document = text.documents[slot].has_value();
    if (!live && has_document) return "deleted slot " + std::to_string(slot) + " has a document";
    if (text.index.is_live(slot) != (live && has_document)) {
      return "slot " + std::to_string(slot) + " is " + (text.index.is_live(slot) ? "" : "not ") +
             "in the text index, but its record " + (live ? "is live" : "is deleted") +
             (has_document ? " with" : " without") + " a document";
    }
  }
  return "";
}

}  // namespace omendb
