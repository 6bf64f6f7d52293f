// The coordinator side: a client's write of one key goes to every one of the key's replicas (the
// ring's preference list, this node included when it is one), a read to as many as its level
// needs (another in place of each that fails; all of them with read_repair_chance). Each
// succeeds as soon as the consistency level is met, and fails once every replica has answered
// or timed out without meeting it (so the error counts every ack). A read is followed to its
// end: it keeps collecting late replies, and once every asked replica has answered or timed out,
// those whose copy differs from the merged set are sent it (read repair).
//
// Replicas answer through PeerClient callbacks; the client's callback always goes through the
// Deferrer, so it never runs inside Read/Write or inside bus code.
#pragma once

#include <functional>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/cluster_node.h"
#include "cluster/consistency_level.h"
#include "cluster/hybrid_clock.h"
#include "cluster/quorum.h"
#include "cluster/ring.h"
#include "cluster/versioned_value.h"
#include "deferrer.h"
#include "peer_pool.h"
#include "replica_service.h"

namespace dynakv::cluster {

class Coordinator {
 public:
  // Every reference must outlive the coordinator; `self` is this node's entry in `ring`.
  Coordinator(const NodeInfo& self, const Ring& ring, const ClusterOptions& options,
              ReplicaService& local, PeerPool& peers, Deferrer& deferrer, HybridClock& clock,
              ClusterStats& stats)
      : self_(self),
        ring_(ring),
        options_(options),
        local_(local),
        peers_(peers),
        deferrer_(deferrer),
        clock_(clock),
        stats_(stats),
        rng_(std::random_device{}() ^ std::hash<std::string>{}(self.id)) {}
  Coordinator(const Coordinator&) = delete;
  Coordinator& operator=(const Coordinator&) = delete;

  void Read(std::string key, const ConsistencyLevel& level, std::function<void(ReadResult)> done);
  void Write(std::string key, const SiblingSet& siblings, const ConsistencyLevel& level,
             std::function<void(WriteResult)> done,
             std::shared_ptr<WriteProgress> progress = nullptr);
  // ClusterNode::WriteBatch.
  void WriteBatch(std::vector<KeyedSet> writes, const ConsistencyLevel& level,
                  std::function<void(WriteResult)> done,
                  std::shared_ptr<WriteProgress> progress = nullptr);
  // The node is stopping: new requests fail at once.
  void Stop() { stopped_ = true; }

 private:
  struct Plan {
    std::vector<QuorumTarget> targets;
    std::vector<AckRequirement> requirements;
  };
  // One replica's answer to a read: its copy (empty set and bytes when it has none).
  struct Copy {
    std::string node;
    std::string encoded;
    SiblingSet set;
  };
  struct ReadOp;
  struct WriteOp;

  bool MakePlan(std::string_view key, const ConsistencyLevel& level, Plan* plan,
                std::string* error) const;
  // Sends the read to op->targets[index] (already counted as asked), or reads the local copy.
  void Ask(const std::shared_ptr<ReadOp>& op, std::size_t index);
  // Asks a target not asked yet, one in `dc` when there is one; none left: nothing.
  void AskAnother(const std::shared_ptr<ReadOp>& op, std::string_view dc);
  // op->targets[index]'s answer; a null copy means it failed (error, timeout, unreachable).
  void OnReadReply(const std::shared_ptr<ReadOp>& op, std::size_t index, Copy* copy);
  void RepairStale(const ReadOp& op);
  void OnWriteReply(const std::shared_ptr<WriteOp>& op, const std::string& node, bool ok);
  // One more replica holds the write `progress` follows (when there is one).
  void Replicated(const std::shared_ptr<WriteProgress>& progress);
  // Preferred replica `owner` failed the write (`tries` stand-ins already failed it too): under
  // sloppy quorum the next stand-in gets it as a hint, and its ack is reported as the owner's;
  // the owner fails only when no stand-in takes it.
  void StandIn(const std::shared_ptr<WriteOp>& op, const std::string& owner, int tries);
  // Sends the hinted write to `stand_in` (or keeps it here); false when it could not go out.
  bool SendHinted(const std::shared_ptr<WriteOp>& op, const std::string& owner,
                  const std::string& stand_in, int tries);
  // Hands the outcome to the client's callback (through the deferrer).
  void AnswerRead(ReadOp& op);
  void AnswerWrite(WriteOp& op);
  // Decodes a REPLICA_GET reply; false when it is not a valid one.
  bool DecodeCopy(const std::string& node, std::string_view payload, Copy* copy);

  const NodeInfo& self_;
  const Ring& ring_;
  const ClusterOptions& options_;
  ReplicaService& local_;
  PeerPool& peers_;
  Deferrer& deferrer_;
  HybridClock& clock_;
  ClusterStats& stats_;
  std::mt19937_64 rng_;  // for read_repair_chance
  bool stopped_ = false;
};

}  // namespace dynakv::cluster
