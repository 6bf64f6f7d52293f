// The coordinator side of per-key Paxos (cluster/paxos.h): ClusterNode::Cas.
//
// A round: a fresh ballot (hybrid clock, past every ballot seen refused), PREPARE to every
// participant (the key's replicas; for LOCAL_SERIAL those of this node's dc), and once a
// majority promised:
//   - a proposal some promise shows accepted and newer than every commit the promises show is
//     re-proposed under this ballot and committed first (whoever started it), then a new round
//     begins: a coordinator that died mid-round leaves nothing half-applied;
//   - otherwise the command runs over the reconciled copies of the promises (a majority's
//     read), and its result is proposed (a no-op when it changes nothing) and, once a majority
//     accepted, committed: merged into every replica as an ordinary write. The reply waits for
//     a majority of the participants to have the commit.
// A refused ballot or proposal (contention) starts a new round after a random backoff, until
// the request timeout. Retrying cannot apply a command twice: every attempt's new version has
// a dot of this node, and before computing again the round checks whether the read already
// covers an earlier attempt's dot (some round completed it); then that attempt's outcome is the
// answer. Key locks of the layer above keep this node's other writes of the key out meanwhile.
//
// Keys with a hash tag run on their tag's instance (paxos.h): the prepare names every key the
// command reads (a transaction's), and the proposal carries every key it changes, committed on
// each replica as one atomic group.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "cluster/cluster_node.h"
#include "cluster/hybrid_clock.h"
#include "cluster/paxos.h"
#include "deferrer.h"
#include "paxos_service.h"
#include "peer_pool.h"
#include "replica_service.h"

namespace dynakv::cluster {

class PaxosProposer {
 public:
  // Every reference must outlive the proposer. `alive` tells whether a member is up (the
  // failure detector), for the up-front availability check.
  PaxosProposer(uv_loop_t* loop, const NodeInfo& self, const Ring& ring,
                const ClusterOptions& options, ReplicaService& replica, PaxosService& service,
                PeerPool& peers, Deferrer& deferrer, HybridClock& clock, ClusterStats& stats,
                std::function<bool(std::string_view)> alive);
  PaxosProposer(const PaxosProposer&) = delete;
  PaxosProposer& operator=(const PaxosProposer&) = delete;
  ~PaxosProposer();

  void Cas(std::string key, bool local_dc, CasCompute compute, std::function<void(CasResult)> done,
           std::shared_ptr<WriteProgress> progress = nullptr);
  // Several keys of one tag as one round of the tag's instance (ClusterNode::CasGroup).
  void CasGroup(std::vector<std::string> keys, bool local_dc, CasGroupCompute compute,
                std::function<void(CasResult)> done,
                std::shared_ptr<WriteProgress> progress = nullptr);
  void SetFailpoint(PaxosFailpoint failpoint) { failpoint_ = failpoint; }
  // The node is stopping: rounds in flight fail, their timers close holding `token`.
  void Stop(std::shared_ptr<void> token);

 private:
  struct Op;
  using OpPtr = std::shared_ptr<Op>;
  struct Tally;

  void StartRound(const OpPtr& op);
  void OnPromises(const OpPtr& op);
  // Merges a promise's copy (or copies, for a group) into `current`, one set per op key.
  // False when a copy does not decode (the others still count).
  static bool MergeCopies(const Op& op, const std::string& encoded,
                          std::vector<SiblingSet>* current);
  // Sends `type` with `payload` to every participant (and for a commit, the other replicas
  // too); `each` gets every participant's answer of this round, in arrival order, and `every`
  // (when set) every target's answer, first.
  void Broadcast(const OpPtr& op, bus::FrameType type, std::string payload, bool all_replicas,
                 std::function<void(const std::string& node, PeerClient::Response)> each,
                 std::function<void(const PeerClient::Response&)> every = nullptr);
  // Proposes `proposal` under op's ballot; `accepted` runs once a majority accepted it, else
  // the round is retried (or the op fails).
  void Propose(const OpPtr& op, paxos::Proposal proposal, std::function<void()> accepted);
  // Commits `proposal` on every replica; `committed` runs once a majority has it, or once all
  // answered unless `need_majority` (then the round fails, UNAVAILABLE or outcome unknown). The
  // op's `progress` (WAIT) counts every replica that acknowledges a commit of its own proposal.
  void Commit(const OpPtr& op, paxos::Proposal proposal, bool need_majority,
              std::function<void()> committed);
  // A phase fell short: contention (a refusal) retries after a backoff, missing replicas fail.
  void Retry(const OpPtr& op, bool refused, const std::string& failure);
  void Finish(const OpPtr& op, CasResult result);
  std::string UnknownOutcome(const std::string& why) const;

  uv_loop_t* const loop_;
  const NodeInfo& self_;
  const Ring& ring_;
  const ClusterOptions& options_;
  ReplicaService& replica_;
  PaxosService& service_;
  PeerPool& peers_;
  Deferrer& deferrer_;
  HybridClock& clock_;
  ClusterStats& stats_;
  std::function<bool(std::string_view)> alive_;
  std::mt19937_64 rng_;
  std::set<OpPtr> ops_;
  PaxosFailpoint failpoint_ = PaxosFailpoint::kNone;
  bool stopped_ = false;
};

}  // namespace dynakv::cluster
