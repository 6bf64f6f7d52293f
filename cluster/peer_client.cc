#include "peer_client.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "cluster/bus_protocol.h"
#include "net_address.h"

namespace dynakv::cluster {

PeerClient::PeerClient(uv_loop_t* loop, std::string self_id, std::string peer_id,
                       const sockaddr_storage& address, const ClusterOptions& options,
                       Deferrer& deferrer, ClusterStats& stats)
    : loop_(loop),
      self_id_(std::move(self_id)),
      peer_id_(std::move(peer_id)),
      address_(address),
      address_text_(FormatAddress(address)),
      options_(options),
      deferrer_(deferrer),
      stats_(stats),
      handshake_(self_id_, peer_id_, options.secret) {}

PeerClient::~PeerClient() = default;

std::string PeerClient::Describe(std::string_view what) const {
  std::string text = "node " + peer_id_ + " (" + address_text_ + "): ";
  text.append(what);
  return text;
}

std::shared_ptr<net::TlsContext> PeerClient::TlsContext() const {
  return options_.tls_contexts ? options_.tls_contexts->client : nullptr;
}

bool PeerClient::Send(bus::FrameType type, std::shared_ptr<const std::string> payload,
                      Callback done, std::string* error, std::uint64_t timeout_ms) {
  if (closed_) {
    *error = Describe("the bus is closed");
    return false;
  }
  if (partitioned_) {
    *error = Describe("partitioned");
    return false;
  }
  const std::size_t size = payload ? payload->size() : 0;
  if (size > bus::kMaxFrameLength - bus::kFrameOverhead) {
    *error = Describe("request of " + std::to_string(size) + " bytes is too large for the bus");
    return false;
  }
  // The loop's cached time may be a whole iteration old; the deadline counts from now.
  uv_update_time(loop_);
  const std::uint64_t now = uv_now(loop_);
  if (!connection_) {
    if (now < next_attempt_ms_) {
      *error = Describe("unreachable (next connect attempt in " +
                        std::to_string(next_attempt_ms_ - now) + " ms)");
      return false;
    }
    if (!Connect(error)) return false;
  }
  if (connection_->unsent_bytes() > kMaxUnsentBytes) {
    *error = Describe("not reading its requests");
    return false;
  }
  const std::uint64_t id = next_id_++;
  if (timeout_ms == 0) timeout_ms = static_cast<std::uint64_t>(options_.request_timeout_ms);
  const std::uint64_t deadline = now + timeout_ms;
  connection_->Queue(bus::EncodeFrameHeader(type, id, size), std::move(payload));
  pending_.emplace(id, Pending{std::move(done), deadline, timeout_ms});
  deadlines_.emplace(deadline, id);
  last_send_ms_ = now;
  ScheduleFlush();
  return true;
}

void PeerClient::ScheduleFlush() {
  if (flush_scheduled_) return;
  flush_scheduled_ = true;
  deferrer_.Defer([this, alive = std::weak_ptr<bool>(alive_)] {
    if (alive.expired()) return;
    flush_scheduled_ = false;
    FlushQueued();
  });
}

void PeerClient::FlushQueued() {
  if (!connection_ || connection_->Flush()) return;
  // The socket refused the write: everything in flight on it fails.
  auto orphans = std::make_shared<std::map<std::uint64_t, Pending>>(std::move(pending_));
  pending_.clear();
  deadlines_.clear();
  const std::string reason = Describe(connection_->failure_reason());
  connection_.reset();
  deferrer_.Defer([orphans, reason] {
    for (auto& [request_id, pending] : *orphans) pending.done(Response{false, reason, {}});
  });
}

bool PeerClient::Connect(std::string* error) {
  // HELLO goes first; requests queued while connecting follow it (with a secret, only once the
  // peer has proven it and our proof is on its way).
  std::string hello = handshake_.Start(error);
  if (hello.empty()) {
    *error = Describe(*error);
    NoteConnectFailure(*error);
    return false;
  }
  auto connection = std::make_unique<BusConnection>(loop_);
  BusConnection::Callbacks callbacks;
  callbacks.on_frame = [this](const bus::Frame& frame) { OnFrame(frame); };
  callbacks.on_failure = [this](const std::string& reason) { OnConnectionFailure(reason); };
  const int rc =
      connection->Connect(reinterpret_cast<const sockaddr*>(&address_), TlsContext(),
                          static_cast<std::uint64_t>(options_.handshake_timeout_ms),
                          std::move(callbacks), [this](int status) { OnConnected(status); });
  if (rc != 0) {
    *error = Describe(std::string("connect: ") + uv_strerror(rc));
    NoteConnectFailure(*error);
    return false;
  }
  connection->QueueHandshake(std::move(hello));
  if (!handshake_.done()) connection->HoldUntilAuthenticated();
  connection_ = std::move(connection);
  stalled_ = false;
  answered_ = false;
  return true;
}

void PeerClient::NoteConnectFailure(const std::string& reason) {
  ++stats_.peer_connect_failures;
  const auto initial =
      static_cast<std::uint64_t>(std::max(options_.reconnect_backoff_initial_ms, 0));
  const auto max = static_cast<std::uint64_t>(std::max(options_.reconnect_backoff_max_ms, 0));
  backoff_ms_ = std::min(backoff_ms_ == 0 ? initial : backoff_ms_ * 2, std::max(initial, max));
  next_attempt_ms_ = uv_now(loop_) + backoff_ms_;
  std::string note;
  if (options_.log_warning && connect_log_.Allow(uv_now(loop_), &note)) {
    options_.log_warning("Cluster bus: cannot reach " + reason + "; requests to it fail" + note);
  }
}

void PeerClient::OnConnected(int status) {
  if (status == 0) {
    // Not reset before the peer answers: a bus that accepts and then closes is no better.
    return;
  }
  std::string reason = Describe(connection_->failure_reason());
  if (connection_->tls_error()) NoteTlsFailure(&reason);
  NoteConnectFailure(reason);
  connection_.reset();  // allowed: this is the connection's last action in its callback
  FailAll(reason);
}

// The peer's certificate did not verify, or the peer refused ours (TLS 1.3 reports that only
// after the client's side of the handshake is done), or it does not speak TLS.
void PeerClient::NoteTlsFailure(std::string* reason) {
  ++stats_.bus_tls_failures;
  ++stats_.bus_auth_failures;
  reason->append(" (tls-cluster: the peers must show certificates from the same CA)");
  std::string note;
  if (options_.log_warning && auth_log_.Allow(uv_now(loop_), &note)) {
    options_.log_warning("Cluster bus: " + *reason + note);
  }
}

void PeerClient::OnConnectionFailure(const std::string& failure) {
  std::string reason = failure;
  if (connection_->tls_error()) {
    reason = "TLS: " + reason;
    std::string described = Describe(reason);
    NoteTlsFailure(&described);
  } else if (connection_->mac_error()) {
    ++stats_.bus_frame_mac_failures;
    ++stats_.bus_protocol_errors;
    std::string note;
    if (options_.log_warning && auth_log_.Allow(uv_now(loop_), &note)) {
      options_.log_warning("Cluster bus: " + Describe(reason) + note);
    }
  } else if (connection_->protocol_error()) {
    ++stats_.bus_protocol_errors;
    if (options_.log_warning) options_.log_warning("Cluster bus: " + Describe(reason));
  }
  const bool answered = answered_;
  connection_.reset();
  if (answered) {
    // Redialled on the next request without waiting: the peer was up a moment ago.
    FailAll(Describe(reason));
    return;
  }
  // Closed before a single answer: the peer's bus refused this node (its connection slots are
  // full, it does not take this node for a member, or it timed out the handshake).
  const std::string refused =
      Describe("closed the connection before answering (" + reason +
               "; its bus may be full or refusing this node, e.g. for a different cluster secret)");
  NoteConnectFailure(refused);
  FailAll(refused);
}

void PeerClient::OnHandshakeFrame(const bus::Frame& frame) {
  std::string reply;
  std::string error;
  std::string binding = connection_->ChannelBinding();
  if (connection_->is_tls() && binding.empty()) {
    // Fail closed: without the binding the proofs would not be tied to this TLS session.
    const std::string reason = Describe("cannot export the TLS session's keying material");
    connection_.reset();
    NoteConnectFailure(reason);
    FailAll(reason);
    return;
  }
  handshake_.set_channel_binding(std::move(binding));
  if (!handshake_.OnFrame(frame, &reply, &error)) {
    ++stats_.bus_auth_failures;
    const std::string reason = Describe("authentication failed: " + error);
    std::string note;
    if (options_.log_warning && auth_log_.Allow(uv_now(loop_), &note)) {
      options_.log_warning("Cluster bus: " + reason + note);
    }
    connection_.reset();  // the reader notices it was destroyed and stops
    NoteConnectFailure(reason);
    FailAll(reason);
    return;
  }
  connection_->QueueHandshake(std::move(reply));
  if (!connection_->EnableMac(handshake_.send_key(), handshake_.receive_key())) {
    const std::string reason = Describe("cannot set up the frame MAC (libcrypto)");
    connection_.reset();
    NoteConnectFailure(reason);
    FailAll(reason);
    return;
  }
  ScheduleFlush();  // the proof, then the requests held back
}

void PeerClient::OnFrame(const bus::Frame& frame) {
  if (!handshake_.done()) {
    OnHandshakeFrame(frame);
    return;
  }
  if (frame.type != bus::FrameType::kReply && frame.type != bus::FrameType::kPong &&
      frame.type != bus::FrameType::kError) {
    ++stats_.bus_protocol_errors;
    const std::string reason =
        Describe(std::string("sent an unexpected ") + bus::FrameTypeName(frame.type) +
                 (frame.type == bus::FrameType::kAuthChallenge
                      ? " (it requires a cluster secret; this node has none)"
                      : ""));
    if (options_.log_warning) options_.log_warning("Cluster bus: " + reason);
    connection_.reset();  // the reader notices it was destroyed and stops
    FailAll(reason);
    return;
  }
  if (!answered_) {
    answered_ = true;
    backoff_ms_ = 0;  // the connection works: the next failure starts the backoff afresh
  }
  if (partitioned_) return;  // the simulated network lost it
  stalled_ = false;
  auto it = pending_.find(frame.id);
  if (it == pending_.end()) return;  // its request already timed out
  Pending pending = std::move(it->second);
  pending_.erase(it);
  deadlines_.erase({pending.deadline_ms, frame.id});
  Response response;
  if (frame.type == bus::FrameType::kError) {
    std::string_view message;
    response.error = bus::DecodeError(frame.payload, &message)
                         ? Describe(message)
                         : Describe("sent a malformed ERROR frame");
  } else {
    response.ok = true;
    response.payload.assign(frame.payload);
  }
  pending.done(std::move(response));
}

void PeerClient::ExpireDeadlines(std::uint64_t now_ms) {
  std::vector<std::pair<Callback, std::uint64_t>> expired;  // with each one's timeout
  while (!deadlines_.empty() && deadlines_.begin()->first <= now_ms) {
    const std::uint64_t id = deadlines_.begin()->second;
    deadlines_.erase(deadlines_.begin());
    auto it = pending_.find(id);
    expired.emplace_back(std::move(it->second.done), it->second.timeout_ms);
    pending_.erase(it);
  }
  if (!expired.empty()) stalled_ = true;
  // Run only now: a callback may send again (read repair) and so change the maps.
  for (auto& [done, timeout_ms] : expired) {
    ++stats_.peer_timeouts;
    done(Response{false, Describe("timed out after " + std::to_string(timeout_ms) + " ms"), {}});
  }
}

void PeerClient::MaybePing(std::uint64_t now_ms, std::uint64_t interval_ms) {
  if (interval_ms == 0 || closed_ || partitioned_) return;
  if (now_ms - last_send_ms_ < interval_ms) return;
  if (!connection_ && now_ms < next_attempt_ms_) return;
  auto ignore_pong = [](Response) {};
  std::string error;
  // A ping that cannot go out counts as sent, so a failing peer is not retried every tick.
  if (!Send(bus::FrameType::kPing, nullptr, ignore_pong, &error)) last_send_ms_ = now_ms;
}

void PeerClient::SetPartitioned(bool partitioned) {
  partitioned_ = partitioned;
  if (partitioned) FailAll(Describe("partitioned"));
}

void PeerClient::Close(std::shared_ptr<void> token) {
  closed_ = true;
  if (connection_) {
    connection_->Close(std::move(token));
    connection_.reset();
  }
  FailAll(Describe("the cluster node is stopping"));
}

void PeerClient::FailAll(const std::string& reason) {
  std::map<std::uint64_t, Pending> failed = std::move(pending_);
  pending_.clear();
  deadlines_.clear();
  for (auto& [id, pending] : failed) pending.done(Response{false, reason, {}});
}

bool IsWriteAck(const PeerClient::Response& response) {
  bus::ReplyStatus status;
  std::string_view unused;
  return response.ok && bus::DecodeReply(response.payload, &status, &unused) &&
         status == bus::ReplyStatus::kNone;
}

}  // namespace dynakv::cluster
