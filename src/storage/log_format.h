// The write-ahead log's file format; docs/format.md says the same in prose, with the reasons.
//
// file    := file header, then records back to back
// header  := magic "OMENDBWL" (8 bytes) | version u32 | masked crc32c of the 12 bytes before u32
// record  := header crc u32 | payload crc u32 | lsn u64 | length u32 | type u32 | payload
//            header crc:  masked crc32c of the 20 record-header bytes after it
//            payload crc: masked crc32c of the `length` payload bytes
// Integers are little-endian. LSNs increase strictly from record to record.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>

namespace omendb::storage::log {

inline constexpr std::string_view kMagic = "OMENDBWL";
inline constexpr std::uint32_t kFormatVersion = 1;
inline constexpr std::size_t kFileHeaderSize = 16;
inline constexpr std::size_t kVersionOffset = 8;
inline constexpr std::size_t kFileHeaderCrcOffset = 12;  // the crc covers the bytes before it

inline constexpr std::size_t kRecordHeaderSize = 24;
inline constexpr std::size_t kHeaderCrcOffset = 0;
inline constexpr std::size_t kPayloadCrcOffset = 4;  // the header crc covers from here on
inline constexpr std::size_t kLsnOffset = 8;
inline constexpr std::size_t kLengthOffset = 16;
inline constexpr std::size_t kTypeOffset = 20;
inline constexpr std::uint64_t kMaxPayloadSize = std::numeric_limits<std::uint32_t>::max();

}  // namespace omendb::storage::log
