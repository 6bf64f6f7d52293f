// The network side of a node: the listening socket, the clients, the once-per-iteration flush
// (group commit, then replies) and the cron. Everything runs on one libuv loop.
#pragma once

#include <uv.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "acl.h"
#include "command_stats.h"
#include "command_table.h"
#include "config.h"
#include "keyspace.h"
#include "latency_monitor.h"
#include "list_blocking.h"
#include "listener_set.h"
#include "log.h"
#include "monitor.h"
#include "net/listener.h"
#include "net/tls_context.h"
#include "net/uv_handle.h"
#include "new_key_notifier.h"
#include "notify.h"
#include "pubsub.h"
#include "slowlog.h"
#include "stats.h"
#include "tracking.h"
#include "watched_keys.h"

namespace dynakv::storage {
class Engine;
}
namespace dynakv::cluster {
class ClusterNode;
}

namespace dynakv::types {
class TypesCodec;
}

namespace dynakv::server {

class Client;
class ClusterBlocking;
class ClusterCounters;
class ClusterExecutor;
class ScriptRunner;
class RdbImport;
class RdbSaver;
class ReplicaLink;

class Server {
 public:
  // `engine` must outlive the Server. The Server may be destroyed only once the loop has run to
  // completion after Shutdown (every client closed). With a `cluster` node (cluster mode, which
  // must outlive the Server too), commands with keys go to the replicas through it; Start
  // starts it and Shutdown stops it.
  // `codec` (which the engine was opened with, and which must outlive the Server too) gets the
  // type encoding limits on CONFIG SET; without one those settings change nothing.
  Server(uv_loop_t* loop, const Config& config, storage::Engine& engine,
         cluster::ClusterNode* cluster = nullptr, types::TypesCodec* codec = nullptr);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Listens on config bind:port (unless 0) and bind:tls-port (unless 0), starts the flush and cron
  // handles and the cluster bus. On failure (port taken, bad TLS files) returns false with *error
  // set, and what was started is closed again.
  bool Start(std::string* error);
  // Loads the users of `aclfile`, if set, as Redis does at start (after requirepass set the
  // default user's password); false with Redis's error text when the file has errors.
  bool LoadAclFile(std::string* error);
  // Graceful stop (SIGTERM, SHUTDOWN): takes effect at the end of the current loop iteration,
  // so the command asking for it finishes first. Afterwards the loop runs out of handles.
  void RequestShutdown();
  bool shutdown_requested() const { return shutdown_requested_; }
  // Runs when the server shuts down, right after its listeners closed: the node's other
  // listeners (the metrics endpoint) close too, and systemd hears that the node is stopping.
  void set_shutdown_hook(std::function<void()> hook) { shutdown_hook_ = std::move(hook); }
  // The node's other listeners on `bind` (the metrics endpoint): Rebind moves them with the
  // client port's when bind changes, and back when the new addresses fail.
  using BindHook = std::function<bool(const std::string& bind, std::string* error)>;
  void set_bind_hook(BindHook hook) { bind_hook_ = std::move(hook); }

