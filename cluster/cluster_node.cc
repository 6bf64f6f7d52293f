#include "cluster/cluster_node.h"

#include <utility>

#include "bus_server.h"
#include "coordinator.h"
#include "deferrer.h"
#include "net_address.h"
#include "peer_pool.h"
#include "replica_service.h"
#include "uv_handle.h"

namespace dynakv::cluster {

namespace {

bool Fail(std::string* error, std::string message) {
  *error = std::move(message);
  return false;
}

// Checks what Ring::Build does not: that this node is a member and that the placement options
// can be met by the membership, so every request has its full set of replicas.
bool ValidateOptions(const ClusterOptions& options, const Ring& ring, std::string* error) {
  if (ring.Find(options.self_id) == nullptr) {
    return Fail(error, "this node's id '" + options.self_id + "' is not among the members");
  }
  const int members = static_cast<int>(ring.size());
  if (options.replicas_per_dc.empty()) {
    if (options.replication_factor < 1 || options.replication_factor > members) {
      return Fail(error, "replication factor " + std::to_string(options.replication_factor) +
                             " must be between 1 and the number of members (" +
                             std::to_string(members) + ")");
    }
  } else {
    int total = 0;
    for (const auto& [dc, count] : options.replicas_per_dc) {
      int in_dc = 0;
      for (const NodeInfo& node : ring.nodes()) in_dc += node.dc == dc ? 1 : 0;
      if (count < 0 || count > in_dc) {
        return Fail(error, "dc '" + dc + "' wants " + std::to_string(count) + " replicas but has " +
                               std::to_string(in_dc) + " members");
      }
      total += count;
    }
    if (total == 0) return Fail(error, "replicas per dc add up to no replica at all");
  }
  if (options.request_timeout_ms < 1) return Fail(error, "request timeout must be at least 1 ms");
  if (options.reconnect_backoff_initial_ms < 0 || options.reconnect_backoff_max_ms < 0 ||
      options.ping_interval_ms < 0 || options.tombstone_grace_ms < 0) {
    return Fail(error, "backoff, ping interval and tombstone grace must not be negative");
  }
  return true;
}

class ClusterNodeImpl final : public ClusterNode {
 public:
  ClusterNodeImpl(uv_loop_t* loop, storage::Engine& engine, ClusterOptions options, Ring ring)
      : loop_(loop),
        options_(std::move(options)),
        ring_(std::move(ring)),
        self_(*ring_.Find(options_.self_id)),
        replica_(engine, clock_, options_, stats_),
        peers_(loop, options_, deferrer_, stats_),
        server_(loop, replica_,
                BusServer::Membership{
                    [this](std::string_view node) {
                      return node != self_.id && ring_.Find(node) != nullptr;
                    },
                    [this](std::string_view node) { return peers_.IsPartitionedFrom(node); }},
                options_, stats_),
        coordinator_(self_, ring_, options_, replica_, peers_, deferrer_, clock_, stats_) {}

  bool Init(std::string* error) {
    if (const int rc = deferrer_.Init(loop_); rc != 0) {
      return Fail(error, std::string("cannot start the cluster event handles: ") + uv_strerror(rc));
    }
    return peers_.Init(ring_, self_.id, error);
  }

  bool Start(std::string* error) override {
    const int port =
        options_.bus_port != 0 ? options_.bus_port : self_.port + options_.bus_port_offset;
    sockaddr_storage address;
    if (!ResolveAddress(loop_, self_.host, port, &address, error)) return false;
    return server_.Listen(address, error);
  }

  void Stop(std::function<void()> done) override {
    auto barrier = std::make_shared<CloseBarrier>(std::move(done));
    // Holds the barrier too, so `done` runs from a close callback even when nothing else is
    // left to close (a second Stop).
    UvHandle<uv_idle_t> sentinel;
    if (sentinel.Init([&](uv_idle_t* idle) { return uv_idle_init(loop_, idle); }, nullptr) == 0) {
      sentinel.Close(barrier);
    }
    if (stopped_) return;
    stopped_ = true;
    coordinator_.Stop();
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
             std::function<void(WriteResult)> done) override {
    coordinator_.Write(std::move(key), siblings, level, std::move(done));
  }

  SiblingSet LocalSiblings(std::string_view key) override { return replica_.Get(key); }

  std::int64_t NextTimestamp() override { return clock_.Tick(replica_.NowMs()); }

  const std::string& self_id() const override { return self_.id; }
  const Ring& ring() const override { return ring_; }
  const ClusterOptions& options() const override { return options_; }
  ClusterStats stats() const override { return stats_; }

  bool PeerReachable(std::string_view node_id) const override {
    if (node_id == self_.id) return true;
    return peers_.Reachable(node_id);
  }

  void SetPartitionedFrom(std::vector<std::string> node_ids) override {
    peers_.SetPartitionedFrom(node_ids);
  }

 private:
  uv_loop_t* const loop_;
  const ClusterOptions options_;
  const Ring ring_;
  const NodeInfo& self_;
  ClusterStats stats_;
  HybridClock clock_;
  Deferrer deferrer_;
  ReplicaService replica_;
  PeerPool peers_;
  BusServer server_;
  Coordinator coordinator_;
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
  auto impl = std::make_unique<ClusterNodeImpl>(loop, engine, std::move(options), std::move(ring));
  if (!impl->Init(error)) return false;
  *node = std::move(impl);
  return true;
}

}  // namespace dynakv::cluster
