#include "cluster/member_status.h"

namespace dynakv::cluster {

const char* MemberStateName(MemberState state) {
  switch (state) {
    case MemberState::kUp:
      return "up";
    case MemberState::kSuspect:
      return "suspect";
    case MemberState::kDown:
      return "down";
    case MemberState::kLeaving:
      return "leaving";
    case MemberState::kLeft:
      return "left";
  }
  return "?";
}

MemberState CombineState(NodeStatus status, Liveness liveness) {
  if (status == NodeStatus::kLeft) return MemberState::kLeft;
  if (liveness == Liveness::kDown) return MemberState::kDown;
  if (liveness == Liveness::kSuspect) return MemberState::kSuspect;
  return status == NodeStatus::kLeaving ? MemberState::kLeaving : MemberState::kUp;
}

}  // namespace dynakv::cluster
