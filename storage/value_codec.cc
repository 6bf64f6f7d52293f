#include "value_codec.h"

#include <lz4.h>

#include <cstring>
#include <new>

namespace dynakv::storage {

namespace {

// A sample of 4 slices of 512 bytes, at the start, the quarters and the end of the value.
constexpr std::size_t kProbeSlices = 4;
constexpr std::size_t kProbeSlice = 512;
constexpr std::size_t kProbeSize = kProbeSlices * kProbeSlice;

}  // namespace

void ValueCompressor::StreamDeleter::operator()(LZ4_stream_u* stream) const {
  LZ4_freeStream(stream);
}

ValueCompressor::ValueCompressor() : stream_(LZ4_createStream()) {
  if (!stream_) throw std::bad_alloc();
}

ValueCompressor::~ValueCompressor() = default;

std::size_t ValueCompressor::CompressBlock(const char* src, std::size_t n, char* dst,
                                           std::size_t capacity) {
  // A fast reset starts a new chain of blocks without clearing the whole table, so the block
  // refers to nothing before it: a plain LZ4 block that LZ4_decompress_safe reads alone.
  LZ4_resetStream_fast(stream_.get());
  const int size = LZ4_compress_fast_continue(stream_.get(), src, dst, static_cast<int>(n),
                                              static_cast<int>(capacity), 1);
  return size > 0 ? static_cast<std::size_t>(size) : 0;
}

bool ValueCompressor::SampleCompresses(std::string_view raw) {
  char sample[kProbeSize];
  for (std::size_t i = 0; i < kProbeSlices; ++i) {
    const std::size_t at = (raw.size() - kProbeSlice) * i / (kProbeSlices - 1);
    std::memcpy(sample + i * kProbeSlice, raw.data() + at, kProbeSlice);
  }
  char out[LZ4_COMPRESSBOUND(kProbeSize)];
  const std::size_t n = CompressBlock(sample, kProbeSize, out, sizeof(out));
  // Random bytes come out a little larger than they went in; anything saving over 1/16 counts.
  return n > 0 && n < kProbeSize - kProbeSize / 16;
}

bool ValueCompressor::Compress(std::string_view raw, std::size_t threshold,
                               std::string_view* packed) {
  // LZ4's API is int-sized; huge values are simply stored raw.
  if (raw.empty() || raw.size() < threshold || raw.size() > LZ4_MAX_INPUT_SIZE) return false;
  const bool sampled = raw.size() >= kProbeMinSize;
  if ((sampled ? sampled_values_ : short_values_).Skip()) return false;
  if (sampled) {
    const bool sample_shrunk = SampleCompresses(raw);
    sampled_values_.Note(sample_shrunk);
    if (!sample_shrunk) return false;
  }
  const auto bound = static_cast<std::size_t>(LZ4_compressBound(static_cast<int>(raw.size())));
  if (buf_.size() < bound) buf_.resize(bound);
  const std::size_t n = CompressBlock(raw.data(), raw.size(), buf_.data(), bound);
  const bool shrunk = n != 0 && n < raw.size();
  if (!sampled) short_values_.Note(shrunk);
  if (!shrunk) return false;
  *packed = std::string_view(buf_.data(), n);
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
