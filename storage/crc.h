// CRC-32 (zlib's polynomial) guarding every log record, segment block and metadata file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace dynakv::storage {

// Continues a running CRC; start with crc = 0.
std::uint32_t Crc32Extend(std::uint32_t crc, const char* data, std::size_t n);
inline std::uint32_t Crc32(std::string_view data) {
  return Crc32Extend(0, data.data(), data.size());
}

}  // namespace dynakv::storage
