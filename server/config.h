// Node configuration. One table of parameters (config_params.cc), named as in Redis where Redis
// has the knob, feeds the TOML file (conf/node.toml), command-line flags (--name value), --help,
// CONFIG GET/SET and CONFIG REWRITE alike. Each row holds the parameter's only default, its
// bounds, whether it may change at run time and the function that makes the running node follow
// a change (Redis's standardConfig table).
#pragma once

#include <cstdint>
#include <span>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cluster/consistency_level.h"
#include "cluster/node_info.h"
#include "net/tls_context.h"
#include "storage/options.h"
#include "types/value_type.h"

namespace dynakv::server {

// Redis's client-output-buffer-limit classes, in its order.
enum class ClientClass { kNormal = 0, kReplica = 1, kPubSub = 2 };
inline constexpr int kClientClassCount = 3;
// One class's limits: past `hard` bytes of pending output a client is closed at once, past
// `soft` for longer than `soft_seconds` too. 0 disables a limit.
struct OutputBufferLimit {
  std::uint64_t hard = 0;
  std::uint64_t soft = 0;
  long long soft_seconds = 0;
};

// acl-pubsub-default: the channels a new ACL user starts with.
enum class AclPubsubDefault { kResetChannels, kAllChannels };

// The running values. A default-constructed Config holds every row's default: members have no
// initializers of their own, so the default is written once, in the table.
struct Config {
  Config();

