// A hierarchical navigable small world graph (Malkov & Yashunin) over a VectorStore, with the
// neighbour-selection heuristic, parallel batch insertion and best-first search. Collections
// small enough that a scan is as fast are searched exactly.
//
// Slots: the index holds slots [0, size()). A writer first writes rows with write_rows(), makes
// them visible with publish() (exact search sees them from then on) and then link()s them into
// the graph (graph search reaches them from then on).
//
// Thread safety: one writer at a time (write_rows, publish, link); any number of concurrent
// searches, also while the writer runs. A search sees the slots published when it started.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <utility>
#include <vector>

#include "collections/row_arena.h"
#include "collections/top_k.h"
#include "index/hnsw_graph.h"
#include "index/scorers.h"
#include "index/space.h"
#include "index/vector_store.h"
#include "index/workspace.h"
#include "omendb/status.h"
#include "quant/sq8.h"

namespace omendb {

class ThreadPool;

// An index's state as HnswIndex::save_vectors() and save_graph() write it and HnswIndex::restore()
// reads it back: views of raw little-endian bytes (a mapped file, say; no alignment needed).
// Byte layout: docs/format.md, "Snapshots" (the bodies of the vectors and graph files).
struct HnswImage {
  std::size_t size = 0;                // slots
  std::uint32_t entry_slot = 0;        // entry_point().first; 0 when the graph is empty
  int entry_level = -1;                // entry_point().second; -1 when the graph is empty
  std::span<const std::byte> vectors;  // size rows of dim f32 as stored (prepared), packed
  std::span<const std::byte> graph;    // level-0 records, upper-level records, deleted flags
  // The mapped file holding `vectors`, or null. When set, a quantized index serves those rows
  // from it (keeping it mapped) instead of copying them: its floats are then read through the
  // page cache, and only the codes, the graph and later rows are held in memory.
  std::shared_ptr<const storage::MappedFile> vectors_file;
  // With vectors_file: re-ranks read the mapped rows through the map (VectorStore::read_row).
  bool map_floats = false;
};

struct HnswParams {
  std::uint32_t m = 16;                   // links per node above level 0; 2m at level 0
  std::uint32_t ef_construction = 100;    // candidate list size while inserting
  std::uint64_t seed = 42;                // seeds each node's level (a function of seed and slot)
  std::size_t exact_search_below = 2048;  // searches of fewer slots scan them all instead
  Quantization quantization = Quantization::kNone;  // kSq8: walks run on 8-bit codes
  // A batch of at least kLocalityMinBatch rows linked into a graph whose walked data (the codes,
  // or the floats, and the level-0 lists) exceeds locality_order_min_bytes is inserted in an
  // order with locality (order_for_locality in index/insert_order.h), if the rows linked before
  // its regions (the graph before the batch and the batch's sample) number at least
  // locality_order_min_linked. Clustered 1,000,000 x 128 from scratch (50,000 linked first), sq8,
  // 2 threads: 1.67x the build speed, recall@10 at ef=64 0.981 against 0.978. At 100,000 x 768
  // (84 MiB walked in sq8, 317 MiB in the float mode; 5,000 linked first, 20 a region) it built
  // 1.2-1.4x faster but lost recall: 0.009 at ef=16 in sq8, and in the float mode 0.992 against
  // 0.998 at ef=64 (suite, 2026-12-04). The row threshold, 100 a region, lies between the two
  // sizes measured.
  std::size_t locality_order_min_bytes = std::size_t{128} << 20;
  std::size_t locality_order_min_linked = 25'600;
};

class HnswIndex {
 public:
  HnswIndex(Metric metric, std::size_t dim, const HnswParams& params);
  ~HnswIndex();

  const Space& space() const noexcept { return space_; }
  const HnswParams& params() const noexcept { return params_; }
  // Slots visible to searches. Cost: one atomic load.
  std::size_t size() const noexcept { return size_.load(std::memory_order_acquire); }