  storage::Engine& engine() { return engine_; }
  // The codec of typed values the engine was opened with; nullptr when there is none.
  types::TypesCodec* codec() { return codec_; }
  // The random choices of commands (SPOP, SRANDMEMBER): seeded once, as Redis seeds its own
  // generator at start; seeding one per command costs tens of microseconds.
  std::mt19937_64& rng() { return rng_; }
  // Database `db`'s "new" events wrapper, while class n is enabled (nullptr otherwise, and in
  // cluster mode).
  NewKeyNotifier* new_key_notifier(std::uint32_t db) {
    return !new_key_notifiers_.empty() && (config_.notify_keyspace_events & kNotifyNew)
               ? new_key_notifiers_[db].get()
               : nullptr;
  }
  // What commands without key arguments see: the engine, or in cluster mode this node's replica
  // (key commands then get a snapshot of their keys' replicas instead). keyspace() is database
  // 0, keyspace(db) database `db` (< databases(); cluster mode has database 0 only). While
  // notify-keyspace-events has class n on a single node, a wrapper that publishes "new" for the
  // keys writes create (new_key_notifier.h).
  Keyspace& keyspace() { return keyspace(0); }
  Keyspace& keyspace(std::uint32_t db) {
    return !new_key_notifiers_.empty() && (config_.notify_keyspace_events & kNotifyNew)
               ? *new_key_notifiers_[db]
               : *keyspaces_[db];
  }
  std::uint32_t databases() const { return static_cast<std::uint32_t>(keyspaces_.size()); }
  // Cluster mode only; nullptr on a single node.
  cluster::ClusterNode* cluster_node() { return cluster_node_; }
  ClusterExecutor* cluster_executor() { return cluster_executor_.get(); }
  // Lists and sorted sets in cluster mode: writes on the key's primary, blocking pops.
  ClusterBlocking* cluster_blocking() { return cluster_blocking_.get(); }
  // The INCR family in cluster mode: PN-counters (cluster_counters.h).
  ClusterCounters* cluster_counters() { return cluster_counters_.get(); }
  const Config& config() const { return config_; }
  ServerStats& stats() { return stats_; }
  // CONFIG SET: makes `config` the running config and runs the apply functions of the `changed`
  // parameters (config_apply.h). When one fails, *failed and *reason say which and why (Redis's
  // words), and the old config is back in force.
  bool ApplyConfig(const Config& config, std::span<const ConfigParam* const> changed,
                   const ConfigParam** failed, std::string* reason);
  LogLevel log_level() const { return log_level_; }
  void set_log_level(LogLevel level) { log_level_ = level; }
  // hz changed: the cron runs at the new frequency from now on.
  void RestartCron();
  // bind or port changed (config() holds the new ones, `old` the previous): listens there and
  // closes the old sockets, as Redis 7's changeBindAddr / changeListenPort. On failure the old
  // sockets serve on and *reason is Redis's CONFIG SET error.
  bool Rebind(const Config& old, std::string* reason);

  const CommandTable& commands() const { return commands_; }
  // The users and the ACL log; requirepass is the default user's password.
  Acl& acl() { return acl_; }
  // Clients blocked in BLPOP and its family (single-node mode).
  BlockedLists& blocked_lists() { return blocked_lists_; }
  // Channel and pattern subscriptions (single node; node-local in cluster mode).
  PubSub& pubsub() { return pubsub_; }

  // --- the "key modified" signal (Redis's signalModifiedKey / touchWatchedKey) ------------------
  // Every change of a key reaches SignalModifiedKey: each write through the keyspace
  // (LocalKeyspace tells it, so command handlers need not), and each key the storage engine
  // removes by itself (expiry reaping, allkeys-lru eviction: storage::Options::on_key_removed).
  // It runs on the loop thread, right after the change, possibly in the middle of a command (or
  // of a read that reaped): what hangs off it must only take note (mark a WATCHing client dirty,
  // queue an invalidation or a notification), never run commands or touch the keyspace.
  // Consumers: WATCH (watched_keys.h); client-side caching and keyspace notifications are meant
  // to hang off the same two calls. `db` is the database index (SELECT); MOVE and SWAPDB signal by themselves.
  void SignalModifiedKey(int db, std::string_view key) {
    watched_keys_.Touch(db, key);
    tracking_.InvalidateKey(key);  // Redis's tracking table knows keys by name, in any database
  }
  // FLUSHALL (db -1) / FLUSHDB, called before the keys go: as Redis's touchAllWatchedKeysInDb,
  // WATCHers of keys that exist are told.
  void SignalFlushDb(int db);
  // SWAPDB a b, called before the swap: each watched key of either database that exists in
  // either of them is told (Redis's touchAllWatchedKeysInDb both ways).
  void SignalSwapDb(std::uint32_t a, std::uint32_t b);
  WatchedKeys& watched_keys() { return watched_keys_; }
  // CLIENT TRACKING: the keys tracking clients read, and their invalidations.
  Tracking& tracking() { return tracking_; }
  // EVAL and SCRIPT: the Lua engine and its script cache.
  ScriptRunner& scripts() { return *scripts_; }
  // IMPORT-RDB / --import-rdb, and SAVE / BGSAVE / SYNC's RDB files (rdb_import.h, rdb_save.h).
  RdbImport& rdb_import() { return *rdb_import_; }
  RdbSaver& rdb_saver() { return *rdb_saver_; }
  // REPLICAOF: this node as the replica of a Redis master (replica_link.h).
  ReplicaLink& replication() { return *replication_; }
  const ReplicaLink& replication() const { return *replication_; }
  // A script has run past busy-reply-threshold: every client but `caller` (the script's) is
  // answered from its socket (Client::ServeWhileBusy), since the loop cannot run meanwhile.
  void ServeWhileBusy(const Client& caller);
  uv_loop_t* loop() const { return loop_; }
  int port() const { return port_; }          // 0: no plain port
  int tls_port() const { return tls_port_; }  // 0: no TLS port
  // CONFIG SET of a tls-* parameter: builds the TLS context `config` describes for the
  // connections accepted from now on (open ones keep theirs), and with tls-cluster the bus's
  // contexts too. When it cannot (a bad file), logs why as Redis does and returns false: the
  // running contexts stay.
  bool ReloadTls(const Config& config);
  // CONFIG SET tls-port: listens on config.tls_port (0: closes the TLS port), with a context
  // built afresh when the port was closed or `rebuild_context`. On failure *reason is Redis's
  // CONFIG SET error and the old port and context stay.
  bool ChangeTlsPort(const Config& config, bool rebuild_context, std::string* reason);

