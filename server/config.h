// Node configuration. One table of parameters, named as in Redis where Redis has the knob, feeds
// the TOML file (conf/node.toml), command-line flags (--name value) and CONFIG GET/SET alike.
#pragma once

#include <cstdint>
#include <span>
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

struct Config {
  // [server]
  std::string bind = "127.0.0.1";
  int port = 6379;
  std::string requirepass;  // empty: no AUTH needed
  // Without a password only loopback clients are served, as in Redis (Server::Accept).
  bool protected_mode = true;
  // ACL (acl.h): the users file of ACL LOAD / SAVE, loaded at start (empty: none); the length of
  // ACL LOG; whether new users may use every channel (acl-pubsub-default allchannels).
  std::string aclfile;
  long long acllog_max_len = 128;
  // Client-side caching (tracking.h): keys the default-mode table holds before it forgets some,
  // invalidating them (0: no limit).
  long long tracking_table_max_keys = 1000000;
  // Introspection, Redis's knobs and defaults: SLOWLOG logs commands of at least this many
  // microseconds (-1: none, 0: all) and keeps this many; LATENCY records events of at least this
  // many milliseconds (0: off); per-command latency histograms (INFO latencystats) and the
  // percentiles INFO shows.
  long long slowlog_log_slower_than = 10000;
  long long slowlog_max_len = 128;
  long long latency_monitor_threshold = 0;
  bool latency_tracking = true;
  std::vector<double> latency_tracking_info_percentiles = {50.0, 99.0, 99.9};
  AclPubsubDefault acl_pubsub_default = AclPubsubDefault::kResetChannels;
  int maxclients = 10000;
  // Numbered databases (SELECT), as Redis's `databases`; fixed while the node runs.
  int databases = 16;
  int hz = 10;              // cron frequency: active expiry, compaction, stats
  int timeout = 0;          // close clients idle this many seconds; 0 never
  // A script running longer than this (ms) makes the node answer other clients -BUSY and accept
  // SCRIPT KILL (Redis's busy-reply-threshold, alias lua-time-limit); 0: from the start.
  long long busy_reply_threshold = 5000;
  std::string loglevel = "notice";
  // Running as a service (daemon.h): the log's file ("" = stderr; reopened on
  // SIGHUP, for logrotate), the pid file ("" = none, unless daemonized), and Redis's daemonize
  // (fork into the background; systemd runs the node in the foreground instead).
  std::string logfile;
  std::string pidfile;
  bool daemonize = false;
  // The Prometheus endpoint (metrics_server.h): its port on `bind` (0 = off), and the bearer
  // token it asks for ("" = the default user's password over basic auth, when it has one).
  int metrics_port = 0;
  std::string metrics_token;
  // [tls] (TOML keys drop the "tls-" prefix), as Redis 7.0's tls-* parameters.
  int tls_port = 0;  // 0: no TLS port (and `port 0`: no plain one)
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_key_file_pass;
  std::string tls_ca_cert_file;
  std::string tls_ca_cert_dir;
  net::TlsPeerAuth tls_auth_clients = net::TlsPeerAuth::kYes;
  std::string tls_protocols;  // empty: "TLSv1.2 TLSv1.3"
  std::string tls_ciphers;
  std::string tls_ciphersuites;
  bool tls_prefer_server_ciphers = false;
  bool tls_session_caching = true;
  int tls_session_cache_size = 20 * 1024;
  int tls_session_cache_timeout = 300;  // seconds
  // tls-cluster: the cluster bus runs over mutual TLS with the certificate and key above, every
  // peer's certificate chaining to the CA.
  bool tls_cluster = false;
  // [limits]
  long long proto_max_bulk_len = 512LL * 1024 * 1024;
  long long proto_max_multibulk_len = 2147483647LL;
  std::uint64_t client_query_buffer_limit = 1024ull * 1024 * 1024;
  // Pending output above this makes the server stop reading from the client until it drains
  // (backpressure); above the hard limit the client is disconnected, as Redis does.
  std::uint64_t client_output_buffer_soft_limit = 16ull * 1024 * 1024;
  std::uint64_t client_output_buffer_hard_limit = 512ull * 1024 * 1024;
  // Redis's client-output-buffer-limit, per ClientClass (Redis's defaults). The normal class adds
  // to the two limits above; replicas do not exist here, their class is only kept and shown.
  OutputBufferLimit client_output_buffer_limits[kClientClassCount] = {
      {0, 0, 0}, {256ull << 20, 64ull << 20, 60}, {32ull << 20, 8ull << 20, 60}};
  // notify-keyspace-events as Redis's flag bits (notify.h); 0: none.
  int notify_keyspace_events = 0;
  // A HyperLogLog's sparse form grows to this many bytes (header included) before it turns
  // dense, as Redis's hll-sparse-max-bytes.
  long long hll_sparse_max_bytes = 3000;
  // [storage]
  std::string dir = "data";
  // SAVE / BGSAVE write the Redis RDB file dir/dbfilename (rdb_save.h).
  std::string dbfilename = "dump.rdb";
  // A Redis RDB file loaded into the databases at start, before clients are served; "" = none
  // (rdb_import.h). A failed import stops the node.
  std::string import_rdb;
  std::uint64_t maxmemory = 0;
  storage::EvictionPolicy maxmemory_policy = storage::EvictionPolicy::kOffload;
  // Redis's eviction knobs, with its defaults and bounds (storage::EvictionTuning).
  int maxmemory_samples = 5;
  int maxmemory_eviction_tenacity = 10;
  int lfu_log_factor = 10;
  int lfu_decay_time = 1;
  storage::BackgroundPriority background_priority = storage::BackgroundPriority::kAuto;
  storage::FsyncPolicy appendfsync = storage::FsyncPolicy::kEverySec;
  // A commit log corrupt in the middle: refuse to start, or (cluster mode only, where
  // anti-entropy refills what is dropped) cut it at the bad record and start.
  storage::LogCorruptionPolicy log_corruption_policy = storage::LogCorruptionPolicy::kRefuse;
  std::size_t compression_threshold = 64;
  // Hashes stay listpack-encoded up to this many fields, and while no field or value is longer
  // than hash_max_listpack_value bytes (types/hash.h).
  std::size_t hash_max_listpack_entries = 128;
  std::size_t hash_max_listpack_value = 64;
  // Sets stay intset-encoded while every member is an integer and there are at most this many
  // (types/set.h).
  std::size_t set_max_intset_entries = 512;
  // A list node holds this many entries when positive; -1..-5: up to 4/8/16/32/64 KB of them
  // (types/list.h). The compression depth is accepted as Redis's, but nodes stay uncompressed.
  long long list_max_listpack_size = -2;
  long long list_compress_depth = 0;
  // Sorted sets stay listpack-encoded up to this many members, and while no member is longer
  // than zset_max_listpack_value bytes (types/sorted_set.h).
  std::size_t zset_max_listpack_entries = 128;
  std::size_t zset_max_listpack_value = 64;
  std::uint64_t log_checkpoint_bytes = 64ull << 20;
  // [cluster] (TOML keys drop the "cluster-" prefix: `enabled`, `node-id`, ...)
  bool cluster_enabled = false;
  std::string cluster_node_id;
  std::string cluster_nodes;  // "id@host:port[/dc[/weight]]" members, comma separated
  int cluster_port_offset = 10000;  // every member's bus listens on its port + this
  int cluster_replication_factor = 3;
  // Defaults of connections that did not choose with CONSISTENCY.
  cluster::ConsistencyLevel cluster_read_consistency{cluster::ConsistencyLevel::Kind::kQuorum};
  cluster::ConsistencyLevel cluster_write_consistency{cluster::ConsistencyLevel::Kind::kQuorum};
  int cluster_request_timeout_ms = 2000;
  // An inbound bus connection that has not said HELLO this long after it was accepted is closed.
  int cluster_handshake_timeout_ms = 3000;
  // The bus's shared secret (cluster_secret.h): inline, or the first line of a file.
  std::string cluster_secret;
  std::string cluster_secret_file;
  bool cluster_insecure = false;  // cluster mode without a secret: the bus accepts anyone
  double cluster_read_repair_chance = 0.1;  // a read asks every replica, not only R
  // Membership by gossip: "host:bus-port" entries or member ids, comma separated. With seeds,
  // cluster-nodes may list only this node and the rest is learned from them.
  std::string cluster_seeds;
  int cluster_gossip_interval_ms = 1000;
  double cluster_phi_threshold = 8.0;  // suspect above this
  int cluster_down_after_ms = 5000;    // down once silent this long
  bool cluster_sloppy_quorum = true;
  int cluster_hint_handoff_interval_ms = 1000;
  // Anti-entropy: a Merkle-tree exchange with the next peer this often, and a full rebuild of
  // the trees from the engine this often (0: only on DEBUG ANTIENTROPY / at start and FLUSHALL).
  int cluster_anti_entropy_interval_ms = 10000;
  int cluster_anti_entropy_rebuild_interval_ms = 3600 * 1000;
  // LEAVE: how long the node forwards late replica writes after announcing it left (0: five
  // gossip intervals, at least a second).
  int cluster_leave_grace_ms = 0;
  int cluster_max_clock_skew_ms = 60000;
  int cluster_max_weight = 100;
  // Replicas per dc ("dc1:2,dc2:1"); when non-empty it replaces cluster_replication_factor.
  cluster::ReplicasPerDc cluster_replicas_per_dc;

  std::string config_file;  // the file loaded, empty when running on the embedded default
};

// One configuration parameter. Every source of configuration (the TOML file, --name value flags,
// CONFIG SET) goes through `parse`, so a value means the same wherever it is written.
struct ConfigParam {
  std::string_view name;     // as in Redis, e.g. "maxmemory-policy"
  std::string_view section;  // TOML table; empty for read-only Redis compatibility entries
  // In the TOML file the name is written without a "<section>-" prefix ([cluster] enabled).
  bool mutable_at_runtime;   // CONFIG SET may change it
  // Stores `value` in `config`, or returns false with *reason worded as Redis words it
  // ("argument must be a memory value").
  bool (*parse)(std::string_view value, Config* config, std::string* reason);
  std::string (*format)(const Config& config);
};

std::span<const ConfigParam> ConfigParams();
// Case-insensitive, as Redis's config names are. nullptr when unknown.
const ConfigParam* FindConfigParam(std::string_view name);
// The parameter's key inside its TOML table: its name without a "<section>-" prefix.
std::string_view TomlKey(const ConfigParam& param);

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
