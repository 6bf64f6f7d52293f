#include "cluster/cluster_node.h"

#include <algorithm>
#include <utility>

#include "anti_entropy.h"
#include "bus_server.h"
#include "cluster/key_messages.h"
#include "coordinator.h"
#include "deferrer.h"
#include "gossiper.h"
#include "hint_store.h"
#include "hinted_handoff.h"
#include "net/uv_handle.h"
#include "net_address.h"
#include "node_options.h"
#include "paxos_acceptor.h"
#include "paxos_proposer.h"
#include "paxos_service.h"
#include "peer_pool.h"
#include "peer_requests.h"
#include "placement.h"
#include "rebalancer.h"
#include "replica_service.h"
#include "storage/engine.h"

namespace dynakv::cluster {

namespace {

// The bus response of a request whose caller wants a ForwardResult (FORWARD, WRITE_ACKS): the
// reply's payload when the peer answered, else the error.
PeerClient::Callback ForwardResultTo(std::function<void(ClusterNode::ForwardResult)> done) {
  return [done = std::move(done)](PeerClient::Response response) {
    ClusterNode::ForwardResult result;
    result.ok = response.ok;
    if (response.ok) {
      result.reply = std::move(response.payload);
    } else {
      result.error = std::move(response.error);
    }
    done(std::move(result));
  };
}

bool Fail(std::string* error, std::string message) {
  *error = std::move(message);
  return false;
}

class ClusterNodeImpl final : public ClusterNode {
 public:
  ClusterNodeImpl(uv_loop_t* loop, storage::Engine& engine, ClusterOptions options, Ring ring)
      : loop_(loop),
        engine_(engine),
        options_(std::move(options)),
        ring_(std::move(ring)),
        self_(*ring_.Find(options_.self_id)),
        replica_(engine, clock_, options_, stats_),
        peers_(loop, options_, deferrer_, stats_),
        server_(loop, replica_,
                BusServer::Membership{
                    [this](std::string_view node) {
                      // With seeds, strangers may connect: that is how a new node joins.
                      // Members that left may still: they forward late writes for a while.
                      return node != self_.id && (!options_.seeds.empty() || gossiper_.Knows(node));
                    },
                    [this](std::string_view node) { return peers_.IsPartitionedFrom(node); },
                    [this](std::string_view node, std::string_view payload, std::string* reply,
                           std::string* error) {
                      return gossiper_.OnGossip(node, payload, reply, error);
                    },
                    [this](std::string_view node, const bus::Frame& frame) {
                      return anti_entropy_.Serve(node, frame);
                    },
                    [this](std::string_view, std::string_view payload) {
                      if (notice_handler_) notice_handler_(payload);
                    },
                    [this](std::string_view node, std::string_view payload) {
                      if (key_event_handler_) key_event_handler_(node, payload);
                    },
                    [this](std::string_view node, std::string_view payload,
                           BusServer::Membership::Respond respond) {
                      ServeForward(node, payload, std::move(respond));
                    },
                    [this] { anti_entropy_.Rebuild(); },
                    [this](const bus::Frame& frame) {
                      return paxos_service_.Serve(frame.type, frame.payload);
                    },
                    [this](std::string_view node, std::string_view payload,
                           BusServer::Membership::Respond respond) {
                      ServeWriteAcks(node, payload, std::move(respond));
                    }},
                options_, stats_),
        coordinator_(self_, ring_, options_, replica_, peers_, deferrer_, clock_, stats_),
        gossiper_(loop, self_, ListenPort(), options_, peers_, deferrer_, stats_),
        anti_entropy_(loop, engine, self_, ring_, options_, replica_, peers_, deferrer_, stats_),
        rebalancer_(loop, engine, self_, options_, replica_, peers_, deferrer_, stats_),
        proposer_(loop, self_, ring_, options_, replica_, paxos_service_, peers_, deferrer_, clock_,
                  stats_, [this](std::string_view node) { return gossiper_.IsAlive(node); }) {}

