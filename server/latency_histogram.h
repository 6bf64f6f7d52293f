// A latency histogram with HdrHistogram's log-linear buckets, as Redis 7 keeps one per command
// (INFO latencystats, LATENCY HISTOGRAM): values from 1 to `highest` with `significant_figures`
// decimal digits of precision, so every value is counted in a bucket whose width is at most
// 1/10^figures of it. Percentiles and the power-of-two report are computed as hdr_histogram's
// hdr_value_at_percentile and log iterator compute them, so the figures equal Redis's for the
// same recorded values.
#pragma once

#include <cstdint>
#include <vector>

namespace dynakv::server {

class LatencyHistogram {
 public:
  // Redis's: nanoseconds from 1 ns to 1 s, 2 significant figures (24 KB of counters).
  explicit LatencyHistogram(std::int64_t highest = 1'000'000'000, int significant_figures = 2);

  // Counts `value`, clamped to [1, highest] as Redis's updateCommandLatencyHistogram clamps.
  void Record(std::int64_t value);
  std::uint64_t total_count() const { return total_; }
  // The sum of the recorded (clamped) values.
  std::uint64_t sum() const { return sum_; }
  // For each of the ascending `bounds`, how many recorded values lie in the buckets up to the
  // one holding it (values equivalent to the bound at the histogram's precision count as at or
  // below it): a Prometheus histogram's cumulative "le" buckets, in one pass over the counters.
  std::vector<std::uint64_t> CountsUpTo(const std::vector<std::int64_t>& bounds) const;
  void Reset();

  // The value at or below which `percentile` (0..100) of the recorded values lie: the highest
  // value equivalent to the bucket holding that count (the lowest for percentile 0).
  std::int64_t ValueAtPercentile(double percentile) const;

  // The report of LATENCY HISTOGRAM: reporting levels first, first*base, ... and at each the
  // highest value of the bucket the level falls in with the count of values up to that bucket.
  // Only levels where the count grew are listed (Redis's fillCommandCDF).
  struct Level {
    std::int64_t highest_equivalent;
    std::uint64_t cumulative;
  };
  std::vector<Level> LogLevels(std::int64_t first, double base) const;

  // The bucket a value falls in, by its lowest and highest equivalent values.
  std::int64_t LowestEquivalent(std::int64_t value) const;
  std::int64_t HighestEquivalent(std::int64_t value) const;
  std::size_t MemoryBytes() const { return sizeof(*this) + counts_.capacity() * sizeof(std::uint64_t); }

 private:
  int BucketIndex(std::int64_t value) const;
  int CountsIndex(std::int64_t value) const;
  std::int64_t ValueAtIndex(int index) const;

  std::int64_t highest_;
  int half_count_magnitude_;  // log2 of half the sub-buckets of a bucket
  int sub_bucket_count_;
  std::int64_t sub_bucket_mask_;
  std::vector<std::uint64_t> counts_;
  std::uint64_t total_ = 0;
  std::uint64_t sum_ = 0;
};

}  // namespace dynakv::server
