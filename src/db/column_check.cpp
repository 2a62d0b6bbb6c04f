#include "db/column_check.h"

namespace omendb {

std::string check_column(const HnswIndex& records, std::size_t rows, std::uint64_t index_slots,
                         const std::function<bool(std::uint32_t)>& has_row,
                         const std::function<bool(std::uint32_t)>& indexed,
                         std::string_view value, std::string_view index) {
  const std::size_t slots = records.size();
  if (rows != slots) return "the " + std::string(index) + "'s column does not cover the slots";
  if (index_slots > slots) return "the " + std::string(index) + " has slots the collection has not";
  for (std::uint32_t slot = 0; slot < slots; ++slot) {
    const bool live = !records.is_deleted(slot);
    const bool present = has_row(slot);
    if (!live && present) {
      return "deleted slot " + std::to_string(slot) + " has " + std::string(value);
    }
    if (indexed(slot) != (live && present)) {
      return "slot " + std::to_string(slot) + " is " + (indexed(slot) ? "" : "not ") + "in the " +
             std::string(index) + ", but its record " + (live ? "is live" : "is deleted") +
             (present ? " with " : " without ") + std::string(value);
    }
  }
  return "";
}

}  // namespace omendb
