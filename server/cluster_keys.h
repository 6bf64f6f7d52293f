// The keyspace commands without keys in cluster mode: FLUSHALL / FLUSHDB empty every member
// (ClusterNode::FlushAll), and KEYS, SCAN, DBSIZE and RANDOMKEY cover the whole cluster, each
// key once: every member lists the live keys it holds (KEY_PAGE) and the coordinator keeps
// those whose primary (the first of the key's replicas in placement order that it holds alive,
// ClusterNode::PrimaryOf) is that member. A connection that said KEYSCOPE LOCAL gets this
// node's replica only, as before (an operator's view).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "command.h"

namespace dynakv::server {

class ClusterExecutor;

// Whether `ctx`'s command runs on the whole cluster: cluster mode, outside MULTI and scripts
// (which see this node's replica, as every keyless command there), and the connection has not
// asked for KEYSCOPE LOCAL.
ClusterExecutor* WholeClusterScope(CommandContext& ctx);


// FLUSHALL / FLUSHDB [ASYNC|SYNC] (arguments already checked).
void ClusterFlushAll(CommandContext& ctx, ClusterExecutor& cluster);

struct ClusterKeysRequest {
  enum class Kind { kKeys, kDbSize, kRandomKey, kScan };
  Kind kind = Kind::kKeys;
  std::string pattern = "*";
  std::optional<std::string> type;  // SCAN ... TYPE
  // SCAN: the cursor (low 8 bits: the member's index in id order; the rest: a position in that
  // member's scan, rounded up to a multiple of 256) and COUNT.
  std::uint64_t cursor = 0;
  std::uint64_t count = 10;
};
void ClusterKeys(CommandContext& ctx, ClusterExecutor& cluster, ClusterKeysRequest request);

}  // namespace dynakv::server
