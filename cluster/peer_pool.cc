#include "peer_pool.h"

#include <algorithm>
#include <utility>

#include "net_address.h"

namespace dynakv::cluster {

namespace {

// Deadlines are checked at this granularity: a tenth of the timeout, within [5, 100] ms, so a
// request fails at most ~10% late, without a timer per request.
std::uint64_t TickMs(int request_timeout_ms) {
  return static_cast<std::uint64_t>(std::clamp(request_timeout_ms / 10, 5, 100));
}

}  // namespace

bool PeerPool::Init(const Ring& ring, const std::string& self_id, std::string* error) {
  self_id_ = self_id;
  for (const NodeInfo& member : ring.nodes()) {
    if (member.id != self_id && !AddOrUpdate(member, error)) return false;
  }
  const std::uint64_t tick = TickMs(options_.request_timeout_ms);
  int rc = timer_.Init([&](uv_timer_t* t) { return uv_timer_init(loop_, t); }, this);
  if (rc == 0) rc = uv_timer_start(timer_.get(), OnTick, tick, tick);
  if (rc != 0) {
    *error = std::string("cannot start the cluster bus timer: ") + uv_strerror(rc);
    return false;
  }
  return true;
}

bool PeerPool::AddOrUpdate(const NodeInfo& member, std::string* error) {
  const int port = member.port + options_.bus_port_offset;
  const std::string text = member.host + ":" + std::to_string(port);
  auto known = addresses_.find(member.id);
  if (known != addresses_.end() && known->second == text) return true;
  sockaddr_storage address;
  if (!ResolveAddress(loop_, member.host, port, &address, error)) {
    *error = "member '" + member.id + "': " + *error;
    return false;
  }
  auto client = std::make_unique<PeerClient>(loop_, self_id_, member.id, address, options_,
                                             deferrer_, stats_);
  std::unique_ptr<PeerClient>& slot = peers_[member.id];
  addresses_[member.id] = text;
  std::unique_ptr<PeerClient> old = std::exchange(slot, std::move(client));
  if (old) {
    if (old->partitioned()) slot->SetPartitioned(true);
    // Its failed requests' callbacks may send again: the map already holds the new client.
    old->Close(nullptr);
  }
  return true;
}

bool PeerPool::Send(std::string_view node, bus::FrameType type,
                    std::shared_ptr<const std::string> payload, PeerClient::Callback done,
                    std::string* error, std::uint64_t timeout_ms) {
  auto it = peers_.find(node);
  if (it == peers_.end()) {
    *error = "node " + std::string(node) + " is not a member";
    return false;
  }
  return it->second->Send(type, std::move(payload), std::move(done), error, timeout_ms);
}

bool PeerPool::Reachable(std::string_view node) const {
  auto it = peers_.find(node);
  return it != peers_.end() && it->second->reachable();
}

void PeerPool::SetPartitionedFrom(const std::vector<std::string>& nodes) {
  for (auto& [id, peer] : peers_) {
    const bool partitioned = std::find(nodes.begin(), nodes.end(), id) != nodes.end();
    if (partitioned != peer->partitioned()) peer->SetPartitioned(partitioned);
  }
}

bool PeerPool::IsPartitionedFrom(std::string_view node) const {
  auto it = peers_.find(node);
  return it != peers_.end() && it->second->partitioned();
}

void PeerPool::Close(std::shared_ptr<void> token) {
  timer_.Close(token);
  for (auto& [id, peer] : peers_) peer->Close(token);
}

void PeerPool::OnTick(uv_timer_t* timer) { static_cast<PeerPool*>(timer->data)->Tick(); }

void PeerPool::Tick() {
  const std::uint64_t now = uv_now(loop_);
  const auto ping_interval = static_cast<std::uint64_t>(std::max(options_.ping_interval_ms, 0));
  for (auto& [id, peer] : peers_) {
    peer->ExpireDeadlines(now);
    peer->MaybePing(now, ping_interval);
  }
}

}  // namespace dynakv::cluster
