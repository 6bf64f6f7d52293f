#include "latency_histogram.h"

#include <algorithm>
#include <cmath>

namespace dynakv::server {

// Bucket b (b >= 1) covers [sub_bucket_count/2 << b, sub_bucket_count << b) in steps of 1 << b;
// bucket 0 covers [0, sub_bucket_count) in steps of 1. Counters are laid out bucket after bucket,
// each bucket but the first holding only its upper half (its lower half is the previous bucket).
LatencyHistogram::LatencyHistogram(std::int64_t highest, int significant_figures)
    : highest_(highest) {
  const double single_unit_limit = 2 * std::pow(10.0, significant_figures);
  const int sub_bucket_count_magnitude = static_cast<int>(std::ceil(std::log2(single_unit_limit)));
  half_count_magnitude_ = std::max(sub_bucket_count_magnitude, 1) - 1;
  sub_bucket_count_ = 1 << (half_count_magnitude_ + 1);
  sub_bucket_mask_ = sub_bucket_count_ - 1;
  int buckets = 1;
  for (std::int64_t untrackable = sub_bucket_count_; untrackable <= highest; untrackable <<= 1) {
    ++buckets;
  }
  counts_.assign(static_cast<std::size_t>(buckets + 1) * (sub_bucket_count_ / 2), 0);
}

int LatencyHistogram::BucketIndex(std::int64_t value) const {
  const int pow2_ceiling = 64 - __builtin_clzll(static_cast<std::uint64_t>(value | sub_bucket_mask_));
  return pow2_ceiling - (half_count_magnitude_ + 1);
}

int LatencyHistogram::CountsIndex(std::int64_t value) const {
  const int bucket = BucketIndex(value);
  const int sub_bucket = static_cast<int>(value >> bucket);
  return ((bucket + 1) << half_count_magnitude_) + (sub_bucket - sub_bucket_count_ / 2);
}

std::int64_t LatencyHistogram::ValueAtIndex(int index) const {
  int bucket = (index >> half_count_magnitude_) - 1;
  int sub_bucket = (index & (sub_bucket_count_ / 2 - 1)) + sub_bucket_count_ / 2;
  if (bucket < 0) {
    sub_bucket -= sub_bucket_count_ / 2;
    bucket = 0;
  }
  return static_cast<std::int64_t>(sub_bucket) << bucket;
}

std::int64_t LatencyHistogram::LowestEquivalent(std::int64_t value) const {
  const int bucket = BucketIndex(value);
  return (value >> bucket) << bucket;
}

std::int64_t LatencyHistogram::HighestEquivalent(std::int64_t value) const {
  const int bucket = BucketIndex(value);
  const std::int64_t sub_bucket = value >> bucket;
  const int width_shift = sub_bucket >= sub_bucket_count_ ? bucket + 1 : bucket;
  return LowestEquivalent(value) + (std::int64_t{1} << width_shift) - 1;
}

void LatencyHistogram::Record(std::int64_t value) {
  value = std::clamp<std::int64_t>(value, 1, highest_);
  const int index = CountsIndex(value);
  if (index < 0 || static_cast<std::size_t>(index) >= counts_.size()) return;
  ++counts_[static_cast<std::size_t>(index)];
  ++total_;
  sum_ += static_cast<std::uint64_t>(value);
}

void LatencyHistogram::Reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  total_ = 0;
  sum_ = 0;
}

std::vector<std::uint64_t> LatencyHistogram::CountsUpTo(
    const std::vector<std::int64_t>& bounds) const {
  std::vector<std::uint64_t> out;
  out.reserve(bounds.size());
  std::size_t next = 0;  // the first counter not yet added
  std::uint64_t n = 0;
  for (const std::int64_t bound : bounds) {
    if (bound < 1) {
      out.push_back(0);
      continue;
    }
    const std::size_t last =
        bound >= highest_ ? counts_.size() - 1 : static_cast<std::size_t>(CountsIndex(bound));
    for (; next <= last && next < counts_.size(); ++next) n += counts_[next];
    out.push_back(n);
  }
  return out;
}

std::int64_t LatencyHistogram::ValueAtPercentile(double percentile) const {
  const double requested = std::min(percentile, 100.0);
  std::uint64_t wanted =
      static_cast<std::uint64_t>(requested / 100 * static_cast<double>(total_) + 0.5);
  wanted = std::min(wanted, total_);
  std::uint64_t seen = 0;
  std::int64_t value = 0;
  for (std::size_t i = 0; i < counts_.size() && seen < wanted; ++i) {
    seen += counts_[i];
    value = ValueAtIndex(static_cast<int>(i));
  }
  return percentile == 0.0 ? LowestEquivalent(value) : HighestEquivalent(value);
}

// hdr_histogram's log iterator walks the counters one by one and stops at the first one whose
// value reaches the next reporting level; what it reports there is that counter's highest
// equivalent value and the count so far.
std::vector<LatencyHistogram::Level> LatencyHistogram::LogLevels(std::int64_t first,
                                                                 double base) const {
  std::vector<Level> levels;
  const int size = static_cast<int>(counts_.size());
  int index = -1;
  std::uint64_t cumulative = 0;
  std::int64_t value = 0;
  std::int64_t level = first;
  std::int64_t level_lowest = LowestEquivalent(level);
  std::uint64_t reported = 0;
  while (cumulative < total_ || (index < size && ValueAtIndex(index + 1) > level_lowest)) {
    while (value < level_lowest && index + 1 < size) {
      ++index;
      cumulative += counts_[static_cast<std::size_t>(index)];
      value = ValueAtIndex(index);
    }
    // Past the last counter the iterator reports where it stopped, once more.
    const bool past_end = value < level_lowest;
    if (cumulative > reported) {
      levels.push_back(Level{HighestEquivalent(value), cumulative});
      reported = cumulative;
    }
    if (past_end) break;
    level = static_cast<std::int64_t>(static_cast<double>(level) * base);
    level_lowest = LowestEquivalent(level);
  }
  return levels;
}

}  // namespace dynakv::server
