#include "anti_entropy_exchange.h"

#include <algorithm>
#include <utility>

#include "storage/engine.h"

namespace dynakv::cluster {

void AntiEntropyExchange::Start(const Env& env, std::string peer, Done done) {
  auto exchange = std::make_shared<AntiEntropyExchange>(env, std::move(peer), std::move(done));
  exchange->AskHashes();
}

AntiEntropyExchange::AntiEntropyExchange(const Env& env, std::string peer, Done done)
    : env_(env), peer_(std::move(peer)), done_(std::move(done)), walk_(ReplicaTrees::kDepth) {
  result_.peer = peer_;
}

void AntiEntropyExchange::Send(bus::FrameType type, std::string payload, Handler handler) {
  const std::size_t size = payload.size();
  auto shared = std::make_shared<const std::string>(std::move(payload));
  // The callback holds the exchange alive until the reply (or the failure) arrives.
  auto on_reply = [self = shared_from_this(), handler](PeerClient::Response response) {
    if (!response.ok) {
      self->Finish(std::move(response.error));
      return;
    }
    self->result_.bytes_received += response.payload.size();
    self->env_.stats.anti_entropy_bytes_received += response.payload.size();
    ((*self).*handler)(response.payload);
  };
  std::string error;
  if (!env_.peers.Send(peer_, type, std::move(shared), std::move(on_reply), &error)) {
    Finish(std::move(error));
    return;
  }
  result_.bytes_sent += size;
  env_.stats.anti_entropy_bytes_sent += size;
}

void AntiEntropyExchange::AskHashes() {
  ae::HashesRequest request;
  request.depth = ReplicaTrees::kDepth;
  request.level = static_cast<std::uint32_t>(walk_.level());
  request.nodes = walk_.pending();
  Send(bus::FrameType::kAeHashes, ae::EncodeHashesRequest(request),
       &AntiEntropyExchange::OnHashes);
}

void AntiEntropyExchange::OnHashes(std::string_view payload) {
  std::vector<std::uint64_t> theirs;
  if (!ae::DecodeHashes(payload, &theirs) || !walk_.Feed(env_.trees.TreeFor(peer_), theirs)) {
    ProtocolError("AE_HASHES");
    return;
  }
  if (!walk_.done()) {
    AskHashes();
    return;
  }
  leaves_ = walk_.differing_leaves();
  result_.differing_leaves = leaves_.size();
  AskKeys();
}

void AntiEntropyExchange::AskKeys() {
  if (next_leaf_ == leaves_.size()) {
    Fetch();
    return;
  }
  const std::size_t end = std::min(leaves_.size(), next_leaf_ + kLeavesPerRequest);
  asked_leaves_.assign(leaves_.begin() + static_cast<std::ptrdiff_t>(next_leaf_),
                       leaves_.begin() + static_cast<std::ptrdiff_t>(end));
  next_leaf_ = end;
  ae::KeysRequest request;
  request.depth = ReplicaTrees::kDepth;
  request.leaves = asked_leaves_;
  Send(bus::FrameType::kAeKeys, ae::EncodeKeysRequest(request), &AntiEntropyExchange::OnKeys);
}

void AntiEntropyExchange::OnKeys(std::string_view payload) {
  std::vector<std::vector<ae::KeyDigest>> lists;
  if (!ae::DecodeKeys(payload, &lists) || lists.size() != asked_leaves_.size()) {
    ProtocolError("AE_KEYS");
    return;
  }
  for (std::size_t i = 0; i < lists.size(); ++i) {
    if (!Compare(asked_leaves_[i], std::move(lists[i]))) {
      ProtocolError("AE_KEYS");
      return;
    }
  }
  AskKeys();
}

bool AntiEntropyExchange::Compare(std::uint32_t leaf, std::vector<ae::KeyDigest> theirs) {
  const MerkleTree& shape = env_.trees.TreeFor(peer_);
  const std::uint64_t lo = shape.LeafLo(leaf);
  const std::uint64_t hi = shape.LeafHi(leaf);
  for (const ae::KeyDigest& entry : theirs) {
    const std::uint64_t hash = storage::HashKey(entry.key);  // trees index by SCAN coordinate
    if (hash < lo || (hi != 0 && hash >= hi)) return false;
  }
  auto by_key = [](const ae::KeyDigest& a, const ae::KeyDigest& b) { return a.key < b.key; };
  std::sort(theirs.begin(), theirs.end(), by_key);
  const std::vector<ae::KeyDigest> mine = env_.trees.LeafKeys(peer_, leaf);
  auto their = theirs.begin();
  auto my = mine.begin();
  // A key of theirs that this node does not replicate with the peer (their view of the ring
  // differs, e.g. during a membership change) is not taken in.
  auto pull = [&](const std::string& key) {
    if (env_.trees.Shares(key, peer_)) to_fetch_.push_back(key);
  };
  while (their != theirs.end() || my != mine.end()) {
    if (my == mine.end() || (their != theirs.end() && their->key < my->key)) {
      pull(their->key);
      ++their;
    } else if (their == theirs.end() || my->key < their->key) {
      to_push_.push_back(my->key);
      ++my;
    } else {
      if (their->digest != my->digest) {
        // Both ways: fetched and merged here first, so what goes back holds both sides.
        pull(their->key);
        to_push_.push_back(my->key);
      }
      ++their;
      ++my;
    }
  }
  return true;
}

void AntiEntropyExchange::Fetch() {
  if (to_fetch_.empty()) {
    Push();
    return;
  }
  fetching_.clear();
  while (!to_fetch_.empty() && fetching_.size() < kKeysPerFetch) {
    fetching_.push_back(std::move(to_fetch_.front()));
    to_fetch_.pop_front();
  }
  Send(bus::FrameType::kAeFetch, ae::EncodeFetchRequest(fetching_),
       &AntiEntropyExchange::OnFetched);
}

void AntiEntropyExchange::OnFetched(std::string_view payload) {
  std::vector<ae::Fetched> sets;
  if (!ae::DecodeFetched(payload, &sets) || sets.size() != fetching_.size()) {
    ProtocolError("AE_FETCH");
    return;
  }
  bool progress = false;
  for (std::size_t i = 0; i < sets.size(); ++i) {
    if (sets[i].status == ae::FetchStatus::kOmitted) {
      to_fetch_.push_back(std::move(fetching_[i]));  // over the reply's budget: ask again
      continue;
    }
    progress = true;
    if (sets[i].status == ae::FetchStatus::kNone) continue;  // gone since it was listed
    SiblingSet set;
    if (!SiblingSet::Decode(sets[i].encoded_set, &set)) {
      ProtocolError("AE_FETCH");
      return;
    }
    bool changed = false;
    const storage::Status status = env_.apply(fetching_[i], set, &changed);
    if (!status.ok()) {
      Finish("local write of a repaired key failed: " + status.ToString());
      return;
    }
    if (changed) ++result_.keys_pulled;
    if (env_.replica.GetEncoded(fetching_[i]) == sets[i].encoded_set) {
      settled_.insert(fetching_[i]);
    }
  }
  // A peer that omits everything would make the exchange loop forever.
  if (!progress) {
    ProtocolError("AE_FETCH");
    return;
  }
  Fetch();
}

void AntiEntropyExchange::Push() {
  std::vector<std::pair<std::string, std::string>> batch;
  std::size_t bytes = 0;
  while (!to_push_.empty() && batch.size() < kKeysPerPush && bytes < kPushBudgetBytes) {
    std::string key = std::move(to_push_.front());
    to_push_.pop_front();
    if (settled_.contains(key)) continue;  // the peer holds exactly this copy already
    std::string encoded = env_.replica.GetEncoded(key);
    if (encoded.empty()) continue;  // gone since it was listed
    bytes += key.size() + encoded.size();
    batch.emplace_back(std::move(key), std::move(encoded));
  }
  if (batch.empty()) {
    Finish("");
    return;
  }
  std::vector<ae::KeySet> sets;
  sets.reserve(batch.size());
  for (const auto& [key, encoded] : batch) sets.push_back(ae::KeySet{key, encoded});
  pushing_ = batch.size();
  Send(bus::FrameType::kAePush, ae::EncodePush(sets), &AntiEntropyExchange::OnPushed);
}

void AntiEntropyExchange::OnPushed(std::string_view payload) {
  if (!payload.empty()) {
    ProtocolError("AE_PUSH");
    return;
  }
  result_.keys_pushed += pushing_;
  env_.stats.anti_entropy_keys_sent += pushing_;
  Push();
}

void AntiEntropyExchange::ProtocolError(const char* what) {
  ++env_.stats.bus_protocol_errors;
  Finish("node " + peer_ + " sent an invalid " + what + " reply");
}

void AntiEntropyExchange::Finish(std::string error) {
  if (finished_) return;
  finished_ = true;
  result_.ok = error.empty();
  result_.error = std::move(error);
  if (result_.ok) {
    ++env_.stats.anti_entropy_rounds;
  } else {
    ++env_.stats.anti_entropy_round_failures;
  }
  env_.stats.anti_entropy_last_round_keys = result_.keys_pulled + result_.keys_pushed;
  Done done = std::move(done_);
  done(result_);
}

}  // namespace dynakv::cluster
