// The DUMP payload (Redis's createDumpPayload / verifyDumpPayload, cluster.c): one RDB value
// (value.h), the RDB version as 2 little-endian bytes, and the CRC-64 (crc64.h) of everything
// before it as 8 little-endian bytes. RESTORE accepts a payload whose version is at most ours.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace dynakv::rdb {

// Redis 7.0's RDB_VERSION, which our payloads carry.
inline constexpr std::uint16_t kRdbVersion = 10;

// Frames `value` (type byte and value) as a payload.
std::string MakeDumpPayload(std::string_view value);

// The value inside `payload`, or false when the footer's version is newer than kRdbVersion or the
// checksum does not match (Redis's "DUMP payload version or checksum are wrong").
// The value is decoded from `*value` alone, so one whose lengths run past it into the footer is
// refused as bad data. Redis reads such a value out of the footer's bytes and accepts it; that
// is corruption, which we report rather than store.
bool OpenDumpPayload(std::string_view payload, std::string_view* value);

}  // namespace dynakv::rdb