  bool Init(std::string* error) {
    if (const storage::Status status = replica_.LoadFlushEpoch(); !status.ok()) {
      return Fail(error, status.ToString());
    }
    if (const int rc = deferrer_.Init(loop_); rc != 0) {
      return Fail(error, std::string("cannot start the cluster event handles: ") + uv_strerror(rc));
    }
    if (!peers_.Init(ring_, self_.id, error)) return false;
    if (!gossiper_.Init([this] { ApplyMembership(); }, error)) return false;
    if (const int rc = anti_entropy_.Init(); rc != 0) {
      return Fail(error, std::string("cannot start the anti-entropy timers: ") + uv_strerror(rc));
    }
    int rc = rebalancer_.Init(ring_);
    if (rc == 0) {
      rc = leave_timer_.Init([this](uv_timer_t* t) { return uv_timer_init(loop_, t); }, this);
    }
    if (rc != 0) {
      return Fail(error, std::string("cannot start the rebalancer timers: ") + uv_strerror(rc));
    }
    replica_.set_change_observer(
        [this](std::string_view key, std::string_view old_encoded, std::string_view new_encoded) {
          anti_entropy_.OnChange(key, old_encoded, new_encoded);
          rebalancer_.OnChange(key);
          if (key_change_handler_) key_change_handler_(key, new_encoded);
        });
    return OpenPaxos(error) && OpenHints(error);
  }

  bool OpenPaxos(std::string* error) {
    const storage::Status status =
        PaxosAcceptor::Open(options_.paxos_dir, engine_.fsync_policy(), options_.clock_ms,
                            options_.tombstone_grace_ms, &paxos_acceptor_);
    if (!status.ok()) {
      return Fail(
          error, "cannot open the paxos store in " + options_.paxos_dir + ": " + status.ToString());
    }
    paxos_service_.set_acceptor(paxos_acceptor_.get());
    // The store's engine checkpoints its log and expires old state in its periodic work.
    int rc = paxos_timer_.Init([this](uv_timer_t* t) { return uv_timer_init(loop_, t); }, this);
    if (rc == 0) {
      rc = uv_timer_start(
          paxos_timer_.get(),
          [](uv_timer_t* t) { static_cast<ClusterNodeImpl*>(t->data)->paxos_acceptor_->Tick(); },
          1000, 1000);
    }
    if (rc != 0)
      return Fail(error, std::string("cannot start the paxos timer: ") + uv_strerror(rc));
    return true;
  }

  bool OpenHints(std::string* error) {
    if (options_.hints_dir.empty()) return true;
    const storage::Status status =
        HintStore::Open(options_.hints_dir, engine_.fsync_policy(), options_.clock_ms, &hints_,
                        options_.hints_log_corruption, options_.hints_log_fault_hook);
    if (!status.ok()) {
      return Fail(error,
                  "cannot open the hint store in " + options_.hints_dir + ": " + status.ToString());
    }
    replica_.set_hint_store(hints_.get());
    // Hints of a member that has left are re-homed to the key's replicas, this node among them.
    auto apply_local = [this](std::string_view key, std::string_view encoded) {
      SiblingSet set;
      return SiblingSet::Decode(encoded, &set) && replica_.Put(key, set).ok();
    };
    handoff_ = std::make_unique<HintedHandoff>(loop_, self_, ring_, options_, *hints_, peers_,
                                               deferrer_, stats_, std::move(apply_local));
    if (const int rc = handoff_->Start(); rc != 0) {
      return Fail(error, std::string("cannot start the hint handoff timer: ") + uv_strerror(rc));
    }
    return true;
  }

  bool Start(std::string* error) override {
    sockaddr_storage address;
    if (!ResolveAddress(loop_, self_.host, ListenPort(), &address, error)) return false;
    if (!server_.Listen(address, error) || !gossiper_.Start(error)) return false;
    anti_entropy_.Start();
    // The server that started this has its reply flush running by now (cluster_node.h).
    deferrer_.RunBeforeOtherChecks();
    return true;
  }

