#include "value_codec.h"

#include <lz4.h>

namespace dynakv::storage {

bool CompressValue(std::string_view raw, std::size_t threshold, std::string* out) {
  // LZ4's API is int-sized; huge values are simply stored raw.
  if (raw.empty() || raw.size() < threshold || raw.size() > LZ4_MAX_INPUT_SIZE) return false;
  const int src_size = static_cast<int>(raw.size());
  out->resize(static_cast<std::size_t>(LZ4_compressBound(src_size)));
  const int n =
      LZ4_compress_default(raw.data(), out->data(), src_size, static_cast<int>(out->size()));
  if (n <= 0 || static_cast<std::size_t>(n) >= raw.size()) return false;
  out->resize(static_cast<std::size_t>(n));
  return true;
}

bool DecompressValue(std::string_view stored, char* dst, std::size_t raw_size) {
  if (raw_size > LZ4_MAX_INPUT_SIZE || stored.size() > static_cast<std::size_t>(INT32_MAX))
    return false;
  const int n = LZ4_decompress_safe(stored.data(), dst, static_cast<int>(stored.size()),
                                    static_cast<int>(raw_size));
  return n >= 0 && static_cast<std::size_t>(n) == raw_size;
}

}  // namespace dynakv::storage
