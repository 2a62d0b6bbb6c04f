#include "storage/crc32c.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "test_files.h"

namespace omendb::storage {
namespace {

using testing::to_bytes;

// Bit-by-bit CRC-32C straight from the definition (reflected polynomial 0x82F63B78).
std::uint32_t reference_crc32c(std::span<const std::byte> data) {
  std::uint32_t crc = 0xffffffffu;
  for (const std::byte byte : data) {
    crc ^= std::to_integer<std::uint32_t>(byte);
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1u)));
  }
  return ~crc;
}

TEST(Crc32c, StandardVectors) {
  EXPECT_EQ(crc32c(to_bytes("123456789")), 0xe3069283u);
  EXPECT_EQ(crc32c({}), 0u);
  // RFC 3720 (iSCSI), appendix B.4.
  EXPECT_EQ(crc32c(std::vector<std::byte>(32, std::byte{0x00})), 0x8a9136aau);
  EXPECT_EQ(crc32c(std::vector<std::byte>(32, std::byte{0xff})), 0x62a8ab43u);
  std::vector<std::byte> ascending(32);
  std::vector<std::byte> descending(32);
  for (std::size_t i = 0; i < 32; ++i) {
    ascending[i] = static_cast<std::byte>(i);
    descending[i] = static_cast<std::byte>(31 - i);
  }
  EXPECT_EQ(crc32c(ascending), 0x46dd794eu);
  EXPECT_EQ(crc32c(descending), 0x113fdb5cu);
}

TEST(Crc32c, MatchesTheDefinitionOnRandomData) {
  std::mt19937_64 rng(7);
  for (std::size_t size : {1u, 3u, 7u, 8u, 15u, 16u, 63u, 64u, 255u, 1000u, 4096u, 10007u}) {
    std::vector<std::byte> data(size);
    for (std::byte& b : data) b = static_cast<std::byte>(rng());
    EXPECT_EQ(crc32c(data), reference_crc32c(data)) << "size " << size;
  }
}

TEST(Crc32c, ExtendsPieceByPiece) {
  std::mt19937_64 rng(11);
  std::vector<std::byte> data(5000);
  for (std::byte& b : data) b = static_cast<std::byte>(rng());
  const std::uint32_t whole = crc32c(data);
  for (std::size_t split : {0u, 1u, 9u, 64u, 2500u, 4999u, 5000u}) {
    const std::span<const std::byte> all(data);
    EXPECT_EQ(crc32c(all.subspan(split), crc32c(all.first(split))), whole) << "split " << split;
  }
  EXPECT_EQ(crc32c(to_bytes("56789"), crc32c(to_bytes("1234"))), 0xe3069283u);
}

TEST(Crc32c, MaskRoundTripsAndChangesTheValue) {
  std::mt19937 rng(3);
  for (int i = 0; i < 10000; ++i) {
    const std::uint32_t crc = rng();
    EXPECT_EQ(crc32c_unmask(crc32c_mask(crc)), crc);
    EXPECT_NE(crc32c_mask(crc), crc);
  }
  const std::uint32_t crc = crc32c(to_bytes("foo"));
  EXPECT_NE(crc32c_mask(crc), crc);
  EXPECT_NE(crc32c_mask(crc32c_mask(crc)), crc);
  static_assert(crc32c_unmask(crc32c_mask(0)) == 0);
}

}  // namespace
}  // namespace omendb::storage
