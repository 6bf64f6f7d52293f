#include "write_pacer.h"

#include <algorithm>

namespace dynakv::storage {

std::chrono::microseconds WritePacer::Owe(std::uint64_t bytes, double fraction,
                                          Clock::time_point now) {
  using std::chrono::microseconds;
  if (min_rate_ == 0 || fraction <= 0) return microseconds(0);
  fraction = std::min(fraction, 1.0);
  // A bucket that fell behind the real clock holds no credit: a writer that paused may not burst.
  if (paid_until_ < now) paid_until_ = now;
  const double cost_us =
      static_cast<double>(bytes) * fraction * 1e6 / static_cast<double>(min_rate_);
  paid_until_ += std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double, std::micro>(cost_us));
  const auto ahead = std::chrono::duration_cast<microseconds>(paid_until_ - now);
  if (ahead < kMinSleep) return microseconds(0);
  if (ahead <= kMaxSleep) return ahead;
  // A debt beyond one sleep (a value of many megabytes) is forgiven: the stall size bounds the
  // log whatever pacing does, and one write must not stop every client for long.
  paid_until_ = now + kMaxSleep;
  return kMaxSleep;
}

}  // namespace dynakv::storage
