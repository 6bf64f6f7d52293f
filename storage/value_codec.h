// How values are kept in memory, in the log and in segments: LZ4-compressed when that pays off,
// raw otherwise. The raw size always travels with the stored bytes so decompression needs no
// framing of its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

union LZ4_stream_u;

namespace dynakv::storage {

// Compresses values on the write path. It keeps LZ4's 16 KB state and its output buffer
// between calls: preparing a fresh state for every value cost more than compressing a 1 KB one.
class ValueCompressor {
 public:
  ValueCompressor();
  ~ValueCompressor();
  ValueCompressor(const ValueCompressor&) = delete;
  ValueCompressor& operator=(const ValueCompressor&) = delete;

  // Values of kProbeMinSize bytes or more are sampled first: when LZ4 cannot shrink slices taken
  // across the value (random or already-compressed data), the whole value is not tried, which
  // spares most of the cost of writing such values. A value compressible only outside the
  // slices may thus stay raw.
  static constexpr std::size_t kProbeMinSize = 8192;
  // Shorter values are not sampled (the sample would cost what LZ4 does): once kRefusedRun of
  // them in a row did not shrink (random tokens, already compressed data: 60% of the RDB
  // import is such strings), only every kRetryStride-th one is tried until one shrinks again.
  // The others are stored raw and counted at their raw size; a compressible value right after
  // such a run may thus stay raw, at most kRetryStride - 1 of them in a row.
  static constexpr std::uint32_t kRefusedRun = 64;
  static constexpr std::uint32_t kRetryStride = 16;
  // The same rule for sampled values, after a shorter run: the sample of a 16 KB value (2 KB
  // copied and given to LZ4) was 2-4% of a SET's server time for incompressible values (random
  // bytes, media, already-compressed blobs), all of it wasted. Once kLargeRefusedRun of them in a
  // row had a sample that did not shrink, only every kRetryStride-th is sampled until one shrinks;
  // a compressible large value right after such a run may thus stay raw, at most kRetryStride - 1
  // of them in a row.
  static constexpr std::uint32_t kLargeRefusedRun = 8;

  // Compresses `raw` when it is at least `threshold` bytes long and LZ4 makes it smaller. Returns
  // true when *packed holds the compressed form (valid until the next call); false means store
  // `raw` as is.
  bool Compress(std::string_view raw, std::size_t threshold, std::string_view* packed);

 private:
  // One independent LZ4 block of src into dst; its size, 0 on failure.
  std::size_t CompressBlock(const char* src, std::size_t n, char* dst, std::size_t capacity);
  bool SampleCompresses(std::string_view raw);

  struct StreamDeleter {
    void operator()(LZ4_stream_u* stream) const;
  };
  // The rule both kinds of value follow: after `run_length` of them in a row that did not
  // shrink, only every kRetryStride-th is tried until one shrinks again.
  class RefusalRun {
   public:
    explicit RefusalRun(std::uint32_t run_length) : run_length_(run_length) {}
    // Whether this value is stored raw untried (counted as one of the skipped).
    bool Skip() {
      if (skip_left_ == 0) return false;
      --skip_left_;
      return true;
    }
    // What trying this value showed.
    void Note(bool shrunk) {
      if (shrunk) {
        refused_ = 0;
      } else if (++refused_ >= run_length_) {
        skip_left_ = kRetryStride - 1;
      }
    }

   private:
    const std::uint32_t run_length_;
    std::uint32_t refused_ = 0;    // values in a row that did not shrink
    std::uint32_t skip_left_ = 0;  // values still to store raw untried
  };

  std::unique_ptr<LZ4_stream_u, StreamDeleter> stream_;
  std::string buf_;
  RefusalRun short_values_{kRefusedRun};         // tried whole
  RefusalRun sampled_values_{kLargeRefusedRun};  // tried by their sample
};

// Decompresses exactly raw_size bytes into dst. False when `stored` is not a valid LZ4 block of
// that size (corruption).
bool DecompressValue(std::string_view stored, char* dst, std::size_t raw_size);

}  // namespace dynakv::storage
