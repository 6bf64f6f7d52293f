// Start-up checks and derived settings of a node's ClusterOptions that Ring::Build does not do
// (cluster_node.cc's Create runs them before anything listens).
#pragma once

#include <string>

#include "cluster/cluster_node.h"
#include "cluster/ring.h"

namespace dynakv::cluster {

// Checks what Ring::Build does not: that this node is a member and that the placement options
// can be met by the membership, so every request has its full set of replicas.
bool ValidateOptions(const ClusterOptions& options, const Ring& ring, std::string* error);

// tls-cluster: a member is both a TLS server (to the peers that dial it) and a client (to those
// it dials), showing the same certificate either way and verifying the peer's against the CA.
// On failure *options is unchanged.
bool BuildBusTls(ClusterOptions* options, std::string* error);

}  // namespace dynakv::cluster
