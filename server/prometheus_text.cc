#include "prometheus_text.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <vector>

namespace dynakv::server {
namespace {

// INFO fields that count events since start, beside those named total_*.
const std::set<std::string_view, std::less<>> kCounters = {
    // Stats (Redis's, then ours)
    "expired_keys", "evicted_keys", "evicted_clients", "keyspace_hits", "keyspace_misses",
    "rejected_connections", "expired_time_cap_reached_count", "expire_cycle_cpu_milliseconds",
    "sync_full", "sync_partial_ok", "sync_partial_err", "dump_payload_sanitizations",
    "unexpected_error_replies", "acl_access_denied_auth", "acl_access_denied_cmd",
    "acl_access_denied_key", "acl_access_denied_channel", "io_threaded_reads_processed",
    "io_threaded_writes_processed", "client_query_buffer_limit_disconnections",
    "client_output_buffer_limit_disconnections", "offloaded_keys", "segment_reads", "bloom_skips",
    "reply_buffer_shrinks", "reply_buffer_expands",
    "active_defrag_hits", "active_defrag_misses", "active_defrag_key_hits",
    "active_defrag_key_misses", "lazyfreed_objects", "aof_rewrites", "rdb_saves",
    // Persistence and memory (ours)
    "checkpoints", "write_stalls", "compactions", "corrupt_logs_repaired",
    "corrupt_log_bytes_dropped", "corrupt_log_records_dropped", "aof_write_errors",
    "segment_read_errors", "tinylfu_admitted_keys", "tinylfu_rejected_keys",
    // Cluster
    "cluster_reads", "cluster_writes", "cluster_read_failures", "cluster_write_failures",
    "cluster_read_repairs", "cluster_read_repair_checks", "cluster_read_retries",
    "cluster_replica_requests_served", "cluster_peer_timeouts", "cluster_peer_connect_failures",
    "cluster_undecodable_values", "cluster_bus_protocol_errors", "cluster_bus_handshake_timeouts",
    "cluster_bus_rejected_connections", "cluster_bus_auth_failures",
    "cluster_bus_frame_mac_failures", "cluster_bus_tls_failures", "cluster_anti_entropy_rounds",
    "cluster_anti_entropy_round_failures", "cluster_anti_entropy_keys_repaired",
    "cluster_anti_entropy_keys_sent", "cluster_anti_entropy_bytes_sent",
    "cluster_anti_entropy_bytes_received", "cluster_anti_entropy_tree_builds",
    "cluster_hinted_writes", "cluster_hints_stored", "cluster_hints_delivered",
    "cluster_rebalance_passes", "cluster_rebalance_restarts", "cluster_rebalance_keys_streamed",
    "cluster_rebalance_bytes_streamed", "cluster_rebalance_keys_dropped",
    "cluster_rebalance_push_failures", "cluster_clock_skew_rejections",
    "cluster_gossip_rejected_entries", "cluster_serial_requests", "cluster_serial_rounds",
    "cluster_serial_contention", "cluster_serial_completed", "cluster_serial_failures"};

// Named total_* but a level, not a count of events.
const std::set<std::string_view, std::less<>> kTotalGauges = {
    "total_system_memory", "total_blocking_keys", "total_blocking_keys_on_nokey",
    "total_watched_keys"};

// Text fields that become labels of dynakv_instance_info.
const std::set<std::string_view, std::less<>> kInfoLabels = {"redis_version",
                                                             "dynakv_version",
                                                             "redis_mode",
                                                             "os",
                                                             "arch_bits",
                                                             "run_id",
                                                             "role",
                                                             "mem_allocator",
                                                             "maxmemory_policy",
                                                             "appendfsync",
                                                             "cluster_node_id",
                                                             "gcc_version",
                                                             "redis_git_sha1",
                                                             "redis_build_id",
                                                             "multiplexing_api"};

// CPU time in seconds, as redis_exporter names it.
const std::map<std::string_view, std::string_view, std::less<>> kRenamedCounters = {
    {"used_cpu_sys", "cpu_sys_seconds"},
    {"used_cpu_user", "cpu_user_seconds"},
    {"used_cpu_sys_children", "cpu_sys_children_seconds"},
    {"used_cpu_user_children", "cpu_user_children_seconds"},
    {"used_cpu_sys_main_thread", "cpu_sys_main_thread_seconds"},
    {"used_cpu_user_main_thread", "cpu_user_main_thread_seconds"}};

struct Family {
  std::string type;
  std::string help;
  std::vector<std::string> samples;
  std::set<std::string> seen;  // sample names with labels: a repeat is dropped
};

class Exposition {
 public:
  Family& Get(const std::string& name, std::string_view type, std::string help) {
    auto [it, inserted] = index_.emplace(name, families_.size());
    if (inserted) {
      families_.push_back({name, Family{std::string(type), std::move(help), {}, {}}});
    }
    return families_[it->second].second;
  }

