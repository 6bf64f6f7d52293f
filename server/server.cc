#include "server.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <random>

#include "client.h"
#include "clock.h"
#include "cluster/cluster_node.h"
#include "cluster_blocking.h"
#include "cluster_config.h"
#include "cluster_counters.h"
#include "cluster_executor.h"
#include "info.h"
#include "notify.h"
#include "rdb_import.h"
#include "rdb_save.h"
#include "replica_link.h"
#include "replica_keyspace.h"
#include "script_runner.h"
#include "storage/engine.h"
#include "tls_config.h"
#include "types/codec.h"

namespace dynakv::server {
namespace {

constexpr int kListenBacklog = 511;  // Redis's tcp-backlog default
// Query buffers of clients quiet for this long are freed (Redis resizes them after 2 s too).
constexpr std::uint64_t kIdleBufferMs = 2000;
constexpr std::uint64_t kOpsSampleMs = 100;

std::string RandomHex(std::size_t length) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::random_device device;
  std::string out(length, '0');
  for (char& c : out) c = kHex[device() & 15];
  return out;
}

}  // namespace

Server::Server(uv_loop_t* loop, const Config& config, storage::Engine& engine,
               cluster::ClusterNode* cluster, types::TypesCodec* codec)
    : loop_(loop),
      config_(config),
      engine_(engine),
      codec_(codec),
      cluster_node_(cluster),
      acl_(commands_, config.acl_pubsub_default == AclPubsubDefault::kAllChannels),
      listener_(std::make_unique<ListenerSet>(loop)),
      tls_listener_(std::make_unique<ListenerSet>(loop)),
      run_id_(RandomHex(40)),
      start_time_ms_(NowMs()) {
  if (cluster_node_ != nullptr) {
    keyspaces_.push_back(std::make_unique<ReplicaKeyspace>(engine_, cluster_node_, codec_));
    cluster_executor_ = std::make_unique<ClusterExecutor>(*this, *cluster_node_);
    cluster_blocking_ =
        std::make_unique<ClusterBlocking>(*this, *cluster_executor_, *cluster_node_);
    cluster_counters_ =
        std::make_unique<ClusterCounters>(*this, *cluster_executor_, *cluster_node_, config.dir);
    // PUBLISH through another member: delivered to this node's subscribers.
    cluster_node_->SetNoticeHandler([this](std::string_view payload) {
      std::string_view channel;
      std::string_view message;
      PubSub::Kind kind;
      if (PubSub::DecodeNotice(payload, &channel, &message, &kind)) {
        pubsub_.Publish(channel, message, kind);
      } else {
        Log(log_level_, LogLevel::kWarning, "Dropped a malformed pub/sub notice from a peer");
      }
    });
  } else {
    for (std::uint32_t db = 0; db < engine_.Databases(); ++db) {
      keyspaces_.push_back(std::make_unique<LocalKeyspace>(engine_, db, keyspace_signals_));
      new_key_notifiers_.push_back(std::make_unique<NewKeyNotifier>(*this, *keyspaces_.back()));
    }
    // Keys the engine removes by itself change them as much as a DEL does. Redis notifies an
    // expiry ("expired", class x) before signalling the key (deleteExpiredKeyAndPropagate), an
    // eviction ("evicted", class e) after it (performEvictions).
    engine_.SetOnKeyRemoved(
        [this](storage::DbIndex db_index, std::string_view key, storage::KeyRemoval why) {
          const int db = static_cast<int>(db_index);
          if (why == storage::KeyRemoval::kExpired) {
            NotifyKeyspaceEvent(*this, kNotifyExpired, "expired", key, db);
            SignalModifiedKey(db, key);
            return;
          }
          SignalModifiedKey(db, key);
          if (why == storage::KeyRemoval::kEvicted) {
            NotifyKeyspaceEvent(*this, kNotifyEvicted, "evicted", key, db);
          }
        });
  }
  ParseLogLevel(config_.loglevel, &log_level_);
  WatchEngineLatency();
  acl_.SetDefaultPassword(config_.requirepass);
  acl_.set_log_max_len(static_cast<std::size_t>(config_.acllog_max_len));
  acl_.set_on_user_removed([this](const AclUser& user) { DisconnectUser(user); });
  acl_.set_on_channels_narrowed(
      [this](const AclUser& user) { DisconnectRefusedSubscribers(user); });
  last_save_unix_ = start_time_ms_ / 1000;
  ops_sample_time_ms_ = uv_now(loop_);
  scripts_ = std::make_unique<ScriptRunner>(*this);
  rdb_import_ = std::make_unique<RdbImport>(*this);
  rdb_saver_ = std::make_unique<RdbSaver>(*this);
  replication_ = std::make_unique<ReplicaLink>(*this);
}

