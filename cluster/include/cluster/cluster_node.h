// This node's membership in the cluster, as the server sees it: the ring, the node-to-node bus
// (a separate TCP port, by default the client port + 10000 like Redis Cluster's bus), the replica
// side that applies other coordinators' requests to the local storage engine, and the coordinator
// side that sends a key's reads and writes to its N replicas and waits for a quorum.
//
// Everything runs on the server's libuv loop; callbacks run on it too, never re-entrantly from
// inside the call that started the request (so a caller may start a request while holding state).
// They run in the loop's check phase (the wire format is cluster/bus_protocol.h).
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/consistency_level.h"
#include "cluster/node_info.h"
#include "cluster/ring.h"
#include "cluster/versioned_value.h"

namespace dynakv::storage {
class Engine;
}

namespace dynakv::cluster {

struct ClusterOptions {
  std::string self_id;
  std::vector<NodeInfo> members;  // every member, this node included (static membership)
  // Peers dial a member's bus at its port + bus_port_offset (Redis Cluster's bus convention).
  // bus_port overrides where this node listens (0: its own port + offset); set it only when
  // something in between maps the offset port to it.
  int bus_port = 0;
  int bus_port_offset = 10000;
  int replication_factor = 3;  // N, in [1, members]; ignored when replicas_per_dc is set
  // Multi-DC placement (NetworkTopologyStrategy): replicas wanted per dc, e.g. {dc1: 2, dc2: 1}.
  // Empty: N replicas anywhere. Every named dc must have members, and at least that many.
  ReplicasPerDc replicas_per_dc;
  ConsistencyLevel read_level{ConsistencyLevel::Kind::kQuorum};   // default R
  ConsistencyLevel write_level{ConsistencyLevel::Kind::kQuorum};  // default W
  int request_timeout_ms = 2000;  // a replica that has not answered by then counts as failed
  // A dead peer is redialled at most this often: the wait doubles from the first to the max
  // after each failed connect, so it does not cost a connect attempt per request.
  int reconnect_backoff_initial_ms = 100;
  int reconnect_backoff_max_ms = 2000;
  // Idle peers are pinged this often, so PeerReachable stays current (0: never).
  int ping_interval_ms = 1000;
  // A key whose versions are all tombstones is kept this long (storage expiry), so the delete
  // reaches every replica and beats older copies in read repair, then purged.
  std::int64_t tombstone_grace_ms = 24LL * 3600 * 1000;
  RingOptions ring;
  // Wall clock in unix ms for timestamps and expiry (tests inject the storage engine's clock);
  // empty: the system clock.
  std::function<std::int64_t()> clock_ms;
  // Warnings worth an operator's attention (undecodable stored values, peers breaking the
  // protocol); empty: dropped (they are still counted in ClusterStats).
  std::function<void(const std::string& message)> log_warning;
};

struct ReadResult {
  bool ok = false;
  // When !ok, the client's error, e.g. "UNAVAILABLE not enough replicas (needed 2, got 1)".
  std::string error;
  SiblingSet siblings;  // reconciled over every reply received
};

struct WriteResult {
  bool ok = false;
  std::string error;
};

struct ClusterStats {
  std::uint64_t reads = 0, writes = 0;
  std::uint64_t read_failures = 0, write_failures = 0;  // quorum not reached
  std::uint64_t read_repairs = 0;                       // stale replicas sent the merged set
  std::uint64_t replica_requests_served = 0;            // bus requests applied locally
  std::uint64_t peer_timeouts = 0;
  std::uint64_t peer_connect_failures = 0;
  std::uint64_t undecodable_values = 0;   // stored copies that were not a valid sibling set
  std::uint64_t bus_protocol_errors = 0;  // malformed or unexpected frames from peers
};

class ClusterNode {
 public:
  // `engine` (the local replica's storage) and `loop` must outlive the node. Fails (with the
  // reason in *error) on an invalid membership or options, or a member address that does not
  // resolve. Destroying a node without Stop drops the callbacks of requests still pending; the
  // loop must run once more afterwards to free the handles' memory.
  static bool Create(uv_loop_t* loop, storage::Engine& engine, ClusterOptions options,
                     std::unique_ptr<ClusterNode>* node, std::string* error);
  virtual ~ClusterNode() = default;

  // Binds the bus port. False with *error when it cannot.
  virtual bool Start(std::string* error) = 0;
  // Closes the bus listener and peer connections; pending requests fail (their callbacks run,
  // with !ok, before `done`), as do Read/Write calls made before `done` runs. `done` runs once
  // every handle is closed, never inside Stop; the node may be destroyed in it. After `done`
  // the node must only be destroyed (no loop handles are left to run callbacks).
  virtual void Stop(std::function<void()> done) = 0;
  // The bound bus port (after Start), 0 before.
  virtual int bus_port() const = 0;

  // Reads `key` from its replicas at `level`; the result reconciles every reply that arrived
  // (an empty set: no replica holds the key). Success and failure are decided as for Write.
  // Replicas found stale are sent the merged set (read repair) in the background, once every
  // replica has answered or timed out.
  virtual void Read(std::string key, const ConsistencyLevel& level,
                    std::function<void(ReadResult)> done) = 0;
  // Stores `siblings` (the coordinator's merged set, new version included) on the key's replicas;
  // each replica merges it with its own copy. Succeeds as soon as `level` is met; otherwise
  // fails once every replica has acked, failed or timed out, and the error counts every ack
  // ("needed 3, got 2": two replicas do hold the write). A level no number of replicas can meet
  // (a count above N) fails without writing anywhere. When this node is one of the key's
  // replicas its copy is written before Write returns (LocalSiblings sees it at once).
  virtual void Write(std::string key, SiblingSet siblings, const ConsistencyLevel& level,
                     std::function<void(WriteResult)> done) = 0;
  // This node's own copy of `key` (empty when it holds none, or when the stored bytes do not
  // decode, which is counted in undecodable_values): the context of a blind write.
  virtual SiblingSet LocalSiblings(std::string_view key) = 0;

  // Timestamps for new versions (hybrid logical clock of this node).
  virtual std::int64_t NextTimestamp() = 0;

  virtual const std::string& self_id() const = 0;
  virtual const Ring& ring() const = 0;
  virtual const ClusterOptions& options() const = 0;
  virtual ClusterStats stats() const = 0;
  // For RING / INFO: whether the bus currently has a working connection to a member: connected
  // and answering (a request that timed out since its last reply makes it unreachable until it
  // answers again). True for this node itself; false while partitioned from it. Idle peers are
  // pinged every ping_interval_ms to keep this current.
  virtual bool PeerReachable(std::string_view node_id) const = 0;

  // Simulated network partition for tests and failure drills (DEBUG PARTITION): requests to and
  // from these members are dropped as if the network lost them. An empty list heals.
  virtual void SetPartitionedFrom(std::vector<std::string> node_ids) = 0;
};

}  // namespace dynakv::cluster