  // Writes `count` rows of dim floats to slots [size(), size() + count), prepared for the metric.
  // They stay invisible until publish(). Writer only. Throws std::bad_alloc (index unchanged).
  void write_rows(std::span<const float> rows, std::size_t count);
  // Makes slots [0, new_size) visible to searches. Writer only; new_size covers written rows only.
  void publish(std::size_t new_size) noexcept;
  // Links slots [first, first + count) into the graph, spread over `pool`; a slot deleted already
  // (a field its record lacks) gets an empty level-0 node and stays out of every list. A large
  // batch into a large graph goes in an order with locality (HnswParams::locality_order_min_bytes
  // and locality_order_min_linked). Writer only; the slots must be published. Cost:
  // O(count * ef_construction * log(size)) distance computations.
  void link(std::uint32_t first, std::size_t count, ThreadPool& pool);

  // Slots visible and not deleted. Cost: two atomic loads.
  std::size_t live_size() const noexcept {
    return size() - deleted_count_.load(std::memory_order_acquire);
  }
  // True once mark_deleted(slot) ran. Lock-free.
  bool is_deleted(std::uint32_t slot) const noexcept {
    return std::atomic_ref<std::uint8_t>(
               *const_cast<RowArena&>(deleted_).row_as<std::uint8_t>(slot))
               .load(std::memory_order_acquire) != 0;
  }
  // Starts loading the flag is_deleted(slot) reads into cache.
  void prefetch_deleted_flag(std::uint32_t slot) const noexcept { prefetch_line(deleted_.row(slot)); }
  // Makes searches skip `slot` from now on (it still guides graph walks until repaired).
  // Writer only; precondition: the slot was written (write_rows) and is not deleted yet.
  void mark_deleted(std::uint32_t slot) noexcept;
  // Relinks the live neighbours of deleted `slots` around them, spread over `pool`: each such
  // neighbour that links to a deleted node gets that node's live neighbours as candidates and keeps
  // the best by the heuristic; a deleted entry point moves to a live node. Writer only. Cost:
  // O(slots * m^2) distance computations, plus O(size) when the entry point was deleted.
  void repair(std::span<const std::uint32_t> slots, ThreadPool& pool);

  // A copy of this index without its deleted slots, and kept[new slot] = old slot.
  struct Compacted {
    std::unique_ptr<HnswIndex> index;
    std::vector<std::uint32_t> kept;
  };
  // Unlinks every deleted node from the graph (the source stays searchable and gets no worse),
  // then copies the live slots in order, with their vectors and links, to a new dense index.
  // Writer only. Cost: O(size * m) plus O(deleted links * m^2) distance computations; memory for
  // a second copy of the live part.
  Compacted compacted(ThreadPool& pool);
  // As compacted(), but keeps exactly the slots `kept` (increasing, each < size()), renumbered
  // 0, 1, ... in that order: one field of a collection compacted to the numbering of another. A
  // kept slot deleted here stays deleted, with its row and no links; a live slot not kept is
  // dropped. Writer only; same cost.
  std::unique_ptr<HnswIndex> compacted_to(std::span<const std::uint32_t> kept, ThreadPool& pool);

  // Links in again, as an insert would, every live node that graph search may fail to return:
  // those not reachable from the entry point on level 0 (pruning dropped their last incoming link),
  // those with fewer than kMinInDegree incoming or kMinOutDegree outgoing live links, and those
  // with fewer than kFewInLinks incoming links and none from their nearest neighbour. Returns
  // how many it relinked; afterwards every live node is reachable (checked again, up to
  // kReconnectRounds). Runs by itself once the inserts and deletes since the last run reach
  // 1/kReconnectEvery of the size, and at the end of compaction. Writer only; searches may run.
  // Cost: two passes over the level-0 lists (O(size * m)), plus one insert's work per relinked
  // node (0.05% of nodes on 16-d Gaussian data, 1-2% on 128-d), spread over `pool`.
  std::size_t reconnect_weak(ThreadPool& pool);

