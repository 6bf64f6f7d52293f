#include "eviction_pool.h"

#include <algorithm>

namespace dynakv::storage {

void EvictionPool::Offer(std::uint64_t score, std::uint64_t hash, std::string_view key) {
  auto same = std::find_if(items_.begin(), items_.end(),
                           [&](const Candidate& c) { return c.hash == hash && c.key == key; });
  if (same != items_.end()) items_.erase(same);
  if (items_.size() == kSize) {
    if (score <= items_.front().score) return;
    items_.erase(items_.begin());
  }
  auto at = std::upper_bound(items_.begin(), items_.end(), score,
                             [](std::uint64_t s, const Candidate& c) { return s < c.score; });
  items_.insert(at, Candidate{score, hash, std::string(key)});
}

bool EvictionPool::PopBest(std::uint64_t* hash, std::string* key) {
  if (items_.empty()) return false;
  *hash = items_.back().hash;
  *key = std::move(items_.back().key);
  items_.pop_back();
  return true;
}

}  // namespace dynakv::storage