  // [server]
  std::string bind{};
  int port{};
  std::string requirepass;  // empty: no AUTH needed
  // Replication from a Redis master (replica_link.h): "host port" to be a replica from the start
  // ("" = none; REPLICAOF changes it at run time); the credentials AUTH sends to the master; and
  // whether clients' writes are refused while a replica.
  std::string replicaof{};
  std::string masterauth{};
  std::string masteruser{};
  bool replica_read_only{};
  // Without a password only loopback clients are served, as in Redis (Server::Accept).
  bool protected_mode{};
  // ACL (acl.h): the users file of ACL LOAD / SAVE, loaded at start (empty: none); the length of
  // ACL LOG; whether new users may use every channel (acl-pubsub-default allchannels).
  std::string aclfile;
  long long acllog_max_len{};
  // Client-side caching (tracking.h): keys the default-mode table holds before it forgets some,
  // invalidating them (0: no limit).
  long long tracking_table_max_keys{};
  // Introspection, Redis's knobs and defaults: SLOWLOG logs commands of at least this many
  // microseconds (-1: none, 0: all) and keeps this many; LATENCY records events of at least this
  // many milliseconds (0: off); per-command latency histograms (INFO latencystats) and the
  // percentiles INFO shows.
  long long slowlog_log_slower_than{};
  long long slowlog_max_len{};
  long long latency_monitor_threshold{};
  bool latency_tracking{};
  std::vector<double> latency_tracking_info_percentiles{};
  AclPubsubDefault acl_pubsub_default{};
  int maxclients{};
  // Numbered databases (SELECT), as Redis's `databases`; fixed while the node runs.
  int databases{};
  int hz{};       // cron frequency: active expiry, compaction, stats
  int timeout{};  // close clients idle this many seconds; 0 never
  // A script running longer than this (ms) makes the node answer other clients -BUSY and accept
  // SCRIPT KILL (Redis's busy-reply-threshold, alias lua-time-limit); 0: from the start.
  long long busy_reply_threshold{};
  std::string loglevel{};
  // Running as a service (daemon.h): the log's file ("" = stderr; reopened on
  // SIGHUP, for logrotate), the pid file ("" = none, unless daemonized), and Redis's daemonize
  // (fork into the background; systemd runs the node in the foreground instead).
  std::string logfile{};
  std::string pidfile{};
  bool daemonize{};
  // The Prometheus endpoint (metrics_server.h): its port on `bind` (0 = off), and the bearer
  // token it asks for ("" = the default user's password over basic auth, when it has one).
  int metrics_port{};
  std::string metrics_token{};
  // [tls] (TOML keys drop the "tls-" prefix), as Redis 7.0's tls-* parameters.
  int tls_port{};  // 0: no TLS port (and `port 0`: no plain one)
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_key_file_pass;
  std::string tls_ca_cert_file;
  std::string tls_ca_cert_dir;
  net::TlsPeerAuth tls_auth_clients{};
  std::string tls_protocols;  // empty: "TLSv1.2 TLSv1.3"
  std::string tls_ciphers;
  std::string tls_ciphersuites;
  bool tls_prefer_server_ciphers{};
  bool tls_session_caching{};
  int tls_session_cache_size{};
  int tls_session_cache_timeout{};  // seconds
  // tls-cluster: the cluster bus runs over mutual TLS with the certificate and key above, every
  // peer's certificate chaining to the CA.
  bool tls_cluster{};
  // [limits]
  long long proto_max_bulk_len{};
  long long proto_max_multibulk_len{};
  std::uint64_t client_query_buffer_limit{};
  // Pending output above this makes the server stop reading from the client until it drains
  // (backpressure); above the hard limit the client is disconnected, as Redis does.
  std::uint64_t client_output_buffer_soft_limit{};
  std::uint64_t client_output_buffer_hard_limit{};
  // Redis's client-output-buffer-limit, per ClientClass (Redis's defaults). The normal class adds
  // to the two limits above; replicas do not exist here, their class is only kept and shown.
  OutputBufferLimit client_output_buffer_limits[kClientClassCount]{};
  // notify-keyspace-events as Redis's flag bits (notify.h); 0: none.
  int notify_keyspace_events{};
  // A HyperLogLog's sparse form grows to this many bytes (header included) before it turns
  // dense, as Redis's hll-sparse-max-bytes.
  long long hll_sparse_max_bytes{};
  // [storage]
  std::string dir{};
  // SAVE / BGSAVE write the Redis RDB file dir/dbfilename (rdb_save.h).
  std::string dbfilename{};
  // A Redis RDB file loaded into the databases at start, before clients are served; "" = none
  // (rdb_import.h). A failed import stops the node.
  std::string import_rdb{};
  // Offline export: write this data directory's keys as a Redis RDB file here and exit, without
  // serving (rdb_export_tool.h); "" = serve as usual.
  std::string export_rdb{};
  std::uint64_t maxmemory{};
  storage::EvictionPolicy maxmemory_policy{};
  // Redis's eviction knobs, with its defaults and bounds (storage::EvictionTuning).
  int maxmemory_samples{};
  int maxmemory_eviction_tenacity{};
  int lfu_log_factor{};
  int lfu_decay_time{};
  storage::BackgroundPriority background_priority{};
  storage::FsyncPolicy appendfsync{};
  // A commit log corrupt in the middle: refuse to start, or (cluster mode only, where
  // anti-entropy refills what is dropped) cut it at the bad record and start.
  storage::LogCorruptionPolicy log_corruption_policy{};
  std::size_t compression_threshold{};
  // The hot-value rule (storage::Options::hot_value_reads): reads within about a second that
  // make a large compressed value stay decompressed; 0: never.
  int hot_value_reads{};
  // Hashes stay listpack-encoded up to this many fields, and while no field or value is longer
  // than hash_max_listpack_value bytes (types/hash.h).
  std::size_t hash_max_listpack_entries{};
  std::size_t hash_max_listpack_value{};
  // Sets stay intset-encoded while every member is an integer and there are at most this many
  // (types/set.h).
  std::size_t set_max_intset_entries{};
  // A list node holds this many entries when positive; -1..-5: up to 4/8/16/32/64 KB of them
  // (types/list.h). The compression depth is accepted as Redis's, but nodes stay uncompressed.
  long long list_max_listpack_size{};
  long long list_compress_depth{};
  // Sorted sets stay listpack-encoded up to this many members, and while no member is longer
  // than zset_max_listpack_value bytes (types/sorted_set.h).
  std::size_t zset_max_listpack_entries{};
  std::size_t zset_max_listpack_value{};
  std::uint64_t log_checkpoint_bytes{};
  // [cluster] (TOML keys drop the "cluster-" prefix: `enabled`, `node-id`, ...)
  bool cluster_enabled{};
  std::string cluster_node_id;
  std::string cluster_nodes;  // "id@host:port[/dc[/weight]]" members, comma separated
  int cluster_port_offset{};  // every member's bus listens on its port + this
  int cluster_replication_factor{};
  // Defaults of connections that did not choose with CONSISTENCY.
  cluster::ConsistencyLevel cluster_read_consistency{};
  cluster::ConsistencyLevel cluster_write_consistency{};
  // The default W of conditional writes (SET NX/XX/GET, GETSET, GETDEL, the INCR family) on
  // connections that did not choose with CONSISTENCY: SERIAL or LOCAL_SERIAL; unset (the
  // parameter's "write"): cluster_write_consistency, as every other write.
  std::optional<cluster::ConsistencyLevel> cluster_conditional_write_consistency;
  int cluster_request_timeout_ms{};
  // An inbound bus connection that has not said HELLO this long after it was accepted is closed.
  int cluster_handshake_timeout_ms{};
  // The bus's shared secret (cluster_secret.h): inline, or the first line of a file.
  std::string cluster_secret;
  std::string cluster_secret_file;
  bool cluster_insecure{};              // cluster mode without a secret: the bus accepts anyone
  double cluster_read_repair_chance{};  // a read asks every replica, not only R
  // Membership by gossip: "host:bus-port" entries or member ids, comma separated. With seeds,
  // cluster-nodes may list only this node and the rest is learned from them.
  std::string cluster_seeds;
  int cluster_gossip_interval_ms{};
  double cluster_phi_threshold{};  // suspect above this
  int cluster_down_after_ms{};     // down once silent this long
  bool cluster_sloppy_quorum{};
  int cluster_hint_handoff_interval_ms{};
  // Anti-entropy: a Merkle-tree exchange with the next peer this often, and a full rebuild of
  // the trees from the engine this often (0: only on DEBUG ANTIENTROPY / at start and FLUSHALL).
  int cluster_anti_entropy_interval_ms{};
  int cluster_anti_entropy_rebuild_interval_ms{};
  // LEAVE: how long the node forwards late replica writes after announcing it left (0: five
  // gossip intervals, at least a second).
  int cluster_leave_grace_ms{};
  int cluster_max_clock_skew_ms{};
  int cluster_max_weight{};
  // Replicas per dc ("dc1:2,dc2:1"); when non-empty it replaces cluster_replication_factor.
  cluster::ReplicasPerDc cluster_replicas_per_dc;

