// The membership view that gossip spreads: per member, what the member itself last announced
// (address, dc, weight, status) stamped with its generation (its start time, so a restarted
// process is told apart from its predecessor) and a heartbeat counter it bumps every gossip
// round. Only a member changes its own entry; everyone else copies the freshest copy they hear
// of. Freshness is (generation, heartbeat, version), compared in that order, so merging views
// in any order, any number of times, converges to the same view (it is a join: commutative,
// associative, idempotent).
//
// Whether a member is up is NOT gossiped: each node judges that itself from how its heartbeat
// advances (FailureDetector), as Cassandra does, so one node's bad link does not convict a
// member everywhere.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/node_info.h"

namespace dynakv::cluster {

// What a member announces about its place in the ring.
enum class NodeStatus : std::uint8_t {
  kNormal = 0,
  kLeaving = 1,  // handing its ranges over; still a ring member
  kLeft = 2,     // gone for good; no longer a ring member
};
const char* NodeStatusName(NodeStatus status);  // "normal", "leaving", "left"

struct GossipEntry {
  NodeInfo info;
  // The member's start time (unix ms). 0: known from configuration only, never heard from.
  std::int64_t generation = 0;
  std::uint64_t heartbeat = 0;  // bumped by the member every gossip round
  std::uint64_t version = 0;    // bumped by the member when its info or status changes
  NodeStatus status = NodeStatus::kNormal;
};

// Bounds every entry must meet, in configuration and on the wire alike.
constexpr std::size_t kMaxNameBytes = 255;  // id, host, dc, rack
// Checks an entry (its info: non-empty id and host, port in [1, 65535], weight in
// [1, Ring::kMaxWeight], names within kMaxNameBytes; a valid status).
bool ValidateEntry(const GossipEntry& entry, std::string* error);

// Whether `a` is a later state of the member than `b`.
bool Supersedes(const GossipEntry& a, const GossipEntry& b);

// What a member can truthfully announce, judged by this node's wall clock. A generation is a
// start time, so it cannot lie in the future; a member beats its heart (and bumps its version)
// at most once per gossip round, at most once a millisecond, since it started. An entry beyond
// that is a forgery or a broken peer: taking it would let one frame evict a member for good
// (a generation of INT64_MAX can never be outbid). now_ms 0: no bounds.
struct MergeBounds {
  std::int64_t now_ms = 0;
  std::int64_t max_clock_skew_ms = 0;
  int max_weight = 0;  // a larger announced weight is refused; 0: only ValidateEntry's bound
  // Who sent the entries (empty: not checked). Only a member itself may say it is leaving or
  // has left: relayed news of a normal member going is taken only once `presumed_gone` (this
  // node's failure detector holds it down) says the member stopped talking anyway. A leaving
  // member tells everyone directly (Gossiper::Round), so views still converge at once.
  std::string_view sender;
  std::function<bool(std::string_view id)> presumed_gone;
};

class MembershipView {
 public:
  using Entries = std::map<std::string, GossipEntry, std::less<>>;

  // `self` is this node's own entry (its generation set); `members` (configuration) seed the
  // view with generation-0 entries, this node's own id skipped. Entries must be valid.
  MembershipView(GossipEntry self, const std::vector<NodeInfo>& members);

  const GossipEntry& self() const { return entries_.at(self_id_); }
  const std::string& self_id() const { return self_id_; }
  const Entries& entries() const { return entries_; }  // this node included
  const GossipEntry* Find(std::string_view id) const;

  void BeatHeart();
  void SetSelfStatus(NodeStatus status);

  struct MergeResult {
    std::vector<std::string> rejected;   // why entries were refused (Bounds)
    std::vector<std::string> heard;      // heartbeat advanced, or first heard of
    std::vector<std::string> restarted;  // heard with a new generation (a restarted process)
    // The ring's members or their placement or address changed.
    bool membership_changed = false;
    // Someone holds a newer entry under this node's id (a previous incarnation with a clock
    // ahead, or a second process misconfigured with the same id): this node moved its
    // generation past it, so its own announcements win again.
    bool self_superseded = false;
  };
  // Takes every remote entry fresher than the local one, unless it breaks `bounds`.
  MergeResult Merge(const std::vector<GossipEntry>& remote, const MergeBounds& bounds = {});

  // Members that hold ranges: all but those that left, in id order.
  std::vector<NodeInfo> RingMembers() const;

 private:
  std::string self_id_;
  Entries entries_;
};

}  // namespace dynakv::cluster
