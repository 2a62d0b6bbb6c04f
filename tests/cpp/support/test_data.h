// Seeded data for the C++ tests: clustered vectors and the real sets of ../shared/data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace omendb::testing {

// `n` rows of `dim` floats around `clusters` Gaussian centres (row-major).
inline std::vector<float> clustered_vectors(std::size_t n, std::size_t dim, std::size_t clusters,
                                            std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> centres(clusters * dim);
  for (float& x : centres) x = 4.0f * normal(rng);
  std::vector<float> rows(n * dim);
  std::uniform_int_distribution<std::size_t> pick(0, clusters - 1);
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t c = pick(rng);
    for (std::size_t j = 0; j < dim; ++j) rows[i * dim + j] = centres[c * dim + j] + normal(rng);
  }
  return rows;
}

// Where ../shared/data lives (OMENDB_DATA_DIR overrides the build-time default).
inline std::filesystem::path shared_data_dir() {
  if (const char* dir = std::getenv("OMENDB_DATA_DIR")) return dir;
  return OMENDB_SHARED_DATA_DIR;
}

// Reads a .fvecs (or, with T = int32_t, .ivecs) file: rows of [int32 dim, dim values].
// Nothing when the file is missing.
template <class T>
std::optional<std::vector<T>> read_vecs(const std::filesystem::path& path, std::size_t& dim) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::vector<T> values;
  std::int32_t row_dim = 0;
  while (in.read(reinterpret_cast<char*>(&row_dim), sizeof row_dim)) {
    dim = static_cast<std::size_t>(row_dim);
    const std::size_t start = values.size();
    values.resize(start + dim);
    in.read(reinterpret_cast<char*>(values.data() + start),
            static_cast<std::streamsize>(dim * sizeof(T)));
  }
  return values;
}

}  // namespace omendb::testing
