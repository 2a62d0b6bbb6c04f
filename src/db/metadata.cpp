#include "omendb/metadata.h"

#include <algorithm>
#include <cmath>

namespace omendb {

Status normalize_metadata(Metadata& fields) {
  std::sort(fields.begin(), fields.end(),
            [](const Field& a, const Field& b) { return a.key < b.key; });
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const Field& field = fields[i];
    if (field.key.empty())
      return Status::invalid_argument("metadata keys must be non-empty strings");
    if (i > 0 && fields[i - 1].key == field.key) {
      return Status::invalid_argument("metadata key '" + field.key + "' appears twice");
    }
    if (const double* number = std::get_if<double>(&field.value);
        number && !std::isfinite(*number)) {
      return Status::invalid_argument("metadata value of '" + field.key + "' must be finite, got " +
                                      std::to_string(*number));
    }
  }
  return Status::ok();
}

}  // namespace omendb
