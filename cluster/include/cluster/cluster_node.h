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
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/consistency_level.h"
#include "cluster/member_status.h"
#include "cluster/node_info.h"
#include "cluster/ring.h"
#include "cluster/versioned_value.h"
#include "net/tls_context.h"
#include "storage/options.h"

namespace dynakv::storage {
class Engine;
}

namespace dynakv::cluster {

// The shortest cluster secret accepted (ClusterOptions::secret): guessing it must be hopeless.
constexpr std::size_t kMinClusterSecretBytes = 16;

struct ClusterOptions {
  std::string self_id;
  std::vector<NodeInfo> members;  // every member, this node included (the initial view)
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
  // A read asks only as many replicas as its level needs (this node first when it is one, then
  // the reachable ones in ring order), and the next one in place of each that fails, as
  // Cassandra does; with this probability it asks all of the key's replicas instead, so read
  // repair also reaches the copies quorum reads skip (Cassandra's read_repair_chance). In [0, 1].
  double read_repair_chance = 0.1;
  // A dead peer is redialled at most this often: the wait doubles from the first to the max
  // after each failed connect, so it does not cost a connect attempt per request.
  int reconnect_backoff_initial_ms = 100;
  int reconnect_backoff_max_ms = 2000;
  // Idle peers are pinged this often, so PeerReachable stays current (0: never).
  int ping_interval_ms = 1000;
  // An inbound bus connection that has not completed its handshake (HELLO naming a member)
  // this long after it was accepted is closed: a member sends HELLO in its first packet, so
  // only strangers wait that long, and they must not keep the slots members need.
  int handshake_timeout_ms = 3000;
  // The cluster secret every member shares (bus_auth.h): bus connections then authenticate
  // both ends and every frame carries a MAC. Empty: the bus is open to anyone who can reach it
  // (cluster-insecure); a node with a secret and one without refuse each other.
  std::string secret;
  // tls-cluster: the bus runs over mutual TLS. Every member shows tls_options' certificate and
  // key, both when it accepts and when it dials, and refuses a peer whose certificate does not
  // chain to tls_options' CA (file or dir). The cluster secret's handshake still runs inside the
  // TLS session, bound to it (bus_handshake.h); TLS then authenticates every frame in place of
  // the per-frame MAC. Create() fails when a certificate, key or CA is missing or unreadable.
  bool tls = false;
  net::TlsOptions tls_options;
  // Built from tls_options by ClusterNode::Create (callers leave it empty) and replaced by
  // ReloadTls: the contexts of accepted and of dialled bus connections, read at each accept and
  // dial. Shared, so the options the node's parts hold stay const.
  struct TlsContexts {
    std::shared_ptr<net::TlsContext> server;
    std::shared_ptr<net::TlsContext> client;
  };
  std::shared_ptr<TlsContexts> tls_contexts;
  // A key whose versions are all tombstones is kept this long (storage expiry), so the delete
  // reaches every replica and beats older copies in read repair, then purged.
  std::int64_t tombstone_grace_ms = 24LL * 3600 * 1000;
  // Anti-entropy: every this often the node compares its Merkle tree of the keys it shares with
  // one peer (in turn) with that peer's and exchanges only the keys that differ (0: only when
  // RunAntiEntropy asks). The trees follow every write; a full rebuild by scanning the engine
  // corrects what writes do not show (expiry, eviction, FLUSHALL) every rebuild interval
  // (0: only at start and on RebuildAntiEntropyTrees).
  int anti_entropy_interval_ms = 10000;
  int anti_entropy_rebuild_interval_ms = 3600 * 1000;
  // LEAVE: after announcing "left", how long the node keeps forwarding the replica writes of
  // coordinators that have not heard yet before it reports done (0: five gossip intervals, at
  // least a second: long enough for the news to reach every member a few times over).
  int leave_grace_ms = 0;
  // A replica write, hint or read whose version is stamped more than this far ahead of the local
  // clock is refused (a broken or forged peer would otherwise pin every node's hybrid clock and
  // win every last-write-wins comparison); gossip refuses members whose generation (start time)
  // is that far in the future. 0: no bound.
  int max_clock_skew_ms = 60000;
  // No member may have (or announce by gossip) a larger weight: one member claiming most of the
  // ring would pull most of the data to itself.
  int max_member_weight = 100;
  // Where this node keeps its Paxos state for SERIAL rounds (e.g. <data dir>/paxos, a storage
  // engine of its own). Empty: in memory only (tests), lost on restart.
  std::string paxos_dir;
  // Sloppy quorum (Dynamo): a preferred replica that fails a write is stood in for by the next
  // node clockwise past the preference list (same dc under replicas_per_dc), which keeps the
  // write as a hint naming that replica; its ack counts toward W in the replica's place. When no
  // such node exists or takes the hint, the replica counts as failed. false: strict quorum.
  bool sloppy_quorum = true;
  // Hinted handoff: where this node keeps hints for others (a storage engine of its own, e.g.
  // <data dir>/hints; its parent must exist). Empty: it keeps none and refuses to stand in.
  // The hint store takes the fsync policy of the node's engine when it opens, and follows it
  // through SetFsyncPolicy: a hint is an acknowledged write, as durable as the node's own.
  std::string hints_dir;
  // Where the latest FLUSHALL's timestamp is kept (e.g. <data dir>/flush-epoch): versions
  // stamped at or before it are dropped wherever they arrive, also after a restart. Empty:
  // kept in memory only.
  std::string flush_epoch_file;
  // What the hint store does with a corrupt log (storage/options.h), as the data's own engine.
  storage::LogCorruptionPolicy hints_log_corruption = storage::LogCorruptionPolicy::kRefuse;
  // Tests only: the hint store's storage::Options::log_fault_hook.
  std::function<int(std::string_view call)> hints_log_fault_hook;
  // Held hints are offered to their owners this often (and at once when a probed owner
  // answers again), at most hint_handoff_batch in flight at a time.
  int hint_handoff_interval_ms = 1000;
  int hint_handoff_batch = 128;
  // Membership by gossip (cluster/membership.h). `members` is then only the initial view: this
  // node (required) plus any members known in advance; the rest are learned from the seeds,
  // each "host:bus-port" ("[v6]:port") or the id of a configured member (this node's own
  // address or id in the list is skipped, so every node may share one list). With seeds the
  // membership is open: any node may say HELLO and join by gossiping, and N (or a dc's count)
  // may exceed the members known so far (requests fail UNAVAILABLE until enough are known).
  // Without seeds only the configured members may connect; they still gossip, for failure
  // detection.
  std::vector<std::string> seeds;
  int gossip_interval_ms = 1000;  // a round: heartbeat + view to a random peer
  // Failure detection (cluster/failure_detector.h): a member is suspect once phi exceeds the
  // threshold, down once its heartbeat has not advanced for down_after_ms.
  double phi_threshold = 8.0;
  int down_after_ms = 5000;
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

// SERIAL / LOCAL_SERIAL (ClusterNode::Cas, cluster/paxos.h).
struct CasResult {
  bool ok = false;
  // When !ok: "UNAVAILABLE ..." (too few replicas answered; nothing of this command was
  // proposed) or "TIMEOUT ..." (no round won in time: the text says whether the outcome is
  // unknown, as Cassandra's CAS write timeout, or the command was certainly not applied).
  std::string error;
  std::size_t attempt = 0;  // when ok: the compute call whose outcome is the command's
};
// The command over the key's current set as a majority of its replicas held it (reconciled):
// its new set (`current` plus the new version, a version of this node) or nullopt when it
// changes nothing (a read, a condition that failed). `attempt` counts the calls of one Cas from
// 0; a retried round calls it again over the newer read.
using CasCompute =
    std::function<std::optional<SiblingSet>(const SiblingSet& current, std::size_t attempt)>;
// Failure drills for tests (DEBUG PAXOS-FAILPOINT): the coordinator stops (never answers, as
// if it died) once a majority accepted its proposal, or right after only this node accepted
// it (a minority), with no commit sent; or once a majority accepted, after committing on this
// node only (the commit reaches a minority).
enum class PaxosFailpoint { kNone, kStopAfterAccept, kStopAfterSelfAccept, kStopAfterSelfCommit };

// How many of a write's replicas hold it so far (WAIT's count). The coordinator keeps counting
// after it answered the write, for as long as replies come: a replica counts once it
// acknowledged storing the write (this node's own copy as soon as it is stored); a stand-in
// keeping a hint does not, since the replica itself does not hold the write yet. A batch counts
// a replica once it acknowledged the whole batch.
struct WriteProgress {
  int acked = 0;
  std::function<void()> on_ack;  // after each new ack, on the loop, never inside Write
};

// One key's set in a batched write (ClusterNode::WriteBatch).
struct KeyedSet {
  std::string key;
  SiblingSet set;
};

// CasGroup's command over its keys' sets as a majority held them (reconciled; in the order the
// keys were given): the new set of every key it changes (each one of its keys), or nullopt (or
// none) when it changes nothing.
using CasGroupCompute = std::function<std::optional<std::vector<KeyedSet>>(
    const std::vector<SiblingSet>& current, std::size_t attempt)>;

struct ClusterStats {
  std::uint64_t reads = 0, writes = 0;
  std::uint64_t read_failures = 0, write_failures = 0;  // quorum not reached
  std::uint64_t read_repairs = 0;                       // stale replicas sent the merged set
  std::uint64_t read_repair_checks = 0;  // reads that asked every replica (read_repair_chance)
  std::uint64_t read_retries = 0;        // replicas asked in place of one that failed a read
  std::uint64_t replica_requests_served = 0;            // bus requests applied locally
  std::uint64_t peer_timeouts = 0;
  std::uint64_t peer_connect_failures = 0;
  std::uint64_t undecodable_values = 0;   // stored copies that were not a valid sibling set
  std::uint64_t bus_protocol_errors = 0;  // malformed or unexpected frames from peers
  std::uint64_t clock_skew_rejections = 0;  // versions refused as stamped too far ahead
  std::uint64_t gossip_rejected_entries = 0;  // member entries refused as impossible
  // Inbound bus connections: open now, and of those still in their handshake (filled in by
  // stats()); closed for not completing it in handshake_timeout_ms; closed or refused for want
  // of a slot (the oldest in its handshake makes room for a newcomer).
  std::uint64_t bus_connections = 0;
  std::uint64_t bus_connections_handshaking = 0;
  std::uint64_t bus_handshake_timeouts = 0;
  std::uint64_t bus_rejected_connections = 0;
  // Handshakes that failed authentication (no or a wrong proof, either side), and frames whose
  // MAC did not verify (forged, modified, replayed): each closed its connection.
  std::uint64_t bus_auth_failures = 0;
  std::uint64_t bus_frame_mac_failures = 0;
  // tls-cluster: TLS handshakes that failed, either side (no certificate, one from another CA,
  // a peer not speaking TLS, no handshake in time); each closed its connection and also counts
  // in bus_auth_failures.
  std::uint64_t bus_tls_failures = 0;
  // Anti-entropy (Merkle tree exchanges; both roles, initiator and answering peer, count).
  std::uint64_t anti_entropy_rounds = 0;           // exchanges this node started and finished
  std::uint64_t anti_entropy_round_failures = 0;   // ... and that a peer failure cut short
  std::uint64_t anti_entropy_keys_repaired = 0;    // local copies anti-entropy changed
  std::uint64_t anti_entropy_keys_sent = 0;        // sibling sets sent to peers to repair them
  std::uint64_t anti_entropy_bytes_sent = 0;       // anti-entropy payload bytes, requests and
  std::uint64_t anti_entropy_bytes_received = 0;   // replies alike
  std::uint64_t anti_entropy_tree_builds = 0;      // full rebuilds of the Merkle trees by scan
  std::uint64_t anti_entropy_last_round_keys = 0;  // keys moved (both ways) by the last round
  // Sloppy quorum and hinted handoff.
  std::uint64_t hinted_writes = 0;    // replica writes this coordinator sent to a stand-in
  std::uint64_t hints_stored = 0;     // hints this node took as a stand-in (merges included)
  std::uint64_t hints_delivered = 0;  // hints handed to their owners, acked and deleted
  std::uint64_t hints_pending = 0;    // hints held now (PendingHints())
  // Range streaming after ring changes (cluster/rebalancer.h) and LEAVE.
  std::uint64_t rebalance_passes = 0;          // passes over the local keys that completed
  std::uint64_t rebalance_restarts = 0;        // passes restarted by a newer ring change
  std::uint64_t rebalance_keys_streamed = 0;   // key copies acked by a node they were sent to
  std::uint64_t rebalance_bytes_streamed = 0;  // their REPLICA_PUT payload bytes
  std::uint64_t rebalance_keys_dropped = 0;    // local copies dropped once their replicas had them
  std::uint64_t rebalance_push_failures = 0;   // sends that failed or timed out (retried)
  // SERIAL / LOCAL_SERIAL (ClusterNode::Cas) this node coordinated.
  std::uint64_t serial_requests = 0;     // Cas calls
  std::uint64_t serial_rounds = 0;       // prepare rounds started (retries included)
  std::uint64_t serial_contention = 0;   // rounds lost to a higher ballot (backed off, retried)
  std::uint64_t serial_completed = 0;    // unfinished rounds of others completed first
  std::uint64_t serial_failures = 0;     // answered UNAVAILABLE or TIMEOUT
};

// What this node is doing to move data between nodes (INFO cluster, RING).
struct RebalanceStatus {
  // "idle"; "streaming": pushing keys to their new replicas after a ring change; "leaving":
  // LEAVE is handing every key over; "left": it has, and this node is no longer a member.
  std::string state = "idle";
  double scan_progress = 1;  // of the current pass over the local keys, in [0, 1]
  std::uint64_t keys_queued = 0;       // waiting to be pushed (changes and retries included)
  std::uint64_t pushes_in_flight = 0;  // REPLICA_PUTs sent and not answered yet
};

// What one anti-entropy exchange with a peer did (RunAntiEntropy).
struct AntiEntropyRound {
  bool ok = false;
  std::string error;  // when !ok
  std::string peer;
  std::uint64_t differing_leaves = 0;  // leaves whose hashes differed
  std::uint64_t keys_pulled = 0;       // the peer's sets merged here (that changed this copy)
  std::uint64_t keys_pushed = 0;       // this node's sets sent to the peer
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
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

