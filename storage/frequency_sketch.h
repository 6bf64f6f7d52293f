// The frequency sketch of W-TinyLFU (Einziger, Friedman, Manes; Caffeine's FrequencySketch): a
// count-min sketch of 4-bit counters, four per key, packed sixteen to a 64-bit word. It ages:
// after 10 x capacity increments every counter is halved, so past popularity fades. Its size
// follows the number of keys (one word per key, rounded up to a power of two): 8 to 16 bytes a
// key, never more.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace dynakv::storage {

class FrequencySketch {
 public:
  FrequencySketch() { Resize(kMinWords); }

  // Grows (and so restarts) the sketch when `keys` outgrew it; never shrinks.
  void EnsureCapacity(std::size_t keys);
  // One more access of the key with this hash.
  void Increment(std::uint64_t hash);
  // The estimated accesses (0..15, aged) of the key with this hash.
  int Frequency(std::uint64_t hash) const;
  std::size_t bytes() const { return table_.size() * sizeof(std::uint64_t); }
  std::size_t capacity() const { return table_.size(); }
  std::uint64_t resets() const { return resets_; }

 private:
  static constexpr std::size_t kMinWords = 512;  // 4 KB: a small cache still counts well
  void Resize(std::size_t words);
  void Reset();  // the aging step: every counter halved
  // The i-th of the key's four counters: its word and its 4-bit slot.
  std::size_t WordOf(std::uint64_t hash, int i) const;
  static unsigned SlotOf(std::uint64_t hash, int i) { return (hash >> (i * 4 + 40)) & 15; }

  std::vector<std::uint64_t> table_;
  std::uint64_t additions_ = 0;
  std::uint64_t sample_size_ = 0;
  std::uint64_t resets_ = 0;
};

}  // namespace dynakv::storage