void Server::SignalFlushDb(int db) {
  tracking_.InvalidateAll();  // Redis's trackingInvalidateKeysOnFlush: one null for everyone
  if (watched_keys_.empty()) return;
  for (const DbKey& id : watched_keys_.KeysOf(db)) {
    // Only a key that exists changes by going (Redis 7.0); the lookup reaps an expired one,
    // which signals it by itself.
    if (engine_.Exists(static_cast<storage::DbIndex>(id.db), id.key)) SignalModifiedKey(id.db, id.key);
  }
}

void Server::SignalSwapDb(std::uint32_t a, std::uint32_t b) {
  if (watched_keys_.empty()) return;
  for (const std::uint32_t db : {a, b}) {
    const std::uint32_t other = db == a ? b : a;
    for (const DbKey& id : watched_keys_.KeysOf(static_cast<int>(db))) {
      if (engine_.Exists(db, id.key) || engine_.Exists(other, id.key)) {
        SignalModifiedKey(id.db, id.key);
      }
    }
  }
}

void Server::WatchEngineLatency() {
  const long long threshold = config_.latency_monitor_threshold;
  if (threshold <= 0) {
    engine_.SetLatencyMonitor(0, nullptr);
    return;
  }
  engine_.SetLatencyMonitor(static_cast<std::uint64_t>(threshold),
                            [this](std::string_view event, std::uint64_t ms) {
                              latency_monitor_.AddSample(event, ms, std::time(nullptr));
                            });
}

Server::~Server() {
  if (cluster_node_ != nullptr) cluster_node_->SetNoticeHandler(nullptr);  // it outlives us
  engine_.SetOnKeyRemoved(nullptr);
  engine_.SetLatencyMonitor(0, nullptr);
  // Normally Shutdown ran and the loop has already destroyed every client. If not (an error
  // path), close them now and let the loop run their close callbacks while `this` is alive.
  if (!shut_down_) Shutdown();
  for (int i = 0; i < 16 && !clients_.empty(); ++i) uv_run(loop_, UV_RUN_NOWAIT);
}

int Server::Listen(ListenerSet& listener, const std::string& bind, int port, bool tls,
                   std::string* error) {
  net::Listener::Callbacks callbacks{
      [this, tls](int fd) { Accept(fd, tls); },
      [this](int err, bool refused) { AcceptFailed(err, refused); },
      "-ERR max number of clients reached\r\n"};
  return listener.Listen(bind, port, kListenBacklog, callbacks, tls ? "TLS" : "TCP", error);
}

bool Server::Start(std::string* error) {
  startup_allocated_ = UsedMemoryBytes();
  if (config_.port == 0 && config_.tls_port == 0) {
    *error = "Configured to not listen anywhere, exiting.";
    return false;
  }
  if (!scripts_->LoadFunctionsFile(error)) return false;
  if (config_.tls_port != 0) {
    std::string reason;
    tls_context_ = BuildTlsContext(config_, &reason);
    if (!tls_context_) {
      Log(log_level_, LogLevel::kWarning, "%s", reason.c_str());
      *error = "Failed to configure TLS. Check logs for more info.";
      return false;
    }
  }
  if ((config_.port != 0 && Listen(*listener_, config_.bind, config_.port, false, error) != 0) ||
      (config_.tls_port != 0 && Listen(*tls_listener_, config_.bind, config_.tls_port, true, error) != 0)) {
    CloseHandles();
    return false;
  }
  port_ = config_.port != 0 ? listener_->port() : 0;
  tls_port_ = config_.tls_port != 0 ? tls_listener_->port() : 0;

  int rc = 0;
  rc = flush_check_.Init([&](uv_check_t* c) { return uv_check_init(loop_, c); }, this);
  if (rc == 0) rc = uv_check_start(flush_check_.get(), OnCheck);
  if (rc == 0) rc = flush_idle_.Init([&](uv_idle_t* i) { return uv_idle_init(loop_, i); }, this);
  if (rc == 0) rc = cron_.Init([&](uv_timer_t* t) { return uv_timer_init(loop_, t); }, this);
  if (rc == 0) rc = uv_timer_start(cron_.get(), OnCron, CronIntervalMs(), CronIntervalMs());
  if (rc != 0) {
    *error = std::string("Could not start the event loop handles: ") + uv_strerror(rc);
    CloseHandles();
    return false;
  }
  if (cluster_node_ != nullptr && !cluster_node_->Start(error)) {
    CloseHandles();
    return false;
  }
  if (!config_.replicaof.empty()) {
    // `replicaof host port` in the config: a replica from the start (in cluster mode, this node
    // follows the master and writes through the ring), continuing the kept id and offset.
    const std::size_t space = config_.replicaof.rfind(' ');
    replication_->StartFromConfig(config_.replicaof.substr(0, space),
                                  std::stoi(config_.replicaof.substr(space + 1)));
  } else {
    replication_->ForgetSavedState();
  }
  return true;
}

