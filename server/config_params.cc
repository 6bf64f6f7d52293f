// The parameter table: one row per parameter (name, TOML section, type, default, bounds, whether
// CONFIG SET may change it, parse, format and the function that applies a change), and the
// parsers the rows share. Error reasons are Redis's own wording, since CONFIG SET returns them to
// clients verbatim. Loading (TOML, flags) is config.cc; the apply functions are config_apply.cc.

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
#include "listener_set.h"
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

// One or more addresses, as Redis's bind (listener_set.h).
bool ParseBind(std::string_view value, Config* config, std::string* reason) {
  if (!ValidBind(value, reason)) return false;
  config->bind.assign(value);
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

// "host port", as Redis's replicaof line.
bool ParseReplicaof(std::string_view value, Config* config, std::string* reason) {
  const std::size_t space = value.rfind(' ');
  long long port = 0;
  if (!value.empty() && (space == std::string_view::npos || space == 0 ||
                         !ParseLongLong(value.substr(space + 1), &port) || port < 1 ||
                         port > 65535 || !IsValidUtf8(value))) {
    *reason = "argument must be 'host port' (an empty string: not a replica)";
    return false;
  }
  config->replicaof.assign(value);
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

bool ParseExportRdb(std::string_view value, Config* config, std::string* reason) {
  if (!IsValidUtf8(value)) {
    *reason = kNotUtf8;
    return false;
  }
  config->export_rdb.assign(value);
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

// save and appendonly: Redis tools read and set them (redis-benchmark, config snapshots), and
// what they mean is fixed by dynakv's design: every write goes to the commit log (an AOF that is
// always on) and no snapshots are scheduled (SAVE / BGSAVE checkpoint the log on demand). The
// values that say so are accepted; the others are refused with the reason.
bool ParseSave(std::string_view value, Config*, std::string* reason) {
  if (value.find_first_not_of(' ') == std::string_view::npos) return true;
  *reason =
      "dynakv schedules no snapshots: every write is in the commit log (appendonly yes), and "
      "SAVE / BGSAVE checkpoint it on demand; only save \"\" is supported";
  return false;
}
std::string FormatSave(const Config&) { return std::string(); }
bool ParseAppendonly(std::string_view value, Config*, std::string* reason) {
  bool on = false;
  if (!ParseBool(value, &on, reason)) return false;
  if (on) return true;
  *reason =
      "dynakv always writes every change to its commit log (its append only file) before "
      "acknowledging it; only appendonly yes is supported";
  return false;
}
std::string FormatAppendonly(const Config&) { return "yes"; }

constexpr long long kMaxSize = LLONG_MAX;
constexpr ConfigChange kRuntime = ConfigChange::kRuntime;
constexpr ConfigChange kStartup = ConfigChange::kStartup;

// Row builders, as Redis's createIntConfig & co: the bounds are written once, in the template
// arguments, and both the parser and the row's min/max come from them.
template <auto Member, long long Min, long long Max>
constexpr ConfigParam Int(std::string_view name, std::string_view section, ConfigChange change,
                          std::string_view default_value, ConfigApply apply = ConfigApply::kNone) {
  return {name, section, ConfigType::kInteger,           default_value,        Min,
          Max,  change,  ParseInteger<Member, Min, Max>, FormatNumber<Member>, apply,
          {}};
}
template <auto Member, long long Min, long long Max>
constexpr ConfigParam Memory(std::string_view name, std::string_view section, ConfigChange change,
                             std::string_view default_value, ConfigApply apply = ConfigApply::kNone) {
  return {name, section, ConfigType::kMemory,          default_value,        Min,
          Max,  change,  ParseBytes<Member, Min, Max>, FormatNumber<Member>, apply,
          {}};
}
template <bool Config::*Member>
constexpr ConfigParam Bool(std::string_view name, std::string_view section, ConfigChange change,
                           std::string_view default_value, ConfigApply apply = ConfigApply::kNone) {
  return {name, section, ConfigType::kBool,  default_value,       0,
          0,    change,  ParseYesNo<Member>, FormatYesNo<Member>, apply,
          {}};
}
template <typename Enum, Enum Config::*Member, std::string_view (*Name)(Enum), const auto& kChoices>
constexpr ConfigParam Choice(std::string_view name, std::string_view section, ConfigChange change,
                             std::string_view default_value, ConfigApply apply = ConfigApply::kNone) {
  return {name,
          section,
          ConfigType::kEnum,
          default_value,
          0,
          0,
          change,
          ParseChoice<Enum, Member, Name, kChoices>,
          FormatChoice<Enum, Member, Name>,
          apply,
          {}};
}
// A parameter with a parser and formatter of its own.
constexpr ConfigParam Custom(std::string_view name, std::string_view section, ConfigType type,
                             ConfigChange change, std::string_view default_value,
                             bool (*parse)(std::string_view, Config*, std::string*),
                             std::string (*format)(const Config&), ConfigApply apply = ConfigApply::kNone) {
  return {name, section, type, default_value, 0, 0, change, parse, format, apply, {}};
}
template <std::string Config::*Member>
constexpr ConfigParam Text(std::string_view name, std::string_view section, ConfigChange change,
                           std::string_view default_value,
                           bool (*parse)(std::string_view, Config*, std::string*),
                           ConfigApply apply = ConfigApply::kNone) {
  return Custom(name, section, ConfigType::kString, change, default_value, parse,
                FormatString<Member>, apply);
}
// Another name for `row`'s value: shown and set by CONFIG and flags, not in the TOML file.
constexpr ConfigParam Alias(std::string_view name, ConfigParam row) {
  ConfigParam alias = row;
  alias.alias_of = row.name;
  alias.name = name;
  alias.section = {};
  alias.default_value = {};
  return alias;
}

constexpr ConfigParam kBusyReplyThreshold = Int<&Config::busy_reply_threshold, 0, LLONG_MAX>(
    "busy-reply-threshold", "server", kRuntime, "5000");

constexpr ConfigParam kReplicaof =
    Text<&Config::replicaof>("replicaof", "server", kStartup, "", ParseReplicaof);
constexpr ConfigParam kReplicaReadOnly =
    Bool<&Config::replica_read_only>("replica-read-only", "server", kRuntime, "yes");

constexpr ConfigParam kParams[] = {
    // [server]
    Text<&Config::bind>("bind", "server", kRuntime, "127.0.0.1", ParseBind, ConfigApply::kListeners),
    Int<&Config::port, 0, 65535>("port", "server", kRuntime, "6379", ConfigApply::kListeners),
    Text<&Config::requirepass>("requirepass", "server", kRuntime, "", ParseRequirepass, ConfigApply::kAcl),
    Bool<&Config::protected_mode>("protected-mode", "server", kRuntime, "yes"),
    // Replication from a Redis master (README: Moving from Redis: live replication).
    kReplicaof,
    Alias("slaveof", kReplicaof),
    Text<&Config::masterauth>("masterauth", "server", kRuntime, "",
                              ParseUtf8String<&Config::masterauth>),
    Text<&Config::masteruser>("masteruser", "server", kRuntime, "",
                              ParseUtf8String<&Config::masteruser>),
    kReplicaReadOnly,
    Alias("slave-read-only", kReplicaReadOnly),
    Text<&Config::aclfile>("aclfile", "server", kStartup, "", ParseAclfile),
    Int<&Config::acllog_max_len, 0, LLONG_MAX>("acllog-max-len", "server", kRuntime, "128",
                                               ConfigApply::kAcl),
    Int<&Config::tracking_table_max_keys, 0, LLONG_MAX>("tracking-table-max-keys", "server",
                                                        kRuntime, "1000000"),
    // Introspection (Redis's knobs and defaults): SLOWLOG, LATENCY and INFO latencystats read
    // these from server.config() as commands run.
    Int<&Config::slowlog_log_slower_than, -1, LLONG_MAX>("slowlog-log-slower-than", "server",
                                                         kRuntime, "10000"),
    Int<&Config::slowlog_max_len, 0, LONG_MAX>("slowlog-max-len", "server", kRuntime, "128"),
    Int<&Config::latency_monitor_threshold, 0, LLONG_MAX>("latency-monitor-threshold", "server",
                                                          kRuntime, "0", ConfigApply::kLatencyMonitor),
    Bool<&Config::latency_tracking>("latency-tracking", "server", kRuntime, "yes"),
    Custom("latency-tracking-info-percentiles", "server", ConfigType::kList, kRuntime,
           "50 99 99.9", ParseLatencyPercentiles, FormatLatencyPercentiles),
    // Keyspace notification classes, Redis's letters (notify.h).
    Custom("notify-keyspace-events", "server", ConfigType::kString, kRuntime, "",
           ParseNotifyKeyspaceEventsParam, FormatNotifyKeyspaceEventsParam),
    Choice<AclPubsubDefault, &Config::acl_pubsub_default, AclPubsubDefaultName, kAclPubsubDefaults>(
        "acl-pubsub-default", "server", kRuntime, "resetchannels", ConfigApply::kAcl),
    Int<&Config::maxclients, 1, INT_MAX>("maxclients", "server", kRuntime, "10000",
                                         ConfigApply::kMaxclients),
    // Up to 2^20: the engine numbers databases' namespaces below that (storage/manifest.h).
    Int<&Config::databases, 1, 1 << 20>("databases", "server", kStartup, "16"),
    Int<&Config::hz, 1, 500>("hz", "server", kRuntime, "10", ConfigApply::kHz),
    Int<&Config::timeout, 0, INT_MAX>("timeout", "server", kRuntime, "0"),
    Custom("loglevel", "server", ConfigType::kEnum, kRuntime, "notice", ParseLoglevel,
           FormatString<&Config::loglevel>, ConfigApply::kLoglevel),
    Text<&Config::logfile>("logfile", "server", kStartup, "", ParseUtf8String<&Config::logfile>),
    Text<&Config::pidfile>("pidfile", "server", kStartup, "", ParseUtf8String<&Config::pidfile>),
    Bool<&Config::daemonize>("daemonize", "server", kStartup, "no"),
    Int<&Config::metrics_port, 0, 65535>("metrics-port", "server", kStartup, "0"),
    Text<&Config::metrics_token>("metrics-token", "server", kRuntime, "",
                                 ParseUtf8String<&Config::metrics_token>),
    kBusyReplyThreshold,
    // Redis's older name for it.
    Alias("lua-time-limit", kBusyReplyThreshold),

    // [tls]
    Int<&Config::tls_port, 0, 65535>("tls-port", "tls", kRuntime, "0", ConfigApply::kTlsPort),
    Text<&Config::tls_cert_file>("tls-cert-file", "tls", kRuntime, "",
                                 ParseTlsString<&Config::tls_cert_file>, ConfigApply::kTls),
    Text<&Config::tls_key_file>("tls-key-file", "tls", kRuntime, "",
                                ParseTlsString<&Config::tls_key_file>, ConfigApply::kTls),
    Text<&Config::tls_key_file_pass>("tls-key-file-pass", "tls", kRuntime, "",
                                     ParseTlsString<&Config::tls_key_file_pass>, ConfigApply::kTls),
    Text<&Config::tls_ca_cert_file>("tls-ca-cert-file", "tls", kRuntime, "",
                                    ParseTlsString<&Config::tls_ca_cert_file>, ConfigApply::kTls),
    Text<&Config::tls_ca_cert_dir>("tls-ca-cert-dir", "tls", kRuntime, "",
                                   ParseTlsString<&Config::tls_ca_cert_dir>, ConfigApply::kTls),
    Custom("tls-auth-clients", "tls", ConfigType::kEnum, kRuntime, "yes", ParseTlsAuthClients,
           FormatTlsAuthClients, ConfigApply::kTls),
    Text<&Config::tls_protocols>("tls-protocols", "tls", kRuntime, "",
                                 ParseTlsString<&Config::tls_protocols>, ConfigApply::kTls),
    Text<&Config::tls_ciphers>("tls-ciphers", "tls", kRuntime, "",
                               ParseTlsString<&Config::tls_ciphers>, ConfigApply::kTls),
    Text<&Config::tls_ciphersuites>("tls-ciphersuites", "tls", kRuntime, "",
                                    ParseTlsString<&Config::tls_ciphersuites>, ConfigApply::kTls),
    Bool<&Config::tls_prefer_server_ciphers>("tls-prefer-server-ciphers", "tls", kRuntime, "no",
                                             ConfigApply::kTls),
    Bool<&Config::tls_session_caching>("tls-session-caching", "tls", kRuntime, "yes", ConfigApply::kTls),
    Int<&Config::tls_session_cache_size, 0, INT_MAX>("tls-session-cache-size", "tls", kRuntime,
                                                     "20480", ConfigApply::kTls),
    Int<&Config::tls_session_cache_timeout, 0, INT_MAX>("tls-session-cache-timeout", "tls",
                                                        kRuntime, "300", ConfigApply::kTls),
    // The cluster bus over mutual TLS with the certificate, key and CA above
    // (cluster/peer_client.h, bus_server.h); read at start.
    Bool<&Config::tls_cluster>("tls-cluster", "tls", kStartup, "no"),

    // [limits]: clients read these from server.config() as they go.
    Memory<&Config::proto_max_bulk_len, 1024 * 1024, kMaxSize>("proto-max-bulk-len", "limits",
                                                               kRuntime, "512mb"),
    Memory<&Config::proto_max_multibulk_len, 1, INT_MAX>("proto-max-multibulk-len", "limits",
                                                         kRuntime, "2147483647"),
    Memory<&Config::client_query_buffer_limit, 1024 * 1024, kMaxSize>("client-query-buffer-limit",
                                                                      "limits", kRuntime, "1gb"),
    Memory<&Config::client_output_buffer_soft_limit, 0, kMaxSize>("client-output-buffer-soft-limit",
                                                                  "limits", kRuntime, "16mb"),
    Memory<&Config::client_output_buffer_hard_limit, 0, kMaxSize>("client-output-buffer-hard-limit",
                                                                  "limits", kRuntime, "512mb"),
    // Redis's per-class limits ("pubsub 32mb 8mb 60"), checked after each reply and message.
    Custom("client-output-buffer-limit", "limits", ConfigType::kList, kRuntime,
           "normal 0 0 0 slave 256mb 64mb 60 pubsub 32mb 8mb 60", ParseOutputBufferLimits,
           FormatOutputBufferLimits),
    Memory<&Config::hll_sparse_max_bytes, 0, kMaxSize>("hll-sparse-max-bytes", "limits", kRuntime,
                                                       "3000"),

    // [storage]
    Text<&Config::dir>("dir", "storage", kStartup, "data", ParseDir),
    Text<&Config::dbfilename>("dbfilename", "storage", kRuntime, "dump.rdb", ParseDbfilename),
    Text<&Config::import_rdb>("import-rdb", "storage", kStartup, "", ParseImportRdb),
    Text<&Config::export_rdb>("export-rdb", "storage", kStartup, "", ParseExportRdb),
    Memory<&Config::maxmemory, 0, kMaxSize>("maxmemory", "storage", kRuntime, "0", ConfigApply::kMaxmemory),
    Choice<storage::EvictionPolicy, &Config::maxmemory_policy, EvictionPolicyName,
           kEvictionPolicies>("maxmemory-policy", "storage", kRuntime, "offload", ConfigApply::kMaxmemory),
    Int<&Config::maxmemory_samples, 1, INT_MAX>("maxmemory-samples", "storage", kRuntime, "5",
                                                ConfigApply::kMaxmemory),
    Int<&Config::maxmemory_eviction_tenacity, 0, 100>("maxmemory-eviction-tenacity", "storage",
                                                      kRuntime, "10", ConfigApply::kMaxmemory),
    Int<&Config::lfu_decay_time, 0, INT_MAX>("lfu-decay-time", "storage", kRuntime, "1",
                                             ConfigApply::kMaxmemory),
    Int<&Config::lfu_log_factor, 0, INT_MAX>("lfu-log-factor", "storage", kRuntime, "10",
                                             ConfigApply::kMaxmemory),
    // The node's commit log and, in cluster mode, its hint store's (cluster/hint_store.h).
    Choice<storage::FsyncPolicy, &Config::appendfsync, FsyncPolicyName, kFsyncPolicies>(
        "appendfsync", "storage", kRuntime, "everysec", ConfigApply::kAppendfsync),
    Memory<&Config::compression_threshold, 0, UINT32_MAX>(
        "compression-threshold", "storage", kRuntime, "64", ConfigApply::kCompressionThreshold),
    Int<&Config::hot_value_reads, 0, 65535>("hot-value-reads", "storage", kRuntime, "8",
                                            ConfigApply::kCompressionThreshold),
    Int<&Config::hash_max_listpack_entries, 0, LLONG_MAX>("hash-max-listpack-entries", "storage",
                                                          kRuntime, "512", ConfigApply::kTypeLimits),
    Memory<&Config::hash_max_listpack_value, 0, LLONG_MAX>("hash-max-listpack-value", "storage",
                                                           kRuntime, "64", ConfigApply::kTypeLimits),
    Int<&Config::set_max_intset_entries, 0, LLONG_MAX>("set-max-intset-entries", "storage",
                                                       kRuntime, "512", ConfigApply::kTypeLimits),
    Int<&Config::list_max_listpack_size, INT_MIN, INT_MAX>("list-max-listpack-size", "storage",
                                                           kRuntime, "-2", ConfigApply::kTypeLimits),
    Int<&Config::list_compress_depth, 0, INT_MAX>("list-compress-depth", "storage", kRuntime, "0",
                                                  ConfigApply::kTypeLimits),
    Int<&Config::zset_max_listpack_entries, 0, LLONG_MAX>("zset-max-listpack-entries", "storage",
                                                          kRuntime, "128", ConfigApply::kTypeLimits),
    Memory<&Config::zset_max_listpack_value, 0, LLONG_MAX>("zset-max-listpack-value", "storage",
                                                           kRuntime, "64", ConfigApply::kTypeLimits),
    Memory<&Config::log_checkpoint_bytes, 1, kMaxSize>("log-checkpoint-bytes", "storage", kStartup,
                                                       "64mb"),
    Choice<storage::BackgroundPriority, &Config::background_priority, BackgroundPriorityName,
           kBackgroundPriorities>("background-priority", "storage", kStartup, "auto"),
    Choice<storage::LogCorruptionPolicy, &Config::log_corruption_policy, LogCorruptionPolicyName,
           kLogCorruptionPolicies>("log-corruption-policy", "storage", kStartup, "refuse"),

    // [cluster]: fixed while the node runs (its membership and bus are built from them at
    // start), except the default consistency levels, which the coordinator reads per request.
    Custom("cluster-enabled", "cluster", ConfigType::kBool, kStartup, "no", ParseClusterEnabled,
           FormatClusterEnabled),
    Text<&Config::cluster_node_id>("cluster-node-id", "cluster", kStartup, "", ParseClusterNodeId),
    Text<&Config::cluster_nodes>("cluster-nodes", "cluster", kStartup, "", ParseClusterNodes),
    Int<&Config::cluster_port_offset, -65535, 65535>("cluster-port-offset", "cluster", kStartup,
                                                     "10000"),
    Int<&Config::cluster_replication_factor, 1, 64>("cluster-replication-factor", "cluster",
                                                    kStartup, "3"),
    Custom("cluster-read-consistency", "cluster", ConfigType::kEnum, kRuntime, "quorum",
           ParseReadConsistency, FormatReadConsistency),
    Custom("cluster-write-consistency", "cluster", ConfigType::kEnum, kRuntime, "quorum",
           ParseWriteConsistency, FormatWriteConsistency),
    Custom("cluster-conditional-write-consistency", "cluster", ConfigType::kEnum, kRuntime,
           "write", ParseConditionalWriteConsistency, FormatConditionalWriteConsistency),
    Int<&Config::cluster_request_timeout_ms, 1, 600000>("cluster-request-timeout-ms", "cluster",
                                                        kStartup, "2000"),
    Int<&Config::cluster_handshake_timeout_ms, 1, 600000>("cluster-handshake-timeout-ms", "cluster",
                                                          kStartup, "3000"),
    Custom("cluster-secret", "cluster", ConfigType::kString, kStartup, "", ParseClusterSecret,
           FormatClusterSecret),
    Text<&Config::cluster_secret_file>("cluster-secret-file", "cluster", kStartup, "",
                                       ParseClusterSecretFile),
    Bool<&Config::cluster_insecure>("cluster-insecure", "cluster", kStartup, "no"),
    Custom("cluster-read-repair-chance", "cluster", ConfigType::kString, kStartup, "0.1",
           ParseReadRepairChance, FormatReadRepairChance),
    Text<&Config::cluster_seeds>("cluster-seeds", "cluster", kStartup, "", ParseClusterSeeds),
    Int<&Config::cluster_gossip_interval_ms, 1, 600000>("cluster-gossip-interval-ms", "cluster",
                                                        kStartup, "1000"),
    Custom("cluster-phi-threshold", "cluster", ConfigType::kString, kStartup, "8",
           ParsePhiThreshold, FormatPhiThreshold),
    Int<&Config::cluster_down_after_ms, 1, 86400000>("cluster-down-after-ms", "cluster", kStartup,
                                                     "5000"),
    Custom("cluster-sloppy-quorum", "cluster", ConfigType::kBool, kStartup, "yes",
           ParseSloppyQuorum, FormatSloppyQuorum),
    Int<&Config::cluster_hint_handoff_interval_ms, 1, 600000>("cluster-hint-handoff-interval-ms",
                                                              "cluster", kStartup, "1000"),
    Custom("cluster-replicas-per-dc", "cluster", ConfigType::kList, kStartup, "",
           ParseReplicasPerDc, FormatReplicasPerDc),
    Int<&Config::cluster_anti_entropy_interval_ms, 0, 86400000>("cluster-anti-entropy-interval-ms",
                                                                "cluster", kStartup, "10000"),
    Int<&Config::cluster_anti_entropy_rebuild_interval_ms, 0, 604800000>(
        "cluster-anti-entropy-rebuild-interval-ms", "cluster", kStartup, "3600000"),
    Int<&Config::cluster_leave_grace_ms, 0, 3600000>("cluster-leave-grace-ms", "cluster", kStartup,
                                                     "0"),
    Int<&Config::cluster_max_clock_skew_ms, 0, 86400000>("cluster-max-clock-skew-ms", "cluster",
                                                         kStartup, "60000"),
    Int<&Config::cluster_max_weight, 1, 1000>("cluster-max-weight", "cluster", kStartup, "100"),

    // Redis's, with the values that mean what dynakv does (ParseSave, ParseAppendonly).
    Custom("save", "", ConfigType::kString, kRuntime, "", ParseSave, FormatSave),
    Custom("appendonly", "", ConfigType::kBool, kRuntime, "yes", ParseAppendonly, FormatAppendonly),
};

}  // namespace

std::span<const ConfigParam> ConfigParams() { return kParams; }

const ConfigParam* FindConfigParam(std::string_view name) {
  for (const ConfigParam& param : kParams) {
    if (EqualsIgnoreCase(param.name, name)) return &param;
  }
  return nullptr;
}

Config::Config() {
  for (const ConfigParam& param : kParams) {
    if (!param.alias_of.empty()) continue;
    std::string reason;
    // A default that does not parse is a bug in the table; config_test parses every one.
    param.parse(param.default_value, this, &reason);
  }
}

std::string DescribeConfigType(const ConfigParam& param) {
  switch (param.type) {
    case ConfigType::kBool:
      return "yes|no";
    case ConfigType::kInteger:
    case ConfigType::kMemory: {
      auto bound = [](long long n) {
        if (n == LLONG_MAX) return std::string("max");
        return std::to_string(n);
      };
      return std::string(param.type == ConfigType::kMemory ? "bytes " : "integer ") +
             bound(param.min) + ".." + bound(param.max);
    }
    case ConfigType::kEnum: {
      // The parser's own refusal lists the choices, so they are written once.
      Config scratch;
      std::string reason;
      if (param.parse("\x01", &scratch, &reason)) return "choice";
      const std::string_view prefix = "argument(s) must be one of the following: ";
      if (reason.starts_with(prefix)) {
        std::string choices = reason.substr(prefix.size());
        std::string out;
        for (std::size_t i = 0; i < choices.size(); ++i) {
          if (choices.compare(i, 2, ", ") == 0) {
            out += '|';
            ++i;
          } else {
            out += choices[i];
          }
        }
        return out;
      }
      if (reason.starts_with("argument must be ")) return reason.substr(17);
      return "choice";
    }
    case ConfigType::kString:
      return "string";
    case ConfigType::kList:
      return "list";
  }
  return "string";
}

}  // namespace dynakv::server
