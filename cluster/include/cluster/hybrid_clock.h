// Timestamps for last-write-wins. Wall clocks of different nodes drift and can step backwards,
// so a write stamped with the raw wall time could lose to an older one. A hybrid logical clock
// stays close to wall time but never repeats or goes back on one node, and observing the
// timestamps of data it receives makes a write that follows a read sort after what was read.
//
// Microseconds, not milliseconds: two writes in one tick are ordered by stepping one tick past
// the last, so the clock runs ahead of wall time only while a node sustains more writes per
// second than it has ticks. In ms that happened at a mere 1,000 writes/s, and observing one
// another spread the lead to the whole cluster; a restarted node (whose clock starts again from
// wall time) then stamped new writes below older ones, and last-write-wins kept the old value.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>

namespace dynakv::cluster {

class HybridClock {
 public:
  // The timestamp for a new local write: max(wall, last + 1), all in unix microseconds.
  std::int64_t Tick(std::int64_t wall_us) {
    const std::int64_t next =
        last_us_ == std::numeric_limits<std::int64_t>::max() ? last_us_ : last_us_ + 1;
    last_us_ = std::max(wall_us, next);
    return last_us_;
  }
  // Folds in a timestamp seen on replicated or read data.
  void Observe(std::int64_t remote_us) { last_us_ = std::max(last_us_, remote_us); }
  std::int64_t last_us() const { return last_us_; }

 private:
  std::int64_t last_us_ = 0;
};

}  // namespace dynakv::cluster
