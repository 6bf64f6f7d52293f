#include "frequency_sketch.h"

#include <algorithm>
#include <bit>

namespace dynakv::storage {

namespace {

// Where a key's counters are (Caffeine 3's FrequencySketch): one hash picks the block, a second
// one, derived from it, picks for counter i (0..3) a word among the block's pair 2i, 2i+1 and a
// 4-bit slot in it. Four rows, each in its own words: a collision in one row leaves the others.
struct Place {
  std::size_t block;
  std::uint32_t counter_hash;
};

Place PlaceOf(std::uint64_t hash, std::size_t block_mask) {
  std::uint64_t h = hash * 0x9E3779B97F4A7C15ull;
  h ^= h >> 32;
  const std::uint32_t block_hash = static_cast<std::uint32_t>(h);
  std::uint32_t counter_hash = block_hash * 0x31848bab;
  counter_hash ^= counter_hash >> 14;
  return {static_cast<std::size_t>(block_hash) & block_mask, counter_hash};
}

int WordIn(std::uint32_t counter_hash, int i) {
  return (i << 1) + static_cast<int>((counter_hash >> (i << 3)) & 1);
}
unsigned ShiftIn(std::uint32_t counter_hash, int i) {
  return ((counter_hash >> ((i << 3) + 1)) & 15) << 2;
}

}  // namespace

void FrequencySketch::Resize(std::size_t words) {
  words_ = words;
  blocks_ = std::make_unique<Block[]>(words / 8);  // value-initialized: zero
  block_mask_ = words / 8 - 1;
  doorkeeper_.Resize(std::max<std::size_t>(words / 4, 1));
  sample_size_ = 10 * words;
  additions_ = 0;
}

void FrequencySketch::Grow(std::size_t keys) { Resize(std::bit_ceil(keys)); }

void FrequencySketch::Increment(std::uint64_t hash) {
  if (++additions_ >= sample_size_) Age();
  if (!doorkeeper_.Put(hash)) return;  // its first access this period
  const Place p = PlaceOf(hash, block_mask_);
  std::uint64_t* words = blocks_[p.block].words;
  for (int i = 0; i < 4; ++i) {
    std::uint64_t& word = words[WordIn(p.counter_hash, i)];
    const unsigned shift = ShiftIn(p.counter_hash, i);
    if (((word >> shift) & 15) != 15) word += std::uint64_t{1} << shift;
  }
}

int FrequencySketch::Frequency(std::uint64_t hash) const {
  const Place p = PlaceOf(hash, block_mask_);
  const std::uint64_t* words = blocks_[p.block].words;
  int frequency = 15;
  for (int i = 0; i < 4; ++i) {
    const unsigned shift = ShiftIn(p.counter_hash, i);
    frequency =
        std::min(frequency, static_cast<int>((words[WordIn(p.counter_hash, i)] >> shift) & 15));
  }
  return frequency + (doorkeeper_.Contains(hash) ? 1 : 0);
}

void FrequencySketch::Age() {
  for (std::size_t b = 0; b <= block_mask_; ++b) {
    for (std::uint64_t& word : blocks_[b].words) word = (word >> 1) & 0x7777777777777777ull;
  }
  doorkeeper_.Clear();
  additions_ /= 2;
  ++resets_;
}

}  // namespace dynakv::storage
