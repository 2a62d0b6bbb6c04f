#include "storage/sparse_rows_codec.h"

#include <cmath>
#include <limits>
#include <numeric>

#include "storage/codec_checks.h"

namespace omendb::storage {
namespace {

constexpr std::string_view kBatchContext = "write batch";
constexpr std::size_t kMaxU32 = std::numeric_limits<std::uint32_t>::max();

}  // namespace

std::string sparse_vector_problem(std::span<const std::uint32_t> indices,
                                  std::span<const float> values) {
  if (indices.size() != values.size()) {
    return std::to_string(indices.size()) + " indices but " + std::to_string(values.size()) +
           " values";
  }
  for (std::size_t i = 0; i < indices.size(); ++i) {
    if (i > 0 && indices[i] <= indices[i - 1]) {
      return "indices must strictly increase: " + std::to_string(indices[i]) + " follows " +
             std::to_string(indices[i - 1]);
    }
    if (!std::isfinite(values[i])) {
      return "the value of index " + std::to_string(indices[i]) + " is not finite";
    }
  }
  return "";
}

std::string sparse_rows_problem(const SparseRows& rows, std::size_t count) {
  if (!rows.present.empty() && rows.present.size() != count) {
    return std::to_string(rows.present.size()) + " presence flags for " + std::to_string(count) +
           " records";
  }
  std::size_t present = rows.present.empty() ? count : 0;
  for (const std::uint8_t flag : rows.present) {
    if (flag > 1) return "a presence flag other than 0/1";
    present += flag;
  }
  if (rows.lengths.size() != present) {
    return std::to_string(rows.lengths.size()) + " lengths for " + std::to_string(present) +
           " present records";
  }
  const std::uint64_t total =
      std::accumulate(rows.lengths.begin(), rows.lengths.end(), std::uint64_t{0});
  if (total != rows.indices.size() || rows.values.size() != rows.indices.size()) {
    return "the lengths add up to " + std::to_string(total) + " entries, but there are " +
           std::to_string(rows.indices.size()) + " indices and " +
           std::to_string(rows.values.size()) + " values";
  }
  std::size_t offset = 0;
  std::size_t row = 0;
  for (std::size_t i = 0; i < count; ++i) {
    if (!rows.present.empty() && rows.present[i] == 0) continue;
    const std::size_t length = rows.lengths[row++];
    const std::string problem = sparse_vector_problem(rows.indices.subspan(offset, length),
                                                      rows.values.subspan(offset, length));
    if (!problem.empty()) return "record " + std::to_string(i) + ": " + problem;
    offset += length;
  }
  return "";
}

Status check_sparse_blocks(std::span<const SparseRows> blocks, std::size_t count,
                           std::size_t fields) {
  for (std::size_t b = 0; b < blocks.size(); ++b) {
    const SparseRows& rows = blocks[b];
    const std::string name = "sparse field " + std::to_string(rows.field);
    if (rows.field >= fields || (b > 0 && rows.field <= blocks[b - 1].field)) {
      return Status::invalid_argument(name + " is unknown or not after the field before it");
    }
    if (rows.indices.size() > kMaxU32) return Status::invalid_argument(name + " is too large");
    if (const std::string problem = sparse_rows_problem(rows, count); !problem.empty()) {
      return Status::invalid_argument(name + ": " + problem);
    }
  }
  return Status::ok();
}

void put_sparse_blocks(std::span<const SparseRows> blocks, std::size_t count, ByteWriter& out) {
  out.put_u32(static_cast<std::uint32_t>(blocks.size()));
  for (const SparseRows& rows : blocks) {
    out.put_u32(static_cast<std::uint32_t>(rows.field));
    out.put_u32(static_cast<std::uint32_t>(rows.lengths.size()));
    for (std::size_t i = 0; i < count; ++i) out.put_u8(rows.present.empty() ? 1 : rows.present[i]);
    for (const std::uint32_t length : rows.lengths) out.put_u32(length);
    for (const std::uint32_t index : rows.indices) out.put_u32(index);
    out.put_f32s(rows.values);
  }
}

Status get_sparse_blocks(ByteReader& in, std::uint32_t count, std::size_t fields,
                         std::vector<DecodedSparseBlock>& out) {
  const std::size_t count_at = in.offset();
  std::uint32_t blocks = 0;
  if (!in.get_u32(blocks)) return corrupt(kBatchContext, count_at, "sparse block count is missing");
  if (blocks == 0 || blocks > fields) {
    return corrupt(kBatchContext, count_at,
                   "sparse block count is " + std::to_string(blocks) + "; the collection has " +
                       std::to_string(fields) + " sparse fields");
  }
  out.resize(blocks);
  for (std::uint32_t b = 0; b < blocks; ++b) {
    DecodedSparseBlock& block = out[b];
    const std::size_t at = in.offset();
    std::uint32_t present_count = 0;
    if (!in.get_u32(block.field) || !in.get_u32(present_count)) {
      return corrupt(kBatchContext, at, "sparse block header runs past the end");
    }
    const std::string name = "sparse field " + std::to_string(block.field);
    if (block.field >= fields || (b > 0 && block.field <= out[b - 1].field)) {
      return corrupt(kBatchContext, at, name + " is out of order or unknown");
    }
    if (count > in.remaining() || present_count > count ||
        present_count > (in.remaining() - count) / sizeof(std::uint32_t)) {
      return corrupt(kBatchContext, at + 4,
                     name + ": " + std::to_string(count) + " flags and " +
                         std::to_string(present_count) + " lengths do not fit in " + left(in));
    }
    block.present.resize(count);
    block.lengths.resize(present_count);
    if (!in.get_u8s(block.present)) return corrupt(kBatchContext, in.offset(), name + " flags");
    std::uint64_t entries = 0;
    for (std::uint32_t& length : block.lengths) {
      if (!in.get_u32(length)) return corrupt(kBatchContext, in.offset(), name + " lengths");
      entries += length;
    }
    const std::size_t entries_at = in.offset();
    if (entries > in.remaining() / (sizeof(std::uint32_t) + sizeof(float))) {
      return corrupt(kBatchContext, entries_at,
                     name + ": " + std::to_string(entries) + " entries do not fit in " + left(in));
    }
    block.indices.resize(entries);
    block.values.resize(entries);
    for (std::uint32_t& index : block.indices) (void)in.get_u32(index);
    (void)in.get_f32s(block.values);
    if (const std::string problem = sparse_rows_problem(block.rows(), count); !problem.empty()) {
      return corrupt(kBatchContext, entries_at, name + ": " + problem);
    }
  }
  return Status::ok();
}

}  // namespace omendb::storage
