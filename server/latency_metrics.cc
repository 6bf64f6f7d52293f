#include "latency_metrics.h"

#include <charconv>
#include <cstdint>
#include <vector>

namespace dynakv::server {
namespace {

constexpr std::string_view kFamily = "dynakv_command_latency_histogram_seconds";
constexpr int kBounds = 21;  // 2^0 .. 2^20 microseconds

std::string Seconds(double v) {
  char buf[64];
  const auto result = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, result.ptr);
}

}  // namespace

std::string CommandLatencyHistograms(const CommandTable& table, const CommandStats& stats) {
  std::vector<std::int64_t> bounds_ns;
  std::vector<std::string> le;
  for (int i = 0; i < kBounds; ++i) {
    const std::int64_t us = std::int64_t{1} << i;
    bounds_ns.push_back(us * 1000);
    le.push_back(Seconds(static_cast<double>(us) / 1e6));
  }
  std::string out;
  for (std::size_t id = 0; id < table.entries().size() && id < stats.size(); ++id) {
    const LatencyHistogram* histogram = stats.Of(static_cast<int>(id)).histogram.get();
    if (histogram == nullptr) continue;
    if (out.empty()) {
      out.append("# HELP ").append(kFamily).append(
          " LATENCY HISTOGRAM: latency per command (while latency-tracking is on)\n");
      out.append("# TYPE ").append(kFamily).append(" histogram\n");
    }
    // Command names are lower-case letters, '-' and '|': nothing to escape in a label.
    const std::string cmd = "cmd=\"" + table.entries()[id].fullname + "\"";
    const std::vector<std::uint64_t> counts = histogram->CountsUpTo(bounds_ns);
    for (int i = 0; i < kBounds; ++i) {
      out.append(kFamily).append("_bucket{").append(cmd).append(",le=\"").append(le[i]);
      out.append("\"} ").append(std::to_string(counts[static_cast<std::size_t>(i)])).append("\n");
    }
    const std::string total = std::to_string(histogram->total_count());
    out.append(kFamily).append("_bucket{").append(cmd).append(",le=\"+Inf\"} ").append(total);
    out.append("\n");
    out.append(kFamily).append("_sum{").append(cmd).append("} ");
    out.append(Seconds(static_cast<double>(histogram->sum()) / 1e9)).append("\n");
    out.append(kFamily).append("_count{").append(cmd).append("} ").append(total).append("\n");
  }
  return out;
}

}  // namespace dynakv::server
