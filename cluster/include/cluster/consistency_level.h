// Consistency levels: how many replicas must acknowledge a read or write (Cassandra's names, so
// operators know them). The server turns a level into AckRequirements for a QuorumTracker.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cluster/node_info.h"

namespace dynakv::cluster {

struct ConsistencyLevel {
  // kSerial / kLocalSerial: a linearizable Paxos round among the key's replicas (all of them,
  // or those of the local dc) for the commands that take it (ClusterNode::Cas); where a path
  // has no Paxos round they count as QUORUM / LOCAL_QUORUM.
  enum class Kind { kOne, kQuorum, kAll, kCount, kLocalQuorum, kEachQuorum, kSerial, kLocalSerial };
  Kind kind = Kind::kQuorum;
  int count = 0;  // replicas, for kCount

  static constexpr int kMaxCount = 1000;
};

// Case-insensitive ONE, QUORUM, ALL, LOCAL_QUORUM, EACH_QUORUM, SERIAL, LOCAL_SERIAL, or a count
// in [1, kMaxCount].
bool ParseConsistencyLevel(std::string_view text, ConsistencyLevel* level);
std::string ToString(const ConsistencyLevel& level);
inline bool IsSerial(const ConsistencyLevel& level) {
  return level.kind == ConsistencyLevel::Kind::kSerial ||
         level.kind == ConsistencyLevel::Kind::kLocalSerial;
}

// Acks needed out of n replicas when there is no datacenter layout: ONE 1, QUORUM n/2+1, ALL n,
// a count itself. With a single datacenter LOCAL_QUORUM and EACH_QUORUM are QUORUM. The result
// may exceed n (a count larger than the replicas): such a request is unavailable, not capped.
int RequiredAcks(const ConsistencyLevel& level, int n);

// `required` successful replies from replicas in `dc`; an empty dc means any replica counts.
struct AckRequirement {
  std::string dc;
  int required = 0;
};

// The requirements of a level given the replicas per dc: ONE, QUORUM, ALL and counts apply to the
// total; LOCAL_QUORUM is a quorum of local_dc's replicas; EACH_QUORUM a quorum in every dc.
// Fails (with the reason in *error) when there are no replicas, or for LOCAL_QUORUM when
// local_dc holds none.
bool ResolveConsistency(const ConsistencyLevel& level, const ReplicasPerDc& replicas,
                        std::string_view local_dc, std::vector<AckRequirement>* requirements,
                        std::string* error);

}  // namespace dynakv::cluster
