// LZF, the compression of RDB strings (Marc Lehmann's liblzf 3.6 as Redis builds it: a 2^16-slot
// hash table, "very fast" mode). Written here, not linked: Redis's output is what a DUMP must
// reproduce byte for byte, so the compressor follows Redis's configuration exactly (except that
// its hash table starts cleared: Redis's starts uninitialised, whose stale entries may, rarely,
// find a match this one does not), and the decompressor checks every input byte and output bound
// (payloads are untrusted).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace dynakv::rdb {

// The LZF form of `in`, appended to *out, when it fits in `max_len` bytes; returns its length,
// or 0 (out unchanged) when it does not fit or `in` is empty. Redis asks for in.size() - 4 bytes
// at most, so only a string that shrinks by more than 4 bytes is stored compressed.
std::size_t LzfCompress(std::string_view in, std::size_t max_len, std::string* out);

// Decompresses `in` into exactly `raw_len` bytes appended to *out. False (out unchanged) when `in`
// is not an LZF stream of exactly that many bytes.
bool LzfDecompress(std::string_view in, std::size_t raw_len, std::string* out);

}  // namespace dynakv::rdb