  void Stop(std::function<void()> done) override {
    auto barrier = std::make_shared<net::CloseBarrier>(std::move(done));
    // Holds the barrier too, so `done` runs from a close callback even when nothing else is
    // left to close (a second Stop).
    net::UvHandle<uv_idle_t> sentinel;
    if (sentinel.Init([&](uv_idle_t* idle) { return uv_idle_init(loop_, idle); }, nullptr) == 0) {
      sentinel.Close(barrier);
    }
    if (stopped_) return;
    stopped_ = true;
    coordinator_.Stop();
    proposer_.Stop(barrier);
    paxos_timer_.Close(barrier);
    if (handoff_) handoff_->Close(barrier);
    gossiper_.Close(barrier);
    anti_entropy_.Stop(barrier);
    rebalancer_.Stop(barrier);
    leave_timer_.Close(barrier);
    leave_done_ = nullptr;
    server_.Close(barrier);
    // Fails the requests in flight; their clients' callbacks are queued on the deferrer, which
    // runs them before it closes.
    peers_.Close(barrier);
    deferrer_.CloseWhenDrained(barrier);
  }

  int bus_port() const override { return server_.port(); }

  void Read(std::string key, const ConsistencyLevel& level,
            std::function<void(ReadResult)> done) override {
    coordinator_.Read(std::move(key), level, std::move(done));
  }

  void Write(std::string key, SiblingSet siblings, const ConsistencyLevel& level,
             std::function<void(WriteResult)> done,
             std::shared_ptr<WriteProgress> progress) override {
    coordinator_.Write(std::move(key), siblings, level, std::move(done), std::move(progress));
  }

  void WriteBatch(std::vector<KeyedSet> writes, const ConsistencyLevel& level,
                  std::function<void(WriteResult)> done,
                  std::shared_ptr<WriteProgress> progress) override {
    coordinator_.WriteBatch(std::move(writes), level, std::move(done), std::move(progress));
  }

  void Cas(std::string key, bool local_dc, CasCompute compute, std::function<void(CasResult)> done,
           std::shared_ptr<WriteProgress> progress) override {
    proposer_.Cas(std::move(key), local_dc, std::move(compute), std::move(done),
                  std::move(progress));
  }
  void CasGroup(std::vector<std::string> keys, bool local_dc, CasGroupCompute compute,
                std::function<void(CasResult)> done) override {
    proposer_.CasGroup(std::move(keys), local_dc, std::move(compute), std::move(done));
  }
  void SetPaxosFailpoint(PaxosFailpoint failpoint) override { proposer_.SetFailpoint(failpoint); }

  SiblingSet LocalSiblings(std::string_view key) override { return replica_.Get(key); }

  std::string PutLocal(std::string_view key, const SiblingSet& siblings) override {
    const storage::Status status = replica_.Put(key, siblings);
    return status.ok() ? std::string()
                       : "ERR this replica could not store the write: " + status.ToString();
  }

  std::int64_t NextTimestamp() override { return clock_.Tick(replica_.NowUs()); }

  const std::string& self_id() const override { return self_.id; }
  const Ring& ring() const override { return ring_; }
  const ClusterOptions& options() const override { return options_; }

  bool ReloadTls(const net::TlsOptions& tls, std::string* error) override {
    if (!options_.tls || !options_.tls_contexts) return true;
    ClusterOptions rebuilt;
    rebuilt.tls = true;
    rebuilt.tls_options = tls;
    if (!BuildBusTls(&rebuilt, error)) return false;
    // The bus reads these at each accept and dial (BusServer, PeerClient).
    *options_.tls_contexts = *rebuilt.tls_contexts;
    return true;
  }
  void SetFsyncPolicy(storage::FsyncPolicy policy) override {
    engine_.SetFsyncPolicy(policy);
    if (hints_) hints_->SetFsyncPolicy(policy);
    if (paxos_acceptor_) paxos_acceptor_->SetFsyncPolicy(policy);
  }
  bool IsReplicaOf(std::string_view key) const override {
    const std::vector<const NodeInfo*> replicas = ReplicasOf(ring_, key, options_);
    return std::any_of(replicas.begin(), replicas.end(),
                       [&](const NodeInfo* replica) { return replica->id == self_.id; });
  }
  ClusterStats stats() const override {
    ClusterStats stats = stats_;
    stats.hints_pending = PendingHints();
    stats.bus_connections = server_.connections();
    stats.bus_connections_handshaking = server_.handshaking();
    return stats;
  }

