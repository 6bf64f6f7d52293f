#include "crc.h"

#include <xxhash.h>

namespace dynakv::storage {

std::uint32_t Checksum32(const char* data, std::size_t n) {
  return static_cast<std::uint32_t>(XXH3_64bits(data, n));
}

}  // namespace dynakv::storage
