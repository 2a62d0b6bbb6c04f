// TextIndex::save and TextIndex::restore: round trips (with removed documents left out), the
// documented layout, and hostile images: every truncation, every single-byte change and crafted
// breaks of each rule give kCorruption or an index that passes check(), never a crash.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "text/text_index.h"
#include "text_test_util.h"

namespace omendb::text {
namespace {

using Bytes = std::vector<std::byte>;
using testing::Terms;
using testing::ZipfTerms;

Bytes saved(const TextIndex& index) {
  Bytes bytes;
  index.save([&](std::span<const std::byte> piece) {
    bytes.insert(bytes.end(), piece.begin(), piece.end());
  });
  return bytes;
}

std::vector<TextHit> search(const TextIndex& index, const Terms& query) {
  std::vector<TextHit> hits;
  EXPECT_TRUE(index.search(query, 10, {}, hits).is_ok());
  return hits;
}

void expect_corruption(std::span<const std::byte> bytes, const std::string& needle) {
  const Result<TextIndex> restored = TextIndex::restore(bytes);
  ASSERT_FALSE(restored.is_ok()) << "expecting " << needle;
  EXPECT_EQ(restored.status().code(), StatusCode::kCorruption);
  EXPECT_NE(restored.status().message().find(needle), std::string::npos)
      << restored.status().message() << " (expecting " << needle << ")";
}

// A corpus with full blocks, tails, removed documents and a never-added slot.
TextIndex sample_index(std::size_t documents) {
  std::mt19937_64 rng(3);
  const ZipfTerms zipf(200, 1.0);
  TextIndex index;
  std::vector<Terms> docs;
  for (std::uint32_t slot = 1; slot <= documents; ++slot) {
    docs.push_back(zipf.draw(rng, rng() % 10));
    EXPECT_TRUE(index.add(slot, docs.back()).is_ok());
  }
  for (std::uint32_t slot = 1; slot <= documents; slot += 7) {
    EXPECT_TRUE(index.remove(slot, docs[slot - 1]).is_ok());
  }
  return index;
}

TEST(TextIndexIoTest, RoundTripsAndLeavesRemovedDocumentsOut) {
  const TextIndex index = sample_index(2000);
  const Bytes image = saved(index);
  Result<TextIndex> restored = TextIndex::restore(image);
  ASSERT_TRUE(restored.is_ok()) << restored.status().message();
  ASSERT_TRUE(restored.value().check().is_ok());
  EXPECT_EQ(restored.value().slot_count(), index.slot_count());
  EXPECT_EQ(restored.value().live_count(), index.live_count());
  EXPECT_EQ(restored.value().total_length(), index.total_length());
  EXPECT_LT(restored.value().memory_bytes(), index.memory_bytes());
  EXPECT_EQ(saved(restored.value()), image);
  std::mt19937_64 rng(4);
  const ZipfTerms zipf(200, 1.0);
  for (int q = 0; q < 30; ++q) {
    const Terms query = zipf.draw(rng, 1 + q % 3);
    EXPECT_EQ(search(restored.value(), query), search(index, query));
  }
  // The restored index takes further writes.
  ASSERT_TRUE(restored.value().add(5000, Terms{"t1", "new"}).is_ok());
  EXPECT_TRUE(restored.value().check().is_ok());
}

TEST(TextIndexIoTest, RoundTripsAnEmptyIndex) {
  const Bytes image = saved(TextIndex());
  EXPECT_EQ(image.size(), kTextIndexHeaderBytes);
  Result<TextIndex> restored = TextIndex::restore(image);
  ASSERT_TRUE(restored.is_ok());
  EXPECT_EQ(restored.value().slot_count(), 0u);
}

TEST(TextIndexIoTest, WritesTheDocumentedLayout) {
  TextIndex index;
  ASSERT_TRUE(index.add(1, Terms{"b", "a", "b"}).is_ok());
  Bytes expected;
  const auto put = [&](const void* data, std::size_t size) {
    const auto* bytes = static_cast<const std::byte*>(data);
    expected.insert(expected.end(), bytes, bytes + size);
  };
  const auto put32 = [&](std::uint32_t v) { put(&v, 4); };
  put("OMENDBTX", 8);
  put32(1);
  const std::uint64_t slots = 2;
  put(&slots, 8);
  put32(2);                      // terms
  put32(0);                      // slot 0: not live
  put32(3);                      // slot 1: three terms
  const std::uint64_t live = 2;  // bit 1
  put(&live, 8);
  put32(1);
  put("a", 1);
  put32(1);  // one posting: slot 1, tf 1
  put32(1);
  put32(1);
  put32(1);
  put("b", 1);
  put32(1);
  put32(1);
  put32(2);
  EXPECT_EQ(saved(index), expected);
}

TEST(TextIndexIoTest, RejectsCraftedImages) {
  TextIndex index;
  ASSERT_TRUE(index.add(0, Terms{"a", "b"}).is_ok());
  ASSERT_TRUE(index.add(1, Terms{"b"}).is_ok());
  const Bytes image = saved(index);
  // Layout: header 24 | lengths 8 | live 8 | "a": 4+1+4+8 | "b": 4+1+4+16.
  const std::size_t lengths = kTextIndexHeaderBytes;
  const std::size_t live = lengths + 8;
  const std::size_t term_a = live + 8;
  const std::size_t term_b = term_a + 17;
  ASSERT_EQ(image.size(), term_b + 25);
  const auto with = [&](std::size_t offset, auto value) {
    Bytes copy = image;
    std::memcpy(copy.data() + offset, &value, sizeof value);
    return copy;
  };
  expect_corruption(with(0, 'X'), "bad magic at byte 0");
  expect_corruption(with(8, std::uint32_t{2}), "unknown format version");
  expect_corruption(with(12, std::uint64_t{100}), "slot count larger than the image");
  expect_corruption(with(12, std::uint64_t{1} << 40), "slot count larger than the image");
  expect_corruption(with(20, std::uint32_t{1000}), "term count larger than the image");
  expect_corruption(with(20, std::uint32_t{1}), "bytes after the last term at byte " +
                                                   std::to_string(term_b));
  expect_corruption(with(live, std::uint64_t{1}), "length of a slot that is not live");
  expect_corruption(with(live, std::uint64_t{7}), "live bit past the last slot");
  expect_corruption(with(lengths, std::uint32_t{3}), "slot length differs from its postings");
  expect_corruption(with(term_a + 4, 'c'), "terms out of order at byte " + std::to_string(term_b));
  expect_corruption(with(term_a, std::uint32_t{0}),
                    "term length at byte " + std::to_string(term_a));
  expect_corruption(with(term_a + 5, std::uint32_t{0}), "posting count");
  expect_corruption(with(term_a + 5, std::uint32_t{1000}), "posting count");
  expect_corruption(with(term_a + 5, std::uint32_t{128}), "bad posting");
  expect_corruption(with(term_a + 9, std::uint32_t{2}), "bad posting at byte " +
                                                           std::to_string(term_a + 9));
  expect_corruption(with(term_a + 13, std::uint32_t{0}), "bad posting");        // tf 0
  // Slots not increasing; a tf past the slot's length.
  expect_corruption(with(term_b + 9 + 8, std::uint32_t{0}), "bad posting");
  expect_corruption(with(term_b + 9 + 12, std::uint32_t{9}), "bad posting");
}

TEST(TextIndexIoTest, RejectsEveryTruncation) {
  const Bytes image = saved(sample_index(300));
  for (std::size_t size = 0; size < image.size(); ++size) {
    const Result<TextIndex> restored = TextIndex::restore(std::span(image).first(size));
    ASSERT_FALSE(restored.is_ok()) << size;
    ASSERT_EQ(restored.status().code(), StatusCode::kCorruption) << size;
  }
}

TEST(TextIndexIoTest, SurvivesEverySingleByteChange) {
  const Bytes image = saved(sample_index(300));
  std::mt19937 rng(8);
  std::size_t restored_count = 0;
  for (std::size_t offset = 0; offset < image.size(); ++offset) {
    for (const int change : {1, 0x80, static_cast<int>(1 + rng() % 255)}) {
      Bytes damaged = image;
      damaged[offset] ^= static_cast<std::byte>(change);
      Result<TextIndex> restored = TextIndex::restore(damaged);
      if (!restored.is_ok()) {
        ASSERT_EQ(restored.status().code(), StatusCode::kCorruption) << offset;
        continue;
      }
      ++restored_count;
      ASSERT_TRUE(restored.value().check().is_ok()) << offset;
      std::vector<TextHit> hits;
      ASSERT_TRUE(restored.value().search(Terms{"t0", "t1", "t7"}, 10, {}, hits).is_ok());
      ASSERT_EQ(saved(restored.value()), damaged) << offset;
    }
  }
  // Changes that restore are those to a length's slack or a term's text: rare.
  EXPECT_LT(restored_count, image.size());
}

}  // namespace
}  // namespace omendb::text