  // --- clients ---------------------------------------------------------------------------
  const std::map<std::uint64_t, std::unique_ptr<Client>>& clients() const { return clients_; }
  Client* FindClient(std::uint64_t id);
  std::size_t connected_clients() const { return clients_.size() - rejected_lingering_; }
  // Whether `client` must AUTH before running commands (Redis's authRequired: the default user
  // has a password or is off, and the client has not authenticated).
  bool AuthRequired(const Client& client) const;
  // Queues `client` for the flush at the end of this loop iteration. Its replies leave only once
  // the commit log holds every write they acknowledge (Client::log_mark); until then the client
  // waits while the engine retries the log.
  void ScheduleFlush(Client& client);
  // A client's transport is up (plain: at accept, TLS: after the handshake): serves it, or
  // refuses it (maxclients, protected mode).
  void ClientReady(Client* client);
  // Called once a client's connection is closed: destroys it.
  void ClientClosed(Client* client);

  // --- INFO ------------------------------------------------------------------------------
  const std::string& run_id() const { return run_id_; }
  std::int64_t start_time_ms() const { return start_time_ms_; }
  long long instantaneous_ops_per_sec() const { return ops_metric_.Mean(); }
  // Network bytes per second read from / written to clients (Redis shows them / 1024).
  long long instantaneous_input_bytes_per_sec() const { return net_input_metric_.Mean(); }
  long long instantaneous_output_bytes_per_sec() const { return net_output_metric_.Mean(); }
  long long instantaneous_repl_input_bytes_per_sec() const { return repl_input_metric_.Mean(); }
  long long instantaneous_repl_output_bytes_per_sec() const { return repl_output_metric_.Mean(); }
  // Whether memory is over maxmemory now (from each eviction check): the time it stays so is
  // INFO's current/total_eviction_exceeded_time.
  void NoteMemoryExceeded(bool over) {
    const std::uint64_t now = uv_now(loop_);
    if (over && exceeded_since_ms_ == 0) {
      exceeded_since_ms_ = std::max<std::uint64_t>(now, 1);
    } else if (!over && exceeded_since_ms_ != 0) {
      stats_.total_eviction_exceeded_ms += now - exceeded_since_ms_;
      exceeded_since_ms_ = 0;
    }
  }
  std::uint64_t current_eviction_exceeded_ms() const {
    return exceeded_since_ms_ == 0 ? 0 : uv_now(loop_) - exceeded_since_ms_;
  }
  // Redis's ClientsPeakMemInput/Output: the largest query buffer and reply backlog of any client
  // in the last 8 seconds (INFO client_recent_max_input/output_buffer).
  std::uint64_t recent_max_input_buffer() const { return client_peaks_.MaxInput(); }
  std::uint64_t recent_max_output_buffer() const { return client_peaks_.MaxOutput(); }
  std::uint64_t used_memory_peak() const { return used_memory_peak_; }
  // The memory allocated once the node was ready (MEMORY STATS startup.allocated).
  std::uint64_t startup_allocated() const { return startup_allocated_; }
  void NoteUsedMemory(std::uint64_t bytes);
  std::int64_t last_save_unix() const { return last_save_unix_; }
  void set_last_save_unix(std::int64_t seconds) { last_save_unix_ = seconds; }
  // CONFIG RESETSTAT (Redis's resetServerStats & co): every counter INFO shows as accumulated
  // since start goes back to 0. What keeps statistics of its own resets them here.
  void ResetStats();
  // INFO commandstats / errorstats / latencystats and LATENCY HISTOGRAM (command_stats.h).
  CommandStats& command_stats() { return command_stats_; }
  // An error reply was sent (`message` without its '-'): INFO's total_error_replies and the
  // count of its error code.
  void NoteErrorReply(std::string_view message) {
    ++stats_.total_error_replies;
    command_stats_.CountError(message);
  }
  SlowLog& slowlog() { return slowlog_; }
  LatencyMonitor& latency_monitor() { return latency_monitor_; }
  // Has the engine report its expire-cycle / expire-del / eviction-cycle / eviction-del events
  // to the latency monitor under the current latency-monitor-threshold.
  void WatchEngineLatency();
  Monitors& monitors() { return monitors_; }

