// After run.sh has healed every fault and restarted every node: waits until the cluster is whole
// again, lets hinted handoff drain and runs anti-entropy until the replicas agree (bounded), then
// reads the final state the checkers judge.
#pragma once

#include <string>
#include <vector>

#include "checks.h"

namespace dynakv::faults {

struct SettleOptions {
  std::vector<std::string> nodes;  // host:port of node 1, 2, ...
  int keys = 0;
  int counters = 0;
  int collections = 0;
  std::vector<std::string> others;  // more keys whose copies must agree (FinalState::others)
  int timeout_s = 120;  // for the whole settling; what has not converged by then is reported
};

// False when a node never came back (then `final` is not filled). Progress goes to stderr.
bool Settle(const SettleOptions& options, FinalState* final);

}  // namespace dynakv::faults
