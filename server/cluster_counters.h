// INCR, INCRBY, DECR and DECRBY in cluster mode: PN-counters (crdt/pn_counter.h) kept inside
// the key's versions, so that no acknowledged increment is ever lost to last-write-wins.
//
// Where it runs: on one replica of the key, without a read: this node when it is one, else the
// first of the key's replicas that is alive and reachable (FORWARD, as list pops are forwarded;
// cluster_blocking.h serves both). There the ordinary handler runs over the replica's own copy
// (so every reply and error is Redis's), and its result becomes an increment of this node's
// own actor entry (node id + the incarnation of its data directory: own_actor.h): only this
// node ever moves that entry, and its copy always holds the entry's latest value, since the new
// version is stored in its log file before it is sent anywhere. The version then goes to the key's
// replicas as any write does, and the reply leaves once W acknowledged it. The value replied is
// this replica's merged sum: increments through other replicas that it has not received yet are not
// in it (Riak's counters answer the local view too).
//
// A key becomes a counter at its first increment here: an absent key, or a string holding an
// integer (its base). Other writes to a counter key (SET, DEL, EXPIRE, ...) are resets:
// ClusterExecutor writes them through ResetVersion.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/cluster_node.h"
#include "cluster/consistency_level.h"
#include "cluster_collections.h"
#include "cluster_wait.h"
#include "command.h"
#include "own_actor.h"
#include "snapshot_keyspace.h"

namespace dynakv::server {

class Client;
class ClusterExecutor;
class Server;

// The counter inside `set`, if any (a set holds at most one).
const cluster::Version* FindCounter(const cluster::SiblingSet& set);

// A write over a key whose copy (`merged`: as read, plus this node's) holds a counter: when the
// command left an integer string (or deleted the key), `version` (new: clock, dot, timestamp
// set) becomes a counter reset to that value and expiry, with the entries of the counter the
// command read (`observed`) as its floor, and true is returned. With `start_counter` an integer
// left in a key that holds no counter starts one (transactions and scripts: an INCR there must
// merge with increments made concurrently through other nodes, which a plain string would not).
// Otherwise (another type, a non-integer string, no counter) false, and the version is written
// as a whole value.
bool MakeCounterReset(const cluster::SiblingSet& observed, const cluster::SiblingSet& merged,
                      bool exists, bool is_string, const std::string& value,
                      std::int64_t expire_at_ms, bool start_counter, cluster::Version* version);

// How a write command of a transaction or script (`argv`, of row `spec`) changes its keys, for
// SnapshotKeyspace::NoteWrite: kIncrement for INCR, INCRBY, DECR, DECRBY, HINCRBY, ZINCRBY and
// ZADD ... INCR; kExpiry for EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT and PERSIST; kOther otherwise.
SnapshotKeyspace::WriteKind IncrementKindOf(const CommandSpec& spec,
                                            const std::vector<std::string_view>& argv);

// The TTL commands (EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT, PERSIST), as their rows say: keyspace
// writes of one key that update it without reading, inserting or deleting (key spec RW + UPDATE
// alone).
bool ChangesOnlyTtl(const CommandSpec& spec);

// A transaction's or script's write of a key that only increments changed (the INCR family,
// maybe with EXPIRE or PERSIST; SnapshotKeyspace::OnlyIncremented): the integer it left
// (`value`) minus the value read (`observed`: a live counter, or nothing) becomes an increment of
// `actor`'s entry (an actor of this one write) over `merged` (as read, plus this node's copy),
// written into `version` (new: clock, dot, timestamp set). Increments made concurrently through
// other nodes, or by another transaction that read the same value, then all count. An expiry
// that changed (`expire_at_ms` differs from the one read) comes first as a reset to the value
// read with the entries read as its floor, as EXPIRE of a counter writes, so the increments
// still count on top of it. False, `version` untouched, when the key held something else (a
// plain integer string, an expired counter) or the difference overflows: the caller writes a
// reset (MakeCounterReset).
bool MakeCounterIncrement(const cluster::SiblingSet& observed, const cluster::SiblingSet& merged,
                          const std::string& value, std::int64_t expire_at_ms,
                          std::string_view actor, std::int64_t now_ms, cluster::Version* version);

class ClusterCounters {
 public:
  // Every reference must outlive this. `dir`: the data directory, which keeps this node's
  // incarnation (OwnActor); the actor is the node id plus it.
  ClusterCounters(Server& server, ClusterExecutor& executor, cluster::ClusterNode& node,
                  std::string dir);
  ~ClusterCounters();
  ClusterCounters(const ClusterCounters&) = delete;
  ClusterCounters& operator=(const ClusterCounters&) = delete;

  // The commands that run as counter increments: rows flagged kCmdClusterCounter (INCR, INCRBY,
  // DECR, DECRBY).
  static bool IsCounterCommand(const CommandSpec& spec);
  // Those and the collection writes (ClusterCollections::IsCollectionCommand), which run the same
  // way, on one replica without a read, with the same actor.
  static bool RunsOnOneReplica(const CommandSpec& spec);
  // Runs ctx's command (RunsOnOneReplica) for its client, here or forwarded as above.
  void Run(const CommandContext& ctx, const CommandSpec& spec);
  // A counter command another member forwarded: `respond` gets the RESP reply; `record` counts
  // its write for the sender's WAIT (cluster_wait.h).
  void Serve(const CommandSpec& spec, std::vector<std::string> argv, int protocol,
             const cluster::ConsistencyLevel& write, std::function<void(std::string)> respond,
             WriteRecorder record = nullptr);

  const std::string& actor() const { return own_.actor(); }
  // INFO cluster's lines: increments forwarded to a replica, and served for other nodes.
  void AppendInfo(std::string* out) const;

 private:
  // Applies the command to this replica's copy and writes it at `write`; `record` counts the
  // write for WAIT.
  void Apply(Client& client, const CommandSpec& spec, const std::vector<std::string>& argv,
             const cluster::ConsistencyLevel& write, const WriteRecorder& record,
             std::function<void(std::string)> done);
  // The replica that runs `key`'s increments when this node is not one of them.
  std::string TargetOf(const std::string& key) const;
  Server& server_;
  ClusterExecutor& executor_;
  cluster::ClusterNode& node_;
  OwnActor own_;  // before collections_, which holds a reference to it
  ClusterCollections collections_;
  std::unique_ptr<Client> runners_[2];  // the handler's client in Serve: RESP2, RESP3
  std::uint64_t forwarded_ = 0;
  std::uint64_t served_ = 0;
};

}  // namespace dynakv::server