  // The k nearest published slots to `query` (dim floats, not yet prepared), best first, in `out`.
  // Graph search with candidate list `ef` (>= k), or an exact scan when `exact` or when fewer than
  // params().exact_search_below slots are visible. Allocation-free once warm.
  void search(std::span<const float> query, std::size_t k, std::size_t ef, bool exact,
              std::vector<Neighbor>& out) const;

  // Says whether a filtered search may return a slot. Called from the searching thread only.
  using SlotFilter = std::function<bool(std::uint32_t slot)>;

  // The k nearest published, live slots among `slots` (any order), by exact scan. Cost: one
  // distance per slot. For filters that match few slots.
  void search_slots(std::span<const float> query, std::size_t k,
                    std::span<const std::uint32_t> slots, std::vector<Neighbor>& out) const;

  // The k nearest published, live slots that `matches` accepts, by a graph walk that keeps only
  // matching nodes in its candidate list (size ef) and looks through non-matching neighbours to
  // their neighbours. May return fewer than k even when k match (the caller's planner then scans);
  // callers raise ef as the filter's selectivity falls. Cost: O(ef * m^2) predicate calls and
  // O(ef * m) distances at most.
  void search_filtered(std::span<const float> query, std::size_t k, std::size_t ef,
                       const SlotFilter& matches, std::vector<Neighbor>& out) const;

  // search() for `count` queries (rows of dim floats) spread over `pool`; out[i] gets query i's
  // hits.
  void search_batch(std::span<const float> queries, std::size_t count, std::size_t k,
                    std::size_t ef, bool exact, ThreadPool& pool,
                    std::vector<std::vector<Neighbor>>& out) const;

  // The stored (prepared) row of a slot. Precondition: slot < size().
  const float* row(std::uint32_t slot) const noexcept { return vectors_.row(slot); }

  // Bytes allocated for vectors and graph.
  std::size_t memory_bytes() const noexcept;

  // --- Persistence (hnsw_persist.cpp): the state a snapshot stores, in HnswImage's layout.
  // Receives the next piece of a saved image.
  using ByteSink = std::function<void(std::span<const std::byte>)>;
  // Passes the stored (prepared) rows of slots [0, size()) to `sink` in slot order, packed dim f32
  // each: the mapped rows (if any) in one call, then one row per call. Precondition: every slot is
  // linked and no writer runs (searches may). Cost: one pass over the vectors, no copy; mapped
  // rows are released from resident memory again afterwards.
  void save_vectors(const ByteSink& sink) const;
  // Passes the graph of slots [0, size()) to `sink` in HnswImage::graph's layout: level-0
  // records, then upper-level records, then the deleted flags; unused list entries are written
  // as 0. Precondition: as save_vectors. Cost: one pass over the lists.
  void save_graph(const ByteSink& sink) const;
  // An index built with (metric, dim, params) holding `image`, restored by bulk copies: no
  // distance is computed and no vector is prepared again. `image` is untrusted: sizes, list
  // counts, neighbour ids, levels, the entry point, deleted flags and vector values are checked
  // first, and anything an index could not have produced is kCorruption ("vectors: <what>" or
  // "graph: <what>", naming the part at fault), so the result never reads out of bounds, whatever
  // the bytes. It is a full index: searches answer as the saved one did, and writes (write_rows,
  // link, mark_deleted, repair, compacted) go on from image.size. Cost: a pass over the bytes to
  // check them, one memcpy per arena chunk, one pool block per upper-level node. Throws
  // std::bad_alloc only.
  static Result<std::unique_ptr<HnswIndex>> restore(Metric metric, std::size_t dim,
                                                    const HnswParams& params,
                                                    const HnswImage& image);

