#include "bus_server.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "anti_entropy_messages.h"
#include "net_address.h"

namespace dynakv::cluster {

namespace {

constexpr int kListenBacklog = 511;
// A peer that stops reading its replies is cut off once this much is waiting for it: room for
// one maximal reply plus a healthy pipeline.
constexpr std::size_t kMaxUnsentReplyBytes = bus::kMaxFrameLength + (std::size_t{64} << 20);
constexpr std::size_t kMaxReplyPayload = bus::kMaxFrameLength - bus::kFrameOverhead;
constexpr std::size_t kCopyPayloadBytes = 4096;

}  // namespace

bool BusServer::Listen(const sockaddr_storage& address, std::string* error) {
  char host[INET6_ADDRSTRLEN] = "";
  int port = 0;
  if (address.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&address);
    uv_ip6_name(v6, host, sizeof(host));
    port = ntohs(v6->sin6_port);
  } else {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&address);
    uv_ip4_name(v4, host, sizeof(host));
    port = ntohs(v4->sin_port);
  }
  net::Listener::Callbacks callbacks;
  callbacks.accepted = [this](int fd) { Accept(fd); };
  callbacks.failed = [this](int error_code, bool refused) {
    if (!options_.log_warning) return;
    options_.log_warning(std::string("Cluster bus: accepting a connection: ") +
                         uv_strerror(-error_code) + (refused ? " (refused it)" : ""));
  };
  const char* step = "bind";
  int rc = listener_.Listen(host, port, kListenBacklog, std::move(callbacks), &step);
  if (rc != 0) {
    if (rc == UV_EADDRINUSE) step = "bind";
    *error = "Could not create the cluster bus socket " + FormatAddress(address) + ": " + step +
             ": " + uv_strerror(rc);
    return false;
  }
  port_ = listener_.port();
  // Handshake deadlines are checked at a quarter of the timeout (a connection is closed at most
  // 25% late), without a timer per connection.
  const auto tick =
      static_cast<std::uint64_t>(std::clamp(options_.handshake_timeout_ms / 4, 5, 1000));
  rc = handshake_timer_.Init([&](uv_timer_t* t) { return uv_timer_init(loop_, t); }, this);
  if (rc == 0) rc = uv_timer_start(handshake_timer_.get(), OnHandshakeTick, tick, tick);
  if (rc != 0) {
    *error = std::string("cannot start the cluster bus handshake timer: ") + uv_strerror(rc);
    handshake_timer_.Close();
    listener_.Close();
    return false;
  }
  return true;
}

void BusServer::Close(std::shared_ptr<void> token) {
  listener_.Close();
  handshake_timer_.Close(token);
  for (auto& [id, inbound] : inbound_) inbound->connection->Close(token);
  inbound_.clear();
  handshaking_.clear();
}

void BusServer::Accept(int fd) {
  auto inbound = std::make_unique<Inbound>();
  inbound->id = next_id_++;
  sockaddr_storage peer{};
  socklen_t length = sizeof(peer);
  inbound->address = getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &length) == 0
                         ? FormatAddress(peer)
                         : std::string("an unknown address");
  if (!Admit(inbound->address)) {
    ::close(fd);
    return;
  }
  inbound->connection = std::make_unique<BusConnection>(loop_);
  Inbound* raw = inbound.get();
  BusConnection::Callbacks callbacks;
  callbacks.on_frame = [this, raw](const bus::Frame& frame) { OnFrame(*raw, frame); };
  callbacks.on_batch_end = [this, raw] { SendReplies(*raw); };
  callbacks.on_failure = [this, raw](const std::string& reason) {
    if (raw->connection->tls_error()) {
      ++stats_.bus_tls_failures;
      ++stats_.bus_auth_failures;
      Warn(tls_log_, "Cluster bus: refusing the connection from " + Describe(*raw) + ": " + reason +
                         " (tls-cluster: a member must show a certificate from the CA)");
      Drop(raw->id);
    } else if (raw->connection->mac_error()) {
      ++stats_.bus_frame_mac_failures;
      ++stats_.bus_protocol_errors;
      Warn(mac_log_, "Cluster bus: closing the connection from " + Describe(*raw) + ": " + reason);
      Drop(raw->id);
    } else if (raw->connection->protocol_error()) {
      Reject(*raw, reason);
    } else {
      Drop(raw->id);
    }
  };
  inbound->connection->set_max_frame_length(InboundHandshake::kMaxFrameLength);
  inbound->accepted_ms = uv_now(loop_);
  handshaking_.insert(raw->id);
  inbound_.emplace(raw->id, std::move(inbound));
  // The deadline of the TLS handshake is the bus handshake's (ExpireHandshakes), so none here.
  // A plain connection is ready (and reading) before Accept returns.
  std::shared_ptr<net::TlsContext> tls =
      options_.tls_contexts ? options_.tls_contexts->server : nullptr;
  if (raw->connection->Accept(fd, std::move(tls), 0, std::move(callbacks)) != 0) {
    Drop(raw->id);
  }
}

