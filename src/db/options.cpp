#include "omendb/options.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "text/analyzer.h"
#include "text/bm25.h"

namespace omendb {

std::string_view metric_name(Metric metric) noexcept {
  switch (metric) {
    case Metric::kL2:
      return "l2";
    case Metric::kCosine:
      return "cosine";
    case Metric::kIp:
      return "ip";
  }
  return "unknown";
}

std::optional<Metric> parse_metric(std::string_view name) noexcept {
  for (Metric metric : {Metric::kL2, Metric::kCosine, Metric::kIp}) {
    if (metric_name(metric) == name) return metric;
  }
  return std::nullopt;
}

std::string_view quantization_name(Quantization quantization) noexcept {
  switch (quantization) {
    case Quantization::kNone:
      return "none";
    case Quantization::kSq8:
      return "sq8";
  }
  return "unknown";
}

std::optional<Quantization> parse_quantization(std::string_view name) noexcept {
  for (Quantization quantization : {Quantization::kNone, Quantization::kSq8}) {
    if (quantization_name(quantization) == name) return quantization;
  }
  return std::nullopt;
}

std::string_view sync_mode_name(SyncMode mode) noexcept {
  switch (mode) {
    case SyncMode::kFull:
      return "full";
    case SyncMode::kNormal:
      return "normal";
    case SyncMode::kOff:
      return "off";
  }
  return "unknown";
}

std::optional<SyncMode> parse_sync_mode(std::string_view name) noexcept {
  for (SyncMode mode : {SyncMode::kFull, SyncMode::kNormal, SyncMode::kOff}) {
    if (sync_mode_name(mode) == name) return mode;
  }
  return std::nullopt;
}

namespace {

// Ok when `name` can name a vector field; otherwise what is wrong with it.
std::string field_name_problem(std::string_view name) {
  if (name.empty()) return "is empty";
  if (name.size() > VectorFieldOptions::kMaxFieldNameBytes) {
    return "is " + std::to_string(name.size()) + " bytes long; the limit is " +
           std::to_string(VectorFieldOptions::kMaxFieldNameBytes);
  }
  for (const char c : name) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
    if (!allowed) return "may hold only letters, digits, '_', '-' and '.'";
  }
  return "";
}

// Ok, or kInvalidArgument naming the setting of `field` out of range. `prefix` starts messages
// ("" for the first field, which keeps the messages of a single-vector collection).
Status validate_field(const VectorFieldOptions& field, const std::string& prefix) {
  if (field.dim < 1 || field.dim > CollectionOptions::kMaxDim) {
    return Status::invalid_argument(prefix + "dim must be between 1 and " +
                                    std::to_string(CollectionOptions::kMaxDim) + ", got " +
                                    std::to_string(field.dim));
  }
  if (field.m < 2 || field.m > CollectionOptions::kMaxM) {
    return Status::invalid_argument(prefix + "m must be between 2 and " +
                                    std::to_string(CollectionOptions::kMaxM) + ", got " +
                                    std::to_string(field.m));
  }
  if (field.ef_construction < 1 || field.ef_construction > SearchOptions::kMaxEf) {
    return Status::invalid_argument(prefix + "ef_construction must be between 1 and " +
                                    std::to_string(SearchOptions::kMaxEf) + ", got " +
                                    std::to_string(field.ef_construction));
  }
  return Status::ok();
}

// Ok, or kInvalidArgument naming the text setting that is wrong.
Status validate_text(const TextOptions& text) {
  if (!text.enabled) {
    if (!text.stemmer.empty() || !text.stop_words.empty()) {
      return Status::invalid_argument("text stemmer and stop words need text enabled");
    }
    return Status::ok();
  }
  if (Status status = text::Bm25Params{text.k1, text.b}.validate(); !status.is_ok()) return status;
  return text::AnalyzerOptions{text.stemmer, text.stop_words}.validate();
}

}  // namespace

