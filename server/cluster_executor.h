// The coordinator side of cluster mode: how a command with key arguments runs when any node may
// be asked for any key.
//
//   1. read: every key the command names (its row's key specs) is read from its replicas at the
//      request's read level, in parallel. Blind writes (the row's `blind` test: a plain SET,
//      SETEX, PSETEX, MSET) skip this when this node is a replica of their keys: they do not
//      depend on the old value, so its own copy serves as their causal context (no round trip).
//   2. execute: the command's ordinary handler runs against a SnapshotKeyspace of the reconciled
//      values, its reply held back, its changes recorded. Read-modify-write commands (INCR,
//      APPEND, GETSET, ...) thereby compute over the reconciled value.
//   3. write: each changed key gets a new version (context: what was read) written to its
//      replicas at the write level, in parallel. The reply goes out only when every write met
//      its level; otherwise the client gets the first failure's error. Never a partial success
//      reported as success (though, as in Dynamo, a failed write may have reached some replicas).
//
// While a command is in flight its client runs nothing else, so pipelined replies stay in order.
// Read-modify-write commands on the same key through this node wait for one another (KeyLocks).
//
// Transactions (EXEC), WATCH and scripts run the same way as one operation over every key they
// may touch (RunAtomic): locked, read, the whole body run against one snapshot, then each
// changed key written. Their keys share a hash tag (cross_slot.h), so one replica set.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cluster/cluster_node.h"
#include "cluster/consistency_level.h"
#include "cluster_wait.h"
#include "command.h"
#include "consistency_hints.h"
#include "key_locks.h"
#include "snapshot_keyspace.h"

namespace dynakv::server {

class Client;
class Server;

// What RunAtomic's body sees once the keys were read.
struct AtomicView {
  Client& client;
  SnapshotKeyspace& snapshot;                    // the keys as read; changes are recorded
  const std::vector<std::string>& keys;          // as RunAtomic was given them
  const std::vector<cluster::SiblingSet>& sets;  // per key: the reconciled set read
  resp::ReplyWriter& reply;                      // the request's reply, held back
};
using AtomicBody = std::function<void(AtomicView& view)>;

class ClusterExecutor {
 public:
  // `server` and `node` must outlive the executor. Requests still in flight when it is
  // destroyed complete into nothing.
  ClusterExecutor(Server& server, cluster::ClusterNode& node);
  ~ClusterExecutor();
  ClusterExecutor(const ClusterExecutor&) = delete;
  ClusterExecutor& operator=(const ClusterExecutor&) = delete;

  // Runs `spec` (a command with key arguments) for ctx.client as described above; the reply is
  // appended to the client's output when the command completes.
  void Run(const CommandContext& ctx, const CommandSpec& spec);
  // The same for no connection (a pop run on its key's primary, cluster_blocking.h): `runner`, a
  // client that is never connected and outlives the call, is the one the handler sees, and
  // `done` gets the RESP reply (an error reply when the replicas failed the command). `record`
  // counts its writes for WAIT (the client it runs for, or the member that forwarded it).
  void RunDetached(Client& runner, const CommandSpec& spec, std::vector<std::string> argv,
                   const cluster::ConsistencyLevel& read, const cluster::ConsistencyLevel& write,
                   std::function<void(std::string reply)> done, WriteRecorder record = nullptr);

  // Runs `body` for `client` as one operation over `keys` (distinct, one hash tag): the keys
  // are locked against this node's other operations on them, read at the connection's R, the
  // body runs once over the snapshot and replies, and every key it changed is written at W; the
  // reply goes out when all writes met W (else the first failure's error). Keys the body
  // changes must be among `keys`.
  // With `may_serial` (EXEC and scripts) and a SERIAL / LOCAL_SERIAL write level for the client
  // (AtomicLevel), it runs as one Paxos round of the keys' tag instead (ClusterNode::CasGroup):
  // the body runs over a majority's read, maybe more than once (contention; only the last run's
  // reply counts, so it must be re-runnable), and every key it changed is committed as one group.
  void RunAtomic(Client& client, std::vector<std::string> keys, AtomicBody body,
                 bool may_serial = false);
  // The level a transaction or script of `client` runs at: the connection's write level when it
  // chose one, else conditional-write-consistency when set (a transaction or script is a
  // conditional write), else the configured write level.
  cluster::ConsistencyLevel AtomicLevel(const Client& client) const;

  // Runs `write` (a write of `key` by this node that takes no key lock: a counter increment) now,
  // or once the operations of this node holding the key's lock are done. So no dot this node
  // hands out for the key falls inside one of its SERIAL rounds on the key, which tells whether
  // a retried attempt took effect by that attempt's dot (paxos_proposer.h). `write` must do its
  // part synchronously (NewVersion, its local store); the lock is released when it returns.
  void AfterKeyLock(const std::string& key, std::function<void()> write);

