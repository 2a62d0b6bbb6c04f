// Posting blocks and lists (text/posting_block.h, text/posting_list.h): round trips at and
// around block boundaries, slot gaps up to 2^32 - 1, skip data, lookups, and a block decoder
// that never misreads bytes it is handed.
#include "text/posting_list.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

namespace omendb::text {
namespace {

constexpr std::uint32_t kMaxSlot = std::numeric_limits<std::uint32_t>::max();

// `count` postings with random slot gaps up to `max_gap` and tfs up to `max_tf`, starting at
// `first`; capped so slots stay below 2^32.
std::vector<Posting> random_postings(std::size_t count, std::uint32_t first, std::uint64_t max_gap,
                                     std::uint32_t max_tf, std::uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Posting> postings;
  std::uint64_t slot = first;
  for (std::size_t i = 0; i < count && slot <= kMaxSlot; ++i) {
    postings.push_back({static_cast<std::uint32_t>(slot),
                        static_cast<std::uint32_t>(1 + rng() % max_tf)});
    slot += 1 + rng() % max_gap;
  }
  return postings;
}

std::vector<Posting> decode_all(const PostingList& list) {
  std::vector<Posting> out;
  std::uint32_t slots[kBlockPostings];
  std::uint32_t tfs[kBlockPostings];
  for (std::size_t block = 0; block < list.block_count(); ++block) {
    const std::size_t count = list.decode(block, slots, tfs);
    EXPECT_EQ(count, std::min(kBlockPostings, list.size() - block * kBlockPostings));
    for (std::size_t i = 0; i < count; ++i) out.push_back({slots[i], tfs[i]});
  }
  return out;
}

// Appends `postings`, each with document length tf + slot % 7, and checks every accessor.
void check_round_trip(const std::vector<Posting>& postings) {
  PostingList list;
  for (const Posting& p : postings) list.append(p.slot, p.tf, p.tf + p.slot % 7);
  ASSERT_EQ(list.size(), postings.size());
  EXPECT_EQ(list.full_blocks(), postings.size() / kBlockPostings);
  EXPECT_EQ(list.block_count(), (postings.size() + kBlockPostings - 1) / kBlockPostings);
  EXPECT_EQ(decode_all(list), postings);
  for (std::size_t block = 0; block < list.block_count(); ++block) {
    const std::size_t begin = block * kBlockPostings;
    const std::size_t end = std::min(postings.size(), begin + kBlockPostings);
    BlockSkip expected{postings[end - 1].slot, 0, 0, 1};
    for (std::size_t i = begin; i < end; ++i) {
      expected.max_tf = std::max(expected.max_tf, postings[i].tf);
      const std::uint32_t length = postings[i].tf + postings[i].slot % 7;
      // The first posting's ratio, or a strictly smaller one (compared exactly).
      if (i == begin || std::uint64_t{length} * expected.ratio_tf <
                            std::uint64_t{expected.ratio_length} * postings[i].tf) {
        expected.ratio_length = length;
        expected.ratio_tf = postings[i].tf;
      }
    }
    EXPECT_EQ(list.skip(block), expected);
  }
  for (std::size_t i = 0; i < postings.size(); i += 1 + postings.size() / 300) {
    EXPECT_EQ(list.tf_of(postings[i].slot), postings[i].tf);
    EXPECT_EQ(list.find_block(0, postings[i].slot), i / kBlockPostings);
    if (postings[i].slot > 0 && (i == 0 || postings[i - 1].slot + 1 < postings[i].slot)) {
      EXPECT_EQ(list.tf_of(postings[i].slot - 1), std::nullopt);
    }
  }
  if (!postings.empty() && postings.back().slot < kMaxSlot) {
    EXPECT_EQ(list.find_block(0, postings.back().slot + 1), list.block_count());
    EXPECT_EQ(list.tf_of(postings.back().slot + 1), std::nullopt);
  }
}

TEST(PostingListTest, RoundTripsAroundBlockBoundaries) {
  for (const std::size_t count : {0, 1, 127, 128, 129, 255, 256, 257, 10000}) {
    SCOPED_TRACE(count);
    check_round_trip(random_postings(count, 0, 3, 1, 1));         // dense, tf 1
    check_round_trip(random_postings(count, 5, 1000, 50, 2));     // sparse
    check_round_trip(random_postings(count, 0, 1, 1, 3));         // consecutive: 0-bit blocks
  }
}

TEST(PostingListTest, RoundTripsExtremeSlotsAndTfs) {
  check_round_trip({{kMaxSlot, 1}});
  check_round_trip({{0, kMaxSlot}, {kMaxSlot, kMaxSlot}});
  // A gap of nearly 2^32 at the end of a block.
  std::vector<Posting> wide = random_postings(127, 0, 3, 1, 4);
  wide.push_back({kMaxSlot, 7});
  check_round_trip(wide);
  std::vector<Posting> late = random_postings(300, kMaxSlot - 1000, 3, 1 << 20, 5);
  check_round_trip(late);
  // A full block ending at the largest slot.
  std::vector<Posting> top;
  for (std::uint32_t i = 0; i < 128; ++i) top.push_back({kMaxSlot - 127 + i, 1 + i});
  check_round_trip(top);
}

TEST(PostingBlockTest, PacksConsecutiveSlotsWithTfOneIntoTheHeaderAlone) {
  std::vector<Posting> postings;
  for (std::uint32_t i = 0; i < 128; ++i) postings.push_back({1000 + i, 1});
  std::vector<std::byte> bytes;
  encode_block(postings, 1000, bytes);
  EXPECT_EQ(bytes.size(), kBlockHeaderBytes);
  std::uint32_t slots[kBlockPostings];
  std::uint32_t tfs[kBlockPostings];
  EXPECT_EQ(decode_block(bytes, 128, 1000, slots, tfs), kBlockHeaderBytes);
  EXPECT_EQ(slots[127], 1127u);
  EXPECT_EQ(tfs[127], 1u);
}

TEST(PostingBlockTest, RejectsBadWidthsShortInputAndOverflow) {
  std::vector<Posting> postings = random_postings(128, 10, 100, 9, 6);
  std::vector<std::byte> bytes;
  encode_block(postings, 0, bytes);
  std::uint32_t slots[kBlockPostings];
  std::uint32_t tfs[kBlockPostings];
  ASSERT_EQ(decode_block(bytes, 128, 0, slots, tfs), bytes.size());
  // Every truncation is refused.
  for (std::size_t size = 0; size < bytes.size(); ++size) {
    EXPECT_EQ(decode_block(std::span(bytes).first(size), 128, 0, slots, tfs), 0u) << size;
  }
  std::vector<std::byte> wide = bytes;
  wide[0] = std::byte{33};
  EXPECT_EQ(decode_block(wide, 128, 0, slots, tfs), 0u);
  wide = bytes;
  wide[1] = std::byte{200};
  EXPECT_EQ(decode_block(wide, 128, 0, slots, tfs), 0u);
  // Slots past 2^32 - 1: a base near the top.
  EXPECT_EQ(decode_block(bytes, 128, kMaxSlot - 5, slots, tfs), 0u);
  // tf - 1 = 2^32 - 1 does not fit.
  std::vector<std::byte> all_ones{std::byte{0}, std::byte{32}};
  all_ones.resize(encoded_block_bytes(1, 0, 32), std::byte{0xFF});
  EXPECT_EQ(decode_block(all_ones, 1, 0, slots, tfs), 0u);
  EXPECT_EQ(decode_block(bytes, 129, 0, slots, tfs), 0u);
}

TEST(PostingBlockTest, DecodesRandomBytesSafely) {
  std::mt19937 rng(7);
  std::uint32_t slots[kBlockPostings];
  std::uint32_t tfs[kBlockPostings];
  for (int round = 0; round < 2000; ++round) {
    std::vector<std::byte> bytes(rng() % 300);
    for (std::byte& b : bytes) b = static_cast<std::byte>(rng() % 256);
    if (!bytes.empty()) bytes[0] = static_cast<std::byte>(rng() % 34);
    if (bytes.size() > 1) bytes[1] = static_cast<std::byte>(rng() % 34);
    const std::size_t count = rng() % 129;
    const std::size_t used = decode_block(bytes, count, rng() % 1000, slots, tfs);
    ASSERT_LE(used, bytes.size());
    if (used == 0) continue;
    for (std::size_t i = 0; i < count; ++i) {
      ASSERT_GE(tfs[i], 1u);
      if (i > 0) {
        ASSERT_LT(slots[i - 1], slots[i]);
      }
    }
  }
}

}  // namespace
}  // namespace omendb::text
