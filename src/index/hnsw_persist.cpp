// Persistence of the HNSW index: saving its state in the HnswImage layout and restoring an index
// from such an image by bulk copies, after checking every byte of it as untrusted input.
//
// Graph layout (all u32 little-endian unless noted; docs/format.md, "Snapshots"):
//   level-0 records: size x [count <= 2m, count ids, 2m - count zeros]
//   upper records:   for each node above level 0, ascending: node, level L in [1, kMaxLevel],
//                    then levels 1..L, each [count <= m, count ids, m - count zeros]
//   deleted flags:   size x u8, 0 or 1
#include <algorithm>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "index/hnsw_index.h"

namespace omendb {
namespace {

constexpr std::size_t kWordBytes = sizeof(std::uint32_t);
// Bytes of an upper record's fixed part: node, level.
constexpr std::size_t kUpperHeadBytes = 2 * kWordBytes;

std::span<const std::byte> as_bytes_of(const std::uint32_t* words, std::size_t count) noexcept {
  return {reinterpret_cast<const std::byte*>(words), count * kWordBytes};
}

// Word `i` of `bytes` (any alignment). Precondition: (i + 1) * 4 <= bytes.size().
std::uint32_t word(std::span<const std::byte> bytes, std::size_t i) noexcept {
  std::uint32_t value = 0;
  std::memcpy(&value, bytes.data() + i * kWordBytes, kWordBytes);
  return value;
}

Status corruption(std::string what) { return {StatusCode::kCorruption, std::move(what)}; }

// The saved form of a node's list on one level: the count, its ids, zeros up to max_degree.
// Writes 1 + max_degree words to `out`.
void save_list(const HnswGraph& graph, std::uint32_t node, int level, std::uint32_t* out) {
  std::fill_n(out, 1 + graph.max_degree(level), 0u);
  out[0] = graph.copy_neighbors(node, level, out + 1);
}

// Where the sections of a graph image lie, once their sizes are known to fit the bytes.
struct GraphSections {
  std::span<const std::byte> level0;
  std::span<const std::byte> upper;
  std::span<const std::byte> deleted;
};

std::string list_name(std::size_t node, int level) {
  return "graph: slot " + std::to_string(node) + " level " + std::to_string(level);
}

// Checks node's saved list on `level` (1 + max_degree words at word `first` of `bytes`):
// count <= max_degree, every id below `size`, zeros after the ids.
Status check_list(std::span<const std::byte> bytes, std::size_t first, std::uint32_t max_degree,
                  std::size_t size, std::size_t node, int level) {
  const std::uint32_t count = word(bytes, first);
  if (count > max_degree) {
    return corruption(list_name(node, level) + " holds " + std::to_string(count) +
                      " neighbours, more than " + std::to_string(max_degree));
  }
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::uint32_t id = word(bytes, first + 1 + i);
    if (id >= size) {
      return corruption(list_name(node, level) + " links to slot " + std::to_string(id) +
                        ", not below " + std::to_string(size) + " slots");
    }
  }
  for (std::uint32_t i = count; i < max_degree; ++i) {
    if (word(bytes, first + 1 + i) != 0) {
      return corruption(list_name(node, level) + " has a non-zero unused entry");
    }
  }
  return Status::ok();
}

// Checks every level-0 record of `level0` (size records of 1 + 2m words).
Status check_level0(std::span<const std::byte> level0, std::size_t size, std::uint32_t m) {
  const std::size_t record_words = 1 + 2 * std::size_t{m};
  for (std::size_t node = 0; node < size; ++node) {
    if (Status status = check_list(level0, node * record_words, 2 * m, size, node, 0);
        !status.is_ok()) {
      return status;
    }
  }
  return Status::ok();
}

// Reads the levels of the upper records in `upper` into `levels` (one per slot, 0 for nodes
// without a record), checking that records are whole, in ascending slot order, with levels in
// [1, kMaxLevel] and nothing after the last.
Status read_upper_levels(std::span<const std::byte> upper, std::uint32_t m,
                         std::vector<std::uint8_t>& levels) {
  const std::size_t size = levels.size();
  const std::size_t list_bytes = (1 + std::size_t{m}) * kWordBytes;
  std::size_t offset = 0;
  std::size_t next_node = 0;  // records must name nodes >= this
  for (std::size_t index = 0; offset < upper.size(); ++index) {
    const auto where = [index] { return "graph: upper-level record " + std::to_string(index); };
    if (upper.size() - offset < kUpperHeadBytes) return corruption(where() + " is cut short");
    const std::span<const std::byte> record = upper.subspan(offset);
    const std::uint32_t node = word(record, 0);
    const std::uint32_t level = word(record, 1);
    if (node < next_node || node >= size) {
      return corruption(where() + " names slot " + std::to_string(node) + ", not in [" +
                        std::to_string(next_node) + ", " + std::to_string(size) + ")");
    }
    if (level < 1 || level > static_cast<std::uint32_t>(HnswGraph::kMaxLevel)) {
      return corruption(where() + " (slot " + std::to_string(node) + ") has level " +
                        std::to_string(level) + ", not in [1, " +
                        std::to_string(HnswGraph::kMaxLevel) + "]");
    }
    if ((record.size() - kUpperHeadBytes) / list_bytes < level) {
      return corruption(where() + " is cut short");
    }
    levels[node] = static_cast<std::uint8_t>(level);
    next_node = std::size_t{node} + 1;
    offset += kUpperHeadBytes + level * list_bytes;
  }
  return Status::ok();
}

// Checks the lists of every upper record (whose framing read_upper_levels accepted): counts, ids,
// and that every neighbour on a level has lists on that level too.
Status check_upper_lists(std::span<const std::byte> upper, std::uint32_t m,
                         const std::vector<std::uint8_t>& levels) {
  const std::size_t list_words = 1 + std::size_t{m};
  std::size_t first = 0;  // word index of the current record
  while (first * kWordBytes < upper.size()) {
    const std::uint32_t node = word(upper, first);
    const auto level = static_cast<int>(word(upper, first + 1));
    for (int l = 1; l <= level; ++l) {
      const std::size_t list = first + 2 + static_cast<std::size_t>(l - 1) * list_words;
      if (Status status = check_list(upper, list, m, levels.size(), node, l); !status.is_ok()) {
        return status;
      }
      const std::uint32_t count = word(upper, list);
      for (std::uint32_t i = 0; i < count; ++i) {
        const std::uint32_t id = word(upper, list + 1 + i);
        if (levels[id] < l) {
          return corruption(list_name(node, l) + " links to slot " + std::to_string(id) +
                            ", which has no lists on that level");
        }
      }
    }
    first += 2 + static_cast<std::size_t>(level) * list_words;
  }
  return Status::ok();
}

// Checks that every flag is 0 or 1 and counts the ones.
Status count_deleted(std::span<const std::byte> flags, std::size_t& deleted) {
  deleted = 0;
  for (std::size_t slot = 0; slot < flags.size(); ++slot) {
    const auto flag = static_cast<std::uint8_t>(flags[slot]);
    if (flag > 1) {
      return corruption("graph: deleted flag of slot " + std::to_string(slot) + " is " +
                        std::to_string(flag) + ", not 0 or 1");
    }
    deleted += flag;
  }
  return Status::ok();
}

// Checks the entry point. With no live slot: none (slot 0, level -1), since deleting the last
// live node empties the graph. Otherwise a live slot whose level is the entry level, the highest
// level of any live node (deleted nodes may stand higher: the entry point moves off a deleted
// node to the highest live one).
Status check_entry(const HnswImage& image, const std::vector<std::uint8_t>& levels,
                   std::span<const std::byte> deleted_flags) {
  const auto live = [&](std::size_t slot) { return deleted_flags[slot] == std::byte{0}; };
  int top_live = -1;
  for (std::size_t slot = 0; slot < image.size; ++slot) {
    if (live(slot)) top_live = std::max<int>(top_live, levels[slot]);
  }
  const std::string entry = "graph: entry point (slot " + std::to_string(image.entry_slot) +
                            ", level " + std::to_string(image.entry_level) + ")";
  if (top_live < 0) {
    if (image.entry_level == -1 && image.entry_slot == 0) return Status::ok();
    return corruption(entry + " in a graph without live nodes");
  }
  if (image.entry_slot >= image.size) return corruption(entry + " is not a slot");
  if (!live(image.entry_slot) || image.entry_level != levels[image.entry_slot] ||
      image.entry_level != top_live) {
    return corruption(entry + " is not a live node of the top live level " +
                      std::to_string(top_live));
  }
  return Status::ok();
}

// Checks that every component of the `rows` stored vectors is finite (a NaN would break the
// ordering of distances that neighbour selection sorts by).
Status check_vectors(std::span<const std::byte> vectors, std::size_t rows, std::size_t dim) {
  constexpr std::uint32_t kExponent = 0x7f800000u;  // all ones: infinity or NaN
  for (std::size_t row = 0; row < rows; ++row) {
    const std::span<const std::byte> bytes = vectors.subspan(row * dim * kWordBytes);
    bool bad = false;
    for (std::size_t i = 0; i < dim; ++i) bad |= (word(bytes, i) & kExponent) == kExponent;
    if (bad) return corruption("vectors: row " + std::to_string(row) + " is not finite");
  }
  return Status::ok();
}

// Splits image.graph into its sections, checking the sizes: kCorruption when they do not fit.
Result<GraphSections> split_graph(const HnswImage& image, std::size_t dim, std::uint32_t m) {
  if (image.size > std::numeric_limits<std::uint32_t>::max()) {
    return corruption("graph: " + std::to_string(image.size) +
                      " slots, more than u32 slot numbers reach");
  }
  if (image.vectors.size() != image.size * dim * sizeof(float)) {
    return corruption("vectors: " + std::to_string(image.vectors.size()) + " bytes, not " +
                      std::to_string(image.size) + " rows of " + std::to_string(dim) + " floats");
  }
  const std::size_t level0_bytes = image.size * (1 + 2 * std::size_t{m}) * kWordBytes;
  if (image.graph.size() < level0_bytes + image.size) {
    return corruption("graph: " + std::to_string(image.graph.size()) + " bytes, too few for " +
                      std::to_string(image.size) + " slots");
  }
  GraphSections sections;
  sections.level0 = image.graph.first(level0_bytes);
  sections.upper =
      image.graph.subspan(level0_bytes, image.graph.size() - level0_bytes - image.size);
  sections.deleted = image.graph.last(image.size);
  return sections;
}

}  // namespace

