// One member of the cluster as the membership layer knows it.
#pragma once

#include <functional>
#include <map>
#include <string>

namespace dynakv::cluster {

struct NodeInfo {
  // Stable identity. It, not host:port, seeds the node's ring tokens and names it in vector
  // clocks, so a node that moves to another address keeps its data ownership and history.
  std::string id;
  std::string host;
  int port = 0;
  std::string dc;    // datacenter, for multi-DC placement and LOCAL_/EACH_QUORUM
  std::string rack;  // failure domain within the dc; replicas prefer distinct racks
  int weight = 1;    // relative capacity: the node gets weight * vnodes_per_weight vnodes
};

// Replicas wanted per datacenter (NetworkTopologyStrategy's options), e.g. {dc1: 2, dc2: 1}.
using ReplicasPerDc = std::map<std::string, int, std::less<>>;

}  // namespace dynakv::cluster