// When the handshake budget (or the whole table) is full, the OLDEST connection still in its
// handshake is closed to admit the new one, rather than the new one refused. Refusing would let
// whoever holds the budget keep it, reopening each connection as it times out, and a member
// reconnecting would be turned away for as long as that goes on. Closing the oldest gives every
// connection its turn to send HELLO, which a member does in its very first packet: to push a
// member out, a flood would need more than kMaxHandshaking new connections between that
// packet and the next read, and the member then simply redials. Identified members are never
// closed to make room: the limit refuses a newcomer only when every slot is held by one.
bool BusServer::Admit(const std::string& address) {
  const bool budget_full = handshaking_.size() >= kMaxHandshaking;
  const bool table_full = inbound_.size() >= kMaxConnections;
  if (!budget_full && !table_full) return true;
  if (handshaking_.empty()) {
    ++stats_.bus_rejected_connections;
    Warn(full_log_, "Cluster bus: all " + std::to_string(kMaxConnections) +
                        " connection slots are held by identified members; refusing the " +
                        "connection from " + address);
    return false;
  }
  Inbound& oldest = *inbound_.at(*handshaking_.begin());
  ++stats_.bus_rejected_connections;
  const std::string reason =
      budget_full ? std::to_string(kMaxHandshaking) +
                        " connections are in their handshake (the limit); closing the oldest to " +
                        "admit one from " + address
                  : "the connection limit (" + std::to_string(kMaxConnections) +
                        ") is reached; closing the oldest connection still in its handshake " +
                        "to admit one from " + address;
  CloseUnidentified(oldest, table_full ? full_log_ : evict_log_, reason);
  return true;
}

void BusServer::OnHandshakeTick(uv_timer_t* timer) {
  static_cast<BusServer*>(timer->data)->ExpireHandshakes();
}

void BusServer::ExpireHandshakes() {
  const std::uint64_t now = uv_now(loop_);
  const auto timeout = static_cast<std::uint64_t>(std::max(options_.handshake_timeout_ms, 1));
  // Oldest first: the first one still within its deadline ends the sweep.
  while (!handshaking_.empty()) {
    Inbound& inbound = *inbound_.at(*handshaking_.begin());
    if (now - inbound.accepted_ms < timeout) break;
    ++stats_.bus_handshake_timeouts;
    CloseUnidentified(inbound, handshake_log_,
                      "no handshake within " + std::to_string(timeout) + " ms");
  }
}

void BusServer::OnFrame(Inbound& inbound, const bus::Frame& frame) {
  if (!inbound.handshake.identified()) {
    OnHandshakeFrame(inbound, frame);
    return;
  }
  // A partition loses the request: no reply, so the sender's deadline decides.
  if (membership_.is_partitioned(inbound.handshake.node())) return;
  Serve(inbound, frame);
}