void Server::CloseHandles() {
  listener_->Close();
  tls_listener_->Close();
  flush_check_.Close();
  flush_idle_.Close();
  cron_.Close();
  rdb_import_->Stop();
  replication_->Stop();
  // The cluster node's handles go too (started or not), so the loop can run out. Requests
  // still waiting for replicas fail; their clients are closing by then.
  if (cluster_node_ != nullptr && !cluster_stopped_) {
    cluster_stopped_ = true;
    cluster_node_->Stop([] {});
  }
}

void Server::RequestShutdown() { shutdown_requested_ = true; }

void Server::Shutdown() {
  shut_down_ = true;
  listener_->Close();
  tls_listener_->Close();
  if (shutdown_hook_) shutdown_hook_();
  // Replies may acknowledge writes, so they go out only once the log has them.
  const storage::Status status = engine_.FlushLog();
  if (!status.ok()) {
    Log(log_level_, LogLevel::kWarning, "Error writing the commit log at shutdown: %s",
        status.ToString().c_str());
  }
  const std::uint64_t durable = engine_.DurableLogEnd();
  for (auto& [id, client] : clients_) {
    if (client->log_mark() <= durable) client->FlushBestEffort();
    client->Close();
  }
  pending_flush_.clear();
  held_.clear();
  CloseHandles();
}

std::uint64_t Server::CronIntervalMs() const {
  return std::max<std::uint64_t>(1, 1000 / static_cast<std::uint64_t>(std::max(1, config_.hz)));
}

void Server::ServeWhileBusy(const Client& caller) {
  // New plain connections too: redis-cli opens one to send SCRIPT KILL.
  listener_->AcceptNow();
  for (auto& [id, client] : clients_) {
    if (client.get() != &caller) client->ServeWhileBusy();
  }
}

Client* Server::FindClient(std::uint64_t id) {
  auto it = clients_.find(id);
  if (it != clients_.end()) return it->second.get();
  // The master client of a replica: its cluster-mode commands complete through here too.
  return replication_ != nullptr ? replication_->FindMasterClient(id) : nullptr;
}

bool Server::AuthRequired(const Client& client) const {
  const AclUser& user = acl_.default_user();
  return (!user.nopass() || !user.enabled()) && !client.authenticated();
}

bool Server::LoadAclFile(std::string* error) {
  return config_.aclfile.empty() || acl_.LoadFile(config_.aclfile, error);
}

void Server::DisconnectUser(const AclUser& user) {
  for (const auto& [id, client] : clients_) {
    if (client->user() != &user) continue;
    client->set_user(&acl_.default_user(), false);
    // Closed once its pending output (the reply to this command, for the client running it)
    // is written.
    client->CloseAfterReply();
    ScheduleFlush(*client);
  }
}

void Server::DisconnectRefusedSubscribers(const AclUser& user) {
  for (const auto& [id, client] : clients_) {
    if (client->user() != &user || client->closing()) continue;
    const PubSub::Subscriptions* subs = pubsub_.Of(*client);
    if (subs == nullptr) continue;
    bool refused =
        std::any_of(subs->patterns.begin(), subs->patterns.end(),
                    [&](const std::string& p) { return !user.AllowsSubscription(p, true); });
    for (const auto* set : {&subs->channels, &subs->shard_channels}) {
      refused = refused || std::any_of(set->begin(), set->end(), [&](const std::string& c) {
                  return !user.AllowsSubscription(c, false);
                });
    }
    if (!refused) continue;
    // It gets no further message; the reply to this command, for the client running it, still
    // leaves before the close.
    pubsub_.RemoveClient(*client);
    client->set_pubsub_mode(false);
    client->CloseAfterReply();
    ScheduleFlush(*client);
  }
}

