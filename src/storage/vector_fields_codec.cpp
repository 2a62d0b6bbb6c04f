#include "storage/vector_fields_codec.h"

#include <cstdint>

#include "storage/manifest.h"

namespace omendb::storage {
namespace {

constexpr std::size_t kMinFieldBytes = 4 + 1 + 5 * 4;  // name length, one byte, five u32
constexpr std::size_t kMinNameBytes = 4 + 1;           // name length, one byte

}  // namespace

void put_vector_fields(const CollectionOptions& options, ByteWriter& out) {
  out.put_string(options.vector_name);
  out.put_u32(static_cast<std::uint32_t>(options.more_vectors.size()));
  for (const VectorFieldOptions& field : options.more_vectors) {
    out.put_string(field.name);
    out.put_u32(static_cast<std::uint32_t>(field.dim));
    out.put_u32(manifest::metric_code(field.metric));
    out.put_u32(field.m);
    out.put_u32(field.ef_construction);
    out.put_u32(manifest::quantization_code(field.quantization));
  }
}

std::string get_vector_fields(ByteReader& in, CollectionOptions& options) {
  std::string_view name;
  std::uint32_t count = 0;
  if (!in.get_string(name)) return "the first vector field's name is truncated";
  options.vector_name = name;
  if (!in.get_u32(count)) return "the vector field count is truncated";
  if (count > in.remaining() / kMinFieldBytes) {
    return std::to_string(count) + " vector fields do not fit in the " +
           std::to_string(in.remaining()) + " bytes left";
  }
  options.more_vectors.assign(count, {});
  for (VectorFieldOptions& field : options.more_vectors) {
    std::uint32_t dim = 0;
    std::uint32_t metric = 0;
    std::uint32_t quantization = 0;
    if (!in.get_string(name) || !in.get_u32(dim) || !in.get_u32(metric) || !in.get_u32(field.m) ||
        !in.get_u32(field.ef_construction) || !in.get_u32(quantization)) {
      return "a vector field is truncated";
    }
    field.name = name;
    field.dim = dim;
    const std::optional<Metric> known_metric = manifest::metric_of_code(metric);
    if (!known_metric)
      return "vector field '" + field.name + "' has unknown metric code " + std::to_string(metric);
    field.metric = *known_metric;
    const std::optional<Quantization> known = manifest::quantization_of_code(quantization);
    if (!known)
      return "vector field '" + field.name + "' has unknown quantization code " +
             std::to_string(quantization);
    field.quantization = *known;
  }
  return "";
}

void put_sparse_fields(const CollectionOptions& options, ByteWriter& out) {
  out.put_u32(static_cast<std::uint32_t>(options.sparse_vectors.size()));
  for (const std::string& name : options.sparse_vectors) out.put_string(name);
}

std::string get_sparse_fields(ByteReader& in, CollectionOptions& options) {
  std::uint32_t count = 0;
  if (!in.get_u32(count)) return "the sparse field count is truncated";
  if (count > in.remaining() / kMinNameBytes) {
    return std::to_string(count) + " sparse fields do not fit in the " +
           std::to_string(in.remaining()) + " bytes left";
  }
  options.sparse_vectors.assign(count, {});
  for (std::string& name : options.sparse_vectors) {
    std::string_view text;
    if (!in.get_string(text)) return "a sparse field name is truncated";
    name = text;
  }
  return "";
}

}  // namespace omendb::storage