  bool PeerReachable(std::string_view node_id) const override {
    if (node_id == self_.id) return true;
    return peers_.Reachable(node_id);
  }

  std::vector<MemberStatus> Members() const override { return gossiper_.Members(); }

  void BroadcastNotice(std::string payload) override {
    auto shared = std::make_shared<const std::string>(std::move(payload));
    for (const MemberStatus& member : gossiper_.Members()) {
      if (member.self ||
          (member.state != MemberState::kUp && member.state != MemberState::kSuspect)) {
        continue;
      }
      std::string error;  // a refused send (partitioned, stuck connection) is a lost notice
      peers_.Send(
          member.node.id, bus::FrameType::kNotice, shared, [](PeerClient::Response) {}, &error);
    }
  }
  void FlushAll(std::function<void(WriteResult)> done) override {
    auto fail = [&](std::string error) {
      deferrer_.Defer([done = std::move(done), error = std::move(error)]() mutable {
        done(WriteResult{false, std::move(error)});
      });
    };
    // Cassandra's TRUNCATE: every member or none, so nothing is left to refill the others.
    std::vector<std::string> peers;
    for (const NodeInfo& member : ring_.nodes()) {
      if (member.id == self_.id) continue;
      if (!IsAlive(member.id) || !PeerReachable(member.id)) {
        return fail("UNAVAILABLE FLUSHALL needs every member of the cluster: " + member.id +
                    " is down or unreachable");
      }
      peers.push_back(member.id);
    }
    const std::int64_t timestamp = NextTimestamp();
    if (const storage::Status status = replica_.ApplyFlush(timestamp); !status.ok()) {
      return fail("ERR FLUSHALL failed on this node: " + status.ToString());
    }
    anti_entropy_.Rebuild();
    SendToEach(peers_, deferrer_, peers, bus::FrameType::kFlushAll,
               std::make_shared<const std::string>(bus::EncodeFlushAll(timestamp)),
               [done = std::move(done)](std::string error) {
                 if (error.empty()) return done(WriteResult{true, {}});
                 done(WriteResult{false, "UNAVAILABLE FLUSHALL did not complete: " + error +
                                             " (the members that confirmed stay flushed; retry)"});
               });
  }

  void KeyPage(std::string node, std::uint64_t cursor, std::uint64_t count, bool random,
               std::function<void(KeyPageResult)> done) override {
    const bus::KeyPageRequest request{cursor, count, random};
    if (node == self_.id) {
      bus::KeyPage page = replica_.LiveKeys(request);
      deferrer_.Defer([done = std::move(done), page = std::move(page)]() mutable {
        done(KeyPageResult{true, {}, page.next_cursor, std::move(page.keys)});
      });
      return;
    }
    auto on_reply = [done](PeerClient::Response response) {
      KeyPageResult result;
      bus::KeyPage page;
      if (!response.ok) {
        result.error = response.error;
      } else if (!bus::DecodeKeyPage(response.payload, &page)) {
        result.error = "malformed KEY_PAGE reply";
      } else {
        result = KeyPageResult{true, {}, page.next_cursor, std::move(page.keys)};
      }
      done(std::move(result));
    };
    SendOrFail(peers_, deferrer_, node, bus::FrameType::kKeyPage,
               std::make_shared<const std::string>(bus::EncodeKeyPageRequest(request)), on_reply);
  }

  std::string PrimaryOf(std::string_view key) const override {
    const std::vector<const NodeInfo*> replicas = ReplicasOf(ring_, key, options_);
    for (const NodeInfo* replica : replicas) {
      if (replica->id == self_.id || (IsAlive(replica->id) && PeerReachable(replica->id))) {
        return replica->id;
      }
    }
    return replicas.empty() ? std::string() : replicas.front()->id;
  }

