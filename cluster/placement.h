// Where a key's copies live: the one place that turns the placement options (N replicas
// anywhere, or replicas_per_dc as NetworkTopologyStrategy) into a key's replica list, so the
// coordinator, anti-entropy, hinted handoff and range streaming always agree on it.
#pragma once

#include <string_view>
#include <vector>

#include "cluster/cluster_node.h"
#include "cluster/ring.h"

namespace dynakv::cluster {

// The key's replicas in `ring` under `options` (replicas_per_dc when set, else N); pointers
// into `ring`, valid while it lives.
std::vector<const NodeInfo*> ReplicasOf(const Ring& ring, std::string_view key,
                                        const ClusterOptions& options);

}  // namespace dynakv::cluster
