// The accepting side of the bus: the listener and the connections other nodes opened to this
// one. Each connection starts with its handshake (bus_handshake.h: the peer's HELLO, and with a
// cluster secret the mutual challenge-response); its requests are then applied through the
// ReplicaService and answered on the same connection. Failed authentications and frames whose
// MAC does not verify close the connection, and are counted and logged (rate limited, with the
// peer's address).
//
// Connections still in their handshake are strangers until proven members: they have a budget
// of their own (kMaxHandshaking) and a deadline (handshake_timeout_ms), so connections that
// never finish their handshake cannot hold the slots members need; closing them is logged (rate
// limited) and counted in ClusterStats. Identified connections have no idle timeout: a member's
// may rightly be silent for long (pings can be off, and each gossip round picks one peer), and
// closing it would fail whatever request the member sends at that moment.
//
// With tls-cluster (ClusterOptions::tls) every connection is a TLS server connection that
// requires the peer's certificate to chain to the CA: one without (no certificate, another CA,
// plaintext) is closed before a single frame is read, logged with its address (rate limited),
// and counted in bus_tls_failures and bus_auth_failures. The TLS handshake counts against the
// same handshake budget and deadline as the bus handshake that follows it.
//
// Replies to the frames of one read leave together, after one commit-log flush: a replica acks
// a REPLICA_PUT only once the write is as durable as the fsync policy makes local writes (group
// commit, as the server does for its clients).
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "bus_connection.h"
#include "bus_handshake.h"
#include "cluster/bus_protocol.h"
#include "cluster/cluster_node.h"
#include "log_limiter.h"
#include "net/listener.h"
#include "net/uv_handle.h"
#include "replica_service.h"

namespace dynakv::cluster {

class BusServer {
 public:
  // What a service other than the replica (anti-entropy) answers to a request.
  struct ServiceReply {
    bool ok = true;  // false: an ERROR frame whose message is `payload`
    std::string payload;
    bool needs_durable_log = false;  // acks stored writes: sent after the log flush
  };
  struct Membership {
    std::function<bool(std::string_view node)> is_peer;         // may say HELLO
    std::function<bool(std::string_view node)> is_partitioned;  // its frames are dropped
    // A GOSSIP from `node`: fills *reply (the payload of the kReply) or *error (sent back as
    // an ERROR frame).
    std::function<bool(std::string_view node, std::string_view payload, std::string* reply,
                       std::string* error)>
        on_gossip;
    // An anti-entropy request (AE_* frames) from `node`.
    std::function<ServiceReply(std::string_view node, const bus::Frame& frame)> on_anti_entropy;
    // A NOTICE from `node` (ClusterNode::BroadcastNotice): its payload, for the layer above.
    std::function<void(std::string_view node, std::string_view payload)> on_notice;
    // A KEY_EVENT from `node` (ClusterNode::SendKeyEvent): its payload, for the layer above.
    std::function<void(std::string_view node, std::string_view payload)> on_key_event;
    // A FORWARD from `node`: the layer above runs it and calls `respond` once, later (never
    // inside this call), with the reply's payload; respond is a no-op once the connection or
    // this server is gone.
    using Respond = std::function<void(std::string payload)>;
    std::function<void(std::string_view node, std::string_view payload, Respond respond)>
        on_forward;
    // After a FLUSH_ALL emptied the replica (the anti-entropy trees follow).
    std::function<void()> on_flushed;
    // A PAXOS_* request (SERIAL rounds, paxos_service.h).
    std::function<ServiceReply(const bus::Frame& frame)> on_paxos;
    // A WRITE_ACKS from `node` (WAIT about a command it forwarded here): answered as on_forward.
    std::function<void(std::string_view node, std::string_view payload, Respond respond)>
        on_write_acks;
  };

  // Connections held at most: members open one each, so a flood is not a peer. When they are
  // all taken, a newcomer closes the oldest one still in its handshake, and is refused only
  // when identified members hold every slot.
  static constexpr std::size_t kMaxConnections = 1024;
  // Of those, at most this many may be in their handshake at once; a newcomer beyond it closes
  // the oldest of them (Admit says why that one).
  static constexpr std::size_t kMaxHandshaking = 128;

