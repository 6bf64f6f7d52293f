// Lists in cluster mode: a sequence CRDT (crdt/sequence.h) inside the key's versions, as sets and
// hashes hold their observed-remove states (cluster_collections.h), so concurrent pushes through
// different nodes are all kept, in one order on every replica (README: cluster mode, lists).
//
// Where the writes run. LPUSH, RPUSH, LPUSHX, RPUSHX, LPOP, RPOP, LSET, LINSERT, LREM and LTRIM
// take the set writes' path (ClusterCollections::Apply: the handler over one replica's own copy,
// no read, the new state in that replica's log file before a delta leaves), on one replica chosen
// as the blocking pops choose theirs: the key's primary, the first of its replicas in placement
// order that is alive and reachable (ListTarget). While the primary stays the same, its copy holds
// every push and pop acknowledged before, so each element is popped once and a pop finds every
// earlier acknowledged push. When nodes disagree on the primary (a partition, a failover) each
// side runs on its own: pushes on both sides are all kept, and a pop on each side may hand out the
// same element (README says exactly what is guaranteed).
//
// How a command becomes a delta. The handler's element operations (types/ops.h: what
// SnapshotKeyspace recorded) are replayed on the sequence by ApplyListOp, with this node's actor:
// pushes insert at the head or after the last element, pops and LREM remove the ids they took, LSET
// inserts the new value right after the old one and removes the old, LINSERT anchors on the pivot
// (or what precedes it), LTRIM removes from both ends. Other writes (MULTI/EXEC, scripts, DEL,
// EXPIRE, LMOVE, the blocking pops, SORT ... STORE) run through ClusterExecutor and are made into
// the same kind of delta (MakeCollectionVersion), a whole new list (a STORE, a write after
// expiry) by PushList over a reset of the elements its writer saw.
#pragma once

#include <string>
#include <string_view>

#include "cluster/cluster_node.h"
#include "command.h"
#include "crdt/sequence.h"
#include "types/list.h"
#include "types/ops.h"

namespace dynakv::server {

// The commands above (kCmdClusterConvergent on a list command's row): list writes of one key
// that run on the key's primary as deltas.
bool IsConvergentListCommand(const CommandSpec& spec);

// The replica that runs `key`'s convergent list writes: this node when it is the first replica in
// placement order that is alive (itself always is) and reachable, else that one; the first alive
// one when none is reachable, the first one when none is alive.
std::string ListTarget(const cluster::ClusterNode& node, const std::string& key);

// Replays one list operation (types/ops.h, 10-29) that a handler applied to the list `seen` holds
// (the list it read), on `seen` as `actor`, and joins what it changed into `delta`. False when
// `op` is no list operation or does not apply to `seen` (malformed, an index past the end).
bool ApplyListOp(const types::Op& op, std::string_view actor, crdt::Sequence* seen,
                 crdt::Sequence* delta);

// Appends every element of `list`, in order, to `seen` as `actor`, joining them into `delta`.
void PushList(const types::List& list, std::string_view actor, crdt::Sequence* seen,
              crdt::Sequence* delta);

// The serialized types::List (its Serialize form) of the elements `sequence` shows, in order.
std::string ListValue(const crdt::Sequence& sequence);

}  // namespace dynakv::server