  // Binds the bus port. False with *error when it cannot. Call it after the caller's own check
  // handles are started: request callbacks then run before them in each loop iteration, so a
  // reply they produce is flushed in the same iteration.
  virtual bool Start(std::string* error) = 0;
  // Closes the bus listener and peer connections; pending requests fail (their callbacks run,
  // with !ok, before `done`), as do Read/Write calls made before `done` runs. `done` runs once
  // every handle is closed, never inside Stop; the node may be destroyed in it. After `done`
  // the node must only be destroyed (no loop handles are left to run callbacks).
  virtual void Stop(std::function<void()> done) = 0;
  // The bound bus port (after Start), 0 before.
  virtual int bus_port() const = 0;

  // Reads `key` from its replicas at `level`: as many as the level needs, and another in place
  // of each that fails (every one of them with read_repair_chance). The result reconciles every
  // reply that arrived (an empty set: no asked replica holds the key). Success and failure are
  // decided as for Write. Asked replicas found stale are sent the merged set (read repair) in
  // the background, once every asked replica has answered or timed out.
  virtual void Read(std::string key, const ConsistencyLevel& level,
                    std::function<void(ReadResult)> done) = 0;
  // Stores `siblings` (the coordinator's merged set, new version included) on the key's replicas;
  // each replica merges it with its own copy. Succeeds as soon as `level` is met; otherwise
  // fails once every replica has acked, failed or timed out, and the error counts every ack
  // ("needed 3, got 2": two replicas do hold the write). A level no number of replicas can meet
  // (a count above N) fails without writing anywhere. When this node is one of the key's
  // replicas its copy is written before Write returns (LocalSiblings sees it at once).
  // `progress`, when given, counts the replicas that acknowledged (WriteProgress).
  virtual void Write(std::string key, SiblingSet siblings, const ConsistencyLevel& level,
                     std::function<void(WriteResult)> done,
                     std::shared_ptr<WriteProgress> progress = nullptr) = 0;
  // Write for several keys with the same replicas (one hash tag: a transaction's or script's
  // keys): each replica gets ONE request holding all of them and stores them as one atomic group
  // of its storage engine, so after a crash it holds all of them or none; a replica counts as
  // acknowledging every key or none. A replica that fails gets hints key by key under sloppy
  // quorum. Succeeds when every key met `level`, else fails with the first key's error. Keys
  // with differing replicas are written one by one instead (Write).
  // `progress` as for Write; keys written one by one do not count in it.
  virtual void WriteBatch(std::vector<KeyedSet> writes, const ConsistencyLevel& level,
                          std::function<void(WriteResult)> done,
                          std::shared_ptr<WriteProgress> progress = nullptr) = 0;
  // A linearizable compare-and-set of `key` (SERIAL; LOCAL_SERIAL with `local_dc`: among this
  // node's dc's replicas of the key): one Paxos round among the key's replicas that completes
  // any round left unfinished, runs `compute` over a majority's reconciled copy, and stores
  // its result (paxos_proposer.h). `done` runs once, through the deferrer; `compute` runs on
  // the loop, maybe several times (contention), never inside Cas. `progress`, when given,
  // counts the replicas that acknowledged the commit of the command's new value (WriteProgress;
  // every replica of the key, LOCAL_SERIAL's others included); nothing when it changed nothing.
  virtual void Cas(std::string key, bool local_dc, CasCompute compute,
                   std::function<void(CasResult)> done,
                   std::shared_ptr<WriteProgress> progress = nullptr) = 0;
  // Cas over several keys sharing one hash tag (a transaction or script at SERIAL): one round of
  // the tag's Paxos instance, whose promises carry every key's copy and whose proposal carries
  // every key `compute` changed; each replica stores them as ONE atomic group, so a coordinator
  // dying mid-round leaves all of them or none, everywhere. Single-key Cas of a tagged key runs
  // on the same instance, so the two are linearizable together. Keys of different tags fail
  // with CROSSSLOT.
  virtual void CasGroup(std::vector<std::string> keys, bool local_dc, CasGroupCompute compute,
                        std::function<void(CasResult)> done) = 0;
  virtual void SetPaxosFailpoint(PaxosFailpoint failpoint) = 0;
  // Merges `siblings` into this node's own copy of `key` and stores it (its commit log holds it
  // when this returns ""), sending nothing: a counter's new entry is made durable here before
  // any other replica may acknowledge it. Otherwise the client's error.
  virtual std::string PutLocal(std::string_view key, const SiblingSet& siblings) = 0;
  // This node's own copy of `key` (empty when it holds none, or when the stored bytes do not
  // decode, which is counted in undecodable_values): the context of a blind write.
  virtual SiblingSet LocalSiblings(std::string_view key) = 0;

