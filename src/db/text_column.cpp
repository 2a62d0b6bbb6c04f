#include "db/text_column.h"

#include "db/column_check.h"
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
  return check_column(
      records, text.documents.size(), text.index.slot_count(),
      [&](std::uint32_t slot) { return text.documents[slot].has_value(); },
      [&](std::uint32_t slot) { return text.index.is_live(slot); }, "a document", "text index");
}

}  // namespace omendb
