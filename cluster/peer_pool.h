// The outgoing side of the bus: a PeerClient per other member, the one repeating timer that
// enforces every request's deadline and paces heartbeats, and the simulated partition.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/cluster_node.h"
#include "cluster/ring.h"
#include "deferrer.h"
#include "peer_client.h"
#include "net/uv_handle.h"

namespace dynakv::cluster {

class PeerPool {
 public:
  PeerPool(uv_loop_t* loop, const ClusterOptions& options, Deferrer& deferrer, ClusterStats& stats)
      : loop_(loop), options_(options), deferrer_(deferrer), stats_(stats) {}
  PeerPool(const PeerPool&) = delete;
  PeerPool& operator=(const PeerPool&) = delete;

  // A client for every member of `ring` but `self_id` (resolving their bus addresses), and the
  // deadline timer. False with *error when an address does not resolve.
  bool Init(const Ring& ring, const std::string& self_id, std::string* error);
  // A client for a member learned later (gossip), or the member's client pointed at its new
  // address (the old one is closed: its requests in flight fail). Must not run inside a
  // PeerClient callback. False with *error when the address does not resolve.
  bool AddOrUpdate(const NodeInfo& member, std::string* error);

  // As PeerClient::Send, to member `node`.
  bool Send(std::string_view node, bus::FrameType type, std::shared_ptr<const std::string> payload,
            PeerClient::Callback done, std::string* error, std::uint64_t timeout_ms = 0);
  bool Reachable(std::string_view node) const;
  // Replaces the partitioned set (empty heals).
  void SetPartitionedFrom(const std::vector<std::string>& nodes);
  bool IsPartitionedFrom(std::string_view node) const;
  // Closes every connection and the timer; requests in flight fail.
  void Close(std::shared_ptr<void> token);

 private:
  static void OnTick(uv_timer_t* timer);
  void Tick();

  uv_loop_t* const loop_;
  const ClusterOptions& options_;
  Deferrer& deferrer_;
  ClusterStats& stats_;
  std::map<std::string, std::unique_ptr<PeerClient>, std::less<>> peers_;
  std::map<std::string, std::string, std::less<>> addresses_;  // "host:port" each was made for
  std::string self_id_;
  net::UvHandle<uv_timer_t> timer_;
};

}  // namespace dynakv::cluster