  BusServer(uv_loop_t* loop, ReplicaService& replica, Membership membership,
            const ClusterOptions& options, ClusterStats& stats)
      : loop_(loop),
        replica_(replica),
        membership_(std::move(membership)),
        options_(options),
        stats_(stats),
        listener_(loop) {}
  BusServer(const BusServer&) = delete;
  BusServer& operator=(const BusServer&) = delete;

  bool Listen(const sockaddr_storage& address, std::string* error);
  int port() const { return port_; }
  std::size_t connections() const { return inbound_.size(); }
  // Connections accepted whose handshake has not completed yet.
  std::size_t handshaking() const { return handshaking_.size(); }
  // Closes the listener and every connection.
  void Close(std::shared_ptr<void> token);

 private:
  static constexpr std::uint64_t kStrangerLogIntervalMs = 10000;

  struct Reply {
    std::uint64_t request_id;
    bus::FrameType type;
    std::string payload;
    bool needs_durable_log;  // an ack of a write: an error instead if the log flush fails
  };
  struct Inbound {
    std::uint64_t id = 0;  // grows with accept time: the oldest connection has the lowest
    std::unique_ptr<BusConnection> connection;
    std::string address;  // the peer's "host:port", for the log
    std::uint64_t accepted_ms = 0;
    InboundHandshake handshake;  // who the peer is, once it said so
    std::vector<Reply> replies;
  };

  static void OnHandshakeTick(uv_timer_t* timer);
  void Accept(int fd);
  // Makes room for a connection from `address`: false when it must be refused.
  bool Admit(const std::string& address);
  // Closes the connections whose handshake is past its deadline.
  void ExpireHandshakes();
  void OnFrame(Inbound& inbound, const bus::Frame& frame);
  void OnHandshakeFrame(Inbound& inbound, const bus::Frame& frame);
  void Serve(Inbound& inbound, const bus::Frame& frame);
  void SendReplies(Inbound& inbound);
  // A FORWARD's reply, once the layer above has it: sent at once, after the log flush (the
  // command's own write on this node is acknowledged by it).
  void ReplyLater(std::uint64_t inbound_id, std::uint64_t request_id, std::string payload);
  // Closes and forgets a connection whose peer broke the protocol.
  void Reject(Inbound& inbound, const std::string& reason);
  // Closes and forgets a connection that has not completed its handshake, logging why.
  void CloseUnidentified(Inbound& inbound, LogLimiter& limiter, const std::string& reason);
  void Drop(std::uint64_t id);
  // options_.log_warning, at most one line per limiter interval.
  void Warn(LogLimiter& limiter, const std::string& message);
  std::string Describe(const Inbound& inbound) const;

  uv_loop_t* const loop_;
  ReplicaService& replica_;
  Membership membership_;
  const ClusterOptions& options_;
  ClusterStats& stats_;
  net::Listener listener_;
  net::UvHandle<uv_timer_t> handshake_timer_;
  int port_ = 0;
  std::map<std::uint64_t, std::unique_ptr<Inbound>> inbound_;
  std::set<std::uint64_t> handshaking_;  // ids of inbound_ still in their handshake, oldest first
  std::uint64_t next_id_ = 1;
  // What strangers can trigger is logged at most once per interval per kind.
  LogLimiter handshake_log_{kStrangerLogIntervalMs};  // failed or timed-out handshakes
  LogLimiter evict_log_{kStrangerLogIntervalMs};      // the handshake budget was full
  LogLimiter full_log_{kStrangerLogIntervalMs};       // kMaxConnections was reached
  LogLimiter mac_log_{kStrangerLogIntervalMs};        // a frame failed its MAC check
  LogLimiter tls_log_{kStrangerLogIntervalMs};        // a TLS handshake failed
  // FORWARD replies come back later: they hold this weakly and do nothing once it is gone.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace dynakv::cluster
