// How values are kept in memory, in the log and in segments: LZ4-compressed when that pays off,
// raw otherwise. The raw size always travels with the stored bytes so decompression needs no
// framing of its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace dynakv::storage {

// Compresses `raw` into *out when it is at least `threshold` bytes long and LZ4 makes it smaller.
// Returns true when *out holds the compressed form; false means store `raw` as is.
bool CompressValue(std::string_view raw, std::size_t threshold, std::string* out);

// Decompresses exactly raw_size bytes into dst. False when `stored` is not a valid LZ4 block of
// that size (corruption).
bool DecompressValue(std::string_view stored, char* dst, std::size_t raw_size);

}  // namespace dynakv::storage
