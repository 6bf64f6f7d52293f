#include "gossiper.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstring>
#include <utility>

#include "net_address.h"

namespace dynakv::cluster {

namespace {

// The timer ticks this often: seed requests' deadlines and logged verdicts are at most this
// late, and rounds start within it of their due time.
std::uint64_t TickMs(int gossip_interval_ms) {
  return static_cast<std::uint64_t>(std::clamp(gossip_interval_ms / 4, 5, 100));
}

std::int64_t StartTimeMs() {
  using namespace std::chrono;
  return std::max<std::int64_t>(
      duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count(), 1);
}

GossipEntry SelfEntry(const NodeInfo& self) {
  GossipEntry entry;
  entry.info = self;
  entry.generation = StartTimeMs();
  return entry;
}

bool SameAddress(const sockaddr_storage& a, const sockaddr_storage& b) {
  if (a.ss_family != b.ss_family) return false;
  if (a.ss_family == AF_INET) {
    const auto& x = reinterpret_cast<const sockaddr_in&>(a);
    const auto& y = reinterpret_cast<const sockaddr_in&>(b);
    return x.sin_port == y.sin_port && x.sin_addr.s_addr == y.sin_addr.s_addr;
  }
  if (a.ss_family == AF_INET6) {
    const auto& x = reinterpret_cast<const sockaddr_in6&>(a);
    const auto& y = reinterpret_cast<const sockaddr_in6&>(b);
    return x.sin6_port == y.sin6_port &&
           std::memcmp(&x.sin6_addr, &y.sin6_addr, sizeof(x.sin6_addr)) == 0;
  }
  return false;
}

// Splits "host:port" or "[v6]:port"; false when `text` has no port part.
bool SplitHostPort(const std::string& text, std::string* host, int* port) {
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find("]:");
    if (close == std::string::npos) return false;
    *host = text.substr(1, close - 1);
    port_text = std::string_view(text).substr(close + 2);
  } else {
    const std::size_t colon = text.find(':');
    if (colon == std::string::npos || text.find(':', colon + 1) != std::string::npos) {
      return false;
    }
    *host = text.substr(0, colon);
    port_text = std::string_view(text).substr(colon + 1);
  }
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), *port);
  return ec == std::errc() && end == port_text.data() + port_text.size() && !host->empty();
}

}  // namespace

Gossiper::Gossiper(uv_loop_t* loop, const NodeInfo& self, int bus_port,
                   const ClusterOptions& options, PeerPool& peers, Deferrer& deferrer,
                   ClusterStats& stats)
    : loop_(loop),
      bus_port_(bus_port),
      options_(options),
      peers_(peers),
      deferrer_(deferrer),
      stats_(stats),
      view_(SelfEntry(self), options.members),
      detector_(FailureDetectorOptions{options.phi_threshold, options.down_after_ms,
                                       options.gossip_interval_ms, 100,
                                       options.gossip_interval_ms}),
      rng_(std::random_device{}() ^ std::hash<std::string>{}(self.id)) {}

bool Gossiper::Init(std::function<void()> on_membership_changed, std::string* error) {
  on_membership_changed_ = std::move(on_membership_changed);
  for (const auto& [id, entry] : view_.entries()) {
    if (!ValidateEntry(entry, error)) return false;
    // Configured members get the benefit of the doubt from now on: down only if they stay
    // silent for the whole bound.
    if (id != view_.self_id()) detector_.Report(id, Now());
  }
  for (const std::string& seed : options_.seeds) {
    if (!ParseSeed(seed, error)) {
      *error = "seed '" + seed + "': " + *error;
      return false;
    }
  }
  const int rc = timer_.Init([&](uv_timer_t* t) { return uv_timer_init(loop_, t); }, this);
  if (rc != 0) {
    *error = std::string("cannot create the gossip timer: ") + uv_strerror(rc);
    return false;
  }
  return true;
}

bool Gossiper::ParseSeed(const std::string& text, std::string* error) {
  std::string host;
  int port = 0;
  if (!SplitHostPort(text, &host, &port)) {
    if (text.find(':') != std::string::npos) {
      *error = "expected host:port ([address]:port for IPv6) or a member id";
      return false;
    }
    if (text == view_.self_id()) return true;  // every node may share one seed list
    if (view_.Find(text) == nullptr) {
      *error = "not a configured member (give its host:bus-port instead)";
      return false;
    }
    seeds_.push_back(Seed{text, text, nullptr});
    return true;
  }
  sockaddr_storage address, own;
  if (!ResolveAddress(loop_, host, port, &address, error)) return false;
  const NodeInfo& self = view_.self().info;
  std::string unused;
  if (ResolveAddress(loop_, self.host, bus_port_, &own, &unused) && SameAddress(address, own)) {
    return true;  // this node itself
  }
  seeds_.push_back(Seed{text, "",
                        std::make_unique<PeerClient>(loop_, view_.self_id(), "seed " + text,
                                                     address, options_, deferrer_, stats_)});
  seeds_.back().client->AcceptAnyPeerId();  // known by address only; it proves the secret
  return true;
}