  // The graph, read-only (for invariant checks and persistence).
  const HnswGraph& graph() const noexcept { return graph_; }
  // The node every graph search starts from and its level; level -1 when the graph is empty.
  std::pair<std::uint32_t, int> entry_point() const noexcept {
    const Entry entry = load_entry();
    return {entry.slot, entry.level};
  }

 private:
  struct Entry {
    std::uint32_t slot;
    int level;  // -1 when the graph is empty
  };

  // --- hnsw_walk.h: the walks, over an ExactScorer or a CodeScorer (index/scorers.h)
  template <class Scorer>
  Neighbor greedy_descend(const Scorer& scorer, Neighbor start, int from_level, int to_level,
                          std::uint32_t limit, Workspace& ws) const;
  template <class Scorer>
  void search_level(const Scorer& scorer, Neighbor start, int level, std::size_t ef,
                    std::uint32_t limit, Workspace& ws) const;

  // --- hnsw_search.cpp
  void search_prepared(const float* query, std::size_t k, std::size_t ef, bool exact, Workspace& ws,
                       std::vector<Neighbor>& out) const;
  // How many of a code walk's nearest candidates are re-ranked with the floats, per result asked
  // for (at most ef). Re-ranking all ef candidates instead returned the same recall@10 at every ef
  // from 12 to 64 on clustered 100,000 x 128 and x 768, siftsmall, MNIST and MiniLM (the true
  // nearest are rarely beyond 2k by code distance), and cost more: at 768-d, 26% of QPS at ef=64.
  static constexpr std::size_t kRerankPerResult = 2;
  // The graph search of a quantized index: walks level 0 on the codes with candidate list `ef`,
  // then re-ranks the live candidates among the nearest min(ef, kRerankPerResult * k) with the
  // float rows into ws.results (k nearest).
  void search_codes(const float* query, std::size_t k, std::size_t ef, Entry entry,
                    std::uint32_t limit, Workspace& ws) const;
  // Re-ranks the live nodes of ws.candidates (nearest first, at most `count`) with exact distances
  // to `query`, keeping the k nearest in ws.results.
  void rerank(const float* query, std::size_t k, std::size_t count, Workspace& ws) const;

  // --- hnsw_insert.cpp
  void insert(std::uint32_t slot, std::uint32_t limit, Workspace& ws);
  // The candidates for `slot`'s neighbours on `level` into ws.sorted, nearest first: a search of
  // the level from `nearest`, with exact distances, or code distances when quantized. Returns the
  // nearest candidate, or `nearest` when none was found.
  Neighbor find_candidates(std::uint32_t slot, Neighbor nearest, int level, std::uint32_t limit,
                           Workspace& ws) const;
  int random_level(std::uint32_t slot) const noexcept;
  // The slack of the neighbour heuristic (choose_diverse in hnsw_insert.cpp). A node choosing its
  // own neighbours (an insert, a relink) uses kNewNodeSlack for l2 and cosine, whose distances are
  // non-negative (squared Euclidean, or proportional to it on unit vectors), and the strict rule
  // for ip, whose distances may be negative, where scaling would not relax it. Pruning a full list
  // (back-links, repairs) stays strict: relaxing it too kept lists full, so that every back-link
  // ran the heuristic, for little more recall. Measured on clustered 100,000 x 128, sq8, m=16,
  // ef_construction=100: single-query QPS at recall 0.95 +8%, at 0.99 +16% against the strict
  // rule, for 0-17% of build speed (siftsmall, MNIST, MiniLM, clustered); slack everywhere gained
  // 3 more points at 0.95 for 7-26% of build speed.
  static constexpr float kNewNodeSlack = 1.15f;
  static constexpr float kStrictSlack = 1.0f;
  float new_node_slack() const noexcept {
    return space_.metric() == Metric::kIp ? kStrictSlack : kNewNodeSlack;
  }
  // The heuristic on exact distances: `sorted_candidates` carry exact distances to the node.
  void select_neighbors(std::span<const Neighbor> sorted_candidates, std::size_t max_count,
                        float slack, std::vector<Neighbor>& selected) const;
  // The heuristic of the write path: on code distances when quantized (the candidates carry code
  // distances to the node), else select_neighbors.
  void choose_neighbors(std::span<const Neighbor> sorted_candidates, std::size_t max_count,
                        float slack, std::vector<Neighbor>& selected, Workspace& ws) const;
  void connect(std::uint32_t slot, int level, std::span<const Neighbor> selected, Workspace& ws);
  void add_link(std::uint32_t from, std::uint32_t to, float distance, int level, Workspace& ws);
  void write_list(std::uint32_t node, int level, std::span<const Neighbor> neighbors,
                  Workspace& ws);