  // Timestamps for new versions: hybrid logical clock of this node, unix microseconds.
  virtual std::int64_t NextTimestamp() = 0;

  virtual const std::string& self_id() const = 0;
  // The current ring. Gossip replaces it when members join or leave (on the loop, between
  // callbacks): do not keep the reference, or pointers into it, across a turn of the loop.
  virtual const Ring& ring() const = 0;
  virtual const ClusterOptions& options() const = 0;
  // tls-cluster: rebuilds the bus's TLS contexts from `tls` (CONFIG SET of a tls-* parameter).
  // Connections accepted or dialled from now on use them; open ones keep theirs. False with
  // *error (and nothing changed) when they cannot be built. Without tls-cluster, true.
  virtual bool ReloadTls(const net::TlsOptions& tls, std::string* error) = 0;
  // appendfsync changed: the node's engine (the caller's, passed to Create) and the hint store
  // sync their logs by `policy` from now on.
  virtual void SetFsyncPolicy(storage::FsyncPolicy policy) = 0;
  // Whether this node keeps one of `key`'s replicas in the current ring (placement.h's choice,
  // the one every part of the cluster uses).
  virtual bool IsReplicaOf(std::string_view key) const = 0;
  virtual ClusterStats stats() const = 0;
  // For RING / INFO: whether the bus currently has a working connection to a member: connected
  // and answering (a request that timed out since its last reply makes it unreachable until it
  // answers again). True for this node itself; false while partitioned from it. Idle peers are
  // pinged every ping_interval_ms to keep this current.
  virtual bool PeerReachable(std::string_view node_id) const = 0;
  // For RING / INFO: every member this node knows of (itself included, id order), with what it
  // announced by gossip and what this node's failure detector makes of it.
  virtual std::vector<MemberStatus> Members() const = 0;
  // Whether `node_id` is this node, or a member that has not left and whose heartbeat the
  // failure detector does not hold down (a suspect still counts as alive: suspicion is a
  // warning, down the verdict). False for ids that are not members.
  virtual bool IsAlive(std::string_view node_id) const = 0;