bool Gossiper::Start(std::string* error) {
  const std::uint64_t tick = TickMs(options_.gossip_interval_ms);
  next_round_ms_ = Now() + options_.gossip_interval_ms;
  const int rc = uv_timer_start(timer_.get(), OnTick, tick, tick);
  if (rc != 0) {
    *error = std::string("cannot start the gossip timer: ") + uv_strerror(rc);
    return false;
  }
  return true;
}

void Gossiper::Close(std::shared_ptr<void> token) {
  closed_ = true;
  timer_.Close(token);
  for (Seed& seed : seeds_) {
    if (seed.client) seed.client->Close(token);
  }
}

void Gossiper::OnTick(uv_timer_t* timer) { static_cast<Gossiper*>(timer->data)->Tick(); }

void Gossiper::Tick() {
  const std::int64_t now = Now();
  for (Seed& seed : seeds_) {
    if (seed.client) seed.client->ExpireDeadlines(static_cast<std::uint64_t>(now));
  }
  if (closed_) return;  // a seed's failed request may have run into Close
  if (now >= next_round_ms_) {
    next_round_ms_ = now + options_.gossip_interval_ms;
    Round();
  }
  NoteTransitions(now);
}

void Gossiper::Round() {
  view_.BeatHeart();
  auto payload =
      std::make_shared<const std::string>(EncodeGossip(view_.self_id(), view_.entries()));
  const std::int64_t now = Now();
  std::vector<std::string> live, down;
  for (const auto& [id, entry] : view_.entries()) {
    if (id == view_.self_id() || entry.status == NodeStatus::kLeft) continue;
    (detector_.Evaluate(id, now) == Liveness::kDown ? down : live).push_back(id);
  }
  auto pick = [&](const std::vector<std::string>& ids) -> const std::string& {
    return ids[std::uniform_int_distribution<std::size_t>(0, ids.size() - 1)(rng_)];
  };
  auto chance = [&](double probability) {
    return std::uniform_real_distribution<double>(0, 1)(rng_) < probability;
  };
  bool reached_seed = false;
  if (view_.self().status != NodeStatus::kNormal) {
    // Others take news of a member leaving only from the member itself (MergeBounds): tell
    // every live one, every round, while it lasts.
    for (const std::string& id : live) GossipToMember(id, payload);
    reached_seed = !live.empty();
  } else if (!live.empty()) {
    const std::string& target = pick(live);
    GossipToMember(target, payload);
    reached_seed = std::any_of(seeds_.begin(), seeds_.end(),
                               [&](const Seed& seed) { return seed.id == target; });
  }
  // Probing the down ones now and then is how a restarted member or a healed partition is
  // noticed even when the member itself has nobody left to gossip to.
  if (!down.empty() &&
      chance(static_cast<double>(down.size()) / static_cast<double>(live.size() + 1))) {
    GossipToMember(pick(down), payload);
  }
  // Seeds tie the cluster together: a node that knows nobody asks one every round, others
  // sometimes, so two groups that only share seeds do not stay apart.
  if (!seeds_.empty() && (!reached_seed || live.size() < seeds_.size())) {
    const double known = static_cast<double>(live.size() + down.size());
    if (live.empty() || chance(static_cast<double>(seeds_.size()) / known)) {
      GossipToSeed(std::uniform_int_distribution<std::size_t>(0, seeds_.size() - 1)(rng_), payload);
    }
  }
}

void Gossiper::GossipToMember(const std::string& id,
                              const std::shared_ptr<const std::string>& payload) {
  auto on_reply = [this, id](PeerClient::Response response) {
    OnReply(std::move(response), id, seeds_.size());
  };
  std::string error;
  // A member that cannot be sent to now (backoff, partition, not dialled yet) simply misses
  // this round.
  peers_.Send(id, bus::FrameType::kGossip, payload, std::move(on_reply), &error);
}

void Gossiper::GossipToSeed(std::size_t index, const std::shared_ptr<const std::string>& payload) {
  Seed& seed = seeds_[index];
  if (!seed.id.empty() && view_.Find(seed.id) != nullptr) {
    GossipToMember(seed.id, payload);
    return;
  }
  if (!seed.client) return;
  auto on_reply = [this, index](PeerClient::Response response) {
    OnReply(std::move(response), seeds_[index].text, index);
  };
  std::string error;
  seed.client->Send(bus::FrameType::kGossip, payload, std::move(on_reply), &error);
}

void Gossiper::OnReply(PeerClient::Response response, std::string_view peer,
                       std::size_t seed_index) {
  if (closed_ || !response.ok) return;  // nothing learned this time; the detector decides
  GossipMessage message;
  std::string error;
  if (!DecodeGossip(response.payload, &message, &error)) {
    ++stats_.bus_protocol_errors;
    Warn("Cluster gossip: invalid reply from " + std::string(peer) + ": " + error);
    return;
  }
  if (seed_index < seeds_.size() && seeds_[seed_index].id.empty()) {
    // From now on the seed is reached as the member it turned out to be; its own connection is
    // closed once this callback, which runs inside it, has returned.
    seeds_[seed_index].id = message.sender;
    deferrer_.Defer([this, seed_index] {
      Seed& seed = seeds_[seed_index];
      if (closed_ || !seed.client) return;
      seed.client->Close(nullptr);
      seed.client.reset();
    });
  }
  Absorb(message);
}