  void SetNoticeHandler(std::function<void(std::string_view payload)> handler) override {
    notice_handler_ = std::move(handler);
  }

  std::vector<std::string> ReplicaIds(std::string_view key) const override {
    std::vector<std::string> ids;
    for (const NodeInfo* replica : ReplicasOf(ring_, key, options_)) ids.push_back(replica->id);
    return ids;
  }
  void SendKeyEvent(std::string_view node_id, std::string payload) override {
    std::string error;  // a refused send is a lost event: the waiter's re-poll covers it
    peers_.Send(
        node_id, bus::FrameType::kKeyEvent, std::make_shared<const std::string>(std::move(payload)),
        [](PeerClient::Response) {}, &error);
  }
  void SetKeyEventHandler(
      std::function<void(std::string_view from, std::string_view payload)> handler) override {
    key_event_handler_ = std::move(handler);
  }
  void Forward(std::string_view node_id, std::string request, std::uint64_t timeout_ms,
               std::function<void(ForwardResult)> done) override {
    SendOrFail(peers_, deferrer_, node_id, bus::FrameType::kForward,
               std::make_shared<const std::string>(std::move(request)),
               ForwardResultTo(std::move(done)), timeout_ms);
  }
  void SetForwardHandler(ForwardHandler handler) override { forward_handler_ = std::move(handler); }
  void QueryWriteAcks(std::string_view node_id, std::string request, std::uint64_t timeout_ms,
                      std::function<void(ForwardResult)> done) override {
    SendOrFail(peers_, deferrer_, node_id, bus::FrameType::kWriteAcks,
               std::make_shared<const std::string>(std::move(request)),
               ForwardResultTo(std::move(done)), timeout_ms);
  }
  void SetWriteAcksHandler(ForwardHandler handler) override {
    write_acks_handler_ = std::move(handler);
  }
  void SetKeyChangeHandler(
      std::function<void(std::string_view key, std::string_view encoded)> handler) override {
    key_change_handler_ = std::move(handler);
  }
  // A FORWARD from `node`: its answer goes back through the deferrer, so never from inside the
  // bus's own frame handling.
  void ServeForward(std::string_view node, std::string_view payload,
                    BusServer::Membership::Respond respond) {
    if (!forward_handler_) {
      deferrer_.Defer([respond] { respond("-ERR this node does not run forwarded commands\r\n"); });
      return;
    }
    forward_handler_(node, payload, [this, respond](std::string reply) {
      deferrer_.Defer([respond, reply = std::move(reply)]() mutable { respond(std::move(reply)); });
    });
  }
  // A WRITE_ACKS from `node`, answered through the deferrer as a FORWARD is.
  void ServeWriteAcks(std::string_view node, std::string_view payload,
                      BusServer::Membership::Respond respond) {
    if (!write_acks_handler_) {
      deferrer_.Defer([respond] { respond(EncodeWriteAcksReply(WriteAcksReply{})); });
      return;
    }
    write_acks_handler_(node, payload, [this, respond](std::string reply) {
      deferrer_.Defer([respond, reply = std::move(reply)]() mutable { respond(std::move(reply)); });
    });
  }
  bool IsAlive(std::string_view node_id) const override { return gossiper_.IsAlive(node_id); }

  void SetPartitionedFrom(std::vector<std::string> node_ids) override {
    peers_.SetPartitionedFrom(node_ids);
  }

  std::uint64_t PendingHints() const override { return hints_ ? hints_->size() : 0; }

  void RunAntiEntropy(std::string peer, std::function<void(AntiEntropyRound)> done) override {
    anti_entropy_.RunNow(std::move(peer), std::move(done));
  }

  void RebuildAntiEntropyTrees() override { anti_entropy_.Rebuild(); }

