// The checksum guarding every log record, segment block and metadata file: the low 32 bits of
// XXH3-64. It replaced zlib's CRC-32, which cost ~15% of the CPU of large writes; XXH3 runs
// several times faster and detects random corruption and torn writes just as well (any change
// goes unnoticed with probability 2^-32). Formats that switched carry new magic numbers, so files
// checksummed the old way are rejected by name rather than taken for corruption.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace dynakv::storage {

std::uint32_t Checksum32(const char* data, std::size_t n);
inline std::uint32_t Checksum32(std::string_view data) {
  return Checksum32(data.data(), data.size());
}

}  // namespace dynakv::storage