bool Gossiper::OnGossip(std::string_view from, std::string_view payload, std::string* reply,
                        std::string* error) {
  if (closed_) {
    *error = "the cluster node is stopping";
    return false;
  }
  GossipMessage message;
  if (!DecodeGossip(payload, &message, error)) return false;
  if (message.sender != from) {
    *error = "gossip signed by '" + message.sender + "' on the connection of '" +
             std::string(from) + "'";
    return false;
  }
  Absorb(message);
  *reply = EncodeGossip(view_.self_id(), view_.entries());
  return true;
}

void Gossiper::Absorb(const GossipMessage& message) {
  std::vector<GossipEntry> entries = message.entries;
  if (options_.seeds.empty()) {
    // Closed membership: gossip carries news of the configured members only.
    std::erase_if(entries, [&](const GossipEntry& e) { return view_.Find(e.info.id) == nullptr; });
  }
  MergeBounds bounds;
  bounds.max_clock_skew_ms = options_.max_clock_skew_ms;
  bounds.max_weight = options_.max_member_weight;
  bounds.sender = message.sender;
  bounds.presumed_gone = [this, now_ms = Now()](std::string_view id) {
    return detector_.Evaluate(id, now_ms) == Liveness::kDown;
  };
  if (bounds.max_clock_skew_ms > 0) bounds.now_ms = StartTimeMs();  // the wall clock, in ms
  const MembershipView::MergeResult result = view_.Merge(entries, bounds);
  const std::int64_t now = Now();
  if (!result.rejected.empty()) {
    stats_.gossip_rejected_entries += result.rejected.size();
    // A flood of forged frames must not flood the log too.
    if (now - last_rejection_warning_ms_ >= 10000 || last_rejection_warning_ms_ == 0) {
      last_rejection_warning_ms_ = now;
      Warn("Cluster gossip: refused " + std::to_string(result.rejected.size()) + " entries from " +
           message.sender + ": " + result.rejected.front());
    }
  }
  for (const std::string& id : result.heard) detector_.Report(id, now);
  for (const std::string& id : result.restarted) detector_.Restart(id, now);
  if (result.self_superseded) {
    Warn("Cluster gossip: " + message.sender + " knows a newer incarnation of this node's id '" +
         view_.self_id() + "' (a clock set back, or another process with the same id); " +
         "moved to generation " + std::to_string(view_.self().generation));
  }
  if (result.membership_changed) MembershipChanged();
}

void Gossiper::MembershipChanged() {
  if (apply_pending_) return;
  apply_pending_ = true;
  deferrer_.Defer([this] {
    apply_pending_ = false;
    if (!closed_ && on_membership_changed_) on_membership_changed_();
  });
}

void Gossiper::SetSelfStatus(NodeStatus status) {
  const NodeStatus before = view_.self().status;
  if (before == status) return;
  view_.SetSelfStatus(status);
  next_round_ms_ = Now();  // spread the news with the next tick rather than a round later
  if ((before == NodeStatus::kLeft) != (status == NodeStatus::kLeft)) MembershipChanged();
}

void Gossiper::NoteTransitions(std::int64_t now) {
  for (const auto& [id, entry] : view_.entries()) {
    if (id == view_.self_id() || entry.status == NodeStatus::kLeft) continue;
    const Liveness verdict = detector_.Evaluate(id, now);
    auto [it, inserted] = last_verdict_.try_emplace(id, Liveness::kUp);
    if (it->second == verdict) continue;
    it->second = verdict;
    Warn("Cluster gossip: node " + id + " is " + LivenessName(verdict) + " (phi " +
         std::to_string(detector_.Phi(id, now)) + ", last heartbeat " +
         std::to_string(detector_.SilenceMs(id, now)) + " ms ago)");
  }
}

std::vector<MemberStatus> Gossiper::Members() const {
  const std::int64_t now = Now();
  std::vector<MemberStatus> members;
  for (const auto& [id, entry] : view_.entries()) {
    MemberStatus status;
    status.node = entry.info;
    status.generation = entry.generation;
    status.heartbeat = entry.heartbeat;
    if (id == view_.self_id()) {
      status.self = true;
      status.state = CombineState(entry.status, Liveness::kUp);
    } else {
      status.state = CombineState(entry.status, detector_.Evaluate(id, now));
      status.phi = detector_.Phi(id, now);
      status.silence_ms = detector_.SilenceMs(id, now);
    }
    members.push_back(std::move(status));
  }
  return members;
}

bool Gossiper::IsAlive(std::string_view id) const {
  if (id == view_.self_id()) return true;
  const GossipEntry* entry = view_.Find(id);
  return entry != nullptr && entry->status != NodeStatus::kLeft &&
         detector_.Evaluate(id, Now()) != Liveness::kDown;
}

void Gossiper::Warn(const std::string& message) const {
  if (options_.log_warning) options_.log_warning(message);
}

}  // namespace dynakv::cluster
