// The outgoing half of the bus towards one peer: one connection, reused by every request and
// opened on demand; requests pipelined with ids and their replies matched by id; a deadline per
// request; redial with backoff, so a dead peer costs one connect attempt per backoff period
// rather than one per request.
//
// A connection the peer closes before answering anything counts as a failed connect (backoff,
// peer_connect_failures): the peer's bus refused it (full, or this node is not a member there),
// and redialling at once per request would only repeat that. Failed connects are logged, at
// most one line per peer per kConnectLogIntervalMs, so a write that fails for want of a
// connection says why in the log.
//
// With a cluster secret the connection authenticates the peer before any request goes out
// (bus_handshake.h: requests queued meanwhile wait); a peer that fails to prove the secret, or
// whose frames fail their MAC, is dropped, counted and logged (rate limited) like a failed
// connect.
//
// With tls-cluster the connection is TLS (ClusterOptions::tls_contexts): this node shows
// its certificate and the peer must show one from the CA; a failed TLS handshake counts in
// bus_tls_failures and bus_auth_failures, and is logged and backed off like a failed connect.
//
// Every request ends exactly once: with its reply, or failed when its deadline passes (the
// owner's timer calls ExpireDeadlines), when the connection breaks (all in flight fail at once),
// on partition or Close. Callbacks run from libuv callbacks or those calls, never inside Send.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "bus_connection.h"
#include "bus_handshake.h"
#include "cluster/bus_protocol.h"
#include "cluster/cluster_node.h"
#include "deferrer.h"
#include "log_limiter.h"

namespace dynakv::cluster {

class PeerClient {
 public:
  struct Response {
    bool ok = false;    // a REPLY or PONG arrived
    std::string error;  // otherwise why not: timeout, connection lost, the peer's ERROR
    std::string payload;
  };
  using Callback = std::function<void(Response)>;

  // A connection whose peer has not read this much is considered stuck: new requests are
  // refused instead of buffered without bound.
  static constexpr std::size_t kMaxUnsentBytes = std::size_t{64} << 20;
  static constexpr std::uint64_t kConnectLogIntervalMs = 10000;

  PeerClient(uv_loop_t* loop, std::string self_id, std::string peer_id,
             const sockaddr_storage& address, const ClusterOptions& options, Deferrer& deferrer,
             ClusterStats& stats);
  ~PeerClient();  // closes the connection; callbacks of requests in flight are dropped
  PeerClient(const PeerClient&) = delete;
  PeerClient& operator=(const PeerClient&) = delete;

  // Sends one request; `done` runs later. Returns false (and drops `done`) when the request
  // cannot go out now: partitioned, waiting out a reconnect backoff, the peer not reading,
  // too large for a frame, or closed. *error then says which. `timeout_ms` 0: the options'
  // request_timeout_ms (a FORWARD waits longer: its receiver reads and writes replicas first).
  bool Send(bus::FrameType type, std::shared_ptr<const std::string> payload, Callback done,
            std::string* error, std::uint64_t timeout_ms = 0);
  // Fails requests whose deadline is at or before `now_ms` (uv_now time).
  void ExpireDeadlines(std::uint64_t now_ms);
  // Sends a PING when nothing was sent for `interval_ms`, to keep reachable() current.
  void MaybePing(std::uint64_t now_ms, std::uint64_t interval_ms);
  // While partitioned, requests fail at once and replies are ignored; those in flight fail now.
  void SetPartitioned(bool partitioned);
  // Closes the connection for good and fails requests in flight; `token` as in UvHandle.
  void Close(std::shared_ptr<void> token);

  bool partitioned() const { return partitioned_; }
  // Connected, not partitioned, and answering: a request that timed out since the peer last
  // sent a frame marks it unreachable (a hung process keeps its TCP connections open).
  bool reachable() const {
    return connection_ && !connection_->connecting() && !connection_->closed() && !partitioned_ &&
           !stalled_;
  }
  std::size_t in_flight() const { return pending_.size(); }
  // For a seed known only by its address: the listener may prove any id (it must still prove
  // the secret). Call before the first Send.
  void AcceptAnyPeerId() { handshake_ = OutboundHandshake(self_id_, "", options_.secret); }
  const std::string& peer_id() const { return peer_id_; }

 private:
  struct Pending {
    Callback done;
    std::uint64_t deadline_ms;
    std::uint64_t timeout_ms;  // for the message when it passes
  };

  // Requests sent while the loop handles one batch of I/O leave in one write: the flush waits
  // for the loop's check phase (deferrer.h) instead of making a syscall per request.
  void ScheduleFlush();
  void FlushQueued();
  bool Connect(std::string* error);
  void OnConnected(int status);
  void OnFrame(const bus::Frame& frame);
  void OnHandshakeFrame(const bus::Frame& frame);
  void OnConnectionFailure(const std::string& failure);
  // Counts and logs (rate limited) a failed TLS handshake; appends a hint to *reason.
  void NoteTlsFailure(std::string* reason);
  // Fails every request in flight with `reason`.
  void FailAll(const std::string& reason);
  // Backs off the next attempt, counts and logs (rate limited) the failure `reason`.
  void NoteConnectFailure(const std::string& reason);
  std::string Describe(std::string_view what) const;
  // tls-cluster: the client context of the next dial (the latest, after a reload); else null.
  std::shared_ptr<net::TlsContext> TlsContext() const;

  uv_loop_t* const loop_;
  const std::string self_id_;
  const std::string peer_id_;
  const sockaddr_storage address_;
  const std::string address_text_;
  const ClusterOptions& options_;
  Deferrer& deferrer_;
  ClusterStats& stats_;

  std::unique_ptr<BusConnection> connection_;
  std::map<std::uint64_t, Pending> pending_;                     // by request id
  std::set<std::pair<std::uint64_t, std::uint64_t>> deadlines_;  // (deadline, request id)
  std::uint64_t next_id_ = 1;
  std::uint64_t backoff_ms_ = 0;  // 0: the last connect (if any) worked
  std::uint64_t next_attempt_ms_ = 0;
  std::uint64_t last_send_ms_ = 0;
  bool partitioned_ = false;
  bool stalled_ = false;   // a request timed out since the peer's last frame
  bool answered_ = false;  // the peer sent a frame on the current connection
  LogLimiter connect_log_{kConnectLogIntervalMs};
  LogLimiter auth_log_{kConnectLogIntervalMs};  // failed authentication, bad frame MACs
  OutboundHandshake handshake_;
  bool closed_ = false;
  bool flush_scheduled_ = false;
  // Deferred flushes hold it weakly: they do nothing once this client is gone.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// Whether the reply to a REPLICA_PUT / REPLICA_PUT_HINTED is an ack (the peer stored it).
bool IsWriteAck(const PeerClient::Response& response);

}  // namespace dynakv::cluster
