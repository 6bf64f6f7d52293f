// latency-tracking-info-percentiles, parsed and shown as Redis 7.0 does (config.c's
// setConfigLatencyTrackingInfoPercentilesOutputOption and its getter).

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "config.h"

namespace dynakv::server {

bool ParseLatencyPercentiles(std::string_view value, Config* config, std::string* reason) {
  std::vector<double> percentiles;
  std::size_t i = 0;
  while (i < value.size()) {
    while (i < value.size() && value[i] == ' ') ++i;
    const std::size_t start = i;
    while (i < value.size() && value[i] != ' ') ++i;
    if (i == start) break;
    const std::string word(value.substr(start, i - start));
    char* end = nullptr;
    errno = 0;
    const double percentile = std::strtod(word.c_str(), &end);
    if (end != word.c_str() + word.size() || errno == ERANGE || std::isnan(percentile) ||
        std::isspace(static_cast<unsigned char>(word[0]))) {
      *reason = "Invalid latency-tracking-info-percentiles parameters";
      return false;
    }
    if (percentile > 100.0 || percentile < 0.0) {
      *reason = "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]";
      return false;
    }
    percentiles.push_back(percentile);
  }
  config->latency_tracking_info_percentiles = std::move(percentiles);
  return true;
}

std::string FormatPercentile(double percentile) {
  char text[128];
  std::snprintf(text, sizeof(text), "%f", percentile);
  std::string out = text;
  // Redis's trimDoubleString: no trailing zeros, no trailing point.
  if (out.find('.') != std::string::npos) {
    while (out.back() == '0') out.pop_back();
    if (out.back() == '.') out.pop_back();
  }
  return out;
}

std::string FormatLatencyPercentiles(const Config& config) {
  std::string out;
  for (double percentile : config.latency_tracking_info_percentiles) {
    if (!out.empty()) out += ' ';
    out += FormatPercentile(percentile);
  }
  return out;
}

}  // namespace dynakv::server