  // --- CLIENT PAUSE ------------------------------------------------------------------------
  // As Redis 7.0's pauseClients: kAll holds every command, kWrite those that write or may (EVAL,
  // FCALL, PUBLISH, EXEC of a transaction that writes), until `end_ms` (uv_now) or UNPAUSE. A
  // new pause replaces the type and keeps the later end.
  enum class PauseType { kNone, kWrite, kAll };
  void PauseClients(PauseType type, std::uint64_t end_ms);
  // Ends the pause: the held clients run their requests, in the order they were held.
  void UnpauseClients();
  PauseType pause_type() const { return pause_type_; }
  // Whether `client`'s request `argv` must wait for the pause (Redis's BLOCKED_POSTPONE); the
  // client is remembered and resumed on unpause.
  bool Postpone(Client& client, const std::vector<std::string_view>& argv);

 private:
  static void OnCheck(uv_check_t* check);
  static void OnCron(uv_timer_t* timer);
  void Accept(int fd, bool tls);
  int Listen(ListenerSet& listener, const std::string& bind, int port, bool tls,
             std::string* error);
  void AcceptFailed(int error, bool refused);
  // Refuses a just-accepted connection with `reply` (Client::RejectAndClose).
  void Reject(Client* client, std::string_view reply);
  // ACL DELUSER / LOAD destroy `user`: its clients are closed (after the reply when one of them
  // runs the command), and no longer refer to it.
  void DisconnectUser(const AclUser& user);
  // ACL SETUSER narrowed `user`'s channels: its clients subscribed to what it may no longer
  // subscribe to are closed, as Redis 7's ACLKillPubsubClientsIfNeeded does.
  void DisconnectRefusedSubscribers(const AclUser& user);
  void FlushPending();
  // Logs a change of the commit log's health (writes refuse themselves: Engine::LogStatus).
  void NoteLogStatus(const storage::Status& status);
  // Sends the replies that waited for the log, where the log now covers them.
  void ReleaseHeldReplies();
  void Cron();
  void SampleOps();
  // LocalKeyspace's changes become the key-modified signal.
  class KeyspaceSignals final : public KeyspaceObserver {
   public:
    explicit KeyspaceSignals(Server& server) : server_(server) {}
    void KeyModified(std::uint32_t db, std::string_view key) override {
      server_.SignalModifiedKey(static_cast<int>(db), key);
    }
    void KeyspaceClearing(int db) override { server_.SignalFlushDb(db); }

   private:
    Server& server_;
  };
  void Shutdown();
  void CloseHandles();
  std::uint64_t CronIntervalMs() const;

  uv_loop_t* const loop_;
  Config config_;
  storage::Engine& engine_;
  types::TypesCodec* codec_;
  std::mt19937_64 rng_{std::random_device{}()};
  cluster::ClusterNode* const cluster_node_;
  WatchedKeys watched_keys_;
  Tracking tracking_{*this};
  KeyspaceSignals keyspace_signals_{*this};
  std::vector<std::unique_ptr<Keyspace>> keyspaces_;  // by database
  std::vector<std::unique_ptr<NewKeyNotifier>> new_key_notifiers_;  // by database; single node
  std::unique_ptr<ClusterExecutor> cluster_executor_;
  std::unique_ptr<ClusterBlocking> cluster_blocking_;  // after the executor it uses
  std::unique_ptr<ClusterCounters> cluster_counters_;
  bool cluster_stopped_ = false;
  CommandTable commands_;
  CommandStats command_stats_{commands_.entries().size()};
  SlowLog slowlog_;
  LatencyMonitor latency_monitor_;
  Monitors monitors_;
  Acl acl_;
  BlockedLists blocked_lists_{*this};
  PubSub pubsub_;
  std::unique_ptr<ScriptRunner> scripts_;
  std::unique_ptr<RdbImport> rdb_import_;
  std::unique_ptr<RdbSaver> rdb_saver_;
  std::unique_ptr<ReplicaLink> replication_;
  ServerStats stats_;
  LogLevel log_level_ = LogLevel::kNotice;