  // --- hnsw_repair.cpp
  void repair_node(std::uint32_t node, std::uint32_t deleted, int level, Workspace& ws);
  // Moves the entry point off a deleted node, to the live node of the highest level (the first
  // found at the old entry's level), or empties the graph when no node is live. Writer only.
  // Cost: O(size) when the entry point is deleted, O(1) otherwise.
  void replace_deleted_entry();

  // --- hnsw_reachability.cpp
  static constexpr std::size_t kReconnectEvery = 16;
  static constexpr int kReconnectRounds = 4;
  static constexpr std::uint8_t kMinInDegree = 2;
  static constexpr std::uint32_t kMinOutDegree = 4;
  static constexpr std::uint8_t kFewInLinks = 4;
  // Adds `changes` (slots linked or repaired) to the count since the last reconnect_weak(), and
  // runs it when the count reaches 1/kReconnectEvery of the size.
  void count_changes(std::size_t changes, ThreadPool& pool);
  std::size_t reconnect_round(bool weak_too, ThreadPool& pool);
  bool is_weak(std::uint32_t node, std::uint8_t in_degree, Workspace& ws) const;
  std::uint32_t live_out_degree(std::uint32_t node, Workspace& ws) const;
  bool nearest_links_back(std::uint32_t node, Workspace& ws) const;
  Neighbor nearest_live_link(std::uint32_t node, Workspace& ws) const;
  void link_back(std::uint32_t host, std::uint32_t node, float distance, Workspace& ws);
  std::vector<std::uint8_t> reachable_from(std::uint32_t from, std::uint32_t limit,
                                           Workspace& ws) const;
  void relink(std::uint32_t node, Entry entry, const std::vector<std::uint8_t>& reached,
              std::uint32_t limit, Workspace& ws);

  // --- hnsw_compact.cpp
  void unlink_deleted(ThreadPool& pool);

  // --- hnsw_persist.cpp
  // Copies a checked image's sections (split by restore) into this new, empty index's arenas.
  void copy_in(const HnswImage& image, std::span<const std::byte> level0,
               std::span<const std::byte> upper, std::span<const std::byte> deleted,
               std::span<const std::uint8_t> levels);

  ExactScorer exact_scorer(const float* query) const noexcept {
    return {space_, vectors_, query};
  }
  // Encodes the float rows of slots [first, first + count) into codes_ (when quantized).
  void encode_codes(std::size_t first, std::size_t count);

  Entry load_entry() const noexcept;
  void store_entry(Entry entry) noexcept;

  Space space_;
  HnswParams params_;
  double level_multiplier_;  // 1 / ln(m)
  VectorStore vectors_;
  std::unique_ptr<quant::Sq8Codes> codes_;  // null unless params_.quantization is kSq8
  HnswGraph graph_;
  RowArena deleted_{1, 1};  // per slot: 1 once deleted
  std::atomic<std::size_t> size_{0};
  std::atomic<std::size_t> deleted_count_{0};
  std::atomic<std::uint64_t> entry_{0};  // (level + 1) << 32 | slot; 0 = empty graph
  std::mutex top_level_mutex_;           // held by an insert that raises the top level
  std::size_t changes_since_reconnect_ = 0;  // writer only
  mutable WorkspacePool workspaces_;
};

}  // namespace omendb
