// LATENCY's events, as Redis 7.0's latency monitor keeps them (latency.c): once an operation of
// a kind ("command", "fast-command", "expire-cycle", ...) takes at least
// latency-monitor-threshold milliseconds, a sample (unix second, milliseconds) is added to that
// event's series of the last 160 samples, one per second at most (the worst of that second);
// the worst ever is kept apart.
#pragma once

#include <array>
#include <cstdint>
#include <ctime>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace dynakv::server {

class LatencyMonitor {
 public:
  struct Sample {
    std::int64_t time = 0;  // unix seconds; 0: unused slot
    std::uint32_t latency_ms = 0;
  };
  static constexpr std::size_t kSamples = 160;  // Redis's LATENCY_TS_LEN
  struct Series {
    std::array<Sample, kSamples> samples{};
    std::size_t next = 0;  // the slot the next sample goes to
    std::uint32_t max_ms = 0;
    // The samples oldest first.
    std::vector<Sample> Ordered() const;
    const Sample& Latest() const { return samples[(next + kSamples - 1) % kSamples]; }
  };

  // latencyAddSampleIfNeeded: a no-op unless 0 < threshold_ms <= latency_ms.
  void AddSampleIfNeeded(std::string_view event, std::uint64_t latency_ms,
                         long long threshold_ms, std::int64_t now = std::time(nullptr)) {
    if (threshold_ms > 0 && latency_ms >= static_cast<std::uint64_t>(threshold_ms)) {
      AddSample(event, latency_ms, now);
    }
  }
  void AddSample(std::string_view event, std::uint64_t latency_ms, std::int64_t now);
  const std::map<std::string, Series, std::less<>>& events() const { return events_; }
  const Series* Find(std::string_view event) const;
  // LATENCY RESET: every event (returns how many there were) or the named one (1 if it existed).
  std::size_t ResetAll();
  std::size_t Reset(std::string_view event);

  // LATENCY DOCTOR's report, Redis's wording. `slowlog_slower_than` (us) and `threshold_ms`
  // decide its advice as Redis's does.
  std::string Doctor(long long threshold_ms, long long slowlog_slower_than,
                     std::int64_t now = std::time(nullptr)) const;
  // LATENCY GRAPH's ASCII art of an event's samples (Redis's sparkline), "" when unknown.
  std::string Graph(std::string_view event, std::int64_t now = std::time(nullptr)) const;

 private:
  std::map<std::string, Series, std::less<>> events_;
};

}  // namespace dynakv::server
