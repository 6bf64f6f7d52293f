// This node as the replica of a running Redis master (REPLICAOF host port, or `replicaof` in the
// config): the replica side of Redis's replication protocol, as replication.c runs it.
//
//   connect -> PING, AUTH [masteruser] masterauth, REPLCONF listening-port <port>,
//   REPLCONF capa eof capa psync2, PSYNC <replid> <offset+1> (or "? -1" the first time)
//   -> +FULLRESYNC <replid> <offset>: the node's data is flushed and the RDB that follows
//      ("$<len>" or diskless "$EOF:<mark>", sync_payload.h) is loaded as it arrives
//   -> +CONTINUE [<replid>]: the stream resumes after the last byte applied
//   then the command stream: each command runs through the ordinary command path as the master
//   client (CallOrigin::kMaster: no replies to the master, SELECT and MULTI/EXEC as any client
//   sees them, not refused by READONLY, ACL or maxmemory), and the replication offset counts
//   its bytes. REPLCONF GETACK is answered with REPLCONF ACK <offset>, which is also sent every
//   second.
//
// A broken link (an error, a master silent for repl-timeout's 60 s) is retried every second
// with PSYNC from the offset reached, so a short break continues without a full sync. A full
// sync cut short leaves a partly loaded dataset: the next attempt syncs in full again.
//
// While the RDB loads, clients get -LOADING (as a Redis replica answers while it loads); with
// replica-read-only (the default) their writes get -READONLY all the time the node is a replica.
//
// Cluster mode (replica_link_cluster.cc): this one node follows the master (the master sees one
// replica, and one stream applied in its order) and writes what it receives through the ring at
// the configured levels, as a client of this node would: the full sync flushes the cluster
// (FLUSHALL) and writes the RDB's keys as IMPORT-RDB in cluster mode does (many in flight,
// reading paused at the bound), then the stream's commands run one after the other through the
// coordinator, each once the one before it has met its write level. MULTI...EXEC arrives as a
// unit and is applied command by command (a Redis transaction may span hash tags, which one
// cluster operation cannot), and the offset passes it only once all of it is applied. A write
// the cluster could not take (UNAVAILABLE, TIMEOUT) is tried again a second later, never
// skipped. A broken link waits for the unit being applied to finish before it reconnects.
#pragma once

#include <uv.h>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "net/connection.h"
#include "net/uv_handle.h"
#include "resp/request_parser.h"

namespace dynakv::server {

class Server;
class Client;
class ReplicaLoad;
class ReplicaState;

class ReplicaLink : private net::ConnectionHandler {
  struct Unit;  // cluster mode's (below)

 public:
  // Redis's repl_state, as ROLE names them.
  enum class State { kNone, kConnect, kConnecting, kHandshake, kTransfer, kConnected };

  explicit ReplicaLink(Server& server);
  ~ReplicaLink();
  ReplicaLink(const ReplicaLink&) = delete;
  ReplicaLink& operator=(const ReplicaLink&) = delete;

  // REPLICAOF host port: drops any link to another master and connects to this one (from the
  // loop's next turn). The replication id and offset reached are kept, so the master may
  // continue them (PSYNC).
  void SetMaster(const std::string& host, int port);
  // At start with `replicaof` in the config: SetMaster, continuing the replication id and offset
  // kept from before the restart (replica_state.h) when there are some.
  void StartFromConfig(const std::string& host, int port);
  // At start without `replicaof`: the node is a master, and a kept id and offset are dropped.
  void ForgetSavedState();
  // REPLICAOF NO ONE: closes the link and becomes a master with the data it has.
  void Unset();
  // Shutdown: closes every handle.
  void Stop();

  bool active() const { return state_ != State::kNone; }
  // From +FULLRESYNC (which flushed the old data) until the RDB is loaded.
  bool loading() const { return state_ == State::kTransfer; }
  bool IsMasterClient(const Client& client) const { return master_client_.get() == &client; }
  // The master client when `id` is its id (Server::FindClient: cluster-mode commands complete
  // through it); else nullptr.
  Client* FindMasterClient(std::uint64_t id) const;
  const std::string& host() const { return host_; }
  int port() const { return port_; }
  State state() const { return state_; }
  // The offset of the last byte applied, -1 when nothing was synced yet.
  long long offset() const { return synced_ ? offset_ : -1; }
  long long read_offset() const { return synced_ ? read_offset_ : -1; }
  const std::string& replid() const { return replid_; }

  // ROLE's state word ("connect", "connecting", "handshake", "sync", "connected").
  static const char* StateName(State state);
  // INFO replication's fields of a replica (after role:slave).
  void AppendInfo(std::string* out) const;

 private:
  // net::ConnectionHandler
  std::span<char> ReadBuffer() override;
  void OnRead(std::size_t n) override;
  void OnEof() override;
  void OnReady() override;
  void OnFailure(const net::ConnectionFailure& failure) override;
  void OnWriteDone() override;

  static void OnTimer(uv_timer_t* timer);
  void Tick();  // once a second: reconnect, or ACK
  void Connect();
  // Drops the connection; the next tick reconnects. `why` goes to the log.
  void Drop(const std::string& why);
  void Send(std::string_view bytes);
  void SendCommand(const std::vector<std::string>& argv);
  // The handshake's replies, one line each (lone "\n" keep-alives skipped).
  bool HandleHandshake(std::string_view* bytes);
  void SendNextHandshakeCommand();
  bool HandleReply(const std::string& line);
  bool StartFullSync(const std::string& line);
  bool FeedPayload(std::string_view bytes);
  // Runs the complete commands in stream_, counting their bytes into offset_.
  bool ApplyStream();
  void EnsureMasterClient();
  std::unique_ptr<Client> NewMasterClient();
  // Keeps replid_/offset_ for a restart (replica_state.h), once the data holds what they cover.
  void SaveState();
  ReplicaState& saved();

