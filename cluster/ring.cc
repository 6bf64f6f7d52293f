#include "cluster/ring.h"

#include <algorithm>
#include <map>
#include <utility>

#include "cluster/hash_tag.h"
#include "storage/engine.h"

namespace dynakv::cluster {

namespace {

bool Fail(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
  return false;
}

}  // namespace

bool Ring::Build(std::vector<NodeInfo> nodes, const RingOptions& options, Ring* ring,
                 std::string* error) {
  if (options.vnodes_per_weight < 1 || options.vnodes_per_weight > kMaxVnodesPerWeight) {
    return Fail(error, "vnodes_per_weight must be between 1 and " +
                           std::to_string(kMaxVnodesPerWeight));
  }
  // Sorting by id makes node indexes, and so the tie-break between equal tokens, independent of
  // the order members were listed in.
  std::sort(nodes.begin(), nodes.end(),
            [](const NodeInfo& a, const NodeInfo& b) { return a.id < b.id; });
  std::size_t total_vnodes = 0;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const NodeInfo& node = nodes[i];
    if (node.id.empty()) return Fail(error, "node id must not be empty");
    if (i > 0 && nodes[i - 1].id == node.id) return Fail(error, "duplicate node id '" + node.id + "'");
    if (node.weight < 1 || node.weight > kMaxWeight) {
      return Fail(error, "node '" + node.id + "' weight must be between 1 and " +
                             std::to_string(kMaxWeight));
    }
    total_vnodes += static_cast<std::size_t>(node.weight) * options.vnodes_per_weight;
    if (total_vnodes > kMaxVnodes) {
      return Fail(error, "too many vnodes (more than " + std::to_string(kMaxVnodes) + ")");
    }
  }

  Ring built;
  built.options_ = options;
  built.nodes_ = std::move(nodes);
  built.vnodes_.reserve(total_vnodes);
  std::string label;
  for (std::uint32_t n = 0; n < built.nodes_.size(); ++n) {
    const NodeInfo& node = built.nodes_[n];
    const int count = node.weight * options.vnodes_per_weight;
    // Token i depends only on (id, i): raising a node's weight keeps its existing tokens, so only
    // the new ones move data.
    for (int i = 0; i < count; ++i) {
      label.assign(node.id).append("#").append(std::to_string(i));
      built.vnodes_.push_back(VNode{storage::HashKey(label), n});
    }
  }
  std::sort(built.vnodes_.begin(), built.vnodes_.end(), [](const VNode& a, const VNode& b) {
    return a.token != b.token ? a.token < b.token : a.node < b.node;
  });

  // Topology as small integers so the multi-DC walk needs no string compares.
  for (const NodeInfo& node : built.nodes_) built.dc_names_.push_back(node.dc);
  std::sort(built.dc_names_.begin(), built.dc_names_.end());
  built.dc_names_.erase(std::unique(built.dc_names_.begin(), built.dc_names_.end()),
                        built.dc_names_.end());
  built.racks_in_dc_.assign(built.dc_names_.size(), 0);
  std::map<std::pair<std::uint32_t, std::string_view>, std::uint32_t> rack_ids;
  for (const NodeInfo& node : built.nodes_) {
    const auto dc = static_cast<std::uint32_t>(
        std::lower_bound(built.dc_names_.begin(), built.dc_names_.end(), node.dc) -
        built.dc_names_.begin());
    auto [it, inserted] = rack_ids.emplace(std::make_pair(dc, std::string_view(node.rack)),
                                           static_cast<std::uint32_t>(rack_ids.size()));
    if (inserted) ++built.racks_in_dc_[dc];
    built.node_dc_.push_back(dc);
    built.node_rack_.push_back(it->second);
  }
  *ring = std::move(built);
  return true;
}

bool Ring::WithNode(const NodeInfo& node, Ring* ring, std::string* error) const {
  std::vector<NodeInfo> members = nodes_;
  members.push_back(node);
  return Build(std::move(members), options_, ring, error);
}

bool Ring::WithoutNode(std::string_view id, Ring* ring, std::string* error) const {
  if (Find(id) == nullptr) return Fail(error, "no node '" + std::string(id) + "' in the ring");
  std::vector<NodeInfo> members;
  members.reserve(nodes_.size() - 1);
  for (const NodeInfo& node : nodes_) {
    if (node.id != id) members.push_back(node);
  }
  return Build(std::move(members), options_, ring, error);
}

// Only the hash tag is hashed (Redis Cluster's rule), so every path that places a key (the
// coordinator, hinted handoff, anti-entropy's choice of peers, range streaming) agrees that
// keys sharing a tag share their replicas.
std::uint64_t Ring::Position(std::string_view key) { return storage::HashKey(HashTag(key)); }

std::size_t Ring::FirstVnodeAt(std::uint64_t position) const {
  auto it = std::lower_bound(vnodes_.begin(), vnodes_.end(), position,
                             [](const VNode& v, std::uint64_t p) { return v.token < p; });
  // Past the last token the circle wraps to the first.
  return it == vnodes_.end() ? 0 : static_cast<std::size_t>(it - vnodes_.begin());
}

std::vector<const NodeInfo*> Ring::PreferenceList(std::string_view key, int n) const {
  return PreferenceListAt(Position(key), n);
}

