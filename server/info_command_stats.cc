#include "info_command_stats.h"

#include "format.h"
#include "server.h"

namespace dynakv::server {

void CommandStatsSection(Server& server, std::string* out) {
  *out += "# Commandstats\r\n";
  const CommandStats& stats = server.command_stats();
  const auto& entries = server.commands().entries();
  for (std::size_t id = 0; id < entries.size(); ++id) {
    const CommandStats::Counters& c = stats.Of(static_cast<int>(id));
    if (c.calls == 0 && c.failed_calls == 0 && c.rejected_calls == 0) continue;
    const unsigned long long usec = c.nanoseconds / 1000;
    AppendPrintf(out,
                 "cmdstat_%s:calls=%llu,usec=%llu,usec_per_call=%.2f,rejected_calls=%llu,"
                 "failed_calls=%llu\r\n",
                 entries[id].fullname.c_str(), static_cast<unsigned long long>(c.calls), usec,
                 c.calls == 0 ? 0.0
                              : static_cast<double>(static_cast<float>(usec) /
                                                    static_cast<float>(c.calls)),
                 static_cast<unsigned long long>(c.rejected_calls),
                 static_cast<unsigned long long>(c.failed_calls));
  }
}

void ErrorStatsSection(Server& server, std::string* out) {
  *out += "# Errorstats\r\n";
  for (const auto& [code, count] : server.command_stats().errors()) {
    AppendPrintf(out, "errorstat_%s:count=%llu\r\n", code.c_str(),
                 static_cast<unsigned long long>(count));
  }
}

void LatencyStatsSection(Server& server, std::string* out) {
  *out += "# Latencystats\r\n";
  const Config& config = server.config();
  if (!config.latency_tracking) return;
  const CommandStats& stats = server.command_stats();
  const auto& entries = server.commands().entries();
  for (std::size_t id = 0; id < entries.size(); ++id) {
    const LatencyHistogram* histogram = stats.Of(static_cast<int>(id)).histogram.get();
    if (histogram == nullptr) continue;
    *out += "latency_percentiles_usec_";
    *out += entries[id].fullname;
    *out += ':';
    const auto& percentiles = config.latency_tracking_info_percentiles;
    for (std::size_t i = 0; i < percentiles.size(); ++i) {
      if (i > 0) *out += ',';
      AppendPrintf(out, "p%s=%.3f", FormatPercentile(percentiles[i]).c_str(),
                   static_cast<double>(histogram->ValueAtPercentile(percentiles[i])) / 1000.0);
    }
    *out += "\r\n";
  }
}

}  // namespace dynakv::server
