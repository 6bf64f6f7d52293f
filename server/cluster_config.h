// The [cluster] parameters: their parsers for the config table (config.cc), the member list
// syntax, and the translation of a node's config into the cluster layer's options.
//
// A member is written "id@host:port[/dc[/weight]]": the node id (stable, names the node in the
// ring and in vector clocks), its client address, optionally its datacenter and its weight
// (relative capacity: weight 2 owns about twice the keys). "n2@10.0.0.2:7000/east/2",
// "n3@[::1]:7002", "n4@h:7003//3" (no dc, weight 3). Every member's bus listens on its client
// port + cluster-port-offset.
//
// Seeds (cluster-seeds) are "host:bus-port" ("[v6]:bus-port") or ids of listed members. With
// seeds, cluster-nodes may list only this node: the rest of the membership is learned by gossip,
// so the replication factor (or a dc's replica count) may exceed the members listed.
// cluster-replicas-per-dc ("dc1:2,dc2:1") places that many replicas in each named dc (members
// name their dc in cluster-nodes) and replaces cluster-replication-factor.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cluster/cluster_node.h"
#include "cluster/node_info.h"
#include "config.h"
#include "net/tls_context.h"

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
// cluster-conditional-write-consistency: write (follow cluster-write-consistency), serial or
// local_serial.
bool ParseConditionalWriteConsistency(std::string_view value, Config* config,
                                      std::string* reason);
std::string FormatConditionalWriteConsistency(const Config& config);
bool ParseClusterSeeds(std::string_view value, Config* config, std::string* reason);
bool ParseReadRepairChance(std::string_view value, Config* config, std::string* reason);
std::string FormatReadRepairChance(const Config& config);
bool ParsePhiThreshold(std::string_view value, Config* config, std::string* reason);
std::string FormatPhiThreshold(const Config& config);
bool ParseSloppyQuorum(std::string_view value, Config* config, std::string* reason);
std::string FormatSloppyQuorum(const Config& config);
bool ParseReplicasPerDc(std::string_view value, Config* config, std::string* reason);
std::string FormatReplicasPerDc(const Config& config);

// N: the replicas of every key (the sum of cluster-replicas-per-dc when that is set).
int EffectiveReplicationFactor(const Config& config);

// Constraints between the cluster parameters, checked only when cluster mode is enabled: an id,
// a member list that includes this node at this node's port, distinct ids, bus ports in range,
// seeds naming listed members, and (without seeds) enough members for the replicas wanted.
bool ValidateClusterConfig(const Config& config, std::string* error);

// The cluster layer's options for this node (config must have passed ValidateClusterConfig).
cluster::ClusterOptions ToClusterOptions(const Config& config);
// tls-cluster: the bus's TLS settings, from the same tls-* parameters as the client port.
net::TlsOptions BusTlsOptions(const Config& config);

}  // namespace dynakv::server