void Server::ScheduleFlush(Client& client) {
  if (client.flush_scheduled() || shut_down_) return;
  client.set_flush_scheduled(true);
  pending_flush_.push_back(&client);
  // A cluster reply may complete in a check callback after this iteration's flush ran: keep the
  // loop from blocking in poll so it leaves in the next iteration, not at the next I/O.
  if (cluster_node_ != nullptr) uv_idle_start(flush_idle_.get(), [](uv_idle_t*) {});
}

void Server::Reject(Client* client, std::string_view reply) {
  ++stats_.rejected_connections;
  ++rejected_lingering_;  // not a client: it only waits for the peer to close (RejectAndClose)
  client->RejectAndClose(reply);
}

void Server::ClientClosed(Client* client) {
  if (client->rejected()) --rejected_lingering_;
  std::erase(pending_flush_, client);
  std::erase(held_, client);
  blocked_lists_.ClientClosed(client->id());
  if (cluster_blocking_) cluster_blocking_->ClientClosed(client->id());
  if (cluster_executor_) cluster_executor_->waits().ClientClosed(client->id());
  monitors_.Remove(client->id());
  pubsub_.RemoveClient(*client);
  watched_keys_.UnwatchAll(*client);
  tracking_.Disable(*client);
  clients_.erase(client->id());
}

namespace {

// Redis 7.0's refusal, word for word: clients and tools recognise it.
constexpr std::string_view kProtectedModeError =
    "-DENIED Redis is running in protected mode because protected mode is enabled and no "
    "password is set for the default user. In this mode connections are only accepted from the "
    "loopback interface. If you want to connect from external computers to Redis you may adopt "
    "one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG "
    "SET protected-mode no' from the loopback interface by connecting to Redis from the same host "
    "the server is running, however MAKE SURE Redis is not publicly accessible from internet if "
    "you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just "
    "disable the protected mode by editing the Redis configuration file, and setting the "
    "protected mode option to 'no', and then restarting the server. 3) If you started the server "
    "manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an "
    "authentication password for the default user. NOTE: You only need to do one of the above "
    "things in order for the server to start accepting connections from the outside.\r\n";

// How long a refused client may take to close its end (Client::RejectAndClose).
constexpr std::uint64_t kRejectedLingerMs = 2000;

// Loopback as Redis 7.0 tells it: the peer is 127.0.0.1 or ::1.
bool PeerIsLoopback(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return false;
  if (addr.ss_family == AF_INET) {
    return reinterpret_cast<const sockaddr_in&>(addr).sin_addr.s_addr == htonl(INADDR_LOOPBACK);
  }
  if (addr.ss_family == AF_INET6) {
    const in6_addr& ip = reinterpret_cast<const sockaddr_in6&>(addr).sin6_addr;
    return IN6_IS_ADDR_LOOPBACK(&ip);
  }
  return false;
}

}  // namespace

// How long an accepted TLS connection may take to finish its handshake. Redis sets no limit
// (only `timeout`, when set, closes it); one that never completes would hold a client slot.
constexpr std::uint64_t kTlsHandshakeTimeoutMs = 10000;

void Server::Accept(int fd, bool tls) {
  auto owned = std::make_unique<Client>(*this, next_client_id_++);
  Client* client = owned.get();
  clients_.emplace(client->id(), std::move(owned));
  // A plain client is ready at once: ClientReady runs inside Accept.
  const int rc = client->Accept(fd, tls ? tls_context_ : nullptr, config_.tls_auth_clients,
                                kTlsHandshakeTimeoutMs);
  if (rc != 0) {
    Log(log_level_, LogLevel::kWarning, "Cannot create a client socket: %s", uv_strerror(rc));
    clients_.erase(client->id());  // its connection closed itself; nothing else knows it
  }
}

