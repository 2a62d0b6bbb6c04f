// TextIndex writes: argument checks, statistics after removes exactly as if the documents had
// never been added, compaction equivalence, and memory accounting.
#include "text/text_index.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "text_test_util.h"

namespace omendb::text {
namespace {

using testing::Documents;
using testing::Terms;
using testing::ZipfTerms;

std::vector<TextHit> search(const TextIndex& index, const Terms& query, std::size_t k) {
  std::vector<TextHit> hits;
  EXPECT_TRUE(index.search(query, k, {}, hits).is_ok());
  return hits;
}

TEST(TextIndexTest, AddChecksSlotOrderAndTerms) {
  TextIndex index;
  ASSERT_TRUE(index.add(3, Terms{"a", "b", "a"}).is_ok());
  EXPECT_EQ(index.slot_count(), 4u);
  EXPECT_EQ(index.add(3, Terms{"c"}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(index.add(1, Terms{"c"}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(index.add(4, Terms{""}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(index.add(4, Terms{std::string(256, 'x')}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(index.term_count(), 2u);  // failed adds change nothing
  EXPECT_EQ(index.slot_count(), 4u);
  ASSERT_TRUE(index.add(4, Terms{std::string(255, 'x')}).is_ok());
  EXPECT_FALSE(index.is_live(0));
  EXPECT_TRUE(index.is_live(3));
  EXPECT_EQ(index.document_length(3), 3u);
  EXPECT_EQ(index.document_frequency("a"), 1u);
  EXPECT_EQ(index.live_count(), 2u);
  EXPECT_EQ(index.total_length(), 4u);
}

TEST(TextIndexTest, RemoveChecksTheTermsAndLiveness) {
  TextIndex index;
  ASSERT_TRUE(index.add(0, Terms{"a", "b", "a"}).is_ok());
  ASSERT_TRUE(index.add(1, Terms{"b"}).is_ok());
  EXPECT_EQ(index.remove(2, Terms{"b"}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(index.remove(0, Terms{"a", "b"}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(index.remove(0, Terms{"a", "b", "b"}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(index.remove(0, Terms{"a", "b", "c"}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(index.remove(1, Terms{"a"}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(index.live_count(), 2u);
  ASSERT_TRUE(index.remove(0, Terms{"b", "a", "a"}).is_ok());
  EXPECT_EQ(index.remove(0, Terms{"a", "b", "a"}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(index.document_frequency("a"), 0u);
  EXPECT_EQ(index.document_frequency("b"), 1u);
  EXPECT_EQ(index.live_count(), 1u);
  EXPECT_EQ(index.total_length(), 1u);
  EXPECT_TRUE(index.check().is_ok());
}

TEST(TextIndexTest, RemovedDocumentsLeaveNoTraceInStatisticsOrScores) {
  std::mt19937_64 rng(5);
  const ZipfTerms zipf(300, 1.0);
  TextIndex index;
  TextIndex never;  // the same documents but for the removed ones
  std::vector<Terms> docs;
  for (std::uint32_t slot = 0; slot < 2000; ++slot) docs.push_back(zipf.draw(rng, rng() % 15));
  for (std::uint32_t slot = 0; slot < docs.size(); ++slot) {
    ASSERT_TRUE(index.add(slot, docs[slot]).is_ok());
    if (slot % 3 != 1) {
      ASSERT_TRUE(never.add(slot, docs[slot]).is_ok());
    }
  }
  for (std::uint32_t slot = 1; slot < docs.size(); slot += 3) {
    ASSERT_TRUE(index.remove(slot, docs[slot]).is_ok());
  }
  ASSERT_TRUE(index.check().is_ok());
  EXPECT_EQ(index.live_count(), never.live_count());
  EXPECT_EQ(index.total_length(), never.total_length());
  for (int rank = 0; rank < 300; ++rank) {
    const std::string term = testing::term_of(static_cast<std::size_t>(rank));
    EXPECT_EQ(index.document_frequency(term), never.document_frequency(term)) << term;
  }
  for (int q = 0; q < 50; ++q) {
    const Terms query = zipf.draw(rng, 1 + q % 4);
    EXPECT_EQ(search(index, query, 20), search(never, query, 20));
  }
}

TEST(TextIndexTest, CompactionRenumbersAndDropsDeadPostings) {
  std::mt19937_64 rng(9);
  const ZipfTerms zipf(400, 1.0);
  TextIndex index;
  std::vector<Terms> docs;
  for (std::uint32_t slot = 0; slot < 3000; ++slot) {
    docs.push_back(zipf.draw(rng, rng() % 12));
    ASSERT_TRUE(index.add(slot, docs.back()).is_ok());
  }
  for (std::uint32_t slot = 0; slot < docs.size(); slot += 4) {
    ASSERT_TRUE(index.remove(slot, docs[slot]).is_ok());
  }
  // Drop the removed slots and every fifth other one; keep order.
  std::vector<std::uint32_t> map(docs.size(), TextIndex::kDropped);
  std::vector<std::uint32_t> old_of_new;
  for (std::uint32_t slot = 0; slot < docs.size(); ++slot) {
    if (slot % 4 == 0 || slot % 5 == 0) continue;
    map[slot] = static_cast<std::uint32_t>(old_of_new.size());
    old_of_new.push_back(slot);
  }
  Result<TextIndex> compacted = index.compacted(map);
  ASSERT_TRUE(compacted.is_ok()) << compacted.status().message();
  const TextIndex& small = compacted.value();
  ASSERT_TRUE(small.check().is_ok());
  EXPECT_EQ(small.live_count(), old_of_new.size());
  EXPECT_LT(small.memory_bytes(), index.memory_bytes());
  // The same as an index built from the kept documents alone.
  TextIndex fresh;
  for (std::uint32_t slot = 0; slot < old_of_new.size(); ++slot) {
    ASSERT_TRUE(fresh.add(slot, docs[old_of_new[slot]]).is_ok());
  }
  for (int q = 0; q < 50; ++q) {
    const Terms query = zipf.draw(rng, 1 + q % 4);
    EXPECT_EQ(search(small, query, 15), search(fresh, query, 15));
  }
  EXPECT_EQ(small.term_count(), fresh.term_count());

  std::vector<std::uint32_t> backwards(docs.size(), TextIndex::kDropped);
  backwards[1] = 5;
  backwards[2] = 4;
  EXPECT_EQ(index.compacted(backwards).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(index.compacted(std::span(map).first(10)).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(TextIndexTest, CompactionKeepsSlotsThatWereNeverAdded) {
  TextIndex index;
  ASSERT_TRUE(index.add(2, Terms{"x"}).is_ok());
  const std::vector<std::uint32_t> map{0, TextIndex::kDropped, 1};
  Result<TextIndex> compacted = index.compacted(map);
  ASSERT_TRUE(compacted.is_ok());
  EXPECT_EQ(compacted.value().slot_count(), 2u);
  EXPECT_FALSE(compacted.value().is_live(0));
  EXPECT_TRUE(compacted.value().is_live(1));
  EXPECT_EQ(compacted.value().add(1, Terms{"y"}).code(), StatusCode::kInvalidArgument);
}

TEST(TextIndexTest, MemoryGrowsWithPostings) {
  TextIndex index;
  const std::size_t empty = index.memory_bytes();
  for (std::uint32_t slot = 0; slot < 10000; ++slot) {
    ASSERT_TRUE(index.add(slot, Terms{"common", testing::term_of(slot % 100)}).is_ok());
  }
  EXPECT_GT(index.memory_bytes(), empty + 10000 * 4);
  EXPECT_LT(index.memory_bytes(), 2'000'000u);
}

}  // namespace
}  // namespace omendb::text
