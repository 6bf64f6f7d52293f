// Sets in cluster mode (and hashes, lists, sorted sets and HyperLogLogs alike: cluster_lists.h,
// cluster_zsets.h): observed-remove sets (crdt/or_set.h) kept inside the key's versions
// (cluster/collection_state.h), so concurrent writes through different nodes all survive and
// every replica that has seen the same writes holds the same set (README: cluster mode,
// convergent collections).
//
// SADD, SREM and SPOP run as counter increments do (cluster_counters.h): on one replica of the
// key, without a read (this node when it is one, else forwarded to the first reachable replica),
// over that replica's own copy, so every reply and error is Redis's over the replica's view. The
// handler's element operations become ORSet operations by this node's actor (node id + data
// directory incarnation, ClusterCounters::actor): an add tags the member with the actor's next
// dot, a remove drops the dots of the member this copy has seen. The new state is stored in this
// node's log first (the actor's dots must never repeat: own_actor.h), and only the delta (what the
// command changed: O(members written) bytes) goes to the key's replicas, which join it into their
// copies.
//
// Every other write to a set key (DEL, EXPIRE, PERSIST, SMOVE, the STORE commands, transactions
// and scripts) runs through ClusterExecutor over what it read, and MakeCollectionVersion turns its
// effect into the same kind of delta: elements it removed or replaced go only where the writer
// saw them; elements it adds are tagged with an actor of that one write.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/cluster_node.h"
#include "cluster/consistency_level.h"
#include "cluster_wait.h"
#include "cluster_zsets.h"
#include "command.h"
#include "snapshot_keyspace.h"

namespace dynakv::server {

class Client;
class ClusterExecutor;
class OwnActor;
class Server;

// The collection version inside `set`, if any (one per kind; sets are the only kind yet).
const cluster::Version* FindCollection(const cluster::SiblingSet& set);

// Makes `version` (new: clock, dot, timestamp and origin set) the collection version that
// carries what a command did to a key (`state`, as SnapshotKeyspace recorded it), over the copy
// the command ran on (`observed`). `actor` names the dots of elements it adds: it must not have
// issued any dot `observed` lacks. False when the result is not a collection (another type, or a
// plain delete of a key that holds none): the caller writes a whole value instead.
// `increment`: the command was HINCRBY of that field by that much, which becomes a counter
// increment of the field (concurrent ones all count) instead of an assignment of the result.
struct HashIncrement {
  std::string_view field;
  std::int64_t by = 0;
  // A transaction's or script's hash that only HINCRBY changed: every field written is an
  // increment, by its new value less the value read (`field` and `by` unused).
  bool every_field = false;
};
// `score_increment`: the command was ZINCRBY (or ZADD INCR), which becomes an increment of the
// actor's total in the member (cluster_zsets.h).
// `decoded`: a collection version of `observed` the caller decoded already; its state is moved
// from.
bool MakeCollectionVersion(const cluster::SiblingSet& observed,
                           const SnapshotKeyspace::KeyState& state, std::string_view actor,
                           std::int64_t now_ms, cluster::Version* version,
                           const HashIncrement* increment = nullptr,
                           const ScoreIncrement* score_increment = nullptr,
                           DecodedCollection* decoded = nullptr);

class ClusterCollections {
 public:
  // Every reference must outlive this. `own` stores the writes (own_actor.h).
  ClusterCollections(Server& server, ClusterExecutor& executor, cluster::ClusterNode& node,
                     OwnActor& own);

  // The commands that run on one replica as described above: rows flagged kCmdClusterConvergent
  // (SADD, SREM, SPOP, HSET, HMSET, HSETNX, HDEL, HINCRBY: a counter increment of the field,
  // HINCRBYFLOAT; the list writes: cluster_lists.h; ZADD, ZINCRBY, ZREM, ZPOPMIN, ZPOPMAX, ZMPOP,
  // ZREMRANGEBYRANK/SCORE/LEX: cluster_zsets.h; PFADD).
  static bool IsCollectionCommand(const CommandSpec& spec);
  // The key such a command writes: argv[1], ZMPOP's one key; null for a ZMPOP of several keys
  // (which runs through the coordinator: its keys need not share a replica).
  static const std::string* KeyOf(const CommandSpec& spec, const std::vector<std::string>& argv);
  // The pops (ZPOPMIN, ZPOPMAX, ZMPOP) and the list writes (cluster_lists.h): they run on the
  // key's primary replica (ListTarget), not on any replica, so that while the primary stays the
  // same no member is handed out twice.
  static bool RunsOnPrimary(const CommandSpec& spec);

  // Runs the command (this node is a replica of KeyOf) over this node's copy as `actor`,
  // stores the result here and ships the delta at `write`; `done` gets the RESP reply and
  // `record` counts the write for WAIT (cluster_wait.h).
  void Apply(Client& client, const CommandSpec& spec, const std::vector<std::string>& argv,
             const cluster::ConsistencyLevel& write, const std::string& actor,
             const WriteRecorder& record, std::function<void(std::string)> done);

 private:
  Server& server_;
  ClusterExecutor& executor_;
  cluster::ClusterNode& node_;
  OwnActor& own_;
};

}  // namespace dynakv::server
