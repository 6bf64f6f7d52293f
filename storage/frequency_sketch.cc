#include "frequency_sketch.h"

#include <algorithm>
#include <bit>

namespace dynakv::storage {

namespace {

// Four independent indexes from one 64-bit hash (Caffeine's seeds).
constexpr std::uint64_t kSeeds[4] = {0xc3a5c85c97cb3127ull, 0xb492b66fbe98f273ull,
                                     0x9ae16a3b2f90404full, 0xcbf29ce484222325ull};

}  // namespace

void FrequencySketch::Resize(std::size_t words) {
  table_.assign(words, 0);
  sample_size_ = 10 * words;
  additions_ = 0;
}

void FrequencySketch::EnsureCapacity(std::size_t keys) {
  if (keys <= table_.size()) return;
  Resize(std::bit_ceil(keys));
}

std::size_t FrequencySketch::WordOf(std::uint64_t hash, int i) const {
  std::uint64_t h = (hash + kSeeds[i]) * kSeeds[i];
  h += h >> 32;
  return static_cast<std::size_t>(h) & (table_.size() - 1);
}

void FrequencySketch::Increment(std::uint64_t hash) {
  bool added = false;
  for (int i = 0; i < 4; ++i) {
    std::uint64_t& word = table_[WordOf(hash, i)];
    const unsigned shift = SlotOf(hash, i) * 4;
    if (((word >> shift) & 15) != 15) {
      word += std::uint64_t{1} << shift;
      added = true;
    }
  }
  if (added && ++additions_ >= sample_size_) Reset();
}

int FrequencySketch::Frequency(std::uint64_t hash) const {
  int frequency = 15;
  for (int i = 0; i < 4; ++i) {
    const unsigned shift = SlotOf(hash, i) * 4;
    frequency = std::min(frequency, static_cast<int>((table_[WordOf(hash, i)] >> shift) & 15));
  }
  return frequency;
}

void FrequencySketch::Reset() {
  for (std::uint64_t& word : table_) word = (word >> 1) & 0x7777777777777777ull;
  additions_ /= 2;
  ++resets_;
}

}  // namespace dynakv::storage
