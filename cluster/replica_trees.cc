#include "replica_trees.h"

#include <algorithm>
#include <utility>

#include "placement.h"
#include "storage/engine.h"

namespace dynakv::cluster {

namespace {

constexpr std::size_t kLeafScanBatch = 256;

}  // namespace

std::unique_ptr<MerkleTree> ReplicaTrees::NewTree() {
  return std::make_unique<MerkleTree>(0, 0, kDepth);
}

MerkleTree* ReplicaTrees::TreeIn(Trees& trees, std::string_view peer, bool create) {
  auto it = trees.find(peer);
  if (it != trees.end()) return it->second.get();
  if (!create) return nullptr;
  return trees.emplace(std::string(peer), NewTree()).first->second.get();
}

std::vector<const NodeInfo*> ReplicaTrees::PeersSharing(std::string_view key) const {
  std::vector<const NodeInfo*> replicas = ReplicasOf(ring_, key, options_);
  const auto self =
      std::find_if(replicas.begin(), replicas.end(),
                   [this](const NodeInfo* node) { return node->id == self_.id; });
  if (self == replicas.end()) return {};
  replicas.erase(self);
  return replicas;
}

bool ReplicaTrees::Shares(std::string_view key, std::string_view peer) const {
  const std::vector<const NodeInfo*> peers = PeersSharing(key);
  return std::any_of(peers.begin(), peers.end(),
                     [peer](const NodeInfo* node) { return node->id == peer; });
}

void ReplicaTrees::OnChange(std::string_view key, std::string_view old_encoded,
                            std::string_view new_encoded) {
  // Trees index keys by their SCAN coordinate (the engine's hash of the whole key, not the
  // ring position of its hash tag): leaves are read back by scanning the engine over a range.
  const std::uint64_t hash = storage::HashKey(key);
  const bool in_next = rebuilding_ && hash < scanned_;
  if (!ready_ && !in_next) return;  // no tree in use yet; the scan will read the key
  const std::vector<const NodeInfo*> peers = PeersSharing(key);
  if (peers.empty()) return;
  const std::uint64_t old_digest = old_encoded.empty() ? 0 : ValueDigest(old_encoded);
  const std::uint64_t new_digest = new_encoded.empty() ? 0 : ValueDigest(new_encoded);
  auto apply = [&](Trees& trees) {
    for (const NodeInfo* peer : peers) {
      const bool existed = TreeIn(trees, peer->id, false) != nullptr;
      // A missing tree never counted the old value, so there is nothing to take out of it.
      if (!existed && new_encoded.empty()) continue;
      MerkleTree* tree = TreeIn(trees, peer->id, true);
      if (existed && !old_encoded.empty()) tree->Remove(hash, old_digest);
      if (!new_encoded.empty()) tree->Add(hash, new_digest);
    }
  };
  if (ready_) apply(trees_);
  if (in_next) apply(next_);
}

void ReplicaTrees::StartRebuild() {
  next_.clear();
  scanned_ = 0;
  rebuilding_ = true;
}

bool ReplicaTrees::RebuildStep(std::size_t max_keys) {
  if (!rebuilding_) return true;
  std::vector<std::string> keys;
  const std::uint64_t next = engine_.Scan(scanned_, max_keys, &keys);
  for (const std::string& key : keys) {
    const std::vector<const NodeInfo*> peers = PeersSharing(key);
    if (peers.empty()) continue;
    const std::string encoded = replica_.GetEncoded(key);
    if (encoded.empty()) continue;
    const std::uint64_t hash = storage::HashKey(key);
    const std::uint64_t digest = ValueDigest(encoded);
    for (const NodeInfo* peer : peers) TreeIn(next_, peer->id, true)->Add(hash, digest);
  }
  if (next != 0) {
    scanned_ = next;
    return false;
  }
  trees_ = std::move(next_);
  next_.clear();
  rebuilding_ = false;
  ready_ = true;
  ++stats_.anti_entropy_tree_builds;
  return true;
}

const MerkleTree& ReplicaTrees::TreeFor(std::string_view peer) const {
  const auto it = trees_.find(peer);
  return it == trees_.end() ? empty_ : *it->second;
}

std::vector<ae::KeyDigest> ReplicaTrees::LeafKeys(std::string_view peer, std::uint32_t leaf) {
  struct Entry {
    ae::KeyDigest key;
    std::uint64_t hash;
  };
  const std::uint64_t lo = empty_.LeafLo(leaf);
  const std::uint64_t hi = empty_.LeafHi(leaf);  // 0: the end of hash space
  std::vector<Entry> entries;
  std::vector<std::string> keys;
  for (std::uint64_t cursor = lo;;) {
    keys.clear();
    const std::uint64_t next = engine_.Scan(cursor, kLeafScanBatch, &keys);
    for (std::string& key : keys) {
      const std::uint64_t hash = storage::HashKey(key);
      if (hash < lo || (hi != 0 && hash >= hi) || !Shares(key, peer)) continue;
      const std::string encoded = replica_.GetEncoded(key);
      if (encoded.empty()) continue;
      entries.push_back(Entry{ae::KeyDigest{std::move(key), ValueDigest(encoded)}, hash});
    }
    if (next == 0 || (hi != 0 && next >= hi)) break;
    cursor = next;
  }
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.key.key < b.key.key; });
  entries.erase(std::unique(entries.begin(), entries.end(),
                            [](const Entry& a, const Entry& b) { return a.key.key == b.key.key; }),
                entries.end());

  MerkleLeaf summary;
  std::vector<ae::KeyDigest> result;
  result.reserve(entries.size());
  for (Entry& entry : entries) {
    summary.Add(MerkleEntryHash(entry.hash, entry.key.digest));
    result.push_back(std::move(entry.key));
  }
  // The engine is the truth: the leaf may have drifted (a key expired, the node was flushed).
  auto correct = [&](Trees& trees) {
    if (MerkleTree* tree = TreeIn(trees, peer, summary.count > 0)) tree->SetLeaf(leaf, summary);
  };
  if (ready_) correct(trees_);
  // The rebuild's trees only once the scan has passed the whole leaf; before that, the scan
  // (plus the writes since) makes the leaf exact anyway.
  if (rebuilding_ && hi != 0 && hi <= scanned_) correct(next_);
  return result;
}

}  // namespace dynakv::cluster
