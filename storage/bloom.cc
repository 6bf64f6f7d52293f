#include "bloom.h"

#include <algorithm>
#include <cmath>

namespace dynakv::storage {

namespace {

// The second hash of the double-hashing scheme: the halves swapped, forced odd so the step is
// never 0 (which would make all k probes hit the same bit).
std::uint64_t Step(std::uint64_t hash) { return ((hash >> 32) | (hash << 32)) | 1; }

}  // namespace

std::string BuildBloomFilter(const std::vector<std::uint64_t>& hashes, int bits_per_key) {
  // k = bits_per_key * ln 2 minimises the false-positive rate.
  const int k = std::clamp(static_cast<int>(std::lround(bits_per_key * 0.69)), 1, 30);
  const std::uint64_t bits =
      std::max<std::uint64_t>(64, hashes.size() * static_cast<std::uint64_t>(bits_per_key));
  const std::uint64_t bytes = (bits + 7) / 8;
  const std::uint64_t nbits = bytes * 8;
  std::string out(bytes, '\0');
  for (std::uint64_t h : hashes) {
    const std::uint64_t step = Step(h);
    for (int i = 0; i < k; ++i) {
      const std::uint64_t bit = h % nbits;
      out[bit / 8] = static_cast<char>(out[bit / 8] | (1 << (bit % 8)));
      h += step;
    }
  }
  out.push_back(static_cast<char>(k));
  return out;
}

bool BloomFilter::MayContain(std::uint64_t hash) const {
  if (data_.size() < 2) return true;
  const int k = static_cast<unsigned char>(data_.back());
  if (k < 1 || k > 30) return true;
  const std::uint64_t nbits = (data_.size() - 1) * 8;
  const std::uint64_t step = Step(hash);
  for (int i = 0; i < k; ++i) {
    const std::uint64_t bit = hash % nbits;
    if ((static_cast<unsigned char>(data_[bit / 8]) & (1 << (bit % 8))) == 0) return false;
    hash += step;
  }
  return true;
}

}  // namespace dynakv::storage