std::vector<const NodeInfo*> Ring::PreferenceListAt(std::uint64_t position, int n) const {
  std::vector<const NodeInfo*> result;
  if (vnodes_.empty() || n <= 0) return result;
  const std::size_t wanted = std::min<std::size_t>(static_cast<std::size_t>(n), nodes_.size());
  result.reserve(wanted);
  std::size_t index = FirstVnodeAt(position);
  // One lap at most; each member has at least one vnode, so a lap finds `wanted` nodes.
  for (std::size_t step = 0; step < vnodes_.size() && result.size() < wanted; ++step) {
    const NodeInfo* node = &nodes_[vnodes_[index].node];
    // `wanted` is a replication factor (small), so a linear scan beats a set.
    if (std::find(result.begin(), result.end(), node) == result.end()) result.push_back(node);
    if (++index == vnodes_.size()) index = 0;
  }
  return result;
}

std::vector<const NodeInfo*> Ring::PreferenceList(std::string_view key,
                                                  const ReplicasPerDc& replicas) const {
  return PreferenceListAt(Position(key), replicas);
}

std::vector<const NodeInfo*> Ring::PreferenceListAt(std::uint64_t position,
                                                    const ReplicasPerDc& replicas) const {
  struct DcState {
    std::size_t wanted = 0;
    std::size_t taken = 0;
    std::uint32_t racks_seen = 0;
    std::vector<std::uint32_t> skipped;  // same-rack nodes held back, in ring order
  };
  std::vector<DcState> dcs(dc_names_.size());
  std::vector<std::size_t> nodes_in_dc(dc_names_.size(), 0);
  for (std::uint32_t dc : node_dc_) ++nodes_in_dc[dc];
  std::size_t remaining = 0;
  for (std::size_t dc = 0; dc < dcs.size(); ++dc) {
    auto it = replicas.find(dc_names_[dc]);
    if (it == replicas.end() || it->second <= 0) continue;
    dcs[dc].wanted = std::min<std::size_t>(static_cast<std::size_t>(it->second), nodes_in_dc[dc]);
    remaining += dcs[dc].wanted;
  }

  std::vector<const NodeInfo*> result;
  if (remaining == 0 || vnodes_.empty()) return result;
  result.reserve(remaining);
  std::vector<bool> visited(nodes_.size(), false);
  std::vector<bool> rack_seen(nodes_.size(), false);  // rack ids are < the node count
  auto take = [&](std::uint32_t node, DcState& state) {
    result.push_back(&nodes_[node]);
    ++state.taken;
    --remaining;
  };

  std::size_t index = FirstVnodeAt(position);
  for (std::size_t step = 0; step < vnodes_.size() && remaining > 0; ++step) {
    const std::uint32_t node = vnodes_[index].node;
    if (++index == vnodes_.size()) index = 0;
    DcState& state = dcs[node_dc_[node]];
    if (visited[node] || state.taken >= state.wanted) continue;
    visited[node] = true;
    const std::uint32_t dc = node_dc_[node];
    if (state.racks_seen == racks_in_dc_[dc]) {
      take(node, state);  // every rack of this dc already holds a copy: any node will do
    } else if (!rack_seen[node_rack_[node]]) {
      rack_seen[node_rack_[node]] = true;
      ++state.racks_seen;
      take(node, state);
      if (state.racks_seen == racks_in_dc_[dc]) {
        // Racks exhausted: the held-back nodes are next in line, in the order they were met.
        for (std::uint32_t held : state.skipped) {
          if (state.taken >= state.wanted) break;
          take(held, state);
        }
        state.skipped.clear();
      }
    } else {
      state.skipped.push_back(node);
    }
  }
  return result;
}

const NodeInfo* Ring::Primary(std::string_view key) const {
  if (vnodes_.empty()) return nullptr;
  return &nodes_[vnodes_[FirstVnodeAt(Position(key))].node];
}

std::vector<NodeOwnership> Ring::Owners() const {
  std::vector<NodeOwnership> owners;
  owners.reserve(nodes_.size());
  for (const NodeInfo& node : nodes_) owners.push_back(NodeOwnership{&node, 0, 0.0});
  if (vnodes_.empty()) return owners;
  constexpr double kCircle = 18446744073709551616.0;  // 2^64
  for (std::size_t i = 0; i < vnodes_.size(); ++i) {
    // A token owns the arc after its predecessor up to itself; unsigned subtraction wraps
    // around the circle for the first token.
    const std::uint64_t previous = vnodes_[i == 0 ? vnodes_.size() - 1 : i - 1].token;
    const double arc = vnodes_.size() == 1 ? kCircle
                                           : static_cast<double>(vnodes_[i].token - previous);
    NodeOwnership& owner = owners[vnodes_[i].node];
    ++owner.vnodes;
    owner.fraction += arc / kCircle;
  }
  return owners;
}

const NodeInfo* Ring::Find(std::string_view id) const {
  auto it = std::lower_bound(nodes_.begin(), nodes_.end(), id,
                             [](const NodeInfo& n, std::string_view v) { return n.id < v; });
  return it != nodes_.end() && it->id == id ? &*it : nullptr;
}

}  // namespace dynakv::cluster
