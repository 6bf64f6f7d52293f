#include "latency_histogram.h"

#include <doctest/doctest.h>

#include <vector>

namespace dynakv::server {
namespace {

TEST_CASE("latency histogram buckets: exact below 256, 2 significant figures above") {
  LatencyHistogram h;
  CHECK(h.LowestEquivalent(200) == 200);
  CHECK(h.HighestEquivalent(200) == 200);
  // 1000 ns lies in the bucket of width 4 (512..1023): Redis's "p50=1.003" for 1 us commands.
  CHECK(h.LowestEquivalent(1000) == 1000);
  CHECK(h.HighestEquivalent(1000) == 1003);
  CHECK(h.HighestEquivalent(1024) == 1031);
  CHECK(h.HighestEquivalent(32768) == 33023);
  // Within 1% of the value everywhere in the range.
  for (std::int64_t v : {257LL, 999LL, 12345LL, 999999LL, 123456789LL, 999999999LL}) {
    CHECK(h.HighestEquivalent(v) - h.LowestEquivalent(v) + 1 <= v / 100 + 1);
    CHECK(h.LowestEquivalent(v) <= v);
    CHECK(h.HighestEquivalent(v) >= v);
  }
  CHECK(h.MemoryBytes() >= 3072 * sizeof(std::uint64_t));
}

TEST_CASE("latency histogram percentiles as hdr_value_at_percentile") {
  LatencyHistogram h;
  CHECK(h.ValueAtPercentile(50) == 0);  // empty
  for (int v = 1; v <= 100; ++v) h.Record(v);
  CHECK(h.total_count() == 100);
  CHECK(h.ValueAtPercentile(50) == 50);
  CHECK(h.ValueAtPercentile(99) == 99);
  CHECK(h.ValueAtPercentile(99.9) == 100);
  CHECK(h.ValueAtPercentile(100) == 100);
  CHECK(h.ValueAtPercentile(0) == 0);  // Redis reports the lowest value for 0
  h.Reset();
  h.Record(1000);
  h.Record(1000);
  h.Record(5'000'000);
  CHECK(h.ValueAtPercentile(50) == 1003);
  CHECK(h.ValueAtPercentile(66) == 1003);
  CHECK(h.ValueAtPercentile(84) == h.HighestEquivalent(5'000'000));  // 2.52 + 0.5 -> 3rd
}

TEST_CASE("latency histogram clamps to 1 ns .. 1 s") {
  LatencyHistogram h;
  h.Record(0);
  h.Record(-5);
  h.Record(5'000'000'000LL);
  CHECK(h.total_count() == 3);
  CHECK(h.ValueAtPercentile(50) == 1);
  CHECK(h.ValueAtPercentile(100) == h.HighestEquivalent(1'000'000'000));
}

TEST_CASE("latency histogram cumulative counts up to bounds, and the sum, for Prometheus") {
  LatencyHistogram h;
  const std::vector<std::int64_t> bounds = {0, 1'000, 2'000, 50'000, 1'000'000'000, 2'000'000'000};
  CHECK(h.CountsUpTo(bounds) == std::vector<std::uint64_t>(bounds.size(), 0));
  for (std::int64_t v : {500LL, 1'000LL, 1'500LL, 1'990LL, 40'000LL, 900'000'000LL}) h.Record(v);
  h.Record(5'000'000'000LL);  // clamped to 1 s
  CHECK(h.total_count() == 7);
  CHECK(h.sum() == 500 + 1'000 + 1'500 + 1'990 + 40'000 + 900'000'000ULL + 1'000'000'000ULL);
  // A bound counts the values of the buckets up to its own (1990 ns: 1984..1991; 2000 ns:
  // 2000..2007), so it is exact where a value and the bound are a bucket apart.
  CHECK(h.CountsUpTo(bounds) == std::vector<std::uint64_t>{0, 2, 4, 5, 7, 7});
  CHECK(h.CountsUpTo({999}) == std::vector<std::uint64_t>{1});
  h.Reset();
  CHECK(h.sum() == 0);
  CHECK(h.CountsUpTo({2'000'000'000}) == std::vector<std::uint64_t>{0});
}

TEST_CASE("latency histogram power-of-two levels as LATENCY HISTOGRAM reports them") {
  LatencyHistogram h;
  CHECK(h.LogLevels(1024, 2).empty());
  // 20 us is counted first at the 32768 ns level, whose bucket ends at 33023 ns: "33".
  h.Record(20'000);
  std::vector<LatencyHistogram::Level> levels = h.LogLevels(1024, 2);
  REQUIRE(levels.size() == 1);
  CHECK(levels[0].highest_equivalent == 33023);
  CHECK(levels[0].cumulative == 1);
  // Sub-microsecond values are in the first level; levels without new values are left out.
  h.Record(500);
  h.Record(1500);
  h.Record(1500);
  levels = h.LogLevels(1024, 2);
  REQUIRE(levels.size() == 3);
  CHECK(levels[0].highest_equivalent / 1000 == 1);
  CHECK(levels[0].cumulative == 1);
  CHECK(levels[1].highest_equivalent / 1000 == 2);
  CHECK(levels[1].cumulative == 3);
  CHECK(levels[2].highest_equivalent / 1000 == 33);
  CHECK(levels[2].cumulative == 4);
  // The largest value is past the last level the counters reach (2^30 ns): as hdr's iterator,
  // the report ends with the last counter's bucket (1073741823 ns).
  h.Record(1'000'000'000);
  levels = h.LogLevels(1024, 2);
  CHECK(levels.back().cumulative == 5);
  CHECK(levels.back().highest_equivalent == 1073741823);
}

}  // namespace
}  // namespace dynakv::server
