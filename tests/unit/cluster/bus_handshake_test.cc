// The bus handshake under abuse: connections that never say HELLO must not starve the members,
// and a node refused by a peer's bus says so instead of failing every write silently.
#include <doctest/doctest.h>
#include <sys/resource.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "bus_server.h"
#include "cluster/bus_protocol.h"
#include "cluster/cluster_node.h"
#include "cluster_test_util.h"

namespace dynakv::cluster {
namespace {

using testing::RawClient;
using testing::TestCluster;

const ConsistencyLevel kAll{ConsistencyLevel::Kind::kAll};

// Room for a thousand or two sockets on both ends (the nodes run in this process).
void RaiseFdLimit(rlim_t wanted) {
  rlimit limit{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &limit) == 0);
  if (limit.rlim_cur >= wanted) return;
  limit.rlim_cur = std::min(wanted, limit.rlim_max);
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &limit) == 0);
  REQUIRE_MESSAGE(limit.rlim_cur >= wanted, "the fd limit is too low for this test");
}

// Opens `n` connections to `port` that never send a byte, in batches the loop accepts between
// (the listener's backlog would otherwise fill and block connect).
void OpenIdle(TestCluster& cluster, int port, std::size_t n,
              std::vector<std::unique_ptr<RawClient>>* clients) {
  for (std::size_t i = 0; i < n; ++i) {
    clients->push_back(std::make_unique<RawClient>(port));
    if (i % 100 == 99) testing::RunFor(cluster.loop(), 5);
  }
  testing::RunFor(cluster.loop(), 20);
}

std::size_t StillOpen(std::vector<std::unique_ptr<RawClient>>& clients) {
  std::size_t open = 0;
  for (auto& client : clients) open += client->Poll() ? 1 : 0;
  return open;
}

TEST_CASE("bus: connections that never finish their handshake do not starve a member") {
  constexpr int kTimeoutMs = 1500;
  RaiseFdLimit(8192);
  TestCluster cluster(2, [](ClusterOptions& o) {
    o.handshake_timeout_ms = kTimeoutMs;
    o.reconnect_backoff_initial_ms = 20;
    o.reconnect_backoff_max_ms = 50;
  });
  cluster.StartAll();
  REQUIRE(cluster.Set(1, "before", "v", kAll).ok);  // B's connection to A is identified
  const int port = cluster.node(0).bus_port();

  // More idle strangers than A has slots: the oldest ones in their handshake make room.
  std::vector<std::unique_ptr<RawClient>> idle;
  OpenIdle(cluster, port, BusServer::kMaxConnections + 100, &idle);
  CHECK(testing::RunUntil(cluster.loop(), [&] {
    return cluster.node(0).stats().bus_connections_handshaking == BusServer::kMaxHandshaking;
  }));
  const ClusterStats flooded = cluster.node(0).stats();
  CHECK(flooded.bus_rejected_connections > 0);
  CHECK(flooded.bus_rejected_connections + flooded.bus_handshake_timeouts ==
        BusServer::kMaxConnections + 100 - BusServer::kMaxHandshaking);
  CHECK(flooded.bus_connections == BusServer::kMaxHandshaking + 1);  // and B's

  // B restarts. Its old connection's slot is taken by more strangers before it is back.
  cluster.Stop(1);
  REQUIRE(testing::RunUntil(cluster.loop(), [&] {
    return cluster.node(0).stats().bus_connections < flooded.bus_connections;
  }));
  OpenIdle(cluster, port, 10, &idle);
  cluster.Start(1);

  // The restarted member gets through and its requests are served, through either node.
  for (int i = 0; i < 10; ++i) {
    const std::string key = "after" + std::to_string(i);
    const WriteResult via_b = cluster.Set(1, key, "b", kAll);
    CHECK_MESSAGE(via_b.ok, via_b.error);
    const WriteResult via_a = cluster.Set(0, key, "a", kAll);
    CHECK_MESSAGE(via_a.ok, via_a.error);
  }
  CHECK(cluster.Read(1, "before", kAll).ok);

  // Every idle stranger is gone once the handshake timeout has passed; the member stays.
  CHECK(testing::RunUntil(
      cluster.loop(), [&] { return StillOpen(idle) == 0; }, kTimeoutMs * 3));
  const ClusterStats stats = cluster.node(0).stats();
  CHECK(stats.bus_connections_handshaking == 0);
  CHECK(stats.bus_connections == 1);
  CHECK(stats.bus_handshake_timeouts >= 1);
  CHECK(stats.bus_handshake_timeouts + stats.bus_rejected_connections == idle.size());
  CHECK(cluster.Set(1, "last", "v", kAll).ok);
}