void HnswIndex::save_vectors(const ByteSink& sink) const {
  const std::size_t count = size();
  const std::size_t mapped = std::min(count, vectors_.mapped_rows());
  const std::size_t row_bytes = space_.dim() * sizeof(float);
  if (mapped > 0) {  // packed in their file already: one pass, then out of resident memory again
    sink({reinterpret_cast<const std::byte*>(row(0)), mapped * row_bytes});
    vectors_.release_mapped_pages();
  }
  for (auto slot = static_cast<std::uint32_t>(mapped); slot < count; ++slot) {
    sink({reinterpret_cast<const std::byte*>(row(slot)), row_bytes});
  }
}

void HnswIndex::save_graph(const ByteSink& sink) const {
  const auto count = static_cast<std::uint32_t>(size());
  // Room for a level-0 record or the largest upper record.
  std::vector<std::uint32_t> words(std::max(graph_.saved_level0_record_words(),
                                            2 + HnswGraph::kMaxLevel * graph_.upper_list_words()));
  for (std::uint32_t node = 0; node < count; ++node) {
    save_list(graph_, node, 0, words.data());
    sink(as_bytes_of(words.data(), graph_.saved_level0_record_words()));
  }
  for (std::uint32_t node = 0; node < count; ++node) {
    const int level = graph_.level(node);
    if (level == 0) continue;
    words[0] = node;
    words[1] = static_cast<std::uint32_t>(level);
    for (int l = 1; l <= level; ++l) {
      save_list(graph_, node, l,
                words.data() + 2 + static_cast<std::size_t>(l - 1) * graph_.upper_list_words());
    }
    sink(
        as_bytes_of(words.data(), 2 + static_cast<std::size_t>(level) * graph_.upper_list_words()));
  }
  std::vector<std::byte> flags;
  flags.reserve(count);
  for (std::uint32_t slot = 0; slot < count; ++slot) {
    flags.push_back(std::byte{static_cast<std::uint8_t>(is_deleted(slot) ? 1 : 0)});
  }
  sink(flags);
}

