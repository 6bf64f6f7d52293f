// One member as this node sees it, for RING / INFO: what the member announced (gossip) and what
// this node's failure detector makes of its heartbeat.
#pragma once

#include <cstdint>

#include "cluster/failure_detector.h"
#include "cluster/membership.h"
#include "cluster/node_info.h"

namespace dynakv::cluster {

enum class MemberState { kUp, kSuspect, kDown, kLeaving, kLeft };
const char* MemberStateName(MemberState state);  // "up", "suspect", "down", "leaving", "left"

// A member that left is "left" whatever its heartbeat; otherwise being down or suspected
// matters more to an operator than being in the middle of leaving.
MemberState CombineState(NodeStatus status, Liveness liveness);

struct MemberStatus {
  NodeInfo node;
  MemberState state = MemberState::kUp;
  bool self = false;
  std::int64_t generation = 0;  // its start time (unix ms); 0: never heard from
  std::uint64_t heartbeat = 0;
  double phi = 0;               // this node's suspicion of it (0 for itself)
  std::int64_t silence_ms = 0;  // since its heartbeat last advanced here (0 for itself)
};

}  // namespace dynakv::cluster