TEST_CASE("bus: before HELLO only small frames are buffered; after it, large ones are served") {
  TestCluster cluster(2, [](ClusterOptions& o) { o.secret.clear(); });  // B: a raw socket
  cluster.Start(0);  // B is played by this test
  const int port = cluster.node(0).bus_port();
  const std::string large(InboundHandshake::kMaxFrameLength, 'x');
  const std::string put =
      bus::EncodeFrame(bus::FrameType::kReplicaPut, 7, bus::EncodeReplicaPut("k", large));

  RawClient stranger(port);
  stranger.Send(put);
  CHECK(testing::RunUntil(cluster.loop(), [&] { return !stranger.Poll(); }));
  CHECK(cluster.node(0).stats().bus_protocol_errors == 1);

  // The same frame after HELLO is a request like any other (an invalid set: an ERROR reply).
  RawClient member(port);
  member.Send(bus::EncodeFrame(bus::FrameType::kHello, 0, bus::EncodeHello("B")));
  member.Send(put);
  CHECK(testing::RunUntil(cluster.loop(), [&] {
    member.Poll();
    return member.received().size() > bus::kLengthBytes + bus::kFrameOverhead;
  }));
  CHECK(static_cast<bus::FrameType>(member.received()[bus::kLengthBytes]) ==
        bus::FrameType::kError);
  CHECK(member.Poll());  // still open
}

TEST_CASE("bus: a node whose connections a peer's bus refuses backs off and logs why") {
  auto logs = std::make_shared<std::vector<std::string>>();
  // A does not know B, so its bus closes B's connections right after HELLO.
  TestCluster cluster(2, [logs](ClusterOptions& o) {
    o.reconnect_backoff_initial_ms = 300;
    o.reconnect_backoff_max_ms = 300;
    o.gossip_interval_ms = 60000;  // only the test's writes dial
    o.log_warning = [logs, self = o.self_id](const std::string& message) {
      logs->push_back(self + ": " + message);
    };
    if (o.self_id == "A") {
      o.members.erase(o.members.begin() + 1);
      o.replication_factor = 1;
    }
  });
  cluster.StartAll();
  const WriteResult refused = cluster.Set(1, "k", "v", kAll);
  CHECK_FALSE(refused.ok);
  CHECK(cluster.node(1).stats().peer_connect_failures == 1);
  CHECK_FALSE(cluster.node(1).PeerReachable("A"));  // INFO's cluster_members_reachable
  auto logged = [&](const std::string& text) {
    return std::any_of(logs->begin(), logs->end(), [&](const std::string& line) {
      return line.find(text) != std::string::npos;
    });
  };
  CHECK(logged("B: Cluster bus: cannot reach node A ("));
  CHECK(logged("closed the connection before answering"));
  CHECK(logged("A: Cluster bus: closing the connection from 127.0.0.1:"));
  CHECK(logged("HELLO from 'B', which is not a member"));

  // Within the backoff B does not redial per request, nor log a line per failure.
  const std::size_t lines = logs->size();
  for (int i = 0; i < 5; ++i) CHECK_FALSE(cluster.Set(1, "k", "v", kAll).ok);
  CHECK(cluster.node(1).stats().peer_connect_failures == 1);
  testing::RunFor(cluster.loop(), 350);
  CHECK_FALSE(cluster.Set(1, "k", "v", kAll).ok);
  CHECK(cluster.node(1).stats().peer_connect_failures == 2);
  CHECK(logs->size() == lines);  // both sides' lines are rate limited
}

}  // namespace
}  // namespace dynakv::cluster
