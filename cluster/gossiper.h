// Membership by gossip, as in Cassandra: every gossip_interval_ms this node bumps its heartbeat
// and sends its whole view (GOSSIP frame) to one random live member; the member merges it and
// answers with its own view, which this node merges in turn (push-pull). Sometimes a down
// member is tried too, so a healed partition or a restarted node is noticed, and sometimes a
// seed, so separate groups of nodes that only share seeds still find each other. A node started
// with nothing but a seed learns the whole cluster from it.
//
// Each heartbeat advance heard, first or second hand, feeds the failure detector, whose verdict
// (up / suspect / down) is this node's own and is never gossiped.
//
// Changes to the ring's membership are handed to the owner from a deferred task, never from
// inside bus code, so it can rebuild the ring and dial new members safely.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/cluster_node.h"
#include "cluster/failure_detector.h"
#include "cluster/gossip_message.h"
#include "cluster/member_status.h"
#include "cluster/membership.h"
#include "deferrer.h"
#include "peer_client.h"
#include "peer_pool.h"
#include "net/uv_handle.h"

namespace dynakv::cluster {

class Gossiper {
 public:
  // Every reference must outlive the gossiper. `self` is this node's own entry; `bus_port` is
  // where it listens (to recognise itself in the seed list).
  Gossiper(uv_loop_t* loop, const NodeInfo& self, int bus_port, const ClusterOptions& options,
           PeerPool& peers, Deferrer& deferrer, ClusterStats& stats);
  Gossiper(const Gossiper&) = delete;
  Gossiper& operator=(const Gossiper&) = delete;

  // Checks the members, resolves the seeds and prepares the timer. `on_membership_changed`
  // runs (deferred) whenever RingMembers() changes.
  bool Init(std::function<void()> on_membership_changed, std::string* error);
  // Starts the rounds: the first one after one interval.
  bool Start(std::string* error);
  // Stops for good; exchanges in flight are ignored when they end.
  void Close(std::shared_ptr<void> token);

  // A GOSSIP request from `from` (the connection's HELLO id): merges it and fills *reply with
  // this node's view. False with *error on a malformed payload.
  bool OnGossip(std::string_view from, std::string_view payload, std::string* reply,
                std::string* error);

  std::vector<MemberStatus> Members() const;
  // This node itself, or a member that has not left and that the detector does not hold down.
  bool IsAlive(std::string_view id) const;
  std::vector<NodeInfo> RingMembers() const { return view_.RingMembers(); }
  // Any member ever heard of (or configured), left ones included.
  bool Knows(std::string_view id) const { return view_.Find(id) != nullptr; }

  // What this node announces about itself (LEAVE: leaving, then left). The news goes out with
  // the next round, which starts at once; leaving or rejoining the ring also runs the
  // membership callback, as a change heard by gossip does.
  void SetSelfStatus(NodeStatus status);
  NodeStatus self_status() const { return view_.self().status; }

 private:
  // A seed given by address is reached through a client of its own until its first reply names
  // it; from then on, like a seed given by id, through the member's client in the PeerPool.
  struct Seed {
    std::string text;
    std::string id;  // the member id, when configured as one or learned from its reply
    std::unique_ptr<PeerClient> client;  // null once `id` is known
  };

  static void OnTick(uv_timer_t* timer);
  void Tick();
  void Round();
  void GossipToMember(const std::string& id, const std::shared_ptr<const std::string>& payload);
  // Through the member's own client once the seed's id is known.
  void GossipToSeed(std::size_t index, const std::shared_ptr<const std::string>& payload);
  void OnReply(PeerClient::Response response, std::string_view peer, std::size_t seed_index);
  void Absorb(const GossipMessage& message);
  void NoteTransitions(std::int64_t now);
  void MembershipChanged();  // runs the callback, deferred, once per batch of changes
  bool ParseSeed(const std::string& text, std::string* error);
  std::int64_t Now() const { return static_cast<std::int64_t>(uv_now(loop_)); }
  void Warn(const std::string& message) const;

  uv_loop_t* const loop_;
  const int bus_port_;
  const ClusterOptions& options_;
  PeerPool& peers_;
  Deferrer& deferrer_;
  ClusterStats& stats_;
  std::int64_t last_rejection_warning_ms_ = 0;  // Now() of the last warning about refused entries
  MembershipView view_;
  FailureDetector detector_;
  std::vector<Seed> seeds_;
  std::map<std::string, Liveness, std::less<>> last_verdict_;  // for logging transitions
  std::function<void()> on_membership_changed_;
  net::UvHandle<uv_timer_t> timer_;
  std::mt19937_64 rng_;
  std::int64_t next_round_ms_ = 0;
  bool apply_pending_ = false;
  bool closed_ = false;
};

}  // namespace dynakv::cluster
