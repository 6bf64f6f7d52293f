// The parameter table and the three ways into it (TOML file, flags, CONFIG SET). Error reasons
// are Redis's own wording, since CONFIG SET returns them to clients verbatim.

#include "config.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <toml++/toml.h>

#include "ascii.h"
#include "clock.h"
#include "cluster_config.h"
#include "cluster_secret.h"
#include "default_config.h"
#include "log.h"
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

bool ParseAclfile(std::string_view value, Config* config, std::string* reason) {
  if (!IsValidUtf8(value)) {
    *reason = kNotUtf8;
    return false;
  }
  config->aclfile.assign(value);
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

constexpr storage::EvictionPolicy kEvictionPolicies[] = {storage::EvictionPolicy::kOffload,
                                                         storage::EvictionPolicy::kAllKeysLru,
                                                         storage::EvictionPolicy::kNoEviction};
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
constexpr std::string_view kDatabasesValue = "1";

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
    {"acl-pubsub-default", "server", true,
     ParseChoice<AclPubsubDefault, &Config::acl_pubsub_default, AclPubsubDefaultName,
                 kAclPubsubDefaults>,
     FormatChoice<AclPubsubDefault, &Config::acl_pubsub_default, AclPubsubDefaultName>},
    {"maxclients", "server", true, ParseInteger<&Config::maxclients, 1, INT_MAX>,
     FormatNumber<&Config::maxclients>},
    {"hz", "server", true, ParseInteger<&Config::hz, 1, 500>, FormatNumber<&Config::hz>},
    {"timeout", "server", true, ParseInteger<&Config::timeout, 0, INT_MAX>,
     FormatNumber<&Config::timeout>},
    {"loglevel", "server", true, ParseLoglevel, FormatString<&Config::loglevel>},

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
    // The cluster bus over mutual TLS with the certificate, key and CA above (cluster/peer_client.h,
    // bus_server.h); read at start.
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
    {"hll-sparse-max-bytes", "limits", true, ParseBytes<&Config::hll_sparse_max_bytes, 0, kMaxSize>,
     FormatNumber<&Config::hll_sparse_max_bytes>},

    {"dir", "storage", false, ParseDir, FormatString<&Config::dir>},
    {"maxmemory", "storage", true, ParseBytes<&Config::maxmemory, 0, kMaxSize>,
     FormatNumber<&Config::maxmemory>},
    {"maxmemory-policy", "storage", true,
     ParseChoice<storage::EvictionPolicy, &Config::maxmemory_policy, EvictionPolicyName,
                 kEvictionPolicies>,
     FormatChoice<storage::EvictionPolicy, &Config::maxmemory_policy, EvictionPolicyName>},
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
    {"list-compress-depth", "storage", true,
     ParseInteger<&Config::list_compress_depth, 0, INT_MAX>,
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
    {"cluster-write-consistency", "cluster", true, ParseWriteConsistency,
     FormatWriteConsistency},
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

    {"cluster-read-repair-chance", "cluster", false, ParseReadRepairChance,
     FormatReadRepairChance},
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
    {"databases", "", false, ParseFixed<kDatabasesValue>, FormatFixed<kDatabasesValue>},
};

constexpr std::string_view kSections[] = {"server", "tls", "limits", "storage", "cluster"};

// TOML values reach the parsers as text, so `port = 6379` and `port = "6379"` mean the same and
// sizes may be written either as integers or with units.
bool TomlValueText(const toml::node& node, std::string* text) {
  if (const auto* s = node.as_string()) {
    *text = s->get();
  } else if (node.is_integer()) {
    *text = std::to_string(node.as_integer()->get());
  } else if (node.is_boolean()) {
    *text = node.as_boolean()->get() ? "yes" : "no";
  } else if (const auto* array = node.as_array()) {
    // A list of strings (cluster members) becomes the comma-separated form flags use.
    text->clear();
    for (const toml::node& item : *array) {
      const auto* s = item.as_string();
      if (s == nullptr) return false;
      if (!text->empty()) *text += ',';
      *text += s->get();
    }
  } else {
    return false;
  }
  return true;
}

bool ReadFile(const std::string& path, std::string* contents) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return false;
  *contents = buf.str();
  return true;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

std::span<const ConfigParam> ConfigParams() { return kParams; }

const ConfigParam* FindConfigParam(std::string_view name) {
  for (const ConfigParam& param : kParams) {
    if (EqualsIgnoreCase(param.name, name)) return &param;
  }
  return nullptr;
}

std::string_view TomlKey(const ConfigParam& param) {
  std::string_view key = param.name;
  if (!param.section.empty() && key.size() > param.section.size() &&
      key.starts_with(param.section) && key[param.section.size()] == '-') {
    key.remove_prefix(param.section.size() + 1);
  }
  return key;
}

bool ApplyConfigToml(std::string_view toml_text, std::string_view source, Config* config,
                     std::string* error) {
  toml::table root;
  try {
    root = toml::parse(toml_text, source);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << source << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
        << e.description();
    *error = msg.str();
    return false;
  }
  const std::string where(source);
  for (auto&& [section_key, section_node] : root) {
    const std::string_view section = section_key.str();
    if (std::find(std::begin(kSections), std::end(kSections), section) == std::end(kSections)) {
      *error = section_node.is_table()
                   ? where + ": unknown section [" + std::string(section) + "]"
                   : where + ": parameter '" + std::string(section) +
                         "' must be inside a section ([server], [limits] or [storage])";
      return false;
    }
    const toml::table* table = section_node.as_table();
    if (table == nullptr) {
      *error = where + ": '" + std::string(section) + "' must be a table";
      return false;
    }
    for (auto&& [key, node] : *table) {
      const std::string name(key.str());
      const ConfigParam* param = FindConfigParam(name);
      if (param == nullptr || param->section != section) {
        // Keys of [cluster] drop the section prefix of their parameter's name.
        const ConfigParam* prefixed = FindConfigParam(std::string(section) + "-" + name);
        if (prefixed != nullptr && TomlKey(*prefixed) == name) param = prefixed;
      }
      if (param == nullptr || TomlKey(*param) != name || param->section.empty()) {
        *error = where + ": unknown parameter '" + name + "' in [" + std::string(section) + "]";
        return false;
      }
      if (param->section != section) {
        *error = where + ": parameter '" + name + "' belongs in [" + std::string(param->section) +
                 "], not [" + std::string(section) + "]";
        return false;
      }
      std::string text;
      // The fractional parameters take a TOML float (phi-threshold = 8.5); elsewhere a
      // float is a mistake worth reporting (hz = 1.5).
      if (node.is_floating_point() &&
          (param->parse == ParsePhiThreshold || param->parse == ParseReadRepairChance)) {
        text = std::to_string(node.as_floating_point()->get());
      } else if (!TomlValueText(node, &text)) {
        *error = where + ": parameter '" + name + "' must be a string or an integer";
        return false;
      }
      std::string reason;
      if (!param->parse(text, config, &reason)) {
        *error = where + ": invalid value '" + text + "' for '" + name + "': " + reason;
        return false;
      }
    }
  }
  return true;
}

bool ValidateConfig(const Config& config, std::string* error) {
  if (config.client_output_buffer_hard_limit != 0 &&
      config.client_output_buffer_soft_limit > config.client_output_buffer_hard_limit) {
    *error = "client-output-buffer-soft-limit must not exceed client-output-buffer-hard-limit";
    return false;
  }
  // Dropping acknowledged writes is only acceptable where replicas hold them too.
  if (config.log_corruption_policy == storage::LogCorruptionPolicy::kDropAndRepair &&
      !config.cluster_enabled) {
    *error =
        "log-corruption-policy drop-and-repair needs cluster-enabled yes: it drops the records "
        "after a corrupt commit log record, which only anti-entropy from the other replicas can "
        "bring back";
    return false;
  }
  // The bus listens on the client port + cluster-port-offset, and members reach each other's
  // clients at the port they announce.
  if (config.cluster_enabled && config.port == 0) {
    *error = "cluster-enabled yes needs a client port (port 0 closes it)";
    return false;
  }
  return ValidateClusterConfig(config, error);
}

ConfigLoadResult LoadConfig(int argc, const char* const* argv, Config* config,
                            std::string* message) {
  const std::string_view program = argc > 0 ? argv[0] : "dynakv-server";
  std::string config_file;
  std::vector<std::pair<const ConfigParam*, std::string_view>> overrides;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      *message = ConfigUsage(program);
      return ConfigLoadResult::kExitSuccess;
    }
    if (arg == "--version" || arg == "-v") {
      *message = "dynakv-server v=" DYNAKV_VERSION;
      return ConfigLoadResult::kExitSuccess;
    }
    if (i == 1 && !arg.starts_with("--") && EndsWith(arg, ".toml")) {
      config_file = arg;
      continue;
    }
    if (!arg.starts_with("--")) {
      *message = "unexpected argument '" + std::string(arg) + "' (see --help)";
      return ConfigLoadResult::kError;
    }
    const std::string_view name = arg.substr(2);
    const ConfigParam* param = name == "config" ? nullptr : FindConfigParam(name);
    if (name != "config" && param == nullptr) {
      *message = "unknown option '" + std::string(arg) + "' (see --help)";
      return ConfigLoadResult::kError;
    }
    if (i + 1 >= argc) {
      *message = "option '" + std::string(arg) + "' needs a value";
      return ConfigLoadResult::kError;
    }
    const std::string_view value = argv[++i];
    if (param == nullptr) {
      config_file = value;
    } else {
      overrides.emplace_back(param, value);
    }
  }

  Config loaded;
  if (!ApplyConfigToml(kDefaultConfigToml, "built-in default config", &loaded, message)) {
    return ConfigLoadResult::kError;
  }
  if (!config_file.empty()) {
    std::string contents;
    if (!ReadFile(config_file, &contents)) {
      *message = "cannot read config file '" + config_file + "'";
      return ConfigLoadResult::kError;
    }
    if (!ApplyConfigToml(contents, config_file, &loaded, message)) {
      return ConfigLoadResult::kError;
    }
    // Absolute, so INFO shows it and CONFIG REWRITE finds it whatever the working directory.
    std::error_code ec;
    const std::filesystem::path absolute = std::filesystem::absolute(config_file, ec);
    loaded.config_file = ec ? config_file : absolute.string();
  }
  for (const auto& [param, value] : overrides) {
    std::string reason;
    if (!param->parse(value, &loaded, &reason)) {
      *message = "invalid value '" + std::string(value) + "' for --" + std::string(param->name) +
                 ": " + reason;
      return ConfigLoadResult::kError;
    }
  }
  if (!ValidateConfig(loaded, message)) return ConfigLoadResult::kError;
  *config = std::move(loaded);
  return ConfigLoadResult::kRun;
}