void BusServer::OnHandshakeFrame(Inbound& inbound, const bus::Frame& frame) {
  std::string error;
  std::string reply;
  const std::string binding = inbound.connection->ChannelBinding();
  if (inbound.connection->is_tls() && binding.empty()) {
    // Fail closed: without the binding the proofs would not be tied to this TLS session.
    CloseUnidentified(inbound, handshake_log_, "cannot export the TLS session's keying material");
    return;
  }
  const InboundHandshake::Context context{options_.self_id, options_.secret, membership_.is_peer,
                                          binding};
  switch (inbound.handshake.OnFrame(frame, context, &reply, &error)) {
    case InboundHandshake::State::kAwaitingHello:
      return;
    case InboundHandshake::State::kAwaitingProof:
      inbound.connection->QueueHandshake(std::move(reply));
      if (!inbound.connection->Flush()) Drop(inbound.id);
      return;
    case InboundHandshake::State::kIdentified:
      // Frames from the next one on carry MACs, in both directions.
      if (!options_.secret.empty() &&
          !inbound.connection->EnableMac(inbound.handshake.send_key(),
                                         inbound.handshake.receive_key())) {
        CloseUnidentified(inbound, handshake_log_, "cannot set up the frame MAC (libcrypto)");
        return;
      }
      // A member now: out of the strangers' budget and deadline, and its frames may be large.
      handshaking_.erase(inbound.id);
      inbound.connection->set_max_frame_length(bus::kMaxFrameLength);
      return;
    case InboundHandshake::State::kFailed:
      if (inbound.handshake.auth_failed()) ++stats_.bus_auth_failures;
      Reject(inbound, error);
      return;
  }
}

