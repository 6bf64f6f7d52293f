// TinyLFU's doorkeeper (Einziger, Friedman, Manes, section 3.4.2): a bloom filter in front of the
// frequency sketch. A key's first access in an aging period only sets its bits here; only later
// ones reach the sketch's counters, so the many keys seen once (a scan) do not crowd the
// counters of the keys that come back. Blocked: a key's three bits are in one 64-bit word, so a
// lookup or an insertion reads one cache line.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "allocation_size.h"

namespace dynakv::storage {

class Doorkeeper {
 public:
  // Sizes the filter for `words` 64-bit words (a power of two) and empties it.
  void Resize(std::size_t words) { bits_.assign(words, 0); }
  // Sets the key's bits; true when they were all set already (the key was probably seen).
  bool Put(std::uint64_t hash) {
    std::uint64_t& word = bits_[WordOf(hash)];
    const std::uint64_t mask = MaskOf(hash);
    const bool seen = (word & mask) == mask;
    word |= mask;
    return seen;
  }
  bool Contains(std::uint64_t hash) const {
    const std::uint64_t mask = MaskOf(hash);
    return (bits_[WordOf(hash)] & mask) == mask;
  }
  // The aging step: every key forgotten.
  void Clear() { std::fill(bits_.begin(), bits_.end(), 0); }
  std::size_t bytes() const { return AllocationSize(bits_.capacity() * sizeof(std::uint64_t)); }

 private:
  // The low bits choose the word (the sketch uses the high ones), three 6-bit fields the bits.
  std::size_t WordOf(std::uint64_t hash) const {
    return static_cast<std::size_t>(hash * 0x9E3779B97F4A7C15ull >> 20) & (bits_.size() - 1);
  }
  static std::uint64_t MaskOf(std::uint64_t hash) {
    return (std::uint64_t{1} << (hash & 63)) | (std::uint64_t{1} << ((hash >> 6) & 63)) |
           (std::uint64_t{1} << ((hash >> 12) & 63));
  }

  std::vector<std::uint64_t> bits_ = std::vector<std::uint64_t>(1);
};

}  // namespace dynakv::storage
