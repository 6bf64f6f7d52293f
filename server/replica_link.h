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
#pragma once

#include <uv.h>

#include <cstdint>
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

class ReplicaLink : private net::ConnectionHandler {
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
  // REPLICAOF NO ONE: closes the link and becomes a master with the data it has.
  void Unset();
  // Shutdown: closes every handle.
  void Stop();

  bool active() const { return state_ != State::kNone; }
  // From +FULLRESYNC (which flushed the old data) until the RDB is loaded.
  bool loading() const { return state_ == State::kTransfer; }
  bool IsMasterClient(const Client& client) const { return master_client_.get() == &client; }
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
};

}  // namespace dynakv::server