std::string ConfigUsage(std::string_view program) {
  Config defaults;
  std::string ignored;
  ApplyConfigToml(kDefaultConfigToml, "built-in default config", &defaults, &ignored);
  std::string usage = "Usage: " + std::string(program) +
                      " [/path/to/node.toml] [--config <file>] [--<parameter> <value> ...]\n"
                      "       " + std::string(program) + " --help | --version\n\n"
                      "Flags override the config file, which overrides the built-in defaults.\n"
                      "Parameters (default in brackets; sizes take units: 1k, 1kb, 5mb, 2gb):\n";
  for (std::string_view section : kSections) {
    usage += "  [" + std::string(section) + "]\n";
    for (const ConfigParam& param : kParams) {
      if (param.section != section) continue;
      usage += "    --" + std::string(param.name) + " [" + param.format(defaults) + "]\n";
    }
  }
  return usage;
}

namespace {

// `text` (valid UTF-8: the parsers see to it) as a TOML basic string. Not toml++'s writer, which
// picks a multi-line literal string for text with newlines even when the text holds "'''", and
// then writes a file that does not parse.
std::string TomlBasicString(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\u%04X", u);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + '"';
}

}  // namespace

std::string RenderConfigToml(const Config& config) {
  std::string out =
      "# Written by CONFIG REWRITE. Sizes are in bytes; see conf/node.toml for what each "
      "parameter does.\n";
  for (std::string_view section : kSections) {
    out += "\n[" + std::string(section) + "]\n";
    for (const ConfigParam& param : kParams) {
      if (param.section != section) continue;
      // CONFIG GET hides the cluster secret; the file it came from keeps it.
      const std::string value =
          param.parse == ParseClusterSecret ? config.cluster_secret : param.format(config);
      out += std::string(TomlKey(param)) + " = ";
      long long ignored;
      if (ParseLongLong(value, &ignored)) {
        out += value;
      } else {
        out += TomlBasicString(value);
      }
      out += '\n';
    }
  }
  return out;
}

storage::Options ToStorageOptions(const Config& config) {
  storage::Options options;
  options.dir = config.dir;
  options.max_memory = config.maxmemory;
  options.eviction = config.maxmemory_policy;
  options.fsync = config.appendfsync;
  options.compression_threshold = config.compression_threshold;
  options.log_checkpoint_bytes = config.log_checkpoint_bytes;
  options.background_priority = config.background_priority;
  options.log_corruption_policy = config.log_corruption_policy;
  options.clock_ms = NowMs;
  return options;
}

types::TypeLimits ToTypeLimits(const Config& config) {
  types::TypeLimits limits;
  limits.hash_max_listpack_entries = config.hash_max_listpack_entries;
  limits.hash_max_listpack_value = config.hash_max_listpack_value;
  limits.set_max_intset_entries = config.set_max_intset_entries;
  limits.list_max_listpack_size = config.list_max_listpack_size;
  limits.zset_max_listpack_entries = config.zset_max_listpack_entries;
  limits.zset_max_listpack_value = config.zset_max_listpack_value;
  return limits;
}

}  // namespace dynakv::server
