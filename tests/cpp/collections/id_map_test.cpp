#include "collections/id_map.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace omendb {
namespace {

using namespace std::string_literals;

// Inserts `ids` in order, checking each gets the next slot.
void insert_all(IdMap& map, const std::vector<std::string>& ids) {
  for (const std::string& id : ids) {
    const std::size_t expected_slot = map.size();
    ASSERT_EQ(map.insert(id), expected_slot) << "id " << id;
  }
}

// Checks that the map holds exactly `ids`, the i-th at slot i, in both directions.
void expect_holds_exactly(const IdMap& map, const std::vector<std::string>& ids) {
  ASSERT_EQ(map.size(), ids.size());
  for (std::size_t slot = 0; slot < ids.size(); ++slot) {
    ASSERT_EQ(map.find(ids[slot]), slot) << "id " << ids[slot];
    ASSERT_EQ(map.id(static_cast<std::uint32_t>(slot)), ids[slot]) << "slot " << slot;
  }
}

// `count` distinct random ids of 3-40 bytes over all 256 byte values (NUL and invalid UTF-8
// included). The last 3 bytes hold the id's number, which makes ids of one length distinct.
std::vector<std::string> random_unique_ids(std::size_t count, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::string> ids(count);
  for (std::size_t n = 0; n < count; ++n) {
    std::string& id = ids[n];
    id.resize(3 + rng() % 38);
    for (std::size_t i = 0; i < id.size(); i += 8) {
      const std::uint64_t bytes = rng();
      std::memcpy(id.data() + i, &bytes, std::min<std::size_t>(8, id.size() - i));
    }
    for (std::size_t i = 1; i <= 3; ++i) id[id.size() - i] = static_cast<char>(n >> (8 * (i - 1)));
  }
  return ids;
}

// Candidate id number n for the collision search: "c" followed by n in decimal.
std::string candidate_id(std::uint32_t n) {
  std::string id = "c";
  id += std::to_string(n);
  return id;
}

// Pairs of distinct ids whose hashes agree on the 32-bit tag and on the low 4 bits (the home
// entry in a fresh map's 16-entry table), so a probe must compare the strings to tell them apart.
std::vector<std::pair<std::string, std::string>> find_tag_colliding_pairs() {
  constexpr std::uint64_t kTagAndHomeBits = 0xFFFFFFFF0000000Full;
  std::vector<std::pair<std::uint64_t, std::uint32_t>> keys;  // (masked hash, candidate number)
  constexpr std::uint32_t kCandidates = 1u << 21;
  keys.reserve(kCandidates);
  for (std::uint32_t n = 0; n < kCandidates; ++n) {
    keys.emplace_back(IdMap::hash(candidate_id(n)) & kTagAndHomeBits, n);
  }
  std::sort(keys.begin(), keys.end());
  std::vector<std::pair<std::string, std::string>> pairs;
  for (std::size_t i = 1; i < keys.size(); ++i) {
    if (keys[i].first == keys[i - 1].first) {
      pairs.emplace_back(candidate_id(keys[i - 1].second), candidate_id(keys[i].second));
    }
  }
  return pairs;
}

// find_tag_colliding_pairs(), computed once (it hashes two million candidates).
const std::vector<std::pair<std::string, std::string>>& tag_colliding_pairs() {
  static const auto pairs = find_tag_colliding_pairs();
  return pairs;
}

// A new map is empty and finds nothing, not even the empty id.
TEST(IdMapTest, NewMapIsEmpty) {
  const IdMap map;
  EXPECT_EQ(map.size(), 0u);
  EXPECT_FALSE(map.find("").has_value());
  EXPECT_FALSE(map.find("a").has_value());
  EXPECT_GT(map.memory_bytes(), 0u);
}

// Ids that are byte-wise different are different ids: the empty id, prefixes of each other, ids
// differing only in their last byte, embedded and trailing NULs, invalid UTF-8, and UTF-8 that is
// canonically equivalent but byte-wise different (precomposed and decomposed ï and é).
TEST(IdMapTest, EdgeCaseIdsRoundTrip) {
  std::vector<std::string> ids = {""s, "a"s, "ab"s, std::string(1000, 'x'), std::string(1001, 'x')};
  // Embedded and trailing NULs.
  ids.insert(ids.end(), {"\0"s, "\0\0"s, "a\0"s, "a\0b"s, "\0a"s});
  // Non-ASCII, invalid, and canonically equivalent but byte-wise different UTF-8.
  ids.insert(ids.end(), {"日本語"s, "🙂"s, "\xff\xfe"s, "naïve"s, "nai\xcc\x88ve"s});
  ids.insert(ids.end(), {"caf\xc3\xa9"s, "cafe\xcc\x81"s});
  // Ids differing only in their last byte.
  for (int last = 0; last < 256; ++last) ids.push_back("doc-00042-" + std::string(1, char(last)));
  IdMap map;
  insert_all(map, ids);
  expect_holds_exactly(map, ids);
  EXPECT_FALSE(map.find("doc-00042-").has_value());
  EXPECT_FALSE(map.find("\0\0\0"s).has_value());
  EXPECT_FALSE(map.find(std::string(999, 'x')).has_value());
}

// One million random ids (random lengths and bytes) round-trip id -> slot -> id, and ids that
// were never inserted are not found.
TEST(IdMapTest, MillionRandomIdsRoundTrip) {
  std::vector<std::string> ids = random_unique_ids(1'100'000, 7);
  const std::vector<std::string> absent(ids.end() - 100'000, ids.end());
  ids.resize(1'000'000);
  IdMap map;
  insert_all(map, ids);
  expect_holds_exactly(map, ids);
  for (const std::string& id : absent) ASSERT_FALSE(map.find(id).has_value());
}

// Ids whose hashes share the tag and the home entry are still told apart, whichever is
// inserted first, in a small table and after the table has grown.
TEST(IdMapTest, HashTagCollisionsAreResolvedByComparingIds) {
  const auto& pairs = tag_colliding_pairs();
  ASSERT_GE(pairs.size(), 4u) << "the candidate search should find a few colliding pairs";
  std::vector<std::string> all;
  for (const auto& [first, second] : pairs) {
    IdMap map;
    map.insert(first);
    EXPECT_FALSE(map.find(second).has_value()) << first << " / " << second;
    map.insert(second);
    expect_holds_exactly(map, {first, second});
    all.push_back(first);
    all.push_back(second);
  }
  IdMap map;
  insert_all(map, all);
  expect_holds_exactly(map, all);
}

// Inserting a view of an id the map already holds works even when the insert reallocates the
// map's id bytes, which the view points into (with libstdc++ the 200-byte id leaves the buffer
// exactly full, so the next append reallocates). The inserted id collides with another held id,
// so a probe after the append would read the dangling view; AddressSanitizer reports that.
TEST(IdMapTest, InsertOfViewIntoOwnIdsIsSafe) {
  for (const auto& [first, second] : tag_colliding_pairs()) {
    IdMap map;
    map.insert(first);
    const std::uint32_t long_slot = map.insert(second + std::string(200, '#'));
    const std::uint32_t slot = map.insert(map.id(long_slot).substr(0, second.size()));
    expect_holds_exactly(map, {first, second + std::string(200, '#'), second});
    EXPECT_EQ(slot, 2u);
  }
}

// reserve() keeps what is held, and inserts up to the reserved counts then allocate nothing.
TEST(IdMapTest, ReserveKeepsContentAndPreventsReallocation) {
  const std::vector<std::string> ids = random_unique_ids(50'000, 11);
  const std::vector<std::string> head(ids.begin(), ids.begin() + 1000);
  IdMap map;
  insert_all(map, head);
  std::size_t total_bytes = 0;
  for (const std::string& id : ids) total_bytes += id.size();
  map.reserve(ids.size(), total_bytes);
  expect_holds_exactly(map, head);
  const std::size_t reserved_memory = map.memory_bytes();
  insert_all(map, {ids.begin() + 1000, ids.end()});
  EXPECT_EQ(map.memory_bytes(), reserved_memory);
  expect_holds_exactly(map, ids);
  map.reserve(10, 10);  // smaller than held: changes nothing
  EXPECT_EQ(map.memory_bytes(), reserved_memory);
  expect_holds_exactly(map, ids);
}

// memory_bytes() never shrinks while inserting, and per id stays between the raw cost (8-byte
// entry at load <= 0.7, 8-byte offset, the id's bytes) and that cost with every container at its
// worst growth slack.
TEST(IdMapTest, MemoryGrowsInProportionToIds) {
  IdMap map;
  std::size_t previous = map.memory_bytes();
  std::size_t id_bytes = 0;
  for (std::uint32_t n = 0; n < 200'000; ++n) {
    const std::string id = "doc-" + std::to_string(n);
    id_bytes += id.size();
    map.insert(id);
    const std::size_t memory = map.memory_bytes();
    ASSERT_GE(memory, previous);
    previous = memory;
  }
  const double ids = static_cast<double>(map.size());
  const double per_id = static_cast<double>(previous) / ids;
  const double bytes_per_id = static_cast<double>(id_bytes) / ids;
  EXPECT_GE(per_id, 8.0 / 0.7 + 8.0 + bytes_per_id);
  EXPECT_LE(per_id, 8.0 / 0.35 + 2 * 8.0 + 2 * bytes_per_id);
}

// A seeded random mix of inserts, finds (hits and misses) and slot lookups agrees with a model
// built from std::unordered_map and std::vector. Ids come from a small alphabet so that many
// share prefixes and differ in one byte.
TEST(IdMapTest, AgreesWithStdModelUnderRandomOperations) {
  std::mt19937_64 rng(2024);
  std::uniform_int_distribution<int> op(0, 99);
  std::uniform_int_distribution<int> length(0, 6);
  std::uniform_int_distribution<int> letter(0, 3);
  const auto random_id = [&] {
    std::string id(static_cast<std::size_t>(length(rng)), '\0');
    for (char& c : id) c = "ab\0\xe9"[letter(rng)];
    return id;
  };
  IdMap map;
  std::unordered_map<std::string, std::uint32_t> model_slots;
  std::vector<std::string> model_ids;
  for (int step = 0; step < 300'000; ++step) {
    const int kind = op(rng);
    if (kind < 40) {
      const std::string id = random_id();
      if (model_slots.contains(id)) continue;
      const auto slot = static_cast<std::uint32_t>(model_ids.size());
      ASSERT_EQ(map.insert(id), slot);
      model_slots.emplace(id, slot);
      model_ids.push_back(id);
    } else if (kind < 80) {
      const std::string id = random_id();
      const auto it = model_slots.find(id);
      const std::optional<std::uint32_t> expected =
          it == model_slots.end() ? std::nullopt : std::optional<std::uint32_t>(it->second);
      ASSERT_EQ(map.find(id), expected) << "step " << step;
    } else if (kind < 99) {
      if (model_ids.empty()) continue;
      const auto slot = static_cast<std::uint32_t>(rng() % model_ids.size());
      ASSERT_EQ(map.id(slot), model_ids[slot]) << "step " << step;
    } else {
      map.reserve(model_ids.size() + rng() % 1000, rng() % 10'000);
    }
    ASSERT_EQ(map.size(), model_ids.size());
  }
  EXPECT_GT(model_ids.size(), 5000u);  // the alphabet allows 5461 ids; most should be in
  for (const auto& [id, slot] : model_slots) ASSERT_EQ(map.find(id), slot);
}

}  // namespace
}  // namespace omendb

namespace omendb {
namespace {

// "k" followed by n (built with append: GCC 12 warns falsely on "k" + std::to_string at -O3).
std::string numbered_id(std::uint32_t n) {
  std::string id = "k";
  id.append(std::to_string(n));
  return id;
}

// A seeded mix of inserts and erases agrees with std::unordered_map at every step; erased ids can
// be inserted again under a new slot, and every slot keeps the id it was given.
TEST(IdMapErase, MatchesModelUnderRandomInsertsAndErases) {
  IdMap map;
  std::unordered_map<std::string, std::uint32_t> model;
  std::vector<std::string> given;  // slot -> id
  std::mt19937 rng(99);
  for (int step = 0; step < 60000; ++step) {
    const std::string id = numbered_id(rng() % 5000);
    if (rng() % 3 == 0) {
      const auto erased = map.erase(id);
      const auto expected = model.find(id);
      ASSERT_EQ(erased.has_value(), expected != model.end()) << id;
      if (erased) {
        ASSERT_EQ(*erased, expected->second);
        model.erase(expected);
      }
    } else if (!model.count(id)) {
      const std::uint32_t slot = map.insert(id);
      ASSERT_EQ(slot, given.size());
      given.push_back(id);
      model[id] = slot;
    }
    ASSERT_EQ(map.live(), model.size());
  }
  for (const auto& [id, slot] : model) ASSERT_EQ(map.find(id), slot) << id;
  for (std::uint32_t slot = 0; slot < given.size(); ++slot) ASSERT_EQ(map.id(slot), given[slot]);
  for (int i = 0; i < 5000; ++i) {
    const std::string id = numbered_id(static_cast<std::uint32_t>(i));
    ASSERT_EQ(map.find(id).has_value(), model.count(id) == 1) << id;
  }
}

TEST(IdMapErase, EraseOfMissingIdChangesNothing) {
  IdMap map;
  map.insert("a");
  EXPECT_FALSE(map.erase("b").has_value());
  EXPECT_EQ(map.live(), 1u);
  EXPECT_EQ(map.erase("a"), 0u);
  EXPECT_FALSE(map.erase("a").has_value());
  EXPECT_EQ(map.live(), 0u);
  EXPECT_EQ(map.size(), 1u);
}

}  // namespace
}  // namespace omendb
