// MULTI/EXEC and WATCH in cluster mode, at the coordinator (README "Transactions and scripts in
// cluster mode"). Queuing is the dispatcher's, as on a single node, plus Redis Cluster's rule
// that a command's keys share a hash tag (QueueRefusalInCluster). EXEC runs the whole queue as
// one ClusterExecutor::RunAtomic operation over the keys of every queued command and of every
// watched key: locked, read at the connection's R, run in order against one snapshot, written
// at W. WATCH reads its keys and keeps what their replicas held; EXEC replies nil when a new
// read differs.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "command.h"

namespace dynakv::server {

class ClusterExecutor;

// Why a command may not be queued by MULTI in cluster mode ("" when it may): its keys of
// different hash tags (CROSSSLOT), a per-request R/W option (EXEC uses the connection's
// levels), a command that talks to the replicas itself (VGET, VSET: they cannot share EXEC's
// snapshot; EVAL and FCALL run inline against it).
std::string QueueRefusalInCluster(const CommandSpec& spec,
                                  const std::vector<std::string_view>& argv,
                                  bool has_request_levels);

// The handlers' cluster-mode halves: ctx.client is in (EXEC) or out of (WATCH) a transaction
// as the single-node handler checked.
void WatchInCluster(CommandContext& ctx, ClusterExecutor& cluster);
void ExecInCluster(CommandContext& ctx, ClusterExecutor& cluster);

}  // namespace dynakv::server