  // --- cluster mode (replica_link_cluster.cc) -------------------------------------------------
  bool Clustered() const;
  // +FULLRESYNC: FLUSHALL through the ring, then the load (FlushDone).
  bool StartClusterFullSync();
  bool FlushDone(const std::string& reply);
  bool FeedPayloadClustered(std::string_view bytes);
  // The load's writes progressed (the writer's callback: the load is never destroyed in it).
  void LoadProgress();
  bool FinishClusterSync();
  // Parses the complete commands of stream_ into units_, then Pump.
  bool ApplyStreamClustered();
  // Starts units_' commands, in order, while they can start (Unit): on free lanes, none whose
  // keys a command in flight has, nothing beside a barrier.
  void Pump();
  // Runs the next command of `unit` on lane `lane`; false when it went in flight.
  bool RunOnLane(std::size_t lane, Unit* unit);
  // The reply of `unit`'s command just run; false when it is to be tried again later.
  bool CommandDone(Unit* unit, const std::string& reply);
  // Pops the applied units at the front, moving offset_ past them.
  void AdvanceOffset();
  // From lane `lane`'s async-done hook.
  void OnLaneDone(std::size_t lane);
  void EnsureLanes();
  static std::string TakeReply(Client& client);
  // Commands in flight or units kept to finish (the link waits for them before reconnecting).
  bool Busy() const { return in_flight_ > 0 || !units_.empty(); }
  void PauseReading();
  void MaybeResumeReading();

  Server& server_;
  std::unique_ptr<net::Connection> connection_;
  net::UvHandle<uv_timer_t> timer_;
  std::unique_ptr<Client> master_client_;
  std::unique_ptr<ReplicaLoad> load_;
  resp::RequestParser parser_;

  State state_ = State::kNone;
  std::string host_;
  int port_ = 0;
  // What the master's replies to the handshake's commands must be, in order.
  enum class Expect { kPong, kAuth, kReplconf, kPsync };
  std::vector<Expect> expected_;
  struct HandshakeStep {
    std::vector<std::string> argv;
    Expect expect;
  };
  std::vector<HandshakeStep> pending_;  // the handshake's commands not sent yet
  std::string line_;
  std::vector<char> read_buffer_;
  std::string stream_;  // command stream bytes not yet applied
  std::string out_;
  std::string inflight_;

  std::string replid_;            // the master's replication id; "" before the first sync
  long long offset_ = 0;          // of the last command applied
  long long read_offset_ = 0;     // of the last byte read
  bool synced_ = false;           // replid_/offset_ describe the data (a sync completed)
  std::uint64_t last_io_ms_ = 0;  // uv_now of the last read
  std::uint64_t link_down_since_ms_ = 0;
  std::uint64_t sync_start_ms_ = 0;
  std::uint64_t sync_keys_ = 0;
  std::uint64_t full_syncs_ = 0;
  std::uint64_t partial_syncs_ = 0;
  std::string last_error_;
  std::uint64_t command_errors_ = 0;  // the master's commands that got an error here
  std::uint64_t last_error_log_ms_ = 0;
  std::uint64_t master_client_serial_ = 0;
  std::unique_ptr<ReplicaState> saved_;
  std::size_t resume_skip_ = 0;     // after a restart: commands of the first unit applied before
  bool save_error_logged_ = false;  // each master client gets an id of its own

  // Cluster mode: the stream as units to apply in order, each a command or a MULTI's commands.
  // A unit of one command with keys runs beside others (on its own lane, the master client it
  // runs as) when no command in flight has any of its keys; a barrier (a MULTI's commands, a
  // command without keys, GETACK) runs alone, after every unit before it, before any after it.
  struct Unit {
    std::vector<std::vector<std::string>> commands;
    std::vector<std::string> keys;  // of a lone command with keys
    long long end = 0;              // the offset once it is applied
    std::size_t bytes = 0;
    std::size_t next = 0;  // commands applied (or running: `running`)
    bool running = false;
    bool barrier = false;
    bool getack = false;  // REPLCONF GETACK: acknowledged when reached
  };
  struct Lane {
    std::unique_ptr<Client> client;
    Unit* unit = nullptr;  // what it runs; deque elements do not move
  };
  static constexpr std::size_t kLanes = 32;
  std::vector<Lane> lanes_;
  std::size_t in_flight_ = 0;
  std::map<std::string, int> busy_keys_;
  void PushUnit(Unit unit);
  std::deque<Unit> units_;
  std::size_t units_bytes_ = 0;
  bool in_multi_ = false;
  Unit multi_;
  bool flushing_ = false;  // the full sync's FLUSHALL is in flight
  bool pumping_ = false;
  bool retry_pending_ = false;  // a command the cluster could not take: again at the next tick
  std::uint64_t write_retries_ = 0;
  bool reading_paused_ = false;
  bool load_done_ = false;    // the RDB was read whole; its writes may still be in flight
  std::string held_payload_;  // RDB bytes received while the FLUSHALL ran
  std::unique_ptr<ReplicaLoad> retired_load_;  // destroyed at the next tick, not in its callback
};

}  // namespace dynakv::server
