#include "latency_monitor.h"

#include <algorithm>
#include <cstdio>

#include "format.h"

namespace dynakv::server {

std::vector<LatencyMonitor::Sample> LatencyMonitor::Series::Ordered() const {
  std::vector<Sample> out;
  for (std::size_t i = 0; i < kSamples; ++i) {
    const Sample& s = samples[(next + i) % kSamples];
    if (s.time != 0) out.push_back(s);
  }
  return out;
}

void LatencyMonitor::AddSample(std::string_view event, std::uint64_t latency_ms,
                               std::int64_t now) {
  auto it = events_.find(event);
  if (it == events_.end()) it = events_.emplace(std::string(event), Series{}).first;
  Series& series = it->second;
  const auto latency = static_cast<std::uint32_t>(std::min<std::uint64_t>(latency_ms, UINT32_MAX));
  series.max_ms = std::max(series.max_ms, latency);
  // One sample per second: the worst of it.
  Sample& previous = series.samples[(series.next + kSamples - 1) % kSamples];
  if (previous.time == now) {
    previous.latency_ms = std::max(previous.latency_ms, latency);
    return;
  }
  series.samples[series.next] = Sample{now, latency};
  series.next = (series.next + 1) % kSamples;
}

const LatencyMonitor::Series* LatencyMonitor::Find(std::string_view event) const {
  auto it = events_.find(event);
  return it == events_.end() ? nullptr : &it->second;
}

std::size_t LatencyMonitor::ResetAll() {
  const std::size_t n = events_.size();
  events_.clear();
  return n;
}

std::size_t LatencyMonitor::Reset(std::string_view event) {
  auto it = events_.find(event);
  if (it == events_.end()) return 0;
  events_.erase(it);
  return 1;
}

namespace {

// Redis's analyzeLatencyForEvent.
struct Analysis {
  int samples = 0;
  std::uint64_t avg = 0;
  std::uint64_t mad = 0;
  std::int64_t period = 0;
};

Analysis Analyze(const LatencyMonitor::Series& series, std::int64_t now) {
  Analysis a;
  std::uint64_t sum = 0;
  std::int64_t oldest = 0;
  const std::vector<LatencyMonitor::Sample> samples = series.Ordered();
  for (const LatencyMonitor::Sample& s : samples) {
    ++a.samples;
    sum += s.latency_ms;
    if (oldest == 0 || s.time < oldest) oldest = s.time;
  }
  if (a.samples == 0) return a;
  a.avg = sum / static_cast<std::uint64_t>(a.samples);
  a.period = now - oldest;
  if (a.period == 0) a.period = 1;
  std::uint64_t deviation = 0;
  for (const LatencyMonitor::Sample& s : samples) {
    const long long delta = static_cast<long long>(a.avg) - static_cast<long long>(s.latency_ms);
    deviation += static_cast<std::uint64_t>(delta < 0 ? -delta : delta);
  }
  a.mad = deviation / static_cast<std::uint64_t>(a.samples);
  return a;
}

}  // namespace

std::string LatencyMonitor::Doctor(long long threshold_ms, long long slowlog_slower_than,
                                   std::int64_t now) const {
  if (events_.empty() && threshold_ms == 0) {
    return "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis "
           "instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in "
           "order to enable it. If we weren't in a deep space mission I'd suggest to take a look "
           "at https://redis.io/topics/latency-monitor.\n";
  }
  if (events_.empty()) {
    return "Dave, no latency spike was observed during the lifetime of this Redis instance, not "
           "in the slightest bit. I honestly think you ought to sit down calmly, take a stress "
           "pill, and think things over.\n";
  }
  std::string report =
      "Dave, I have observed latency spikes in this Redis instance. You don't mind talking about "
      "it, do you Dave?\n\n";
  bool advise_slowlog_enabled = false;
  bool advise_slowlog_tuning = false;
  bool advise_slowlog_inspect = false;
  bool advise_large_objects = false;
  bool advise_scheduler = false;
  int number = 1;
  for (const auto& [event, series] : events_) {
    const Analysis a = Analyze(series, now);
    AppendPrintf(&report,
                 "%d. %s: %d latency spikes (average %llums, mean deviation %llums, period %.2f "
                 "sec). Worst all time event %llums.",
                 number++, event.c_str(), a.samples, static_cast<unsigned long long>(a.avg),
                 static_cast<unsigned long long>(a.mad),
                 static_cast<double>(a.period) / a.samples,
                 static_cast<unsigned long long>(series.max_ms));
    report += "\n";
    if (event == "command" || event == "fast-command") {
      if (slowlog_slower_than < 0) {
        advise_slowlog_enabled = true;
      } else if (slowlog_slower_than / 1000 > threshold_ms) {
        advise_slowlog_tuning = true;
      }
      advise_slowlog_inspect = true;
      if (event == "command") advise_large_objects = true;
      if (event == "fast-command") advise_scheduler = true;
    }
    if (event == "expire-cycle" || event == "eviction-cycle" || event == "eviction-del") {
      advise_large_objects = true;
    }
  }
  report += "\nI have a few advices for you:\n\n";
  if (advise_slowlog_enabled) {
    AppendPrintf(&report,
                 "- There are latency issues with potentially slow commands you are using. Try "
                 "to enable the Slow Log Redis feature using the command 'CONFIG SET "
                 "slowlog-log-slower-than %llu'. If the Slow log is disabled Redis is not able "
                 "to log slow commands execution for you.\n",
                 static_cast<unsigned long long>(threshold_ms * 1000));
  }
  if (advise_slowlog_tuning) {
    AppendPrintf(&report,
                 "- Your current Slow Log configuration only logs events that are slower than "
                 "your configured latency monitor threshold. Please use 'CONFIG SET "
                 "slowlog-log-slower-than %llu'.\n",
                 static_cast<unsigned long long>(threshold_ms * 1000));
  }
  if (advise_slowlog_inspect) {
    report +=
        "- Check your Slow Log to understand what are the commands you are running which are "
        "too slow to execute. Please check https://redis.io/commands/slowlog for more "
        "information.\n";
  }
  if (advise_scheduler) {
    report +=
        "- The system is slow to execute Redis code paths not containing system calls. This "
        "usually means the system does not provide Redis CPU time to run for long periods. You "
        "should try to:\n"
        "  1) Lower the system load.\n"
        "  2) Use a computer / VM just for Redis if you are running other software in the same "
        "system.\n"
        "  3) Check if you have a \"noisy neighbour\" problem.\n"
        "  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in "
        "your system.\n"
        "  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, "
        "if you are using Jemalloc. However this may create fragmentation problems.\n";
  }
  if (advise_large_objects) {
    report +=
        "- Deleting, expiring or evicting (because of maxmemory policy) large objects is a "
        "blocking operation. If you have very large objects that are often deleted, expired, or "
        "evicted, try to fragment those objects into multiple smaller objects.\n";
  }
  return report;
}

// Redis's latencyCommandGenSparkeline: a column per sample (oldest first), its height the
// latency scaled between the lowest and the highest sample, with the sample's age under it.
std::string LatencyMonitor::Graph(std::string_view event, std::int64_t now) const {
  const Series* series = Find(event);
  if (series == nullptr) return {};
  const std::vector<Sample> samples = series->Ordered();
  std::uint32_t low = UINT32_MAX;
  std::uint32_t high = 0;
  for (const Sample& s : samples) {
    low = std::min(low, s.latency_ms);
    high = std::max(high, s.latency_ms);
  }
  if (samples.empty()) low = 0;
  std::string graph;
  AppendPrintf(&graph, "%s - high %lu ms, low %lu ms (all time high %lu ms)\n",
               std::string(event).c_str(), static_cast<unsigned long>(high),
               static_cast<unsigned long>(low), static_cast<unsigned long>(series->max_ms));
  graph += std::string(80, '-') + "\n";
  constexpr int kRows = 4;  // Redis's sparkline of height 4: "_o#" levels over 4 rows
  const std::size_t columns = samples.size();
  std::vector<std::string> rows(kRows, std::string(columns, ' '));
  for (std::size_t c = 0; c < columns; ++c) {
    const double range = high == low ? 1.0 : static_cast<double>(high - low);
    const int steps = kRows * 2 - 1;  // each row shows '_' (half) or '#' (full)... as Redis
    const int level = high == low ? 0
                                  : static_cast<int>((samples[c].latency_ms - low) / range * steps);
    for (int r = 0; r < kRows; ++r) {
      const int row_level = level - (kRows - 1 - r) * 2;
      char ch = ' ';
      if (row_level >= 1) ch = '#';
      else if (row_level == 0) ch = r == kRows - 1 && level == 0 ? '_' : (level > 0 ? 'o' : ' ');
      rows[static_cast<std::size_t>(r)][c] = ch;
    }
  }
  for (const std::string& row : rows) graph += row + "\n";
  // Ages, vertically, as Redis labels columns ("15s", "2m"...).
  std::vector<std::string> labels;
  std::size_t longest = 0;
  for (const Sample& s : samples) {
    const std::int64_t age = now - s.time;
    std::string label = age < 60     ? std::to_string(age) + "s"
                        : age < 3600 ? std::to_string(age / 60) + "m"
                                     : std::to_string(age / 3600) + "h";
    longest = std::max(longest, label.size());
    labels.push_back(std::move(label));
  }
  for (std::size_t line = 0; line < longest; ++line) {
    std::string row;
    for (const std::string& label : labels) row += line < label.size() ? label[line] : ' ';
    graph += row + "\n";
  }
  return graph;
}

}  // namespace dynakv::server
