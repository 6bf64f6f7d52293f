// Redis's CRC-64 (redis/src/crc64.c): the Jones polynomial 0xad93d23594c935a9, reflected input
// and output, initial value 0, no final xor. It checks DUMP payloads and RDB files; check value:
// Crc64(0, "123456789") == 0xe9c6d914c4b8d9ca.
#pragma once

#include <cstdint>
#include <string_view>

namespace dynakv::rdb {

// Continues `crc` over `data` (start with 0), so a file can be checked piece by piece.
std::uint64_t Crc64(std::uint64_t crc, std::string_view data);

}  // namespace dynakv::rdb
