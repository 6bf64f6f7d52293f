// Bloom filter over 64-bit key hashes, one per segment, so a lookup of a key a segment does not
// hold usually costs no disk read. The k probe positions are derived from the one 64-bit hash by
// double hashing, so no second hash function is needed.
// Encoding: the bit array followed by one byte holding k.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dynakv::storage {

std::string BuildBloomFilter(const std::vector<std::uint64_t>& hashes, int bits_per_key = 10);

class BloomFilter {
 public:
  BloomFilter() = default;
  explicit BloomFilter(std::string data) : data_(std::move(data)) {}
  // True when the hash may have been added; an empty or malformed filter says "maybe" to all.
  bool MayContain(std::uint64_t hash) const;
  std::size_t size() const { return data_.size(); }

 private:
  std::string data_;
};

}  // namespace dynakv::storage
