#include "prometheus_text.h"

#include <doctest/doctest.h>

#include <string>

#include "../../integration/prometheus_parse.h"

namespace dynakv::server {
namespace {

// INFO text as Redis 7.0 and dynakv write it (CRLF lines, "# Section" headers).
std::string Info(std::initializer_list<std::string_view> lines) {
  std::string out;
  for (std::string_view line : lines) {
    out += line;
    out += "\r\n";
  }
  return out;
}

prom::Exposition Convert(const std::string& info) {
  const std::string text = InfoToPrometheus(info);
  prom::Exposition parsed = prom::Parse(text);
  for (const std::string& error : parsed.errors) FAIL_CHECK(error << "\n" << text);
  return parsed;
}

TEST_CASE("counters get _total, other numbers are gauges, as redis_exporter names them") {
  const prom::Exposition e =
      Convert(Info({"# Server", "redis_version:7.0.15", "uptime_in_seconds:42", "# Clients",
                    "connected_clients:3", "# Stats", "total_commands_processed:1234",
                    "total_connections_received:9", "keyspace_hits:5", "keyspace_misses:6",
                    "expired_keys:7", "instantaneous_ops_per_sec:11", "# CPU",
                    "used_cpu_sys:1.500000", "used_cpu_user:0.250000"}));
  CHECK(e.Value("dynakv_commands_processed_total") == 1234);
  CHECK(e.types.at("dynakv_commands_processed_total") == "counter");
  CHECK(e.Value("dynakv_connections_received_total") == 9);
  CHECK(e.Value("dynakv_keyspace_hits_total") == 5);
  CHECK(e.Value("dynakv_keyspace_misses_total") == 6);
  CHECK(e.Value("dynakv_expired_keys_total") == 7);
  CHECK(e.Value("dynakv_connected_clients") == 3);
  CHECK(e.types.at("dynakv_connected_clients") == "gauge");
  CHECK(e.Value("dynakv_instantaneous_ops_per_sec") == 11);
  CHECK(e.Value("dynakv_uptime_in_seconds") == 42);
  CHECK(e.Value("dynakv_cpu_sys_seconds_total") == 1.5);
  CHECK(e.Value("dynakv_cpu_user_seconds_total") == 0.25);
  CHECK(e.help.at("dynakv_connected_clients") == "INFO clients connected_clients");
}

TEST_CASE("levels named total_* stay gauges; *_human and free text are left out") {
  const prom::Exposition e = Convert(
      Info({"# Memory", "used_memory:1024", "used_memory_human:1.00K", "total_system_memory:8000",
            "# Server", "executable:/usr/bin/x", "config_file:"}));
  CHECK(e.types.at("dynakv_total_system_memory") == "gauge");
  CHECK(e.Value("dynakv_used_memory") == 1024);
  CHECK(e.types.count("dynakv_used_memory_human") == 0);
  CHECK(e.types.count("dynakv_executable") == 0);
  CHECK(e.types.count("dynakv_config_file") == 0);
}

TEST_CASE("text fields that identify the node are labels of dynakv_instance_info") {
  const prom::Exposition e = Convert(
      Info({"# Server", "redis_version:7.0.15", "dynakv_version:0.1.0", "redis_mode:standalone",
            "os:Linux \"6\" \\x", "# Replication", "role:master"}));
  CHECK(e.Value("dynakv_instance_info", {{"redis_version", "7.0.15"},
                                         {"dynakv_version", "0.1.0"},
                                         {"redis_mode", "standalone"},
                                         {"os", "Linux \"6\" \\x"},
                                         {"role", "master"}}) == 1);
}

TEST_CASE("ok/err statuses are 1/0 gauges") {
  const prom::Exposition e =
      Convert(Info({"# Persistence", "aof_last_write_status:ok", "rdb_last_bgsave_status:err"}));
  CHECK(e.Value("dynakv_aof_last_write_status") == 1);
  CHECK(e.Value("dynakv_rdb_last_bgsave_status") == 0);
}

TEST_CASE("keyspace lines become per-database samples") {
  const prom::Exposition e = Convert(
      Info({"# Keyspace", "db0:keys=10,expires=2,avg_ttl=1500", "db3:keys=1,expires=0,avg_ttl=0"}));
  CHECK(e.Value("dynakv_db_keys", {{"db", "db0"}}) == 10);
  CHECK(e.Value("dynakv_db_keys", {{"db", "db3"}}) == 1);
  CHECK(e.Value("dynakv_db_keys_expiring", {{"db", "db0"}}) == 2);
  CHECK(e.Value("dynakv_db_avg_ttl_seconds", {{"db", "db0"}}) == 1.5);
}

TEST_CASE("commandstats, errorstats and latencystats become labelled counters and summaries") {
  const prom::Exposition e = Convert(
      Info({"# Commandstats",
            "cmdstat_get:calls=4,usec=20,usec_per_call=5.00,rejected_calls=1,failed_calls=2",
            "cmdstat_client|list:calls=1,usec=3,usec_per_call=3.00,rejected_calls=0,failed_calls=0",
            "# Errorstats", "errorstat_ERR:count=3", "errorstat_WRONGTYPE:count=1",
            "# Latencystats", "latency_percentiles_usec_get:p50=4.007,p99=10.047,p99.9=12.031"}));
  CHECK(e.Value("dynakv_commands_total", {{"cmd", "get"}}) == 4);
  CHECK(e.Value("dynakv_commands_total", {{"cmd", "client|list"}}) == 1);
  CHECK(e.Value("dynakv_commands_duration_seconds_total", {{"cmd", "get"}}) ==
        doctest::Approx(20e-6));
  CHECK(e.Value("dynakv_commands_rejected_calls_total", {{"cmd", "get"}}) == 1);
  CHECK(e.Value("dynakv_commands_failed_calls_total", {{"cmd", "get"}}) == 2);
  CHECK(e.Value("dynakv_errors_total", {{"err", "ERR"}}) == 3);
  CHECK(e.Value("dynakv_errors_total", {{"err", "WRONGTYPE"}}) == 1);
  CHECK(e.types.at("dynakv_command_latency_seconds") == "summary");
  CHECK(e.Value("dynakv_command_latency_seconds", {{"cmd", "get"}, {"quantile", "0.5"}}) ==
        doctest::Approx(4.007e-6));
  CHECK(e.Value("dynakv_command_latency_seconds", {{"cmd", "get"}, {"quantile", "0.999"}}) ==
        doctest::Approx(12.031e-6));
  CHECK(e.Value("dynakv_command_latency_seconds_count", {{"cmd", "get"}}) == 4);
  CHECK(e.Value("dynakv_command_latency_seconds_sum", {{"cmd", "get"}}) == doctest::Approx(20e-6));
}

TEST_CASE("the cluster's members by state, hints, repairs") {
  const prom::Exposition e = Convert(
      Info({"# Cluster", "cluster_enabled:1", "cluster_members:3", "cluster_members_up:2",
            "cluster_members_suspect:0", "cluster_members_down:1", "cluster_hints_pending:5",
            "cluster_hints_delivered:8", "cluster_read_repairs:4",
            "cluster_anti_entropy_keys_repaired:6", "cluster_rebalance_state:idle"}));
  CHECK(e.Value("dynakv_cluster_members", {{"state", "up"}}) == 2);
  CHECK(e.Value("dynakv_cluster_members", {{"state", "suspect"}}) == 0);
  CHECK(e.Value("dynakv_cluster_members", {{"state", "down"}}) == 1);
  CHECK(e.Value("dynakv_cluster_hints_pending") == 5);
  CHECK(e.types.at("dynakv_cluster_hints_pending") == "gauge");
  CHECK(e.Value("dynakv_cluster_hints_delivered_total") == 8);
  CHECK(e.Value("dynakv_cluster_read_repairs_total") == 4);
  CHECK(e.Value("dynakv_cluster_anti_entropy_keys_repaired_total") == 6);
}

TEST_CASE("a field seen twice is written once; lines that are not fields are skipped") {
  const prom::Exposition e = Convert(Info({"# Stats", "expired_keys:1", "garbage line", ":novalue",
                                           "# Other", "expired_keys:2", "", "weird-name.x:3"}));
  CHECK(e.Value("dynakv_expired_keys_total") == 1);
  CHECK(e.Value("dynakv_weird_name_x") == 3);
}

TEST_CASE("the checker refuses what Prometheus would") {
  CHECK(prom::Parse("x 1\n").errors.size() == 1);  // no TYPE
  CHECK_FALSE(prom::Parse("# TYPE x gauge\nx abc\n").errors.empty());
  CHECK_FALSE(prom::Parse("# TYPE 1x gauge\n1x 1\n").errors.empty());
  CHECK_FALSE(
      prom::Parse("# TYPE x gauge\n# TYPE y gauge\nx 1\ny 1\nx{a=\"b\"} 2\n").errors.empty());
  CHECK_FALSE(prom::Parse("# TYPE x gauge\nx{a=\"b} 1\n").errors.empty());
  CHECK_FALSE(prom::Parse("# TYPE x_total counter\nx_total 1\nx_total 2\n").errors.empty());
  CHECK(prom::Parse("# HELP x h\n# TYPE x gauge\nx{a=\"\\\"\"} +Inf\n").errors.empty());
}

}  // namespace
}  // namespace dynakv::server
