// Timestamps for last-write-wins. Wall clocks of different nodes drift and can step backwards,
// so a write stamped with the raw wall time could lose to an older one. A hybrid logical clock
// stays close to wall time but never repeats or goes back on one node, and observing the
// timestamps of data it receives makes a write that follows a read sort after what was read.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>

namespace dynakv::cluster {

class HybridClock {
 public:
  // The timestamp for a new local write: max(wall, last + 1).
  std::int64_t Tick(std::int64_t wall_ms) {
    const std::int64_t next =
        last_ms_ == std::numeric_limits<std::int64_t>::max() ? last_ms_ : last_ms_ + 1;
    last_ms_ = std::max(wall_ms, next);
    return last_ms_;
  }
  // Folds in a timestamp seen on replicated or read data.
  void Observe(std::int64_t remote_ms) { last_ms_ = std::max(last_ms_, remote_ms); }
  std::int64_t last_ms() const { return last_ms_; }

 private:
  std::int64_t last_ms_ = 0;
};

}  // namespace dynakv::cluster