  // Simulated network partition for tests and failure drills (DEBUG PARTITION): requests to and
  // from these members are dropped as if the network lost them. An empty list heals.
  virtual void SetPartitionedFrom(std::vector<std::string> node_ids) = 0;

  // Hints this node holds for other replicas, not yet handed off (0 when hints are disabled).
  virtual std::uint64_t PendingHints() const = 0;

  // Starts one anti-entropy exchange now with `peer` (empty: the next peer in turn); `done` gets
  // what it did. Fails at once when one is already running or the trees are still being built
  // (a wiped node builds its empty trees in a moment; retry).
  virtual void RunAntiEntropy(std::string peer, std::function<void(AntiEntropyRound)> done) = 0;
  // The local data changed behind the cluster's back (FLUSHALL of the node's engine): rebuilds
  // the Merkle trees from the engine in the background.
  virtual void RebuildAntiEntropyTrees() = 0;

  // Decommissions this node (Cassandra's nodetool decommission): it announces "leaving" by
  // gossip and, while still serving as a replica, streams every key it holds to the nodes that
  // take over its ranges (the ring without it); then it announces "left", which makes the
  // others drop it from their rings, keeps taking replica writes for leave_grace_ms (a
  // coordinator that has not heard yet may still send some) and forwards them, and finally
  // drops its own copies once their replicas acked them. `done` runs (through the deferrer)
  // with "" then, or never if the node is stopped first. The process keeps running as a
  // non-member: it owns no data but can still coordinate client requests.
  // Refused (false, *error set, `done` dropped) when the node is already leaving or has left,
  // or when the others cannot hold N replicas of every key without it.
  virtual bool Leave(std::function<void(std::string error)> done, std::string* error) = 0;
  virtual RebalanceStatus Rebalance() const = 0;

