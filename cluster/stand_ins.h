// Sloppy quorum's choice of stand-ins: when a preferred replica of a key fails a write, the
// write goes to the first healthy node clockwise past the key's preference list instead
// (Dynamo, section 4.6), which keeps it as a hint for that replica. Each stand-in serves one
// failed replica per write, so two failed replicas leave two copies on two distinct nodes.
//
// Pure bookkeeping over a Ring, so the choice is unit-tested without a network; the coordinator
// decides what "failed" means and sends the hinted writes. Candidates are copied out of the ring,
// which membership changes may replace while a write is in flight.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "cluster/quorum.h"
#include "cluster/ring.h"

namespace dynakv::cluster {

class StandIns {
 public:
  // The candidates for `key`: every member not among `preferred`, in clockwise order from the
  // key. With `same_dc` (per-dc placement) a replica is only stood in for within its own dc,
  // so LOCAL_QUORUM and EACH_QUORUM still count copies where they claim to.
  StandIns(const Ring& ring, std::string_view key, const std::vector<QuorumTarget>& preferred,
           bool same_dc);

  // The next candidate not handed out yet that may stand in for a replica in dc `owner_dc`;
  // null when none is left. Valid while this object lives.
  const QuorumTarget* Next(std::string_view owner_dc);
  std::size_t size() const { return candidates_.size(); }

 private:
  std::vector<QuorumTarget> candidates_;  // node id and dc
  std::vector<bool> used_;
  bool same_dc_;
};

}  // namespace dynakv::cluster