  std::string config_file;  // the file loaded, empty when running on the embedded default
};

class Server;

// How a parameter's value is written (--help and README describe it by this).
enum class ConfigType { kBool, kInteger, kMemory, kEnum, kString, kList };

// Which part of the running node follows a CONFIG SET of a parameter (Redis's apply functions,
// config_apply.cc). Named here rather than pointed at, so the table (and the config loader that
// reads it) links without the server it reconfigures, as the config fuzzer does.
enum class ConfigApply : std::uint8_t {
  kNone,  // every user reads server.config() when it needs the value: nothing to tell
  kListeners,
  kTlsPort,
  kTls,
  kAcl,
  kMaxclients,
  kHz,
  kLatencyMonitor,
  kLoglevel,
  kMaxmemory,
  kAppendfsync,
  kCompressionThreshold,
  kTypeLimits,
};

// When a parameter may change (Redis's MODIFIABLE_CONFIG / IMMUTABLE_CONFIG).
enum class ConfigChange {
  kRuntime,  // CONFIG SET changes it, and `apply` (if any) makes the running node follow
  kStartup,  // read once at start: CONFIG SET accepts only its current value
};

// One configuration parameter. Every source of configuration (the TOML file, --name value flags,
// CONFIG SET, the default) goes through `parse`, so a value means the same wherever it is written.
struct ConfigParam {
  std::string_view name;  // as in Redis, e.g. "maxmemory-policy"
  // TOML table; empty for entries that are not in the file (aliases, Redis compatibility).
  // In the TOML file the name is written without a "<section>-" prefix ([cluster] enabled).
  std::string_view section;
  ConfigType type;
  // The default, as text `parse` takes; the one place it is written. nullopt-like empty `alias`
  // rows have none: they show another row's value.
  std::string_view default_value;
  // Bounds of kInteger and kMemory parameters (inclusive; what `parse` enforces).
  long long min;
  long long max;
  ConfigChange change;
  // Stores `value` in `config`, or returns false with *reason worded as Redis words it
  // ("argument must be a memory value").
  bool (*parse)(std::string_view value, Config* config, std::string* reason);
  std::string (*format)(const Config& config);
  // Makes the running node follow a CONFIG SET (Redis's apply functions): called after the new
  // values are in server.config(), with the values from before in `old`, once per distinct
  // function however many of its parameters changed. false (with *reason in Redis's words)
  // undoes the whole CONFIG SET: the old values are restored and the functions that already ran
  // run again (RunConfigApply, config_apply.h).
  ConfigApply apply;
  // Another name of `alias_of`'s value (lua-time-limit): no default or TOML key of its own.
  std::string_view alias_of;

