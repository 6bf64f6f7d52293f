// WAIT in cluster mode: how many replicas hold the last write of a connection.
//
// Every write the coordinator sends goes to all N replicas of its key and is answered once W of
// them acknowledged it; the coordinator keeps counting the acknowledgements that arrive after
// that (cluster::WriteProgress). This records, per client, the writes of its last command that
// wrote anything (one per key written, or one per transaction or script batch) and counts as
// held by a replica what every one of them reached: the least of their counts.
//
// WAIT numreplicas timeout answers that count at once when it is at least numreplicas, or when
// the client may not block (inside EXEC); otherwise the client blocks without blocking the loop
// (Client::BeginAsyncCommand) until an acknowledgement makes the count enough, or the timeout in
// milliseconds passes (0: forever), and is then answered the count as it stands (Redis's
// replies). A client that has written nothing is answered the replicas its writes would reach
// that this node holds alive (self included, at most N): as Redis counts its connected replicas,
// all of which hold offset 0.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "cluster/cluster_node.h"
#include "command.h"
#include "net/uv_handle.h"

namespace dynakv::server {

class Server;

class ClusterWait {
 public:
  // Both must outlive this.
  ClusterWait(Server& server, cluster::ClusterNode& node);
  ~ClusterWait();
  ClusterWait(const ClusterWait&) = delete;
  ClusterWait& operator=(const ClusterWait&) = delete;

  // A new WriteProgress for one write `client_id`'s command is sending; the command's writes
  // (StartCommand, then one Track per write) become the client's last write.
  void StartCommand(std::uint64_t client_id);
  std::shared_ptr<cluster::WriteProgress> Track(std::uint64_t client_id);

  // WAIT's handler past its argument checks.
  void Wait(CommandContext& ctx, long long numreplicas, std::uint64_t timeout_ms);

  // The replicas holding `client_id`'s last write (see above).
  int Acked(std::uint64_t client_id) const;
  // CLIENT UNBLOCK: a client blocked in WAIT is answered now (its count, or the UNBLOCKED error
  // when `error`); false when it is not blocked here.
  bool Unblock(std::uint64_t client_id, bool error);
  bool IsBlocked(std::uint64_t client_id) const { return waiters_.count(client_id) != 0; }
  std::size_t blocked_clients() const { return waiters_.size(); }
  void ClientClosed(std::uint64_t client_id);

 private:
  struct Waiter {
    ClusterWait* owner = nullptr;
    std::uint64_t client_id = 0;
    long long numreplicas = 0;
    net::UvHandle<uv_timer_t> timer;
  };
  // An acknowledgement of one of `client_id`'s writes arrived.
  void OnAck(std::uint64_t client_id);
  static void OnTimeout(uv_timer_t* timer);
  // Answers the blocked client with `reply` (RESP bytes) and lets it run its next request.
  void Finish(std::uint64_t client_id, const std::string& reply);

  Server& server_;
  cluster::ClusterNode& node_;
  // Per client: its last command's writes.
  std::map<std::uint64_t, std::vector<std::shared_ptr<cluster::WriteProgress>>> last_writes_;
  std::map<std::uint64_t, std::unique_ptr<Waiter>> waiters_;
  // Acks arriving after this is gone do nothing.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace dynakv::server