  // VGET: every live sibling of `key` and the context that covers them.
  void VersionedGet(Client& client, std::string key, const cluster::ConsistencyLevel& level);
  // VSET: stores `value` as a version that replaces what `context` covers.
  void VersionedSet(Client& client, std::string key, std::string value,
                    const cluster::VectorClock& context, std::int64_t expire_at_ms,
                    const cluster::ConsistencyLevel& level);

  // DEBUG ANTIENTROPY: one anti-entropy exchange with `peer` (empty: the next in turn), replied
  // as a map of what it did.
  void AntiEntropy(Client& client, std::string peer);

  // A keyless command that needs the cluster (FLUSHALL, whole-cluster KEYS/SCAN, cluster_keys.h)
  // as an operation of `client`: `start` runs now and gets `finish`, to be called once, on the
  // loop, with the reply's RESP bytes or (non-empty) an error; the client waits for it.
  using Finish = std::function<void(const std::string& reply, const std::string& error)>;
  void RunAsync(Client& client, std::function<void(Finish finish)> start);

  // The levels a request of `client` uses: its option, else the connection's CONSISTENCY, else
  // the configured default.
  cluster::ConsistencyLevel ReadLevel(const Client& client, const RequestLevels* request) const;
  cluster::ConsistencyLevel WriteLevel(const Client& client, const RequestLevels* request) const;

  // A version this node writes over `set` (every version known of the key) with `context`;
  // the caller fills in the payload. Every writer this node coordinates takes its versions
  // here (the RDB import and counter increments too): their dots must never repeat.
  cluster::Version NewVersion(cluster::SiblingSet* set, const cluster::VectorClock& context);

  cluster::ClusterNode& node() { return node_; }
  // The replicas holding each client's last write (WAIT).
  ClusterWait& waits() { return waits_; }
  std::size_t in_flight() const { return operations_.size(); }

 private:
  struct Operation;
  using OperationPtr = std::shared_ptr<Operation>;

  OperationPtr NewOperation(Client& client);
  // After the call that started `op`: a command not finished by now holds its client.
  void Started(const OperationPtr& op, Client& client);
  // Whether this node is one of the replicas of every key.
  bool HoldsReplicas(const std::vector<std::string>& keys) const;
  void Start(const OperationPtr& op);
  void ReadKeys(const OperationPtr& op);
  void Execute(const OperationPtr& op);
  // SERIAL / LOCAL_SERIAL: the command over one key as a Paxos round (ClusterNode::Cas).
  void RunSerial(const OperationPtr& op);
  // SERIAL / LOCAL_SERIAL RunAtomic: the body over the keys as one round of their tag's
  // instance (ClusterNode::CasGroup).
  void RunSerialAtomic(const OperationPtr& op);
  // Adds to `set` (the key as read) the version `state` (the command's result) makes: a counter
  // reset when the key holds a counter, or with `start_counter` (transactions and scripts) an
  // integer starting one (MakeCounterReset). With `only_increments` (a transaction's or
  // script's key that only the INCR family, HINCRBY or ZINCRBY wrote) the change is written as
  // increments of the values read, of an actor of this one write (MakeCounterIncrement,
  // MakeCollectionVersion's every_field / every_member).
  void AddVersion(cluster::SiblingSet* set, const std::string& key,
                  const SnapshotKeyspace::KeyState& state, bool merge_local,
                  bool start_counter = false, bool only_increments = false);
  // Stores `set` on the key's replicas as one of op's pending writes; `progress` counts them.
  void WriteSet(const OperationPtr& op, const std::string& key, cluster::SiblingSet set,
                std::shared_ptr<cluster::WriteProgress> progress);
  // What counts the replicas of one of op's writes (op's recorder; none without one).
  std::shared_ptr<cluster::WriteProgress> TrackWrite(const OperationPtr& op);
  // Ends `op` with `reply` (RESP bytes) or, when `error` is non-empty, that error. Takes `op` by
  // value: it may be the last reference.
  void Complete(OperationPtr op, const std::string& reply, const std::string& error);
  Client* LiveClient(std::uint64_t id);

  Server& server_;
  cluster::ClusterNode& node_;
  KeyLocks locks_;
  ClusterWait waits_;
  std::set<OperationPtr> operations_;  // in flight; callbacks hold weak references
  // Every dot this node hands out is larger than the last, so two writes it coordinates never
  // share one even when its local copy has not caught up with the previous write yet; and at
  // least the write's timestamp, so a restarted node does not reuse its earlier dots either.
  std::uint64_t last_dot_ = 0;
};

}  // namespace dynakv::server
