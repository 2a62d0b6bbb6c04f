// Metadata attached to a record: a small set of named values.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "omendb/status.h"

namespace omendb {

// null, bool, integer, float, string, or list of strings.
using Value =
    std::variant<std::monostate, bool, std::int64_t, double, std::string, std::vector<std::string>>;

struct Field {
  std::string key;
  Value value;
  friend bool operator==(const Field&, const Field&) = default;
};

// The fields of one record, sorted by key, keys unique.
using Metadata = std::vector<Field>;

// Sorts `fields` by key and checks them: keys non-empty and unique, floats finite.
// Cost: O(f log f) for f fields.
Status normalize_metadata(Metadata& fields);

}  // namespace omendb
