// The frequency estimate of W-TinyLFU (Einziger, Friedman, Manes; Caffeine's FrequencySketch): a
// count-min sketch of 4-bit counters, four per key, behind a doorkeeper (doorkeeper.h). As in
// Caffeine 3, a key's four counters lie in one 64-byte block (eight words, sixteen counters a
// word), so counting an access or estimating a key reads and writes one cache line of the sketch
// (and one of the doorkeeper).
//
// It ages: after 10 x capacity counted accesses every counter is halved and the doorkeeper is
// emptied, so past popularity fades. Its size follows the number of keys (one word per key,
// rounded up to a power of two, 8 to 16 bytes a key; the doorkeeper a quarter of that), never
// less than 640 bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "allocation_size.h"
#include "doorkeeper.h"

namespace dynakv::storage {

class FrequencySketch {
 public:
  FrequencySketch() { Resize(kMinWords); }

  // Grows (and so restarts) the sketch when `keys` outgrew it; never shrinks.
  void EnsureCapacity(std::size_t keys) {
    if (keys > words_) Grow(keys);
  }
  // One more access of the key with this hash: its first in an aging period only enters the
  // doorkeeper.
  void Increment(std::uint64_t hash);
  // The estimated accesses (0..16: the counters' 0..15, plus one when the doorkeeper holds it).
  int Frequency(std::uint64_t hash) const;
  // The aging step: every counter halved, the doorkeeper emptied. Runs by itself after
  // 10 x capacity accesses.
  void Age();
  std::size_t bytes() const {
    return AllocationSize(words_ * sizeof(std::uint64_t)) + doorkeeper_.bytes();
  }
  std::size_t capacity() const { return words_; }
  std::uint64_t resets() const { return resets_; }

 private:
  static constexpr std::size_t kMinWords = 64;  // 512 B: tiny caches too (Caffeine goes lower)
  struct alignas(64) Block {
    std::uint64_t words[8];
  };
  void Grow(std::size_t keys);
  void Resize(std::size_t words);

  std::unique_ptr<Block[]> blocks_;
  std::size_t words_ = 0;
  std::size_t block_mask_ = 0;
  Doorkeeper doorkeeper_;
  std::uint64_t additions_ = 0;
  std::uint64_t sample_size_ = 0;
  std::uint64_t resets_ = 0;
};

}  // namespace dynakv::storage