void Server::ClientReady(Client* client) {
  // As in Redis, the cluster bus's connections (one each way per peer) count against
  // maxclients: they use descriptors too, and the reserve (open_files.h) leaves them out.
  const std::size_t bus_links = cluster_node_ != nullptr && cluster_node_->ring().size() > 1
                                    ? 2 * (cluster_node_->ring().size() - 1)
                                    : 0;
  if (connected_clients() + bus_links > static_cast<std::size_t>(config_.maxclients)) {
    Reject(client, "-ERR max number of clients reached\r\n");
    return;
  }
  if (config_.protected_mode && acl_.default_user().nopass() && !PeerIsLoopback(client->fd())) {
    Reject(client, kProtectedModeError);
    return;
  }
  ++stats_.total_connections_received;
  client->Start();
}

// Out of descriptors the listener refuses the client with the max-clients error; other accept
// errors leave the connection queued. Either way once a second in the log at most: a flood of
// connections must not become a flood of log lines.
void Server::AcceptFailed(int error, bool refused) {
  if (refused) ++stats_.rejected_connections;
  const std::uint64_t now = uv_now(loop_);
  if (last_accept_error_ms_ != 0 && now - last_accept_error_ms_ < 1000) return;
  last_accept_error_ms_ = now;
  Log(log_level_, LogLevel::kWarning, "Accepting client connection: %s%s", std::strerror(error),
      refused ? " (the client was refused: max number of clients reached)" : "");
}

void Server::OnCheck(uv_check_t* check) {
  auto* server = static_cast<Server*>(check->data);
  if (server == nullptr) return;
  if (server->shutdown_requested_ && !server->shut_down_) {
    server->Shutdown();
    return;
  }
  server->FlushPending();
}

void Server::FlushPending() {
  if (tracking_.broadcast_pending()) tracking_.FlushBroadcast();
  if (pending_flush_.empty()) {
    uv_idle_stop(flush_idle_.get());
    return;
  }
  // Group commit: one log write (and, under appendfsync always, one fsync) covers every write
  // whose reply is about to leave. A reply whose writes the log does not hold yet waits: it is
  // never sent on the hope that they will be.
  NoteLogStatus(engine_.FlushLog());
  const std::uint64_t durable = engine_.DurableLogEnd();
  // Replies that waited for the log leave in the iteration the log covers them, not at the next
  // cron tick (up to 1000 / hz ms later).
  if (!held_.empty()) {
    std::erase_if(held_, [&](Client* client) {
      if (client->log_mark() > durable) return false;
      client->set_held(false);
      ScheduleFlush(*client);
      return true;
    });
  }
  flushing_.swap(pending_flush_);
  // Last scheduled, first written, as Redis walks its clients_pending_write (it adds at the
  // head): a PUBLISH schedules its subscribers before its own reply, and the publisher should not
  // wait behind their writes.
  for (auto it = flushing_.rbegin(); it != flushing_.rend(); ++it) {
    Client* client = *it;
    client->set_flush_scheduled(false);
    if (client->log_mark() > durable) {
      if (!client->held()) {
        client->set_held(true);
        held_.push_back(client);
      }
      continue;
    }
    client->Flush();
  }
  flushing_.clear();
  // A resumed client may have queued replies or asked for SHUTDOWN: keep the next iteration from
  // blocking in poll so that happens now rather than at the next I/O or cron tick.
  if (pending_flush_.empty() && !shutdown_requested_) {
    uv_idle_stop(flush_idle_.get());
  } else {
    uv_idle_start(flush_idle_.get(), [](uv_idle_t*) {});
  }
}

void Server::NoteLogStatus(const storage::Status& status) {
  const std::uint64_t now = uv_now(loop_);
  if (status.ok()) {
    if (log_failed_) {
      log_failed_ = false;
      Log(log_level_, LogLevel::kWarning,
          "Commit log write error looks solved, writes are accepted again.");
    }
    return;
  }
  // Redis logs the first failure at once and repeats it at most every 30 s.
  if (!log_failed_ || now - last_log_error_ms_ >= 30000) {
    last_log_error_ms_ = now;
    Log(log_level_, LogLevel::kWarning,
        "Error writing the commit log: %s. Writes are refused (MISCONF) until it can be written.",
        status.ToString().c_str());
  }
  log_failed_ = true;
}