  bool runtime() const { return change == ConfigChange::kRuntime; }
};

std::span<const ConfigParam> ConfigParams();
// Case-insensitive, as Redis's config names are. nullptr when unknown.
const ConfigParam* FindConfigParam(std::string_view name);
// The parameter's key inside its TOML table: its name without a "<section>-" prefix.
std::string_view TomlKey(const ConfigParam& param);
// "integer 1..500", "yes|no", "always|everysec|no", ...: what --help and README show.
std::string DescribeConfigType(const ConfigParam& param);

// Redis memtoll: an integer with an optional unit, k = 1000, kb = 1024, m, mb, g, gb, any case.
bool ParseMemory(std::string_view text, std::uint64_t* bytes);
// yes/no (true/false), any case, as Redis's boolean parameters; *reason says why not.
bool ParseBool(std::string_view value, bool* out, std::string* reason);
// Redis bytesToHuman: "512B", "1.50K", "2.00M", ...
std::string BytesToHuman(std::uint64_t bytes);
std::string_view EvictionPolicyName(storage::EvictionPolicy policy);
storage::EvictionTuning EvictionTuningOf(const Config& config);
std::string_view BackgroundPriorityName(storage::BackgroundPriority priority);
std::string_view FsyncPolicyName(storage::FsyncPolicy policy);
std::string_view LogCorruptionPolicyName(storage::LogCorruptionPolicy policy);
std::string_view AclPubsubDefaultName(AclPubsubDefault value);
// client-output-buffer-limit: "<class> <hard> <soft> <soft seconds>" groups, as Redis parses them
// (classes normal, replica/slave, pubsub; sizes with units) and formats them
// ("normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60").
bool ParseOutputBufferLimits(std::string_view value, Config* config, std::string* reason);
std::string FormatOutputBufferLimits(const Config& config);
// latency-tracking-info-percentiles: space-separated percentiles in 0..100 ("50 99 99.9"), as
// Redis parses and shows them; FormatPercentile is one of them as Redis prints it ("99.9").
bool ParseLatencyPercentiles(std::string_view value, Config* config, std::string* reason);
std::string FormatLatencyPercentiles(const Config& config);
std::string FormatPercentile(double percentile);

// Applies the parameters in a TOML document; `source` names it in errors. On failure nothing
// says which parameters were already applied, so callers discard `config`.
bool ApplyConfigToml(std::string_view toml, std::string_view source, Config* config,
                     std::string* error);
// Checks constraints between parameters (each one's own range is checked when it is parsed).
bool ValidateConfig(const Config& config, std::string* error);

enum class ConfigLoadResult { kRun, kExitSuccess, kError };
// Builds the node's config from its command line: the embedded default, then the file given as
// `--config <file>` (or as a first argument ending in .toml), then `--name value` flags, which
// win. kExitSuccess after --help / --version (the text is in *message); kError with *message.
ConfigLoadResult LoadConfig(int argc, const char* const* argv, Config* config,
                            std::string* message);
std::string ConfigUsage(std::string_view program);

// The file CONFIG REWRITE writes: every TOML parameter with its current value.
std::string RenderConfigToml(const Config& config);
storage::Options ToStorageOptions(const Config& config);
// The thresholds of the typed value encodings (types/value_type.h).
types::TypeLimits ToTypeLimits(const Config& config);

}  // namespace dynakv::server
