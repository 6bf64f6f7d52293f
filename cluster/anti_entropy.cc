#include "anti_entropy.h"

#include <utility>

#include "anti_entropy_messages.h"

namespace dynakv::cluster {

namespace {

// Request sizes a peer may ask for; ours stay well within them.
constexpr std::size_t kMaxLeavesPerRequest = 4 * AntiEntropyExchange::kLeavesPerRequest;
constexpr std::size_t kMaxKeysPerRequest = 4 * AntiEntropyExchange::kKeysPerFetch;
// AE_FETCH replies stop adding sets past this (the rest are asked for again), so one reply
// does not hold up the connection or balloon in memory.
constexpr std::size_t kFetchReplyBudget = std::size_t{4} << 20;
// The largest set a reply can carry (room left for its key and the framing).
constexpr std::size_t kMaxSetBytes = bus::kMaxFrameLength - bus::kFrameOverhead - (1 << 16);

BusServer::ServiceReply Error(std::string message) {
  return BusServer::ServiceReply{false, std::move(message), false};
}

// Both sides must cut hash space the same way for node indices to name the same ranges.
BusServer::ServiceReply DepthMismatch(std::uint32_t depth) {
  return Error("Merkle tree depth " + std::to_string(depth) + " differs from this node's " +
               std::to_string(ReplicaTrees::kDepth));
}

}  // namespace

AntiEntropy::AntiEntropy(uv_loop_t* loop, storage::Engine& engine, const NodeInfo& self,
                         const Ring& ring, const ClusterOptions& options, ReplicaService& replica,
                         PeerPool& peers, Deferrer& deferrer, ClusterStats& stats)
    : loop_(loop),
      self_(self),
      ring_(ring),
      options_(options),
      replica_(replica),
      deferrer_(deferrer),
      stats_(stats),
      trees_(engine, replica, ring, self, options, stats),
      env_{peers, trees_, replica, stats,
           [this](std::string_view key, const SiblingSet& set, bool* changed) {
             return Apply(key, set, changed);
           }} {}

int AntiEntropy::Init() {
  for (net::UvHandle<uv_timer_t>* timer : {&round_timer_, &build_timer_, &rebuild_timer_}) {
    const int rc = timer->Init([this](uv_timer_t* t) { return uv_timer_init(loop_, t); }, this);
    if (rc != 0) return rc;
  }
  return 0;
}

void AntiEntropy::Start() {
  if (started_ || stopped_) return;
  started_ = true;
  Rebuild();
  if (options_.anti_entropy_interval_ms > 0) {
    const auto interval = static_cast<std::uint64_t>(options_.anti_entropy_interval_ms);
    uv_timer_start(round_timer_.get(), OnRoundTimer, interval, interval);
  }
  if (options_.anti_entropy_rebuild_interval_ms > 0) {
    const auto interval = static_cast<std::uint64_t>(options_.anti_entropy_rebuild_interval_ms);
    uv_timer_start(rebuild_timer_.get(), OnRebuildTimer, interval, interval);
  }
}

void AntiEntropy::Stop(std::shared_ptr<void> token) {
  stopped_ = true;
  round_timer_.Close(token);
  build_timer_.Close(token);
  rebuild_timer_.Close(token);
}

void AntiEntropy::OnRoundTimer(uv_timer_t* timer) {
  auto* self = static_cast<AntiEntropy*>(timer->data);
  // A tick while an exchange runs (or the trees build) is skipped, not queued.
  if (self->running_ || !self->trees_.ready()) return;
  self->RunNow("", nullptr);
}

void AntiEntropy::OnRebuildTimer(uv_timer_t* timer) {
  static_cast<AntiEntropy*>(timer->data)->Rebuild();
}

void AntiEntropy::OnBuildTimer(uv_timer_t* timer) {
  auto* self = static_cast<AntiEntropy*>(timer->data);
  if (!self->trees_.RebuildStep(kBuildStepKeys)) self->ScheduleBuildStep();
}

void AntiEntropy::ScheduleBuildStep() {
  // A zero timeout runs the step on the next loop turn, after the I/O that is ready now: a
  // long build never holds up clients for more than one step.
  if (!stopped_) uv_timer_start(build_timer_.get(), OnBuildTimer, 0, 0);
}

void AntiEntropy::Rebuild() {
  if (stopped_ || !started_) return;
  trees_.StartRebuild();
  ScheduleBuildStep();
}

std::string AntiEntropy::NextPeer() {
  const std::vector<NodeInfo>& nodes = ring_.nodes();
  for (std::size_t tried = 0; tried < nodes.size(); ++tried) {
    const NodeInfo& node = nodes[next_peer_++ % nodes.size()];
    if (node.id != self_.id) return node.id;
  }
  return "";
}

void AntiEntropy::RunNow(std::string peer, std::function<void(AntiEntropyRound)> done) {
  auto finish = [this, done](AntiEntropyRound round) {
    if (!done) return;
    deferrer_.Defer([done, round = std::move(round)] { done(round); });
  };
  AntiEntropyRound refused;
  if (stopped_ || !started_) {
    refused.error = "anti-entropy is not running (the node is not started or is stopping)";
  } else if (running_) {
    refused.error = "an anti-entropy exchange is already running";
  } else if (!trees_.ready()) {
    refused.error = "the Merkle trees are still being built";
  } else {
    if (peer.empty()) peer = NextPeer();
    if (peer.empty() || peer == self_.id || ring_.Find(peer) == nullptr) {
      refused.error = "no peer '" + peer + "' to exchange with";
    }
  }
  if (!refused.error.empty()) {
    refused.peer = std::move(peer);
    finish(std::move(refused));
    return;
  }
  running_ = true;
  AntiEntropyExchange::Start(env_, std::move(peer), [this, finish](AntiEntropyRound round) {
    running_ = false;
    if (!round.ok && options_.log_warning && !stopped_) {
      options_.log_warning("Anti-entropy with node " + round.peer + " failed: " + round.error);
    }
    finish(std::move(round));
  });
}

void AntiEntropy::OnChange(std::string_view key, std::string_view old_encoded,
                           std::string_view new_encoded) {
  ++changes_seen_;
  trees_.OnChange(key, old_encoded, new_encoded);
}

storage::Status AntiEntropy::Apply(std::string_view key, const SiblingSet& set, bool* changed) {
  const std::uint64_t before = changes_seen_;
  const storage::Status status = replica_.Put(key, set);
  *changed = changes_seen_ != before;
  if (*changed) ++stats_.anti_entropy_keys_repaired;
  return status;
}

BusServer::ServiceReply AntiEntropy::Serve(std::string_view node, const bus::Frame& frame) {
  stats_.anti_entropy_bytes_received += frame.payload.size();
  BusServer::ServiceReply reply = Answer(node, frame);
  if (reply.ok) stats_.anti_entropy_bytes_sent += reply.payload.size();
  return reply;
}

BusServer::ServiceReply AntiEntropy::Answer(std::string_view node, const bus::Frame& frame) {
  switch (frame.type) {
    case bus::FrameType::kAeHashes:
      return AnswerHashes(node, frame.payload);
    case bus::FrameType::kAeKeys:
      return AnswerKeys(node, frame.payload);
    case bus::FrameType::kAeFetch:
      return AnswerFetch(frame.payload);
    case bus::FrameType::kAePush:
      return AnswerPush(node, frame.payload);
    default:
      return Malformed(bus::FrameTypeName(frame.type));
  }
}

BusServer::ServiceReply AntiEntropy::Malformed(const char* what) {
  ++stats_.bus_protocol_errors;
  return Error(std::string("malformed ") + what);
}

BusServer::ServiceReply AntiEntropy::AnswerHashes(std::string_view node,
                                                  std::string_view payload) {
  ae::HashesRequest request;
  if (!ae::DecodeHashesRequest(payload, &request)) return Malformed("AE_HASHES");
  // Not an error of the peer's: it retries on its next round.
  if (!trees_.ready()) return Error("LOADING the Merkle trees are still being built");
  if (request.depth != ReplicaTrees::kDepth) {
    return DepthMismatch(request.depth);
  }
  if (request.level > request.depth) return Malformed("AE_HASHES");
  const int level = static_cast<int>(request.level);
  const std::size_t nodes = MerkleTree::NodesAt(level);
  if (request.nodes.size() > nodes) return Malformed("AE_HASHES");
  const MerkleTree& tree = trees_.TreeFor(node);
  std::vector<std::uint64_t> hashes;
  hashes.reserve(request.nodes.size());
  for (std::uint32_t index : request.nodes) {
    if (index >= nodes) return Malformed("AE_HASHES");
    hashes.push_back(tree.NodeHash(level, index));
  }
  return BusServer::ServiceReply{true, ae::EncodeHashes(hashes), false};
}

BusServer::ServiceReply AntiEntropy::AnswerKeys(std::string_view node, std::string_view payload) {
  ae::KeysRequest request;
  if (!ae::DecodeKeysRequest(payload, &request)) return Malformed("AE_KEYS");
  if (request.depth != ReplicaTrees::kDepth) {
    return DepthMismatch(request.depth);
  }
  const std::size_t leaves = MerkleTree::NodesAt(ReplicaTrees::kDepth);
  if (request.leaves.size() > kMaxLeavesPerRequest) return Malformed("AE_KEYS");
  for (std::uint32_t leaf : request.leaves) {
    if (leaf >= leaves) return Malformed("AE_KEYS");
  }
  std::vector<std::vector<ae::KeyDigest>> lists;
  lists.reserve(request.leaves.size());
  for (std::uint32_t leaf : request.leaves) lists.push_back(trees_.LeafKeys(node, leaf));
  return BusServer::ServiceReply{true, ae::EncodeKeys(lists), false};
}

BusServer::ServiceReply AntiEntropy::AnswerFetch(std::string_view payload) {
  std::vector<std::string_view> keys;
  if (!ae::DecodeFetchRequest(payload, &keys) || keys.size() > kMaxKeysPerRequest) {
    return Malformed("AE_FETCH");
  }
  std::vector<ae::Fetched> sets(keys.size());
  std::size_t bytes = 0;
  bool any_value = false;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (any_value && bytes >= kFetchReplyBudget) {
      sets[i].status = ae::FetchStatus::kOmitted;
      continue;
    }
    std::string encoded = replica_.GetEncoded(keys[i]);
    if (encoded.empty()) continue;  // kNone
    if (encoded.size() > kMaxSetBytes) {
      return Error("value of " + std::to_string(encoded.size()) +
                   " bytes is too large for the bus");
    }
    if (any_value && bytes + encoded.size() > kFetchReplyBudget) {
      sets[i].status = ae::FetchStatus::kOmitted;
      continue;
    }
    any_value = true;
    bytes += keys[i].size() + encoded.size();
    sets[i].status = ae::FetchStatus::kValue;
    sets[i].encoded_set = std::move(encoded);
    ++stats_.anti_entropy_keys_sent;
  }
  return BusServer::ServiceReply{true, ae::EncodeFetched(sets), false};
}

BusServer::ServiceReply AntiEntropy::AnswerPush(std::string_view node, std::string_view payload) {
  std::vector<ae::KeySet> sets;
  if (!ae::DecodePush(payload, &sets) || sets.size() > kMaxKeysPerRequest) {
    return Malformed("AE_PUSH");
  }
  for (const ae::KeySet& pushed : sets) {
    SiblingSet set;
    if (!SiblingSet::Decode(pushed.encoded_set, &set)) return Malformed("AE_PUSH");
    // A key this node does not replicate with the sender (their ring views differ, e.g. during
    // a membership change) is not taken in: it would be a copy no tree accounts for.
    if (!trees_.Shares(pushed.key, node)) continue;
    bool changed = false;
    const storage::Status status = Apply(pushed.key, set, &changed);
    if (!status.ok()) return Error("replica write failed: " + status.ToString());
  }
  return BusServer::ServiceReply{true, std::string(), true};
}

}  // namespace dynakv::cluster