void BusServer::Serve(Inbound& inbound, const bus::Frame& frame) {
  auto error_reply = [&](const std::string& message) {
    inbound.replies.push_back(
        Reply{frame.id, bus::FrameType::kError, bus::EncodeError(message), false});
  };
  switch (frame.type) {
    case bus::FrameType::kPing:
      inbound.replies.push_back(Reply{frame.id, bus::FrameType::kPong, {}, false});
      return;
    case bus::FrameType::kReplicaGet: {
      std::string_view key;
      if (!bus::DecodeReplicaGet(frame.payload, &key)) {
        ++stats_.bus_protocol_errors;
        error_reply("malformed REPLICA_GET");
        return;
      }
      ++stats_.replica_requests_served;
      const std::string stored = replica_.GetEncoded(key);
      if (stored.size() > kMaxReplyPayload - 16) {
        error_reply("value of " + std::to_string(stored.size()) +
                    " bytes is too large for the bus");
        return;
      }
      inbound.replies.push_back(
          Reply{frame.id, bus::FrameType::kReply,
                stored.empty() ? bus::EncodeReply() : bus::EncodeReply(stored), false});
      return;
    }
    case bus::FrameType::kReplicaPut: {
      std::string_view key;
      std::string_view encoded;
      if (!bus::DecodeReplicaPut(frame.payload, &key, &encoded)) {
        ++stats_.bus_protocol_errors;
        error_reply("malformed REPLICA_PUT");
        return;
      }
      SiblingSet incoming;
      if (!SiblingSet::Decode(encoded, &incoming)) {
        ++stats_.bus_protocol_errors;
        error_reply("REPLICA_PUT carries an invalid sibling set");
        return;
      }
      ++stats_.replica_requests_served;
      const storage::Status status = replica_.Put(key, incoming);
      if (!status.ok()) {
        error_reply("replica write failed: " + status.ToString());
        return;
      }
      inbound.replies.push_back(Reply{frame.id, bus::FrameType::kReply, bus::EncodeReply(), true});
      return;
    }
    case bus::FrameType::kReplicaPutBatch: {
      std::vector<ae::KeySet> pairs;
      std::vector<std::pair<std::string_view, SiblingSet>> writes;
      bool valid = ae::DecodePush(frame.payload, &pairs) && !pairs.empty();
      for (std::size_t i = 0; valid && i < pairs.size(); ++i) {
        writes.emplace_back(pairs[i].key, SiblingSet());
        valid = SiblingSet::Decode(pairs[i].encoded_set, &writes.back().second);
      }
      if (!valid) {
        ++stats_.bus_protocol_errors;
        error_reply("malformed REPLICA_PUT_BATCH");
        return;
      }
      ++stats_.replica_requests_served;
      const storage::Status status = replica_.PutBatch(writes);
      if (!status.ok()) {
        error_reply("replica write failed: " + status.ToString());
        return;
      }
      inbound.replies.push_back(Reply{frame.id, bus::FrameType::kReply, bus::EncodeReply(), true});
      return;
    }
    case bus::FrameType::kReplicaPutHinted: {
      std::string_view key;
      std::string_view encoded;
      std::string_view owner;
      SiblingSet incoming;
      if (!bus::DecodeReplicaPutHinted(frame.payload, &key, &encoded, &owner) ||
          !SiblingSet::Decode(encoded, &incoming)) {
        ++stats_.bus_protocol_errors;
        error_reply("malformed REPLICA_PUT_HINTED");
        return;
      }
      // Refused, not stored: the coordinator then tries the next fallback.
      if (owner != options_.self_id && !membership_.is_peer(owner)) {
        error_reply("hint for '" + std::string(owner.substr(0, 64)) + "', which is not a member");
        return;
      }
      ++stats_.replica_requests_served;
      const storage::Status status = replica_.StoreHint(owner, key, incoming);
      if (!status.ok()) {
        error_reply("hint not stored: " + status.ToString());
        return;
      }
      inbound.replies.push_back(Reply{frame.id, bus::FrameType::kReply, bus::EncodeReply(), true});
      return;
    }
    case bus::FrameType::kGossip: {
      std::string reply;
      std::string error;
      if (!membership_.on_gossip(inbound.handshake.node(), frame.payload, &reply, &error)) {
        ++stats_.bus_protocol_errors;
        error_reply("invalid GOSSIP: " + error);
        return;
      }
      inbound.replies.push_back(Reply{frame.id, bus::FrameType::kReply, std::move(reply), false});
      return;
    }
    case bus::FrameType::kNotice: {
      if (membership_.on_notice) membership_.on_notice(inbound.handshake.node(), frame.payload);
      inbound.replies.push_back(Reply{frame.id, bus::FrameType::kReply, bus::EncodeReply(), false});
      return;
    }
    case bus::FrameType::kKeyEvent: {
      if (membership_.on_key_event) {
        membership_.on_key_event(inbound.handshake.node(), frame.payload);
      }
      inbound.replies.push_back(Reply{frame.id, bus::FrameType::kReply, bus::EncodeReply(), false});
      return;
    }
    case bus::FrameType::kForward: {
      if (!membership_.on_forward) {
        error_reply("this node does not run forwarded commands");
        return;
      }
      membership_.on_forward(inbound.handshake.node(), frame.payload,
                             [this, alive = std::weak_ptr<bool>(alive_), inbound_id = inbound.id,
                              request_id = frame.id](std::string payload) {
                               if (alive.expired()) return;
                               ReplyLater(inbound_id, request_id, std::move(payload));
                             });
      return;
    }
    case bus::FrameType::kWriteAcks: {
      if (!membership_.on_write_acks) {
        error_reply("this node does not count forwarded writes");
        return;
      }
      membership_.on_write_acks(inbound.handshake.node(), frame.payload,
                                [this, alive = std::weak_ptr<bool>(alive_), inbound_id = inbound.id,
                                 request_id = frame.id](std::string payload) {
                                  if (alive.expired()) return;
                                  ReplyLater(inbound_id, request_id, std::move(payload));
                                });
      return;
    }
    case bus::FrameType::kFlushAll: {
      std::int64_t timestamp_us;
      if (!bus::DecodeFlushAll(frame.payload, &timestamp_us)) {
        ++stats_.bus_protocol_errors;
        error_reply("malformed FLUSH_ALL");
        return;
      }
      ++stats_.replica_requests_served;
      const storage::Status status = replica_.ApplyFlush(timestamp_us);
      if (membership_.on_flushed) membership_.on_flushed();
      if (!status.ok()) {
        error_reply("flush failed: " + status.ToString());
        return;
      }
      inbound.replies.push_back(Reply{frame.id, bus::FrameType::kReply, bus::EncodeReply(), true});
      return;
    }
    case bus::FrameType::kKeyPage: {
      bus::KeyPageRequest request;
      if (!bus::DecodeKeyPageRequest(frame.payload, &request)) {
        ++stats_.bus_protocol_errors;
        error_reply("malformed KEY_PAGE");
        return;
      }
      ++stats_.replica_requests_served;
      inbound.replies.push_back(Reply{frame.id, bus::FrameType::kReply,
                                      bus::EncodeKeyPage(replica_.LiveKeys(request)), false});
      return;
    }
    case bus::FrameType::kAeHashes:
    case bus::FrameType::kAeKeys:
    case bus::FrameType::kAeFetch:
    case bus::FrameType::kAePush: {
      if (!membership_.on_anti_entropy) break;
      BusServer::ServiceReply reply = membership_.on_anti_entropy(inbound.handshake.node(), frame);
      if (!reply.ok) {
        error_reply(reply.payload);
        return;
      }
      inbound.replies.push_back(Reply{frame.id, bus::FrameType::kReply, std::move(reply.payload),
                                      reply.needs_durable_log});
      return;
    }
    case bus::FrameType::kPaxosPrepare:
    case bus::FrameType::kPaxosPropose:
    case bus::FrameType::kPaxosCommit:
    case bus::FrameType::kPaxosPrepareGroup: {
      ServiceReply reply = membership_.on_paxos
                               ? membership_.on_paxos(frame)
                               : ServiceReply{false, "paxos is not served here", false};
      if (!reply.ok) {
        error_reply(reply.payload);
        return;
      }
      inbound.replies.push_back(Reply{frame.id, bus::FrameType::kReply, std::move(reply.payload),
                                      reply.needs_durable_log});
      return;
    }
    case bus::FrameType::kHello:
    case bus::FrameType::kAuthChallenge:
    case bus::FrameType::kAuthProof:
    case bus::FrameType::kPong:
    case bus::FrameType::kReply:
    case bus::FrameType::kError:
      break;
  }
  Reject(inbound, std::string("unexpected ") + bus::FrameTypeName(frame.type) + " frame");
}