  // FLUSHALL / FLUSHDB of the whole cluster (Cassandra's TRUNCATE): refused (done at once,
  // !ok, UNAVAILABLE) unless every member is alive and reachable; otherwise every member,
  // this one first, records a flush timestamp from this node's hybrid clock durably and empties
  // its replica. Versions stamped at or before it are dropped wherever they arrive later
  // (hints queued before the flush, read repair or anti-entropy from a member that flushed
  // later). Fails when a member did not confirm (the ones that did stay flushed: retry).
  virtual void FlushAll(std::function<void(WriteResult)> done) = 0;

  // A page of the live keys one member (`node`, this one included) holds as a replica
  // (KEYS/SCAN/DBSIZE/RANDOMKEY of the whole cluster): `count` keys from its scan cursor
  // `cursor`, or with `random` up to `count` of its keys at random. done(ok, error, page).
  struct KeyPageResult {
    bool ok = false;
    std::string error;
    std::uint64_t next_cursor = 0;  // 0: that member's keys are done
    std::vector<std::string> keys;
  };
  virtual void KeyPage(std::string node, std::uint64_t cursor, std::uint64_t count, bool random,
                       std::function<void(KeyPageResult)> done) = 0;
  // The first member of `key`'s replicas (placement order) this node holds alive: the one that
  // answers for the key in whole-cluster KEYS/SCAN/DBSIZE/RANDOMKEY.
  virtual std::string PrimaryOf(std::string_view key) const = 0;

