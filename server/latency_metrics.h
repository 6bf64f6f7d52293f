// The per-command latency histograms (command_stats.h) as Prometheus histograms, for the metrics
// endpoint (metrics_server.h): unlike INFO latencystats' percentiles (the summary
// dynakv_command_latency_seconds), histograms add up across nodes and over time.
//
// dynakv_command_latency_histogram_seconds{cmd="get",le="..."} per command with a histogram,
// cumulative counts at the power-of-two microsecond bounds 1 us .. 1.048576 s (LATENCY
// HISTOGRAM's levels) and +Inf, with _sum and _count of the same recorded calls.
#pragma once

#include <string>

#include "command_stats.h"
#include "command_table.h"

namespace dynakv::server {

// The family's "# HELP", "# TYPE" and samples; "" when no command has a histogram.
std::string CommandLatencyHistograms(const CommandTable& table, const CommandStats& stats);

}  // namespace dynakv::server