  // `labels` is the rendered "{a="b"}" or "". Same name, other type: dropped.
  void Add(const std::string& family, std::string_view type, const std::string& help,
           const std::string& sample_name, const std::string& labels, const std::string& value) {
    Family& f = Get(family, type, help);
    if (f.type != type) return;
    if (!f.seen.insert(sample_name + labels).second) return;
    f.samples.push_back(sample_name + labels + " " + value);
  }

  std::string Render() const {
    std::string out;
    for (const auto& [name, family] : families_) {
      if (family.samples.empty()) continue;
      out += "# HELP " + name + " " + family.help + "\n";
      out += "# TYPE " + name + " " + family.type + "\n";
      for (const std::string& sample : family.samples) out += sample + "\n";
    }
    return out;
  }

 private:
  std::vector<std::pair<std::string, Family>> families_;
  std::map<std::string, std::size_t> index_;
};

// Metric names: [a-zA-Z_:][a-zA-Z0-9_:]*; anything else becomes '_'.
std::string MetricName(std::string_view field) {
  std::string out = "dynakv_";
  for (char c : field) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == ':';
    out += ok ? c : '_';
  }
  return out;
}

std::string EscapeLabel(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string Label(std::string_view name, std::string_view value) {
  return std::string(name) + "=\"" + EscapeLabel(value) + "\"";
}

// A value INFO printed as a number, as Prometheus reads it (Go's ParseFloat): kept as written,
// so integers past 2^53 stay exact.
bool IsNumber(std::string_view text) {
  if (text.empty()) return false;
  const std::string s(text);
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && std::isfinite(v);
}

std::string FormatDouble(double v) {
  char buf[64];
  const auto result = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, result.ptr);
}

// p99.9 is the 0.999 quantile: printed short, not as 0.9990000000000001.
std::string QuantileLabel(double q) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.10g", q);
  return buf;
}

