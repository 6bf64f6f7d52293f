// Redis's eviction pool (evict.c): the best victims seen by recent samplings, so that each
// eviction chooses among more keys than one sampling looks at. A candidate is remembered by its
// key and checked again when chosen (it may have changed or gone meanwhile).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dynakv::storage {

class EvictionPool {
 public:
  static constexpr std::size_t kSize = 16;  // EVPOOL_SIZE

  // A sampled key with its score (higher: a better victim). Kept when the pool has room or the
  // score beats its worst candidate; a key already in the pool gets the new score.
  void Offer(std::uint64_t score, std::uint64_t hash, std::string_view key);
  // Takes out the best candidate; false when the pool is empty.
  bool PopBest(std::uint64_t* hash, std::string* key);
  void Clear() { items_.clear(); }
  std::size_t size() const { return items_.size(); }

 private:
  struct Candidate {
    std::uint64_t score;
    std::uint64_t hash;
    std::string key;
  };
  std::vector<Candidate> items_;  // ascending score: the best victim last
};

}  // namespace dynakv::storage
