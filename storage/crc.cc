#include "crc.h"

#include <zlib.h>

#include <algorithm>

namespace dynakv::storage {

std::uint32_t Crc32Extend(std::uint32_t crc, const char* data, std::size_t n) {
  // zlib takes a 32-bit length; feed larger inputs in pieces.
  constexpr std::size_t kChunk = 1u << 30;
  uLong c = crc;
  while (n > 0) {
    std::size_t piece = std::min(n, kChunk);
    c = crc32(c, reinterpret_cast<const Bytef*>(data), static_cast<uInt>(piece));
    data += piece;
    n -= piece;
  }
  return static_cast<std::uint32_t>(c);
}

}  // namespace dynakv::storage
