#include "bus_server.h"

#include <algorithm>
#include <utility>

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
  int rc = listener_.Init([&](uv_tcp_t* t) { return uv_tcp_init(loop_, t); }, this);
  const char* step = "bind";
  if (rc == 0) rc = uv_tcp_bind(listener_.get(), reinterpret_cast<const sockaddr*>(&address), 0);
  if (rc == 0) {
    step = "listen";
    rc = uv_listen(listener_.stream(), kListenBacklog, OnConnection);
  }
  if (rc != 0) {
    if (rc == UV_EADDRINUSE) step = "bind";
    *error = "Could not create the cluster bus socket " + FormatAddress(address) + ": " + step +
             ": " + uv_strerror(rc);
    listener_.Close();
    return false;
  }
  sockaddr_storage bound{};
  int length = sizeof(bound);
  uv_tcp_getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&bound), &length);
  port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return true;
}

void BusServer::Close(std::shared_ptr<void> token) {
  listener_.Close(token);
  for (auto& [id, inbound] : inbound_) inbound->connection->Close(token);
  inbound_.clear();
}

void BusServer::OnConnection(uv_stream_t* listener, int status) {
  auto* server = static_cast<BusServer*>(listener->data);
  if (status < 0) {
    if (server->options_.log_warning) {
      server->options_.log_warning(std::string("Cluster bus: accepting a connection: ") +
                                   uv_strerror(status));
    }
    return;
  }
  server->Accept();
}

void BusServer::Accept() {
  auto inbound = std::make_unique<Inbound>();
  inbound->id = next_id_++;
  inbound->connection = std::make_unique<BusConnection>(loop_);
  // Accepting even a connection that is refused right after keeps libuv's listener polling.
  if (inbound->connection->Init() != 0 ||
      uv_accept(listener_.stream(), inbound->connection->stream()) != 0) {
    return;
  }
  if (inbound_.size() >= kMaxConnections) return;  // the connection closes as it goes
  Inbound* raw = inbound.get();
  BusConnection::Callbacks callbacks;
  callbacks.on_frame = [this, raw](const bus::Frame& frame) { OnFrame(*raw, frame); };
  callbacks.on_batch_end = [this, raw] { SendReplies(*raw); };
  callbacks.on_failure = [this, raw](const std::string& reason) {
    if (raw->connection->protocol_error()) {
      Reject(*raw, reason);
    } else {
      Drop(raw->id);
    }
  };
  if (inbound->connection->StartReading(std::move(callbacks)) != 0) return;
  inbound_.emplace(raw->id, std::move(inbound));
}

void BusServer::OnFrame(Inbound& inbound, const bus::Frame& frame) {
  if (inbound.node.empty()) {
    if (frame.type != bus::FrameType::kHello) {
      Reject(inbound,
             std::string("first frame was ") + bus::FrameTypeName(frame.type) + ", not HELLO");
      return;
    }
    std::uint32_t version = 0;
    std::string_view node;
    if (!bus::DecodeHello(frame.payload, &version, &node) || node.empty()) {
      Reject(inbound, "malformed HELLO");
      return;
    }
    if (version != bus::kProtocolVersion) {
      Reject(inbound, "peer speaks bus protocol version " + std::to_string(version) +
                          ", this node " + std::to_string(bus::kProtocolVersion));
      return;
    }
    if (!membership_.is_peer(node)) {
      Reject(inbound,
             "HELLO from '" + std::string(node.substr(0, 64)) + "', which is not a member");
      return;
    }
    inbound.node.assign(node);
    return;
  }
  // A partition loses the request: no reply, so the sender's deadline decides.
  if (membership_.is_partitioned(inbound.node)) return;
  Serve(inbound, frame);
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
      if (!membership_.on_gossip(inbound.node, frame.payload, &reply, &error)) {
        ++stats_.bus_protocol_errors;
        error_reply("invalid GOSSIP: " + error);
        return;
      }
      inbound.replies.push_back(Reply{frame.id, bus::FrameType::kReply, std::move(reply), false});
      return;
    }
    case bus::FrameType::kAeHashes:
    case bus::FrameType::kAeKeys:
    case bus::FrameType::kAeFetch:
    case bus::FrameType::kAePush: {
      if (!membership_.on_anti_entropy) break;
      BusServer::ServiceReply reply = membership_.on_anti_entropy(inbound.node, frame);
      if (!reply.ok) {
        error_reply(reply.payload);
        return;
      }
      inbound.replies.push_back(Reply{frame.id, bus::FrameType::kReply, std::move(reply.payload),
                                      reply.needs_durable_log});
      return;
    }
    case bus::FrameType::kHello:
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

void BusServer::Reject(Inbound& inbound, const std::string& reason) {
  ++stats_.bus_protocol_errors;
  if (options_.log_warning) {
    options_.log_warning(
        "Cluster bus: closing the connection from " +
        (inbound.node.empty() ? std::string("an unidentified peer") : "node " + inbound.node) +
        ": " + reason);
  }
  Drop(inbound.id);
}

void BusServer::Drop(std::uint64_t id) { inbound_.erase(id); }

}  // namespace dynakv::cluster
