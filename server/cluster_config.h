// The [cluster] parameters: their parsers for the config table (config.cc), the member list
// syntax, and the translation of a node's config into the cluster layer's options.
//
// A member is written "id@host:port[/dc[/weight]]": the node id (stable, names the node in the
// ring and in vector clocks), its client address, optionally its datacenter and its weight
// (relative capacity: weight 2 owns about twice the keys). "n2@10.0.0.2:7000/east/2",
// "n3@[::1]:7002", "n4@h:7003//3" (no dc, weight 3). Every member's bus listens on its client
// port + cluster-port-offset.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cluster/cluster_node.h"
#include "cluster/node_info.h"
#include "config.h"

namespace dynakv::server {

// Parses "id@host:port[/dc[/weight]]" entries separated by commas (spaces around them are
// ignored); an empty text is an empty list. On failure *error names the bad entry.
bool ParseNodeList(std::string_view text, std::vector<cluster::NodeInfo>* nodes,
                   std::string* error);
std::string FormatNode(const cluster::NodeInfo& node);
// "host:port", with an IPv6 host in brackets.
std::string FormatHostPort(const cluster::NodeInfo& node);

// --- parameter parsers and formatters for config.cc's table ---------------------------------
bool ParseClusterEnabled(std::string_view value, Config* config, std::string* reason);
std::string FormatClusterEnabled(const Config& config);
bool ParseClusterNodeId(std::string_view value, Config* config, std::string* reason);
bool ParseClusterNodes(std::string_view value, Config* config, std::string* reason);
bool ParseReadConsistency(std::string_view value, Config* config, std::string* reason);
bool ParseWriteConsistency(std::string_view value, Config* config, std::string* reason);
std::string FormatReadConsistency(const Config& config);
std::string FormatWriteConsistency(const Config& config);

// Constraints between the cluster parameters, checked only when cluster mode is enabled: an id,
// a member list that includes this node at this node's port, distinct ids, bus ports in range.
bool ValidateClusterConfig(const Config& config, std::string* error);

// The cluster layer's options for this node (config must have passed ValidateClusterConfig).
cluster::ClusterOptions ToClusterOptions(const Config& config);

}  // namespace dynakv::server
