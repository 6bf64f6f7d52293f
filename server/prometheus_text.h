// INFO as Prometheus metrics: the text exposition format 0.0.4 that the metrics endpoint
// (metrics_server.h) serves, built from GenerateInfo's "# Section / field:value" text so that
// every counter INFO shows is scraped under one name, and nothing is counted twice.
//
// Names follow Prometheus's conventions and redis_exporter's choices for Redis's fields, with a
// dynakv_ prefix: counters end in _total (total_commands_processed becomes
// dynakv_commands_processed_total, keyspace_hits dynakv_keyspace_hits_total, used_cpu_sys
// dynakv_cpu_sys_seconds_total), other numbers are gauges named as the field
// (connected_clients: dynakv_connected_clients), ok/err statuses are 1/0 gauges. Lines with
// several values become labelled samples: db0:keys=.. dynakv_db_keys{db="db0"},
// cmdstat_get:calls=..,usec=.. dynakv_commands_total{cmd="get"} and
// dynakv_commands_duration_seconds_total, errorstat_ERR:count=.. dynakv_errors_total{err="ERR"},
// latency_percentiles_usec_get:p50=.. the summary dynakv_command_latency_seconds{cmd="get",
// quantile="0.5"} (with _sum and _count from commandstats). The cluster's members by failure
// detector state are dynakv_cluster_members{state="up|suspect|down"}. Version strings and
// similar text fields are labels of dynakv_instance_info, whose value is 1. Other text fields
// are left out.
#pragma once

#include <string>
#include <string_view>

namespace dynakv::server {

// Each family is written once, as "# HELP", "# TYPE", then its samples; `info` lines that are
// neither a section header nor field:value are ignored.
std::string InfoToPrometheus(std::string_view info);

}  // namespace dynakv::server