  bool Leave(std::function<void(std::string error)> done, std::string* error) override {
    if (stopped_) return Fail(error, "the cluster node is stopping");
    if (leave_ == LeaveState::kLeft) return Fail(error, "this node has already left the cluster");
    if (leave_ != LeaveState::kNone) return Fail(error, "this node is already leaving the cluster");
    Ring without;
    if (!ring_.WithoutNode(self_.id, &without, error)) return false;
    if (!CanHoldEveryReplica(without, error)) return false;
    leave_ = LeaveState::kStreaming;
    leave_done_ = std::move(done);
    // Peers keep counting this node as a replica while it is leaving, so it keeps its copies
    // until it has left: dropping them would only have read repair and anti-entropy send them
    // back.
    rebalancer_.set_drop_allowed(false);
    gossiper_.SetSelfStatus(NodeStatus::kLeaving);
    rebalancer_.Retarget(without);
    rebalancer_.WhenSettled([this] { OnStreamedAway(); });
    return true;
  }

  RebalanceStatus Rebalance() const override {
    RebalanceStatus status;
    status.state = leave_ == LeaveState::kLeft   ? "left"
                   : leave_ != LeaveState::kNone ? "leaving"
                   : rebalancer_.streaming()     ? "streaming"
                                                 : "idle";
    status.scan_progress = rebalancer_.scan_progress();
    status.keys_queued = rebalancer_.keys_queued();
    status.pushes_in_flight = rebalancer_.pushes_in_flight();
    return status;
  }

 private:
  // LEAVE runs through these states; kLeft once it reported done.
  enum class LeaveState { kNone, kStreaming, kGrace, kDraining, kLeft };

  // Whether the members of `ring` can hold every replica the placement asks for.
  bool CanHoldEveryReplica(const Ring& ring, std::string* error) const {
    if (options_.replicas_per_dc.empty()) {
      if (static_cast<int>(ring.size()) >= options_.replication_factor) return true;
      return Fail(error, "the other " + std::to_string(ring.size()) + " members cannot hold " +
                             std::to_string(options_.replication_factor) +
                             " replicas of every key");
    }
    for (const auto& dc_count : options_.replicas_per_dc) {
      // Not a structured binding: clang before 16 (the fuzz build) cannot capture one.
      const auto& dc = dc_count.first;
      const auto count = dc_count.second;
      const auto in_dc = std::count_if(ring.nodes().begin(), ring.nodes().end(),
                                       [&](const NodeInfo& node) { return node.dc == dc; });
      if (in_dc < count) {
        return Fail(error, "the other " + std::to_string(in_dc) + " members of dc '" + dc +
                               "' cannot hold its " + std::to_string(count) + " replicas");
      }
    }
    return true;
  }

  // Every key is on the ring without this node: announce it, then give coordinators that have
  // not heard yet the grace period to stop sending writes here (those that come are forwarded).
  void OnStreamedAway() {
    if (stopped_ || leave_ != LeaveState::kStreaming) return;
    leave_ = LeaveState::kGrace;
    gossiper_.SetSelfStatus(NodeStatus::kLeft);
    const int grace = options_.leave_grace_ms > 0 ? options_.leave_grace_ms
                                                  : std::max(1000, 5 * options_.gossip_interval_ms);
    uv_timer_start(
        leave_timer_.get(),
        [](uv_timer_t* timer) { static_cast<ClusterNodeImpl*>(timer->data)->OnGraceOver(); },
        static_cast<std::uint64_t>(grace), 0);
  }

  // A last pass sends every copy still here to its replicas again and drops it once they all
  // acked it: nothing this node acked stays only here.
  void OnGraceOver() {
    if (stopped_ || leave_ != LeaveState::kGrace) return;
    leave_ = LeaveState::kDraining;
    rebalancer_.set_drop_allowed(true);
    rebalancer_.Retarget(TargetRing(), /*force=*/true);
    rebalancer_.WhenSettled([this] {
      if (stopped_ || leave_ != LeaveState::kDraining) return;
      leave_ = LeaveState::kLeft;
      if (auto done = std::move(leave_done_)) {
        leave_done_ = nullptr;
        done("");
      }
    });
  }