Result<std::unique_ptr<HnswIndex>> HnswIndex::restore(Metric metric, std::size_t dim,
                                                      const HnswParams& params,
                                                      const HnswImage& image) {
  Result<GraphSections> split = split_graph(image, dim, params.m);
  if (!split.is_ok()) return split.status();
  const GraphSections& sections = split.value();
  const std::size_t size = image.size;
  std::vector<std::uint8_t> levels(size, 0);
  std::size_t deleted = 0;
  if (Status status = check_level0(sections.level0, size, params.m); !status.is_ok()) return status;
  if (Status status = read_upper_levels(sections.upper, params.m, levels); !status.is_ok()) {
    return status;
  }
  if (Status status = check_upper_lists(sections.upper, params.m, levels); !status.is_ok()) {
    return status;
  }
  if (Status status = count_deleted(sections.deleted, deleted); !status.is_ok()) return status;
  if (Status status = check_entry(image, levels, sections.deleted); !status.is_ok()) return status;
  if (Status status = check_vectors(image.vectors, size, dim); !status.is_ok()) return status;

  auto index = std::make_unique<HnswIndex>(metric, dim, params);
  index->copy_in(image, sections.level0, sections.upper, sections.deleted, levels);
  index->size_.store(size, std::memory_order_release);
  index->deleted_count_.store(deleted, std::memory_order_release);
  if (image.entry_level >= 0) index->store_entry({image.entry_slot, image.entry_level});
  return index;
}