void BusServer::SendReplies(Inbound& inbound) {
  if (inbound.replies.empty()) return;
  const bool needs_flush = std::any_of(inbound.replies.begin(), inbound.replies.end(),
                                       [](const Reply& reply) { return reply.needs_durable_log; });
  const storage::Status logged = needs_flush ? replica_.FlushLog() : storage::Status::Ok();
  for (Reply& reply : inbound.replies) {
    if (reply.needs_durable_log && !logged.ok()) {
      reply.type = bus::FrameType::kError;
      reply.payload = bus::EncodeError("replica commit log write failed: " + logged.ToString());
    }
    if (reply.payload.size() > kCopyPayloadBytes) {
      // A large value is handed over, not copied next to its header. (The header is made
      // first: argument evaluation order is unspecified, and the move empties the payload.)
      std::string header =
          bus::EncodeFrameHeader(reply.type, reply.request_id, reply.payload.size());
      inbound.connection->Queue(std::move(header),
                                std::make_shared<const std::string>(std::move(reply.payload)));
    } else {
      inbound.connection->Queue(bus::EncodeFrame(reply.type, reply.request_id, reply.payload));
    }
  }
  inbound.replies.clear();
  if (!inbound.connection->Flush()) {
    Drop(inbound.id);
  } else if (inbound.connection->unsent_bytes() > kMaxUnsentReplyBytes) {
    Reject(inbound, "peer is not reading its replies");
  }
}

void BusServer::ReplyLater(std::uint64_t inbound_id, std::uint64_t request_id,
                           std::string payload) {
  auto it = inbound_.find(inbound_id);
  if (it == inbound_.end()) return;  // the peer hung up: its request failed there already
  it->second->replies.push_back(
      Reply{request_id, bus::FrameType::kReply, std::move(payload), /*needs_durable_log=*/true});
  SendReplies(*it->second);
}

void BusServer::Reject(Inbound& inbound, const std::string& reason) {
  ++stats_.bus_protocol_errors;
  if (!inbound.handshake.identified()) {
    CloseUnidentified(inbound, handshake_log_, reason);
    return;
  }
  if (options_.log_warning) {
    options_.log_warning("Cluster bus: closing the connection from " + Describe(inbound) + ": " +
                         reason);
  }
  Drop(inbound.id);
}

void BusServer::CloseUnidentified(Inbound& inbound, LogLimiter& limiter,
                                  const std::string& reason) {
  Warn(limiter, "Cluster bus: closing the connection from " + Describe(inbound) + ": " + reason);
  Drop(inbound.id);
}

void BusServer::Warn(LogLimiter& limiter, const std::string& message) {
  if (!options_.log_warning) return;
  std::string note;
  if (limiter.Allow(uv_now(loop_), &note)) options_.log_warning(message + note);
}

std::string BusServer::Describe(const Inbound& inbound) const {
  if (inbound.handshake.identified()) {
    return "node " + inbound.handshake.node() + " (" + inbound.address + ")";
  }
  return inbound.address + " (unidentified)";
}

void BusServer::Drop(std::uint64_t id) {
  handshaking_.erase(id);
  inbound_.erase(id);
}

}  // namespace dynakv::cluster
