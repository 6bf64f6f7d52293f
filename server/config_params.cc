// The parameter table: one row per parameter (name, TOML section, whether CONFIG SET may change
// it, parse and format), and the parsers the rows share. Error reasons are Redis's own wording,
// since CONFIG SET returns them to clients verbatim. Loading (TOML, flags) is config.cc.

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdio>

#include "ascii.h"
#include "clock.h"
#include "cluster_config.h"
#include "cluster_secret.h"
#include "config.h"
#include "log.h"
#include "notify.h"
#include "number_parse.h"
#include "tls_config.h"
#include "utf8.h"

namespace dynakv::server {
namespace {

std::string RangeReason(long long min, long long max) {
  return "argument must be between " + std::to_string(min) + " and " + std::to_string(max) +
         " inclusive";
}

// A plain integer parameter stored in Config::*Member.
template <auto Member, long long Min, long long Max>
bool ParseInteger(std::string_view value, Config* config, std::string* reason) {
  long long n;
  if (!ParseLongLong(value, &n)) {
    *reason = "argument couldn't be parsed into an integer";
    return false;
  }
  if (n < Min || n > Max) {
    *reason = RangeReason(Min, Max);
    return false;
  }
  config->*Member = static_cast<std::remove_reference_t<decltype(config->*Member)>>(n);
  return true;
}

// A byte count that takes Redis units ("64mb").
template <auto Member, long long Min, long long Max>
bool ParseBytes(std::string_view value, Config* config, std::string* reason) {
  std::uint64_t n;
  if (!ParseMemory(value, &n)) {
    *reason = "argument must be a memory value";
    return false;
  }
  if (n < static_cast<std::uint64_t>(Min) || n > static_cast<std::uint64_t>(Max)) {
    *reason = RangeReason(Min, Max);
    return false;
  }
  config->*Member = static_cast<std::remove_reference_t<decltype(config->*Member)>>(n);
  return true;
}

template <auto Member>
std::string FormatNumber(const Config& config) {
  return std::to_string(config.*Member);
}

template <auto Member>
std::string FormatString(const Config& config) {
  return config.*Member;
}

template <bool Config::*Member>
bool ParseYesNo(std::string_view value, Config* config, std::string* reason) {
  return ParseBool(value, &(config->*Member), reason);
}

template <bool Config::*Member>
std::string FormatYesNo(const Config& config) {
  return config.*Member ? "yes" : "no";
}

bool ParseBind(std::string_view value, Config* config, std::string* reason) {
  std::string address(value);
  unsigned char buf[sizeof(in6_addr)];
  if (inet_pton(AF_INET, address.c_str(), buf) != 1 &&
      inet_pton(AF_INET6, address.c_str(), buf) != 1) {
    *reason = "Invalid bind address '" + address + "': expected one IPv4 or IPv6 address";
    return false;
  }
  config->bind = std::move(address);
  return true;
}

// What CONFIG REWRITE cannot write to the TOML file is refused rather than later changed.
constexpr const char* kNotUtf8 = "argument must be valid UTF-8 (the config file is TOML)";

bool ParseRequirepass(std::string_view value, Config* config, std::string* reason) {
  if (!IsValidUtf8(value)) {
    *reason = kNotUtf8;
    return false;
  }
  config->requirepass.assign(value);
  return true;
}

// Redis's rule: a name, not a path (dir says where).
bool ParseDbfilename(std::string_view value, Config* config, std::string* reason) {
  if (value.empty() || value.find('/') != std::string_view::npos) {
    *reason = "dbfilename can't be a path, just a filename";
    return false;
  }
  if (!IsValidUtf8(value)) {
    *reason = kNotUtf8;
    return false;
  }
  config->dbfilename.assign(value);
  return true;
}

bool ParseImportRdb(std::string_view value, Config* config, std::string* reason) {
  if (!IsValidUtf8(value)) {
    *reason = kNotUtf8;
    return false;
  }
  config->import_rdb.assign(value);
  return true;
}

bool ParseAclfile(std::string_view value, Config* config, std::string* reason) {
  if (!IsValidUtf8(value)) {
    *reason = kNotUtf8;
    return false;
  }
  config->aclfile.assign(value);
  return true;
}

// A free-form string parameter (a path, a token): anything CONFIG REWRITE can write back.
template <std::string Config::*Member>
bool ParseUtf8String(std::string_view value, Config* config, std::string* reason) {
  if (!IsValidUtf8(value)) {
    *reason = kNotUtf8;
    return false;
  }
  (config->*Member).assign(value);
  return true;
}

bool ParseLoglevel(std::string_view value, Config* config, std::string* reason) {
  LogLevel level;
  std::string lower(value);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (!ParseLogLevel(lower, &level)) {
    *reason = "argument(s) must be one of the following: debug, verbose, notice, warning";
    return false;
  }
  config->loglevel = std::move(lower);
  return true;
}

bool ParseDir(std::string_view value, Config* config, std::string* reason) {
  if (value.empty()) {
    *reason = "dir must not be empty";
    return false;
  }
  if (!IsValidUtf8(value)) {
    *reason = kNotUtf8;
    return false;
  }
  config->dir.assign(value);
  return true;
}

// A parameter that takes one of an enum's names, in any case. `kChoices` lists the values in the
// order the error names them (Redis's order where Redis has the parameter).
template <typename Enum, Enum Config::*Member, std::string_view (*Name)(Enum), const auto& kChoices>
bool ParseChoice(std::string_view value, Config* config, std::string* reason) {
  for (Enum choice : kChoices) {
    if (EqualsIgnoreCase(value, Name(choice))) {
      config->*Member = choice;
      return true;
    }
  }
  *reason = "argument(s) must be one of the following: ";
  for (Enum choice : kChoices) {
    if (choice != kChoices[0]) reason->append(", ");
    reason->append(Name(choice));
  }
  return false;
}

template <typename Enum, Enum Config::*Member, std::string_view (*Name)(Enum)>
std::string FormatChoice(const Config& config) {
  return std::string(Name(config.*Member));
}

// Redis's order (its error text lists them so), then ours.
constexpr storage::EvictionPolicy kEvictionPolicies[] = {
    storage::EvictionPolicy::kVolatileLru,    storage::EvictionPolicy::kVolatileLfu,
    storage::EvictionPolicy::kVolatileRandom, storage::EvictionPolicy::kVolatileTtl,
    storage::EvictionPolicy::kAllKeysLru,     storage::EvictionPolicy::kAllKeysLfu,
    storage::EvictionPolicy::kAllKeysRandom,  storage::EvictionPolicy::kNoEviction,
    storage::EvictionPolicy::kOffload,        storage::EvictionPolicy::kAllKeysTinyLfu};
constexpr storage::FsyncPolicy kFsyncPolicies[] = {
    storage::FsyncPolicy::kEverySec, storage::FsyncPolicy::kAlways, storage::FsyncPolicy::kNo};
constexpr storage::LogCorruptionPolicy kLogCorruptionPolicies[] = {
    storage::LogCorruptionPolicy::kRefuse, storage::LogCorruptionPolicy::kDropAndRepair};
constexpr AclPubsubDefault kAclPubsubDefaults[] = {AclPubsubDefault::kAllChannels,
                                                   AclPubsubDefault::kResetChannels};
constexpr storage::BackgroundPriority kBackgroundPriorities[] = {
    storage::BackgroundPriority::kAuto, storage::BackgroundPriority::kIdle,
    storage::BackgroundPriority::kLow, storage::BackgroundPriority::kNormal};

// Knobs Redis tools read (redis-benchmark asks for save and appendonly) whose values are fixed
// by dynakv's design: no snapshots, an always-on commit log, one database. Flags may repeat the
// fixed value, as scripts written for redis-server do.
template <const std::string_view& Fixed>
bool ParseFixed(std::string_view value, Config* config, std::string* reason) {
  if (value == Fixed) return true;
  *reason = "dynakv only supports the value '" + std::string(Fixed) + "'";
  return false;
}
template <const std::string_view& Fixed>
std::string FormatFixed(const Config& config) {
  return std::string(Fixed);
}
constexpr std::string_view kSaveValue = "";
constexpr std::string_view kAppendonlyValue = "yes";

constexpr long long kMaxSize = LLONG_MAX;

const ConfigParam kParams[] = {
    {"bind", "server", false, ParseBind, FormatString<&Config::bind>},
    {"port", "server", false, ParseInteger<&Config::port, 0, 65535>, FormatNumber<&Config::port>},
    {"requirepass", "server", true, ParseRequirepass, FormatString<&Config::requirepass>},
    {"protected-mode", "server", true, ParseYesNo<&Config::protected_mode>,
     FormatYesNo<&Config::protected_mode>},
    {"aclfile", "server", false, ParseAclfile, FormatString<&Config::aclfile>},
    {"acllog-max-len", "server", true, ParseInteger<&Config::acllog_max_len, 0, LLONG_MAX>,
     FormatNumber<&Config::acllog_max_len>},
    {"tracking-table-max-keys", "server", true,
     ParseInteger<&Config::tracking_table_max_keys, 0, LLONG_MAX>,
     FormatNumber<&Config::tracking_table_max_keys>},
    {"slowlog-log-slower-than", "server", true,
     ParseInteger<&Config::slowlog_log_slower_than, -1, LLONG_MAX>,
     FormatNumber<&Config::slowlog_log_slower_than>},
    {"slowlog-max-len", "server", true, ParseInteger<&Config::slowlog_max_len, 0, LONG_MAX>,
     FormatNumber<&Config::slowlog_max_len>},
    {"latency-monitor-threshold", "server", true,
     ParseInteger<&Config::latency_monitor_threshold, 0, LLONG_MAX>,
     FormatNumber<&Config::latency_monitor_threshold>},
    {"latency-tracking", "server", true, ParseYesNo<&Config::latency_tracking>,
     FormatYesNo<&Config::latency_tracking>},
    {"latency-tracking-info-percentiles", "server", true, ParseLatencyPercentiles,
     FormatLatencyPercentiles},
    // Keyspace notification classes, Redis's letters (notify.h).
    {"notify-keyspace-events", "server", true, ParseNotifyKeyspaceEventsParam,
     FormatNotifyKeyspaceEventsParam},
    {"acl-pubsub-default", "server", true,
     ParseChoice<AclPubsubDefault, &Config::acl_pubsub_default, AclPubsubDefaultName,
                 kAclPubsubDefaults>,
     FormatChoice<AclPubsubDefault, &Config::acl_pubsub_default, AclPubsubDefaultName>},
    {"maxclients", "server", true, ParseInteger<&Config::maxclients, 1, INT_MAX>,
     FormatNumber<&Config::maxclients>},
    // Up to 2^20: the engine numbers databases' namespaces below that (storage/manifest.h).
    {"databases", "server", false, ParseInteger<&Config::databases, 1, 1 << 20>,
     FormatNumber<&Config::databases>},
    {"hz", "server", true, ParseInteger<&Config::hz, 1, 500>, FormatNumber<&Config::hz>},
    {"timeout", "server", true, ParseInteger<&Config::timeout, 0, INT_MAX>,
     FormatNumber<&Config::timeout>},
    {"loglevel", "server", true, ParseLoglevel, FormatString<&Config::loglevel>},
    {"logfile", "server", false, ParseUtf8String<&Config::logfile>,
     FormatString<&Config::logfile>},
    {"pidfile", "server", false, ParseUtf8String<&Config::pidfile>,
     FormatString<&Config::pidfile>},
    {"daemonize", "server", false, ParseYesNo<&Config::daemonize>,
     FormatYesNo<&Config::daemonize>},
    {"metrics-port", "server", false, ParseInteger<&Config::metrics_port, 0, 65535>,
     FormatNumber<&Config::metrics_port>},
    {"metrics-token", "server", true, ParseUtf8String<&Config::metrics_token>,
     FormatString<&Config::metrics_token>},
    {"busy-reply-threshold", "server", true,
     ParseInteger<&Config::busy_reply_threshold, 0, LLONG_MAX>,
     FormatNumber<&Config::busy_reply_threshold>},
    // Redis's older name for it: CONFIG GET/SET and flags only, the TOML file has the new one.
    {"lua-time-limit", "", true, ParseInteger<&Config::busy_reply_threshold, 0, LLONG_MAX>,
     FormatNumber<&Config::busy_reply_threshold>},

    {"tls-port", "tls", true, ParseInteger<&Config::tls_port, 0, 65535>,
     FormatNumber<&Config::tls_port>},
    {"tls-cert-file", "tls", true, ParseTlsString<&Config::tls_cert_file>,
     FormatString<&Config::tls_cert_file>},
    {"tls-key-file", "tls", true, ParseTlsString<&Config::tls_key_file>,
     FormatString<&Config::tls_key_file>},
    {"tls-key-file-pass", "tls", true, ParseTlsString<&Config::tls_key_file_pass>,
     FormatString<&Config::tls_key_file_pass>},
    {"tls-ca-cert-file", "tls", true, ParseTlsString<&Config::tls_ca_cert_file>,
     FormatString<&Config::tls_ca_cert_file>},
    {"tls-ca-cert-dir", "tls", true, ParseTlsString<&Config::tls_ca_cert_dir>,
     FormatString<&Config::tls_ca_cert_dir>},
    {"tls-auth-clients", "tls", true, ParseTlsAuthClients, FormatTlsAuthClients},
    {"tls-protocols", "tls", true, ParseTlsString<&Config::tls_protocols>,
     FormatString<&Config::tls_protocols>},
    {"tls-ciphers", "tls", true, ParseTlsString<&Config::tls_ciphers>,
     FormatString<&Config::tls_ciphers>},
    {"tls-ciphersuites", "tls", true, ParseTlsString<&Config::tls_ciphersuites>,
     FormatString<&Config::tls_ciphersuites>},
    {"tls-prefer-server-ciphers", "tls", true, ParseYesNo<&Config::tls_prefer_server_ciphers>,
     FormatYesNo<&Config::tls_prefer_server_ciphers>},
    {"tls-session-caching", "tls", true, ParseYesNo<&Config::tls_session_caching>,
     FormatYesNo<&Config::tls_session_caching>},
    {"tls-session-cache-size", "tls", true,
     ParseInteger<&Config::tls_session_cache_size, 0, INT_MAX>,
     FormatNumber<&Config::tls_session_cache_size>},
    {"tls-session-cache-timeout", "tls", true,
     ParseInteger<&Config::tls_session_cache_timeout, 0, INT_MAX>,
     FormatNumber<&Config::tls_session_cache_timeout>},
    // The cluster bus over mutual TLS with the certificate, key and CA above
    // (cluster/peer_client.h, bus_server.h); read at start.
    {"tls-cluster", "tls", false, ParseYesNo<&Config::tls_cluster>,
     FormatYesNo<&Config::tls_cluster>},

    {"proto-max-bulk-len", "limits", true,
     ParseBytes<&Config::proto_max_bulk_len, 1024 * 1024, kMaxSize>,
     FormatNumber<&Config::proto_max_bulk_len>},
    {"proto-max-multibulk-len", "limits", true,
     ParseBytes<&Config::proto_max_multibulk_len, 1, INT_MAX>,
     FormatNumber<&Config::proto_max_multibulk_len>},
    {"client-query-buffer-limit", "limits", true,
     ParseBytes<&Config::client_query_buffer_limit, 1024 * 1024, kMaxSize>,
     FormatNumber<&Config::client_query_buffer_limit>},
    {"client-output-buffer-soft-limit", "limits", true,
     ParseBytes<&Config::client_output_buffer_soft_limit, 0, kMaxSize>,
     FormatNumber<&Config::client_output_buffer_soft_limit>},
    {"client-output-buffer-hard-limit", "limits", true,
     ParseBytes<&Config::client_output_buffer_hard_limit, 0, kMaxSize>,
     FormatNumber<&Config::client_output_buffer_hard_limit>},
    // Redis's per-class limits ("pubsub 32mb 8mb 60"), checked after each reply and message.
    {"client-output-buffer-limit", "limits", true, ParseOutputBufferLimits,
     FormatOutputBufferLimits},
    {"hll-sparse-max-bytes", "limits", true, ParseBytes<&Config::hll_sparse_max_bytes, 0, kMaxSize>,
     FormatNumber<&Config::hll_sparse_max_bytes>},

    {"dir", "storage", false, ParseDir, FormatString<&Config::dir>},
    {"dbfilename", "storage", true, ParseDbfilename, FormatString<&Config::dbfilename>},
    {"import-rdb", "storage", false, ParseImportRdb, FormatString<&Config::import_rdb>},
    {"maxmemory", "storage", true, ParseBytes<&Config::maxmemory, 0, kMaxSize>,
     FormatNumber<&Config::maxmemory>},
    {"maxmemory-policy", "storage", true,
     ParseChoice<storage::EvictionPolicy, &Config::maxmemory_policy, EvictionPolicyName,
                 kEvictionPolicies>,
     FormatChoice<storage::EvictionPolicy, &Config::maxmemory_policy, EvictionPolicyName>},
    {"maxmemory-samples", "storage", true, ParseInteger<&Config::maxmemory_samples, 1, INT_MAX>,
     FormatNumber<&Config::maxmemory_samples>},
    {"maxmemory-eviction-tenacity", "storage", true,
     ParseInteger<&Config::maxmemory_eviction_tenacity, 0, 100>,
     FormatNumber<&Config::maxmemory_eviction_tenacity>},
    {"lfu-decay-time", "storage", true, ParseInteger<&Config::lfu_decay_time, 0, INT_MAX>,
     FormatNumber<&Config::lfu_decay_time>},
    {"lfu-log-factor", "storage", true, ParseInteger<&Config::lfu_log_factor, 0, INT_MAX>,
     FormatNumber<&Config::lfu_log_factor>},
    {"appendfsync", "storage", true,
     ParseChoice<storage::FsyncPolicy, &Config::appendfsync, FsyncPolicyName, kFsyncPolicies>,
     FormatChoice<storage::FsyncPolicy, &Config::appendfsync, FsyncPolicyName>},
    {"compression-threshold", "storage", true,
     ParseBytes<&Config::compression_threshold, 0, UINT32_MAX>,
     FormatNumber<&Config::compression_threshold>},
    {"hash-max-listpack-entries", "storage", true,
     ParseInteger<&Config::hash_max_listpack_entries, 0, LLONG_MAX>,
     FormatNumber<&Config::hash_max_listpack_entries>},
    {"hash-max-listpack-value", "storage", true,
     ParseBytes<&Config::hash_max_listpack_value, 0, LLONG_MAX>,
     FormatNumber<&Config::hash_max_listpack_value>},
    {"set-max-intset-entries", "storage", true,
     ParseInteger<&Config::set_max_intset_entries, 0, LLONG_MAX>,
     FormatNumber<&Config::set_max_intset_entries>},
    {"list-max-listpack-size", "storage", true,
     ParseInteger<&Config::list_max_listpack_size, INT_MIN, INT_MAX>,
     FormatNumber<&Config::list_max_listpack_size>},
    {"list-compress-depth", "storage", true, ParseInteger<&Config::list_compress_depth, 0, INT_MAX>,
     FormatNumber<&Config::list_compress_depth>},
    {"zset-max-listpack-entries", "storage", true,
     ParseInteger<&Config::zset_max_listpack_entries, 0, LLONG_MAX>,
     FormatNumber<&Config::zset_max_listpack_entries>},
    {"zset-max-listpack-value", "storage", true,
     ParseBytes<&Config::zset_max_listpack_value, 0, LLONG_MAX>,
     FormatNumber<&Config::zset_max_listpack_value>},
    {"log-checkpoint-bytes", "storage", false,
     ParseBytes<&Config::log_checkpoint_bytes, 1, kMaxSize>,
     FormatNumber<&Config::log_checkpoint_bytes>},
    {"background-priority", "storage", false,
     ParseChoice<storage::BackgroundPriority, &Config::background_priority, BackgroundPriorityName,
                 kBackgroundPriorities>,
     FormatChoice<storage::BackgroundPriority, &Config::background_priority,
                  BackgroundPriorityName>},
    {"log-corruption-policy", "storage", false,
     ParseChoice<storage::LogCorruptionPolicy, &Config::log_corruption_policy,
                 LogCorruptionPolicyName, kLogCorruptionPolicies>,
     FormatChoice<storage::LogCorruptionPolicy, &Config::log_corruption_policy,
                  LogCorruptionPolicyName>},

    {"cluster-enabled", "cluster", false, ParseClusterEnabled, FormatClusterEnabled},
    {"cluster-node-id", "cluster", false, ParseClusterNodeId,
     FormatString<&Config::cluster_node_id>},
    {"cluster-nodes", "cluster", false, ParseClusterNodes, FormatString<&Config::cluster_nodes>},
    {"cluster-port-offset", "cluster", false,
     ParseInteger<&Config::cluster_port_offset, -65535, 65535>,
     FormatNumber<&Config::cluster_port_offset>},
    {"cluster-replication-factor", "cluster", false,
     ParseInteger<&Config::cluster_replication_factor, 1, 64>,
     FormatNumber<&Config::cluster_replication_factor>},
    {"cluster-read-consistency", "cluster", true, ParseReadConsistency, FormatReadConsistency},
    {"cluster-write-consistency", "cluster", true, ParseWriteConsistency, FormatWriteConsistency},
    {"cluster-request-timeout-ms", "cluster", false,
     ParseInteger<&Config::cluster_request_timeout_ms, 1, 600000>,
     FormatNumber<&Config::cluster_request_timeout_ms>},
    {"cluster-handshake-timeout-ms", "cluster", false,
     ParseInteger<&Config::cluster_handshake_timeout_ms, 1, 600000>,
     FormatNumber<&Config::cluster_handshake_timeout_ms>},
    {"cluster-secret", "cluster", false, ParseClusterSecret, FormatClusterSecret},
    {"cluster-secret-file", "cluster", false, ParseClusterSecretFile,
     FormatString<&Config::cluster_secret_file>},
    {"cluster-insecure", "cluster", false, ParseYesNo<&Config::cluster_insecure>,
     FormatYesNo<&Config::cluster_insecure>},

    {"cluster-read-repair-chance", "cluster", false, ParseReadRepairChance, FormatReadRepairChance},
    {"cluster-seeds", "cluster", false, ParseClusterSeeds, FormatString<&Config::cluster_seeds>},
    {"cluster-gossip-interval-ms", "cluster", false,
     ParseInteger<&Config::cluster_gossip_interval_ms, 1, 600000>,
     FormatNumber<&Config::cluster_gossip_interval_ms>},
    {"cluster-phi-threshold", "cluster", false, ParsePhiThreshold, FormatPhiThreshold},
    {"cluster-down-after-ms", "cluster", false,
     ParseInteger<&Config::cluster_down_after_ms, 1, 86400000>,
     FormatNumber<&Config::cluster_down_after_ms>},
    {"cluster-sloppy-quorum", "cluster", false, ParseSloppyQuorum, FormatSloppyQuorum},
    {"cluster-hint-handoff-interval-ms", "cluster", false,
     ParseInteger<&Config::cluster_hint_handoff_interval_ms, 1, 600000>,
     FormatNumber<&Config::cluster_hint_handoff_interval_ms>},
    {"cluster-replicas-per-dc", "cluster", false, ParseReplicasPerDc, FormatReplicasPerDc},
    {"cluster-anti-entropy-interval-ms", "cluster", false,
     ParseInteger<&Config::cluster_anti_entropy_interval_ms, 0, 86400000>,
     FormatNumber<&Config::cluster_anti_entropy_interval_ms>},
    {"cluster-anti-entropy-rebuild-interval-ms", "cluster", false,
     ParseInteger<&Config::cluster_anti_entropy_rebuild_interval_ms, 0, 604800000>,
     FormatNumber<&Config::cluster_anti_entropy_rebuild_interval_ms>},
    {"cluster-leave-grace-ms", "cluster", false,
     ParseInteger<&Config::cluster_leave_grace_ms, 0, 3600000>,
     FormatNumber<&Config::cluster_leave_grace_ms>},
    {"cluster-max-clock-skew-ms", "cluster", false,
     ParseInteger<&Config::cluster_max_clock_skew_ms, 0, 86400000>,
     FormatNumber<&Config::cluster_max_clock_skew_ms>},
    {"cluster-max-weight", "cluster", false, ParseInteger<&Config::cluster_max_weight, 1, 1000>,
     FormatNumber<&Config::cluster_max_weight>},

    {"save", "", false, ParseFixed<kSaveValue>, FormatFixed<kSaveValue>},
    {"appendonly", "", false, ParseFixed<kAppendonlyValue>, FormatFixed<kAppendonlyValue>},
};

}  // namespace

std::span<const ConfigParam> ConfigParams() { return kParams; }

const ConfigParam* FindConfigParam(std::string_view name) {
  for (const ConfigParam& param : kParams) {
    if (EqualsIgnoreCase(param.name, name)) return &param;
  }
  return nullptr;
}

}  // namespace dynakv::server