  std::unique_ptr<ListenerSet> listener_;        // replaced by Rebind
  std::unique_ptr<ListenerSet> tls_listener_;    // replaced by ChangeTlsPort and Rebind
  std::shared_ptr<net::TlsContext> tls_context_;  // while tls-port is open
  net::UvHandle<uv_check_t> flush_check_;
  // Active only while clients wait to be flushed: it keeps the loop from blocking in poll, so
  // work produced during a flush (a paused client resuming) is flushed next iteration.
  net::UvHandle<uv_idle_t> flush_idle_;
  net::UvHandle<uv_timer_t> cron_;
  int port_ = 0;
  int tls_port_ = 0;

  std::map<std::uint64_t, std::unique_ptr<Client>> clients_;  // by id: CLIENT LIST order
  std::uint64_t next_client_id_ = 1;
  std::uint64_t cron_cursor_ = 0;  // the id the next Cron's slice of clients starts at
  std::vector<Client*> pending_flush_;
  std::vector<Client*> flushing_;       // reused by FlushPending
  std::vector<Client*> held_;           // replies waiting for the commit log (ScheduleFlush)
  std::size_t rejected_lingering_ = 0;  // refused connections waiting for the peer's close
  bool shutdown_requested_ = false;
  std::function<void()> shutdown_hook_;
  BindHook bind_hook_;
  bool shut_down_ = false;
  bool log_failed_ = false;
  std::uint64_t last_log_error_ms_ = 0;
  std::uint64_t last_accept_error_ms_ = 0;

  PauseType pause_type_ = PauseType::kNone;
  std::uint64_t pause_end_ms_ = 0;
  std::vector<std::uint64_t> postponed_;  // client ids, in the order they were held

  std::string run_id_;
  std::int64_t start_time_ms_ = 0;
  std::int64_t last_save_unix_ = 0;
  std::uint64_t used_memory_peak_ = 0;
  std::uint64_t startup_allocated_ = 0;

  // instantaneous_ops_per_sec and instantaneous_{input,output}_kbps as Redis computes them
  // (trackInstantaneousMetric): the mean of the last 16 per-second rates sampled every 100 ms.
  static constexpr int kOpsSamples = 16;
  struct InstantaneousMetric {
    std::array<long long, kOpsSamples> samples{};
    std::uint64_t last = 0;  // the counter at the last sample
    void Track(std::uint64_t value, std::uint64_t elapsed_ms, int index) {
      samples[static_cast<std::size_t>(index)] =
          static_cast<long long>((value - last) * 1000 / elapsed_ms);
      last = value;
    }
    long long Mean() const {
      long long sum = 0;
      for (long long sample : samples) sum += sample;
      return sum / kOpsSamples;
    }
  };
  InstantaneousMetric ops_metric_, net_input_metric_, net_output_metric_;
  InstantaneousMetric repl_input_metric_, repl_output_metric_;
  std::uint64_t exceeded_since_ms_ = 0;  // uv_now when memory went over maxmemory; 0: not over
  // Per-second slots of the last 8 seconds (Redis's CLIENTS_PEAK_MEM_USAGE_SLOTS), filled by the
  // cron as it visits clients.
  struct ClientPeaks {
    static constexpr int kSlots = 8;
    std::array<std::uint64_t, kSlots> input{}, output{};
    int current = -1;  // the slot being filled
    void Note(std::uint64_t unix_seconds, std::uint64_t in, std::uint64_t out) {
      const int slot = static_cast<int>(unix_seconds % kSlots);
      if (slot != current) {
        input[static_cast<std::size_t>(slot)] = output[static_cast<std::size_t>(slot)] = 0;
        current = slot;
      }
      input[static_cast<std::size_t>(slot)] = std::max(input[static_cast<std::size_t>(slot)], in);
      output[static_cast<std::size_t>(slot)] =
          std::max(output[static_cast<std::size_t>(slot)], out);
    }
    std::uint64_t MaxInput() const { return *std::max_element(input.begin(), input.end()); }
    std::uint64_t MaxOutput() const { return *std::max_element(output.begin(), output.end()); }
  };
  ClientPeaks client_peaks_;
  int ops_sample_index_ = 0;
  std::uint64_t ops_sample_time_ms_ = 0;
};

}  // namespace dynakv::server
