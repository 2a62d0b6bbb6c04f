#include "db/sparse_column.h"

#include "db/column_check.h"
#include "storage/byte_io.h"
#include "storage/sparse_rows_codec.h"

namespace omendb {
namespace {

constexpr std::size_t kFlushBytes = std::size_t{1} << 20;
constexpr std::size_t kEntryBytes = sizeof(std::uint32_t) + sizeof(float);

}  // namespace

SparseEntries sparse_entries(std::span<const std::uint32_t> indices,
                             std::span<const float> values) {
  SparseEntries entries(indices.size());
  for (std::size_t i = 0; i < indices.size(); ++i) entries[i] = {indices[i], values[i]};
  return entries;
}

SparseVector sparse_vector_of(const SparseEntries& entries) {
  SparseVector vector;
  vector.indices.reserve(entries.size());
  vector.values.reserve(entries.size());
  for (const text::SparseEntry& entry : entries) {
    vector.indices.push_back(entry.index);
    vector.values.push_back(entry.value);
  }
  return vector;
}

void save_sparse_rows(const SparseColumn& column, std::size_t slots,
                      const std::function<void(std::span<const std::byte>)>& sink) {
  std::vector<std::byte> buffer;
  storage::ByteWriter writer(buffer);
  for (std::size_t slot = 0; slot < slots; ++slot) {
    const bool present = slot < column.rows.size() && column.rows[slot].has_value();
    writer.put_u8(present ? 1 : 0);
    if (present) {
      writer.put_u32(static_cast<std::uint32_t>(column.rows[slot]->size()));
      for (const text::SparseEntry& entry : *column.rows[slot]) {
        writer.put_u32(entry.index);
        writer.put_f32s(std::span(&entry.value, 1));
      }
    }
    if (buffer.size() >= kFlushBytes) {
      sink(buffer);
      buffer.clear();
    }
  }
  if (!buffer.empty()) sink(buffer);
}

std::string restore_sparse_rows(std::span<const std::byte> bytes, std::size_t slots,
                                const HnswIndex& records, SparseColumn& column) {
  storage::ByteReader in(bytes);
  if (slots > in.remaining()) {
    return std::to_string(slots) + " slots need at least as many bytes, " +
           std::to_string(in.remaining()) + " present";
  }
  column.rows.assign(slots, std::nullopt);
  std::vector<std::uint32_t> indices;
  std::vector<float> values;
  for (std::size_t slot = 0; slot < slots; ++slot) {
    const std::string where = " of slot " + std::to_string(slot);
    std::uint8_t flag = 0;
    if (!in.get_u8(flag)) return "the flag" + where + " is missing";
    if (flag > 1) return "the flag" + where + " is not 0 or 1";
    if (flag == 0) continue;
    std::uint32_t count = 0;
    if (!in.get_u32(count) || count > in.remaining() / kEntryBytes) {
      return "the vector" + where + " runs past the end";
    }
    indices.resize(count);
    values.resize(count);
    for (std::uint32_t i = 0; i < count; ++i) {
      (void)in.get_u32(indices[i]);
      (void)in.get_f32s(std::span(&values[i], 1));
    }
    if (const std::string problem = storage::sparse_vector_problem(indices, values);
        !problem.empty()) {
      return "the vector" + where + ": " + problem;
    }
    if (records.is_deleted(static_cast<std::uint32_t>(slot))) {
      return "deleted slot " + std::to_string(slot) + " has a sparse vector";
    }
    column.rows[slot] = sparse_entries(indices, values);
  }
  if (in.remaining() != 0) return std::to_string(in.remaining()) + " trailing bytes";
  for (std::uint32_t slot = 0; slot < slots; ++slot) {
    // Slots increase and the vectors were checked, so add() succeeds.
    if (column.rows[slot]) (void)column.index.add(slot, *column.rows[slot]);
  }
  return "";
}

std::string check_sparse_column(const SparseColumn& column, const HnswIndex& records) {
  return check_column(
      records, column.rows.size(), column.index.slot_count(),
      [&](std::uint32_t slot) { return column.rows[slot].has_value(); },
      [&](std::uint32_t slot) { return column.index.is_live(slot); }, "a sparse vector",
      "sparse index");
}

}  // namespace omendb
