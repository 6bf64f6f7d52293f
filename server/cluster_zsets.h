// Sorted sets and HyperLogLogs in cluster mode (README: cluster mode, convergent collections):
// how a command's effect on one becomes a delta of its convergent form
// (cluster/collection_state.h), the parts of MakeCollectionVersion (cluster_collections.h) that are
// theirs.
//
// Sorted sets (crdt/or_sorted_set.h): a member added (ZADD, a store) is an assignment of its
// score, by the writer's actor at the version's hybrid time, replacing the writes of the member
// the writer saw; a member removed (ZREM, a pop, a range removal) drops what the writer saw of it.
// ZINCRBY, and ZADD with INCR, add to the actor's own total in the member instead of assigning
// the result, so increments through different nodes all count.
//
// HyperLogLogs (crdt/hll_state.h): an HLL is a Redis string, so a write is one when it leaves a
// string Redis reads as a valid HLL (PFADD and PFMERGE, a SET or RESTORE of HLL bytes). Its
// registers raise the key's (a register-wise max), unless it lowers one the writer saw (a
// replacing SET): that, a DEL of an HLL and a write over an expired one start a new epoch.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/collection_state.h"
#include "cluster/versioned_value.h"
#include "command.h"
#include "snapshot_keyspace.h"
#include "types/ops.h"
#include "types/sorted_set.h"

namespace dynakv::server {

// A ZINCRBY (or ZADD ... INCR) of `member` by `by`.
struct ScoreIncrement {
  std::string_view member;
  double by = 0;
  // A transaction's or script's sorted set that only ZINCRBY changed: every member written is
  // an increment, by its new score less the score read (`member` and `by` unused).
  bool every_member = false;
};

// The increment `argv` (a command the handler accepted) makes, if it is ZINCRBY or ZADD with the
// INCR option; false for any other command.
bool ParseScoreIncrement(const CommandSpec& spec, const std::vector<std::string>& argv,
                         ScoreIncrement* increment);

// One recorded sorted-set operation (kZsetAdd, kZsetRem) applied to `seen` (a sorted set) by
// `actor` at `timestamp_us`, what it changed joined into `delta`. `increment`: the member that
// ZINCRBY incremented (its recorded score is then the result of the increment). False for an
// operation of another kind, or a malformed one.
bool ZsetOpToDelta(const types::Op& op, std::string_view actor, std::int64_t timestamp_us,
                   const ScoreIncrement* increment, cluster::CollectionState* seen,
                   cluster::CollectionState* delta);

// A whole sorted set written over `seen`, whose reset the caller has already joined into
// `delta` (a store, the first write over a plain value, a write after expiry): every member
// assigned its score, but the incremented member of a new key, which becomes the actor's total.
void ZsetEntriesToDelta(const types::SortedSet& result, std::string_view actor,
                        std::int64_t timestamp_us, const ScoreIncrement* increment,
                        cluster::CollectionState* seen, cluster::CollectionState* delta);

// Whether the key's new state (`state`, over the copy `observed`) is an HLL write: the result is
// a string Redis reads as a valid HLL, or the key was deleted while the collection the writer saw
// is an HLL.
bool IsHllWrite(const cluster::SiblingSet& observed, const SnapshotKeyspace::KeyState& state);
// MakeCollectionVersion for an HLL write (IsHllWrite): `version` (new: clock, dot, timestamp and
// origin set) becomes the delta. False when there is nothing to delete (a plain delete).
bool MakeHllVersion(const cluster::SiblingSet& observed, const SnapshotKeyspace::KeyState& state,
                    std::int64_t now_ms, cluster::Version* version);

}  // namespace dynakv::server