  // Messages of the layer above (the server's PUBLISH) to every other member: `payload` is sent
  // as a NOTICE to each member that is up and not leaving or left, and each hands it to its own
  // handler. Best effort, as Redis Cluster's bus carries PUBLISH: a member that is down or
  // partitioned misses it; notices from one node reach each member in the order they were sent.
  virtual void BroadcastNotice(std::string payload) = 0;
  // Called with every NOTICE payload a peer sends this node (on the loop). Empty: dropped.
  virtual void SetNoticeHandler(std::function<void(std::string_view payload)> handler) = 0;

  // --- blocking pops of the layer above (server/cluster_blocking.h) --------------------------
  // The ids of `key`'s replicas in placement order (the choice every part of the cluster uses):
  // the first live one is the key's primary.
  virtual std::vector<std::string> ReplicaIds(std::string_view key) const = 0;
  // Sends `payload` (a KeyEvent, key_messages.h) to member `node_id` as a KEY_EVENT. Best
  // effort: dropped when the member is partitioned, backing off, or does not answer.
  virtual void SendKeyEvent(std::string_view node_id, std::string payload) = 0;
  // Called with every KEY_EVENT a peer sends this node, and its sender (on the loop).
  virtual void SetKeyEventHandler(
      std::function<void(std::string_view from, std::string_view payload)> handler) = 0;
  struct ForwardResult {
    bool ok = false;
    std::string error;  // !ok: why no reply came (timeout, connection lost, refused)
    std::string reply;  // the receiver's answer
  };
  // Sends `request` (a ForwardRequest, key_messages.h) to member `node_id`, whose forward
  // handler runs it; `done` gets its answer, or a failure after `timeout_ms` (0: the request
  // timeout). Never called inside Forward.
  virtual void Forward(std::string_view node_id, std::string request, std::uint64_t timeout_ms,
                       std::function<void(ForwardResult)> done) = 0;
  // Runs the FORWARDs peers send: `respond` once with the answer, later (it is sent after this
  // node's commit log holds what the command wrote). Empty: they are answered with an error.
  using ForwardHandler = std::function<void(std::string_view from, std::string_view request,
                                            std::function<void(std::string reply)> respond)>;
  virtual void SetForwardHandler(ForwardHandler handler) = 0;
  // WAIT about a command forwarded to member `node_id` with a track token: sends `request` (a
  // WriteAcksRequest, key_messages.h) as WRITE_ACKS; `done` gets the member's WriteAcksReply
  // payload, or a failure after `timeout_ms`. Never called inside QueryWriteAcks.
  virtual void QueryWriteAcks(std::string_view node_id, std::string request,
                              std::uint64_t timeout_ms, std::function<void(ForwardResult)> done) = 0;
  // Answers the WRITE_ACKS peers send (`respond` once, later). Empty: answered "not known".
  virtual void SetWriteAcksHandler(ForwardHandler handler) = 0;
  // Called after every change to this node's copy of a key (a coordinator's write, this one's
  // included, a repair, anti-entropy, a handed-off hint), with the key and its new encoded
  // SiblingSet, from inside the write: the handler must not start requests synchronously that
  // call back into the node's state (sending is fine).
  virtual void SetKeyChangeHandler(
      std::function<void(std::string_view key, std::string_view encoded)> handler) = 0;
};

}  // namespace dynakv::cluster