void HnswIndex::copy_in(const HnswImage& image, std::span<const std::byte> level0,
                        std::span<const std::byte> upper, std::span<const std::byte> deleted,
                        std::span<const std::uint8_t> levels) {
  if (image.vectors_file && codes_) {
    vectors_.map_rows(image.vectors_file, reinterpret_cast<const float*>(image.vectors.data()),
                      image.size, image.map_floats);
  } else {
    vectors_.reserve_to_fill(image.size);
    vectors_.copy_in(0, image.vectors.data(), image.size);
  }
  graph_.reserve_to_fill(image.size);
  deleted_.reserve_to_fill(image.size);
  if (codes_) codes_->reserve_to_fill(image.size);
  encode_codes(0, image.size);      // codes are a function of the rows: derived, not stored
  vectors_.release_mapped_pages();  // checking and encoding paged the mapped rows in
  graph_.restore_level0(level0);
  const std::size_t list_bytes = graph_.upper_list_words() * kWordBytes;
  for (std::size_t offset = 0; offset < upper.size();) {
    const std::uint32_t node = word(upper, offset / kWordBytes);
    const std::size_t lists = levels[node] * list_bytes;
    graph_.restore_upper(node, levels[node], upper.subspan(offset + kUpperHeadBytes, lists));
    offset += kUpperHeadBytes + lists;
  }
  deleted_.copy_in(0, deleted.data(), image.size);
}

}  // namespace omendb