// "a=1,b=2" into pairs.
std::vector<std::pair<std::string_view, std::string_view>> SplitPairs(std::string_view text) {
  std::vector<std::pair<std::string_view, std::string_view>> out;
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    const std::size_t eq = item.find('=');
    if (eq != std::string_view::npos) out.emplace_back(item.substr(0, eq), item.substr(eq + 1));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

std::string_view Find(const std::vector<std::pair<std::string_view, std::string_view>>& pairs,
                      std::string_view key) {
  for (const auto& [k, v] : pairs) {
    if (k == key) return v;
  }
  return {};
}

struct CommandStat {
  std::string calls;
  double usec = 0;
};

class Converter {
 public:
  void Line(std::string_view section, std::string_view field, std::string_view value) {
    const std::string help = "INFO " + std::string(section) + " " + std::string(field);
    if (section == "keyspace" && field.starts_with("db")) return Keyspace(field, value);
    if (field.starts_with("cmdstat_")) return CommandStats(field.substr(8), value, help);
    if (field.starts_with("errorstat_")) {
      const std::string_view count = Find(SplitPairs(value), "count");
      if (!IsNumber(count)) return;
      out_.Add("dynakv_errors_total", "counter", "INFO errorstats: error replies by prefix",
               "dynakv_errors_total", "{" + Label("err", field.substr(10)) + "}",
               std::string(count));
      return;
    }
    if (field.starts_with("latency_percentiles_usec_")) {
      latencies_.emplace_back(std::string(field.substr(25)), std::string(value));
      return;
    }
    if (field.ends_with("_human")) return;
    if (kInfoLabels.count(field) != 0) {
      info_labels_.push_back(Label(field, value));
      return;
    }
    if (field == "cluster_members_up" || field == "cluster_members_suspect" ||
        field == "cluster_members_down") {
      if (!IsNumber(value)) return;
      out_.Add("dynakv_cluster_members", "gauge",
               "INFO cluster cluster_members_{up,suspect,down}: members by failure detector state",
               "dynakv_cluster_members", "{" + Label("state", field.substr(16)) + "}",
               std::string(value));
      return;
    }
    if (value == "ok" || value == "err") {
      const std::string name = MetricName(field);
      out_.Add(name, "gauge", help + " (1 ok, 0 err)", name, "", value == "ok" ? "1" : "0");
      return;
    }
    if (!IsNumber(value)) return;
    if (const auto it = kRenamedCounters.find(field); it != kRenamedCounters.end()) {
      const std::string name = MetricName(it->second) + "_total";
      out_.Add(name, "counter", help, name, "", std::string(value));
      return;
    }
    const bool total_prefix = field.starts_with("total_") && kTotalGauges.count(field) == 0;
    if (total_prefix || kCounters.count(field) != 0) {
      const std::string name = MetricName(total_prefix ? field.substr(6) : field) + "_total";
      out_.Add(name, "counter", help, name, "", std::string(value));
      return;
    }
    const std::string name = MetricName(field);
    out_.Add(name, "gauge", help, name, "", std::string(value));
  }

  std::string Finish() {
    if (!info_labels_.empty()) {
      std::string labels = "{";
      for (std::size_t i = 0; i < info_labels_.size(); ++i) {
        if (i > 0) labels += ',';
        labels += info_labels_[i];
      }
      labels += "}";
      out_.Add("dynakv_instance_info", "gauge", "INFO server fields as labels; always 1",
               "dynakv_instance_info", labels, "1");
    }
    Latencies();
    return out_.Render();
  }

 private:
  void Keyspace(std::string_view db, std::string_view value) {
    const auto pairs = SplitPairs(value);
    const std::string labels = "{" + Label("db", db) + "}";
    const std::string_view keys = Find(pairs, "keys");
    const std::string_view expires = Find(pairs, "expires");
    const std::string_view avg_ttl = Find(pairs, "avg_ttl");
    if (IsNumber(keys)) {
      out_.Add("dynakv_db_keys", "gauge", "INFO keyspace: keys per database", "dynakv_db_keys",
               labels, std::string(keys));
    }
    if (IsNumber(expires)) {
      out_.Add("dynakv_db_keys_expiring", "gauge", "INFO keyspace: keys with a TTL per database",
               "dynakv_db_keys_expiring", labels, std::string(expires));
    }
    if (IsNumber(avg_ttl)) {
      out_.Add("dynakv_db_avg_ttl_seconds", "gauge",
               "INFO keyspace: average TTL of the keys with one, per database",
               "dynakv_db_avg_ttl_seconds", labels,
               FormatDouble(std::strtod(std::string(avg_ttl).c_str(), nullptr) / 1000));
    }
  }

  void CommandStats(std::string_view command, std::string_view value, const std::string& help) {
    const auto pairs = SplitPairs(value);
    const std::string labels = "{" + Label("cmd", command) + "}";
    const std::string_view calls = Find(pairs, "calls");
    const std::string_view usec = Find(pairs, "usec");
    if (IsNumber(calls)) {
      out_.Add("dynakv_commands_total", "counter", "INFO commandstats: calls per command",
               "dynakv_commands_total", labels, std::string(calls));
    }
    if (IsNumber(usec)) {
      out_.Add("dynakv_commands_duration_seconds_total", "counter",
               "INFO commandstats: time spent per command",
               "dynakv_commands_duration_seconds_total", labels,
               FormatDouble(std::strtod(std::string(usec).c_str(), nullptr) / 1e6));
    }
    for (std::string_view key : {"rejected_calls", "failed_calls"}) {
      const std::string_view n = Find(pairs, key);
      if (!IsNumber(n)) continue;
      const std::string name = "dynakv_commands_" + std::string(key) + "_total";
      out_.Add(name, "counter", "INFO commandstats: " + std::string(key) + " per command", name,
               labels, std::string(n));
    }
    if (IsNumber(calls) && IsNumber(usec)) {
      command_stats_[std::string(command)] = {std::string(calls),
                                              std::strtod(std::string(usec).c_str(), nullptr)};
    }
  }

  // A summary per command: its quantiles from latencystats, _sum and _count from commandstats.
  void Latencies() {
    const std::string family = "dynakv_command_latency_seconds";
    const std::string help = "INFO latencystats: latency percentiles per command";
    for (const auto& [command, value] : latencies_) {
      const std::string cmd = Label("cmd", command);
      bool any = false;
      for (const auto& [key, number] : SplitPairs(value)) {
        if (!key.starts_with("p") || !IsNumber(key.substr(1)) || !IsNumber(number)) continue;
        const double quantile = std::strtod(std::string(key.substr(1)).c_str(), nullptr) / 100;
        const double seconds = std::strtod(std::string(number).c_str(), nullptr) / 1e6;
        out_.Add(family, "summary", help, family,
                 "{" + cmd + "," + Label("quantile", QuantileLabel(quantile)) + "}",
                 FormatDouble(seconds));
        any = true;
      }
      const auto stat = command_stats_.find(command);
      if (!any || stat == command_stats_.end()) continue;
      out_.Add(family, "summary", help, family + "_sum", "{" + cmd + "}",
               FormatDouble(stat->second.usec / 1e6));
      out_.Add(family, "summary", help, family + "_count", "{" + cmd + "}", stat->second.calls);
    }
  }

  Exposition out_;
  std::vector<std::string> info_labels_;
  std::vector<std::pair<std::string, std::string>> latencies_;
  std::map<std::string, CommandStat, std::less<>> command_stats_;
};

}  // namespace

std::string InfoToPrometheus(std::string_view info) {
  Converter converter;
  std::string section;
  while (!info.empty()) {
    const std::size_t eol = info.find('\n');
    std::string_view line = info.substr(0, eol);
    info.remove_prefix(eol == std::string_view::npos ? info.size() : eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.starts_with("# ")) {
      section.clear();
      for (char c : line.substr(2)) section += static_cast<char>(std::tolower(c));
      continue;
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) continue;
    converter.Line(section, line.substr(0, colon), line.substr(colon + 1));
  }
  return converter.Finish();
}

}  // namespace dynakv::server