Status CollectionOptions::validate() const {
  if (Status status = validate_field(field(0), ""); !status.is_ok()) return status;
  if (field_count() > kMaxVectorFields) {
    return Status::invalid_argument("a collection holds at most " +
                                    std::to_string(kMaxVectorFields) + " vector fields, got " +
                                    std::to_string(field_count()));
  }
  for (std::size_t i = 0; i < field_count(); ++i) {
    const std::string name = i == 0 ? vector_name : more_vectors[i - 1].name;
    const std::string problem = field_name_problem(name);
    if (!problem.empty()) {
      return Status::invalid_argument("vector field name '" + name + "' " + problem);
    }
    if (field_number(name) != i) {
      return Status::invalid_argument("vector field name '" + name + "' is declared twice");
    }
    if (i == 0) continue;
    const Status status = validate_field(more_vectors[i - 1], "vector field '" + name + "': ");
    if (!status.is_ok()) return status;
  }
  if (field_count() + sparse_vectors.size() > kMaxVectorFields) {
    return Status::invalid_argument("a collection holds at most " +
                                    std::to_string(kMaxVectorFields) +
                                    " vector fields, sparse ones included");
  }
  for (std::size_t i = 0; i < sparse_vectors.size(); ++i) {
    const std::string& name = sparse_vectors[i];
    if (const std::string problem = field_name_problem(name); !problem.empty()) {
      return Status::invalid_argument("sparse vector field name '" + name + "' " + problem);
    }
    if (name == vector_name || field_number(name) != std::nullopt || sparse_number(name) != i) {
      return Status::invalid_argument("vector field name '" + name + "' is declared twice");
    }
  }
  return validate_text(text);
}

VectorFieldOptions CollectionOptions::field(std::size_t i) const {
  if (i > 0) return more_vectors[i - 1];
  return {.name = vector_name,
          .dim = dim,
          .metric = metric,
          .m = m,
          .ef_construction = ef_construction,
          .quantization = quantization};
}

std::optional<std::size_t> CollectionOptions::field_number(std::string_view name) const noexcept {
  if (name.empty() || name == vector_name) return 0;
  for (std::size_t i = 0; i < more_vectors.size(); ++i) {
    if (more_vectors[i].name == name) return i + 1;
  }
  return std::nullopt;
}

std::optional<std::size_t> CollectionOptions::sparse_number(std::string_view name) const noexcept {
  for (std::size_t i = 0; i < sparse_vectors.size(); ++i) {
    if (sparse_vectors[i] == name) return i;
  }
  return std::nullopt;
}

Status SearchOptions::validate() const {
  if (k < 1 || k > kMaxK) {
    return Status::invalid_argument("k must be between 1 and " + std::to_string(kMaxK) + ", got " +
                                    std::to_string(k));
  }
  if (ef > kMaxEf) {
    return Status::invalid_argument("ef must be at most " + std::to_string(kMaxEf) + ", got " +
                                    std::to_string(ef));
  }
  return Status::ok();
}

Status FusionOptions::validate(std::size_t signals) const {
  if (!(rrf_k > 0) || !std::isfinite(rrf_k)) {
    return Status::invalid_argument("fusion rrf_k must be a finite number > 0, got " +
                                    std::to_string(rrf_k));
  }
  if (!weights.empty() && weights.size() != signals) {
    return Status::invalid_argument("fusion weights must be one per signal: " +
                                    std::to_string(signals) + " signals, " +
                                    std::to_string(weights.size()) + " weights");
  }
  for (const double weight : weights) {
    if (!(weight >= 0) || !std::isfinite(weight)) {
      return Status::invalid_argument("fusion weights must be finite and >= 0, got " +
                                      std::to_string(weight));
    }
  }
  if (candidates > SearchOptions::kMaxK) {
    return Status::invalid_argument("fusion candidates must be at most " +
                                    std::to_string(SearchOptions::kMaxK));
  }
  return Status::ok();
}

std::size_t FusionOptions::candidates_for(std::size_t k) const noexcept {
  return candidates != 0 ? std::max(candidates, k) : std::max<std::size_t>(2 * k, 64);
}

std::size_t SearchOptions::effective_ef() const noexcept { return std::max(ef == 0 ? 64 : ef, k); }

}  // namespace omendb
