// HnswGraph's lists: level-0 ids stored in three bytes (four once the graph holds more than 2^24
// nodes) come back as they were set, and readers racing a writer see whole lists.
#include "index/hnsw_graph.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace omendb {
namespace {

std::vector<std::uint32_t> neighbors_of(const HnswGraph& graph, std::uint32_t node, int level) {
  std::vector<std::uint32_t> out(graph.max_degree(level));
  out.resize(graph.copy_neighbors(node, level, out.data()));
  return out;
}

TEST(HnswGraphTest, Level0ListsKeepEveryCountAndEveryByteOfTheirIds) {
  HnswGraph graph(4);  // 8 ids at level 0
  graph.reserve(16);
  for (std::uint32_t node = 0; node < 16; ++node) graph.init_node(node, 0);
  const std::vector<std::uint32_t> ids = {0,       1,        0xFFFF,   0x10000,
                                          0xABCDE, 0xFF00FF, 0xFFFFFF, 0x123456};
  for (std::size_t count = 0; count <= ids.size(); ++count) {
    const std::vector<std::uint32_t> list(ids.begin(), ids.begin() + count);
    graph.set_neighbors(3, 0, list);
    EXPECT_EQ(neighbors_of(graph, 3, 0), list) << count << " ids";
  }
  // A shorter list replaces a longer one: nothing of the old one shows.
  graph.set_neighbors(3, 0, ids);
  graph.set_neighbors(3, 0, std::vector<std::uint32_t>{7});
  EXPECT_EQ(neighbors_of(graph, 3, 0), std::vector<std::uint32_t>{7});
  // Neighbouring records are independent.
  EXPECT_TRUE(neighbors_of(graph, 2, 0).empty());
  EXPECT_TRUE(neighbors_of(graph, 4, 0).empty());
}

TEST(HnswGraphTest, UpperListsKeepFullIds) {
  HnswGraph graph(3);
  graph.reserve(4);
  graph.init_node(1, 2);
  const std::vector<std::uint32_t> ids = {0xFFFFFFFF, 0x12345678, 2};
  graph.set_neighbors(1, 2, ids);
  EXPECT_EQ(graph.level(1), 2);
  EXPECT_EQ(neighbors_of(graph, 1, 2), ids);
  EXPECT_TRUE(neighbors_of(graph, 1, 1).empty());
}

// Upper-level blocks come from a pool of words in chunks; a block never straddles two chunks, so
// every list reads back whole however the blocks fall (here 100 blocks of 3,871 words over pool
// chunks of 65,536 and more words).
TEST(HnswGraphTest, UpperBlocksStayWholeAcrossPoolChunks) {
  HnswGraph graph(128);
  constexpr std::uint32_t kNodes = 100;
  graph.reserve(kNodes);
  for (std::uint32_t node = 0; node < kNodes; ++node) {
    graph.init_node(node, HnswGraph::kMaxLevel);
    for (int level = 1; level <= HnswGraph::kMaxLevel; ++level) {
      std::vector<std::uint32_t> ids(graph.max_degree(level));
      for (std::uint32_t i = 0; i < ids.size(); ++i) ids[i] = node * 1'000'000 + level * 1'000 + i;
      graph.set_neighbors(node, level, ids);
    }
  }
  for (std::uint32_t node = 0; node < kNodes; ++node) {
    ASSERT_EQ(graph.level(node), HnswGraph::kMaxLevel);
    for (int level = 1; level <= HnswGraph::kMaxLevel; ++level) {
      const std::vector<std::uint32_t> ids = neighbors_of(graph, node, level);
      ASSERT_EQ(ids.size(), graph.max_degree(level));
      for (std::uint32_t i = 0; i < ids.size(); ++i) {
        ASSERT_EQ(ids[i], node * 1'000'000 + level * 1'000 + i) << node << " " << level;
      }
    }
  }
}

// Past 2^24 nodes ids need a fourth byte: the graph adds it for every node, and lists written
// before keep reading the same. The arenas are reserved, not written: only touched pages become
// resident (a few MiB).
TEST(HnswGraphTest, GraphsOfMoreThan2To24NodesKeepFourByteIds) {
  constexpr std::uint32_t kNarrow = std::uint32_t{1} << 24;
  HnswGraph graph(2);
  graph.reserve(16);
  graph.init_node(5, 0);
  const std::vector<std::uint32_t> narrow = {kNarrow - 1, 6, 0x00ABCDEF, 0};
  graph.set_neighbors(5, 0, narrow);

  graph.reserve(std::size_t{kNarrow} + 2);
  EXPECT_EQ(neighbors_of(graph, 5, 0), narrow);
  graph.init_node(kNarrow + 1, 0);
  const std::vector<std::uint32_t> wide = {kNarrow, kNarrow + 1, 5, 0x7F00FF01};
  graph.set_neighbors(kNarrow + 1, 0, wide);
  EXPECT_EQ(neighbors_of(graph, kNarrow + 1, 0), wide);
  graph.set_neighbors(5, 0, wide);
  EXPECT_EQ(neighbors_of(graph, 5, 0), wide);
}

// Every list the writer stores holds `count` copies of one id whose three bytes all equal `count`,
// so a list mixing two writes (a torn id, or ids and a count from different writes) shows.
// Meaningful under -fsanitize=thread as well (the name puts it in the TSan set).
TEST(HnswGraphTest, ConcurrentReadersSeeOnlyWholeLevel0Lists) {
  HnswGraph graph(16);
  graph.reserve(4);
  graph.init_node(1, 0);
  constexpr int kWrites = 200'000;
  std::atomic<bool> done{false};
  std::atomic<std::size_t> bad{0};
  std::atomic<std::size_t> reads{0};
  std::thread reader([&] {
    std::vector<std::uint32_t> out(graph.max_degree(0));
    while (!done.load(std::memory_order_acquire)) {
      const std::uint32_t count = graph.copy_neighbors(1, 0, out.data());
      for (std::uint32_t i = 0; i < count; ++i) {
        if (out[i] != count * 0x010101u) bad.fetch_add(1, std::memory_order_relaxed);
      }
      reads.fetch_add(1, std::memory_order_relaxed);
    }
  });
  std::vector<std::uint32_t> list;
  // Writes go on until the reader has copied the list many times, however the threads start.
  for (int write = 0; write < kWrites || reads.load(std::memory_order_relaxed) < 10'000; ++write) {
    const std::uint32_t count = 1 + static_cast<std::uint32_t>(write) % graph.max_degree(0);
    list.assign(count, count * 0x010101u);
    std::lock_guard guard(graph.lock(1));
    graph.set_neighbors(1, 0, list);
  }
  done.store(true, std::memory_order_release);
  reader.join();
  EXPECT_EQ(bad.load(), 0u);
}

}  // namespace
}  // namespace omendb
