#include "omendb/options.h"

#include <algorithm>
#include <string>

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

Status CollectionOptions::validate() const {
  if (dim < 1 || dim > kMaxDim) {
    return Status::invalid_argument("dim must be between 1 and " + std::to_string(kMaxDim) +
                                    ", got " + std::to_string(dim));
  }
  if (m < 2 || m > kMaxM) {
    return Status::invalid_argument("m must be between 2 and " + std::to_string(kMaxM) + ", got " +
                                    std::to_string(m));
  }
  if (ef_construction < 1 || ef_construction > SearchOptions::kMaxEf) {
    return Status::invalid_argument("ef_construction must be between 1 and " +
                                    std::to_string(SearchOptions::kMaxEf) + ", got " +
                                    std::to_string(ef_construction));
  }
  return Status::ok();
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

std::size_t SearchOptions::effective_ef() const noexcept { return std::max(ef == 0 ? 64 : ef, k); }

}  // namespace omendb
