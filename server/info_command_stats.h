// INFO's per-command and per-error sections, as Redis 7.0 writes them (server.c's
// genRedisInfoStringCommandStats, errorstats and genRedisInfoStringLACStats).
#pragma once

#include <string>

namespace dynakv::server {

class Server;

// "# Commandstats": cmdstat_<name>:calls=..,usec=..,usec_per_call=..,rejected_calls=..,
// failed_calls=.. for every command or subcommand ("cmdstat_client|list") used since start or
// CONFIG RESETSTAT.
void CommandStatsSection(Server& server, std::string* out);
// "# Errorstats": errorstat_<CODE>:count=.. by error code, sorted.
void ErrorStatsSection(Server& server, std::string* out);
// "# Latencystats": latency_percentiles_usec_<name>:p50=..,p99=..,p99.9=.. (the percentiles of
// latency-tracking-info-percentiles), empty while latency-tracking is off.
void LatencyStatsSection(Server& server, std::string* out);

}  // namespace dynakv::server