  // The ring this node's data belongs on: without this node once it started leaving (gossip
  // leaves it out of ring_ too once it announced "left").
  Ring TargetRing() const {
    Ring target;
    std::string error;
    if (leave_ != LeaveState::kNone && ring_.Find(self_.id) != nullptr &&
        ring_.WithoutNode(self_.id, &target, &error)) {
      return target;
    }
    return ring_;
  }

  int ListenPort() const {
    return options_.bus_port != 0 ? options_.bus_port : self_.port + options_.bus_port_offset;
  }

  // Gossip changed who is in the ring, or where a member lives: a new ring snapshot, and a
  // client for every member not dialled yet (runs deferred, outside bus callbacks).
  void ApplyMembership() {
    if (stopped_) return;
    Ring ring;
    std::string error;
    if (!Ring::Build(gossiper_.RingMembers(), options_.ring, &ring, &error)) {
      Warn("Cluster gossip: the new membership makes no valid ring; keeping the old: " + error);
      return;
    }
    ring_ = std::move(ring);
    anti_entropy_.Rebuild();  // which keys each pair of nodes shares has changed
    for (const NodeInfo& member : ring_.nodes()) {
      if (member.id != self_.id && !peers_.AddOrUpdate(member, &error)) {
        Warn("Cluster gossip: cannot dial " + member.id + ": " + error);
      }
    }
    // Keys whose replicas changed go to their new ones (after the dialling, so they can).
    rebalancer_.Retarget(TargetRing());
  }

  void Warn(const std::string& message) const {
    if (options_.log_warning) options_.log_warning(message);
  }

  uv_loop_t* const loop_;
  storage::Engine& engine_;  // the node's data; outlives the node
  const ClusterOptions options_;
  // Gossip replaces the ring when the membership changes (ApplyMembership); everything that
  // holds a reference to it sees the new one, and looks nodes up afresh for every request.
  Ring ring_;
  const NodeInfo self_;  // a copy: ring_ is replaced
  ClusterStats stats_;
  HybridClock clock_;
  Deferrer deferrer_;
  ReplicaService replica_;
  PeerPool peers_;
  std::function<void(std::string_view payload)> notice_handler_;
  std::function<void(std::string_view from, std::string_view payload)> key_event_handler_;
  ForwardHandler forward_handler_;
  ForwardHandler write_acks_handler_;
  std::function<void(std::string_view key, std::string_view encoded)> key_change_handler_;
  std::unique_ptr<PaxosAcceptor> paxos_acceptor_;  // opened by Init
  PaxosService paxos_service_{nullptr, replica_, stats_};
  net::UvHandle<uv_timer_t> paxos_timer_;  // the paxos store's periodic work
  BusServer server_;
  Coordinator coordinator_;
  Gossiper gossiper_;
  AntiEntropy anti_entropy_;
  Rebalancer rebalancer_;
  PaxosProposer proposer_;
  LeaveState leave_ = LeaveState::kNone;
  std::function<void(std::string)> leave_done_;  // LEAVE's caller, until it is over
  net::UvHandle<uv_timer_t> leave_timer_;        // the grace period after announcing "left"
  std::unique_ptr<HintStore> hints_;             // null: hints disabled
  std::unique_ptr<HintedHandoff> handoff_;       // with hints_
  bool stopped_ = false;
};

}  // namespace

bool ClusterNode::Create(uv_loop_t* loop, storage::Engine& engine, ClusterOptions options,
                         std::unique_ptr<ClusterNode>* node, std::string* error) {
  Ring ring;
  if (!Ring::Build(options.members, options.ring, &ring, error)) {
    *error = "cluster members: " + *error;
    return false;
  }
  if (!ValidateOptions(options, ring, error)) {
    *error = "cluster options: " + *error;
    return false;
  }
  if (!BuildBusTls(&options, error)) return false;
  auto impl = std::make_unique<ClusterNodeImpl>(loop, engine, std::move(options), std::move(ring));
  if (!impl->Init(error)) return false;
  *node = std::move(impl);
  return true;
}

}  // namespace dynakv::cluster
