#include "cluster/membership.h"

#include <algorithm>
#include <limits>
#include <tuple>
#include <utility>

#include "cluster/ring.h"

namespace dynakv::cluster {

namespace {

bool SamePlacement(const NodeInfo& a, const NodeInfo& b) {
  return a.host == b.host && a.port == b.port && a.dc == b.dc && a.rack == b.rack &&
         a.weight == b.weight;
}

bool CheckName(std::string_view what, const std::string& name, bool required, std::string* error) {
  if (required && name.empty()) {
    *error = std::string(what) + " is empty";
    return false;
  }
  if (name.size() > kMaxNameBytes) {
    *error = std::string(what) + " is longer than " + std::to_string(kMaxNameBytes) + " bytes";
    return false;
  }
  return true;
}

}  // namespace

const char* NodeStatusName(NodeStatus status) {
  switch (status) {
    case NodeStatus::kNormal:
      return "normal";
    case NodeStatus::kLeaving:
      return "leaving";
    case NodeStatus::kLeft:
      return "left";
  }
  return "?";
}

bool ValidateEntry(const GossipEntry& entry, std::string* error) {
  const NodeInfo& info = entry.info;
  if (!CheckName("node id", info.id, true, error)) return false;
  const std::string who = "node '" + info.id + "': ";
  if (!CheckName(who + "host", info.host, true, error) ||
      !CheckName(who + "dc", info.dc, false, error) ||
      !CheckName(who + "rack", info.rack, false, error)) {
    return false;
  }
  if (info.port < 1 || info.port > 65535) {
    *error = who + "port " + std::to_string(info.port) + " is out of range";
    return false;
  }
  if (info.weight < 1 || info.weight > Ring::kMaxWeight) {
    *error = who + "weight " + std::to_string(info.weight) + " is outside [1, " +
             std::to_string(Ring::kMaxWeight) + "]";
    return false;
  }
  if (entry.generation < 0) {
    *error = who + "negative generation";
    return false;
  }
  if (entry.status != NodeStatus::kNormal && entry.status != NodeStatus::kLeaving &&
      entry.status != NodeStatus::kLeft) {
    *error = who + "unknown status " + std::to_string(static_cast<int>(entry.status));
    return false;
  }
  return true;
}

bool Supersedes(const GossipEntry& a, const GossipEntry& b) {
  return std::tie(a.generation, a.heartbeat, a.version) >
         std::tie(b.generation, b.heartbeat, b.version);
}

MembershipView::MembershipView(GossipEntry self, const std::vector<NodeInfo>& members)
    : self_id_(self.info.id) {
  for (const NodeInfo& member : members) {
    if (member.id == self_id_) continue;
    GossipEntry entry;
    entry.info = member;
    entries_.emplace(member.id, std::move(entry));
  }
  entries_[self_id_] = std::move(self);
}

const GossipEntry* MembershipView::Find(std::string_view id) const {
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : &it->second;
}

void MembershipView::BeatHeart() { ++entries_.at(self_id_).heartbeat; }

void MembershipView::SetSelfStatus(NodeStatus status) {
  GossipEntry& self = entries_.at(self_id_);
  if (self.status == status) return;
  self.status = status;
  ++self.version;
}

namespace {

// Why `entry` cannot be true under `bounds` ("" when it can).
std::string ImpossibleEntry(const GossipEntry& entry, const MergeBounds& bounds) {
  if (bounds.max_weight > 0 && entry.info.weight > bounds.max_weight) {
    return "member " + entry.info.id + " announced weight " + std::to_string(entry.info.weight) +
           ", above cluster-max-weight (" + std::to_string(bounds.max_weight) + ")";
  }
  if (bounds.now_ms <= 0) return {};
  const std::int64_t latest_start = bounds.now_ms + bounds.max_clock_skew_ms;
  if (entry.generation > latest_start) {
    return "member " + entry.info.id + " announced generation " + std::to_string(entry.generation) +
           ", a start time in the future";
  }
  if (entry.generation <= 0) return {};
  const auto most_beats = static_cast<std::uint64_t>(latest_start - entry.generation);
  if (entry.heartbeat > most_beats || entry.version > most_beats) {
    return "member " + entry.info.id + " announced heartbeat " + std::to_string(entry.heartbeat) +
           " / version " + std::to_string(entry.version) + ", more than the " +
           std::to_string(most_beats) + " ms since its start";
  }
  return {};
}

}  // namespace

MembershipView::MergeResult MembershipView::Merge(const std::vector<GossipEntry>& remote,
                                                  const MergeBounds& bounds) {
  MergeResult result;
  for (const GossipEntry& theirs : remote) {
    if (std::string why = ImpossibleEntry(theirs, bounds); !why.empty()) {
      result.rejected.push_back(std::move(why));
      continue;
    }
    auto it = entries_.find(theirs.info.id);
    if (it == entries_.end()) {
      entries_.emplace(theirs.info.id, theirs);
      result.heard.push_back(theirs.info.id);
      if (theirs.status != NodeStatus::kLeft) result.membership_changed = true;
      continue;
    }
    GossipEntry& ours = it->second;
    if (!Supersedes(theirs, ours)) continue;
    if (!bounds.sender.empty() && ours.status == NodeStatus::kNormal &&
        theirs.status != NodeStatus::kNormal && theirs.info.id != bounds.sender &&
        theirs.info.id != self_id_ &&
        !(bounds.presumed_gone && bounds.presumed_gone(theirs.info.id))) {
      result.rejected.push_back(std::string(bounds.sender) + " relayed that " + theirs.info.id +
                                " is " + NodeStatusName(theirs.status) +
                                ", which only that member may announce while it is alive");
      continue;
    }
    if (theirs.info.id == self_id_) {
      // Only this process speaks for its id: outbid the stale claim rather than adopt it. A claim
      // that cannot be outbid is ignored rather than wrapped around.
      if (theirs.generation == std::numeric_limits<std::int64_t>::max()) {
        result.rejected.push_back("a claim on this node's id with the largest generation");
        continue;
      }
      ours.generation = std::max(ours.generation, theirs.generation) + 1;
      ++ours.version;
      result.self_superseded = true;
      continue;
    }
    if (theirs.generation != ours.generation && ours.generation != 0) {
      result.restarted.push_back(theirs.info.id);
    } else if (theirs.generation != ours.generation || theirs.heartbeat != ours.heartbeat) {
      result.heard.push_back(theirs.info.id);
    }
    const bool was_member = ours.status != NodeStatus::kLeft;
    const bool is_member = theirs.status != NodeStatus::kLeft;
    if (was_member != is_member || (is_member && !SamePlacement(ours.info, theirs.info))) {
      result.membership_changed = true;
    }
    ours = theirs;
  }
  return result;
}

std::vector<NodeInfo> MembershipView::RingMembers() const {
  std::vector<NodeInfo> members;
  for (const auto& [id, entry] : entries_) {
    if (entry.status != NodeStatus::kLeft) members.push_back(entry.info);
  }
  return members;
}

}  // namespace dynakv::cluster