void Server::ReleaseHeldReplies() {
  if (held_.empty() && !log_failed_) return;
  // The engine rate-limits its retries of a failed log (Options::log_retry_interval_ms).
  NoteLogStatus(engine_.FlushLog());
  const std::uint64_t durable = engine_.DurableLogEnd();
  std::erase_if(held_, [&](Client* client) {
    if (client->log_mark() > durable) return false;
    client->set_held(false);
    ScheduleFlush(*client);
    return true;
  });
}

void Server::OnCron(uv_timer_t* timer) {
  auto* server = static_cast<Server*>(timer->data);
  if (server != nullptr) server->Cron();
}

void Server::Cron() {
  ReleaseHeldReplies();
  // A CLIENT PAUSE ends at the cron after its time, as Redis's clientsCron ends it.
  if (pause_type_ != PauseType::kNone && uv_now(loop_) >= pause_end_ms_) UnpauseClients();
  engine_.Tick();
  SampleOps();
  NoteUsedMemory(UsedMemoryBytes());
  const std::uint64_t now = uv_now(loop_);
  const std::uint64_t timeout_ms = static_cast<std::uint64_t>(config_.timeout) * 1000;
  // A slice of the clients per tick, each about once a second, as Redis's clientsCron (numclients
  // / hz, at least 5): a walk of all 10,000 clients at every tick stopped the loop for
  // milliseconds ten times a second, a cost per request that grew with the client count.
  const std::size_t count = clients_.size();
  std::size_t budget = std::max<std::size_t>(count * CronIntervalMs() / 1000, 5);
  budget = std::min(budget, count);
  auto it = clients_.lower_bound(cron_cursor_);
  const std::uint64_t unix_seconds = static_cast<std::uint64_t>(NowMs() / 1000);
  for (; budget > 0; --budget) {
    if (it == clients_.end()) it = clients_.begin();
    const std::uint64_t id = it->first;
    Client* client = it->second.get();
    ++it;  // Close leaves the client in clients_ (ClientClosed removes it later)
    if (client->closing()) continue;
    if (client->rejected() && now - client->created_ms() > kRejectedLingerMs) {
      client->Close();
      continue;
    }
    client_peaks_.Note(unix_seconds, client->QueryBufferBytes(), client->OutputBufferBytes());
    const std::uint64_t idle = now - client->last_interaction_ms();
    if (timeout_ms != 0 && idle > timeout_ms) {
      Log(log_level_, LogLevel::kVerbose, "Closing idle client id=%llu",
          static_cast<unsigned long long>(id));
      client->Close();
    } else if (idle > kIdleBufferMs) {
      client->ReleaseIdleBuffers();
    } else {
      client->ResizeQueryBuffer();
    }
  }
  cron_cursor_ = it == clients_.end() ? 0 : it->first;
}

void Server::SampleOps() {
  const std::uint64_t now = uv_now(loop_);
  const std::uint64_t elapsed = now - ops_sample_time_ms_;
  if (elapsed < kOpsSampleMs) return;
  ops_metric_.Track(stats_.total_commands_processed, elapsed, ops_sample_index_);
  net_input_metric_.Track(stats_.total_net_input_bytes, elapsed, ops_sample_index_);
  net_output_metric_.Track(stats_.total_net_output_bytes, elapsed, ops_sample_index_);
  repl_input_metric_.Track(stats_.total_net_repl_input_bytes, elapsed, ops_sample_index_);
  repl_output_metric_.Track(stats_.total_net_repl_output_bytes, elapsed, ops_sample_index_);
  ops_sample_index_ = (ops_sample_index_ + 1) % kOpsSamples;
  ops_sample_time_ms_ = now;
}

void Server::NoteUsedMemory(std::uint64_t bytes) {
  used_memory_peak_ = std::max(used_memory_peak_, bytes);
}

void Server::ResetStats() {
  stats_ = ServerStats{};
  engine_.ResetStatCounters();
  for (InstantaneousMetric* metric : {&ops_metric_, &net_input_metric_, &net_output_metric_,
                                      &repl_input_metric_, &repl_output_metric_}) {
    *metric = InstantaneousMetric{};
  }
  if (exceeded_since_ms_ != 0) exceeded_since_ms_ = uv_now(loop_);
  used_memory_peak_ = 0;
  // Redis's resetServerStats and resetCommandTableStats: the slow log and latency events stay.
  command_stats_.Reset();
}

}  // namespace dynakv::server
