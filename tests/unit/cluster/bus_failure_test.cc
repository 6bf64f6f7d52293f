// The bus under failure: silent peers, dead peers, garbage on the wire, partitions.
#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "cluster/bus_protocol.h"
#include "cluster/cluster_node.h"
#include "cluster_test_util.h"

namespace dynakv::cluster {
namespace {

using testing::Level;
using testing::RawClient;
using testing::TestCluster;
using testing::Values;

const ConsistencyLevel kOne{ConsistencyLevel::Kind::kOne};
const ConsistencyLevel kAll{ConsistencyLevel::Kind::kAll};

// Reads one whole frame from `client` (running the loop meanwhile); false if none arrives.
bool ReadFrame(TestCluster& cluster, RawClient& client, bus::FrameType* type, std::uint64_t* id,
               std::string* payload) {
  bus::FrameReader reader;
  bool got = false;
  testing::RunUntil(cluster.loop(), [&] {
    client.Poll();
    std::string& bytes = client.received();
    if (bytes.size() < bus::kLengthBytes) return false;
    const std::size_t length = static_cast<std::uint8_t>(bytes[0]) |
                               static_cast<std::uint8_t>(bytes[1]) << 8 |
                               static_cast<std::uint8_t>(bytes[2]) << 16 |
                               static_cast<std::size_t>(static_cast<std::uint8_t>(bytes[3])) << 24;
    if (bytes.size() < bus::kLengthBytes + length) return false;
    std::size_t available = 0;
    char* area = reader.WritableArea(bus::kLengthBytes + length, &available);
    std::copy(bytes.begin(),
              bytes.begin() + static_cast<std::ptrdiff_t>(bus::kLengthBytes + length), area);
    reader.Commit(bus::kLengthBytes + length);
    bytes.erase(0, bus::kLengthBytes + length);
    bus::Frame frame;
    REQUIRE(reader.Next(&frame) == bus::FrameReader::Status::kFrame);
    *type = frame.type;
    *id = frame.id;
    payload->assign(frame.payload);
    got = true;
    return true;
  });
  return got;
}

// True once the node has closed `client`'s connection.
bool ClosedByNode(TestCluster& cluster, RawClient& client) {
  return testing::RunUntil(
      cluster.loop(), [&] { return !client.Poll(); }, 2000);
}

TEST_CASE("bus: a peer that accepts but never answers makes requests time out, not hang") {
  int silent_port = 0;
  testing::Fd silent = testing::BoundSocket(true, &silent_port);
  const int a_port = testing::FreePorts(1)[0];
  TestCluster cluster({{"A", ""}, {"S", ""}}, [](ClusterOptions& o) { o.request_timeout_ms = 300; },
                      {a_port, silent_port});
  cluster.Start(0);

  const auto start = std::chrono::steady_clock::now();
  const WriteResult write = cluster.Set(0, "k", "v", kAll);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK_FALSE(write.ok);
  CHECK(write.error == "UNAVAILABLE not enough replicas (needed 2, got 1)");
  // libuv's loop clock counts whole (coarse) milliseconds: allow it to round down a little.
  CHECK(elapsed >= std::chrono::milliseconds(295));
  CHECK(elapsed < std::chrono::milliseconds(1500));
  CHECK(cluster.node(0).stats().peer_timeouts == 1);

  // Reads likewise; ONE is met by the local replica without waiting.
  CHECK(cluster.Read(0, "k", kAll).error == "UNAVAILABLE not enough replicas (needed 2, got 1)");
  const auto quick = std::chrono::steady_clock::now();
  const ReadResult one = cluster.Read(0, "k", kOne);
  CHECK(one.ok);
  CHECK(std::chrono::steady_clock::now() - quick < std::chrono::milliseconds(250));
  CHECK(Values(one.siblings) == std::vector<std::string>{"v"});
  // The TCP connection is up, but a peer that lets requests time out is not reachable.
  CHECK_FALSE(cluster.node(0).PeerReachable("S"));
}

TEST_CASE("bus: a connection that breaks fails its requests at once, not at their deadline") {
  int silent_port = 0;
  testing::Fd silent = testing::BoundSocket(true, &silent_port);
  const int a_port = testing::FreePorts(1)[0];
  TestCluster cluster({{"A", ""}, {"S", ""}},
                      [](ClusterOptions& o) { o.request_timeout_ms = 5000; },
                      {a_port, silent_port});
  cluster.Start(0);
  std::optional<WriteResult> result;
  SiblingSet set;
  Version version = set.NewVersion({}, "A", cluster.node(0).NextTimestamp());
  version.value = "v";
  set.Add(version);
  cluster.node(0).Write("k", set, kAll, [&](WriteResult r) { result = std::move(r); });
  testing::RunFor(cluster.loop(), 50);
  REQUIRE_FALSE(result.has_value());
  // Closing a listener resets the connections still in its backlog.
  const auto start = std::chrono::steady_clock::now();
  silent.Reset();
  REQUIRE(testing::RunUntil(cluster.loop(), [&] { return result.has_value(); }));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(1000));
  CHECK(result->error == "UNAVAILABLE not enough replicas (needed 2, got 1)");
  CHECK(cluster.node(0).stats().peer_timeouts == 0);
  CHECK_FALSE(cluster.node(0).PeerReachable("S"));
}

TEST_CASE("bus: a dead peer is redialled with backoff, not per request") {
  const std::vector<int> ports = testing::FreePorts(2);  // nothing listens on ports[1]
  TestCluster cluster(
      {{"A", ""}, {"D", ""}},
      [](ClusterOptions& o) {
        o.reconnect_backoff_initial_ms = 200;
        o.reconnect_backoff_max_ms = 400;
      },
      ports);
  cluster.Start(0);
  CHECK_FALSE(cluster.Set(0, "k", "v1", kAll).ok);  // connect refused
  CHECK(cluster.node(0).stats().peer_connect_failures == 1);
  CHECK_FALSE(cluster.node(0).PeerReachable("D"));
  // Within the backoff the peer fails at once, without a connect attempt.
  for (int i = 0; i < 5; ++i) {
    const WriteResult result = cluster.Set(0, "k", "v2", kAll);
    CHECK(result.error == "UNAVAILABLE not enough replicas (needed 2, got 1)");
  }
  CHECK(cluster.node(0).stats().peer_connect_failures == 1);
  testing::RunFor(cluster.loop(), 250);
  CHECK_FALSE(cluster.Set(0, "k", "v3", kAll).ok);  // one new attempt
  CHECK(cluster.node(0).stats().peer_connect_failures == 2);
  CHECK(cluster.Set(0, "k", "v4", Level(1)).ok);
}

TEST_CASE("bus: heartbeats keep PeerReachable current") {
  TestCluster cluster(2, [](ClusterOptions& o) { o.ping_interval_ms = 20; });
  cluster.StartAll();
  CHECK(cluster.node(0).PeerReachable("A"));  // itself
  CHECK_FALSE(cluster.node(0).PeerReachable("nobody"));
  CHECK(testing::RunUntil(cluster.loop(), [&] { return cluster.node(0).PeerReachable("B"); }));
  cluster.Partition(0, {1});
  CHECK_FALSE(cluster.node(0).PeerReachable("B"));
  cluster.Heal();
  CHECK(cluster.node(0).PeerReachable("B"));
  cluster.Stop(1);
  CHECK(testing::RunUntil(cluster.loop(), [&] { return !cluster.node(0).PeerReachable("B"); }));
}

TEST_CASE("bus: a one-sided partition drops incoming requests, so the sender times out") {
  TestCluster cluster(2, [](ClusterOptions& o) { o.request_timeout_ms = 200; });
  cluster.StartAll();
  REQUIRE(cluster.Set(0, "k", "v", kAll).ok);
  // Only B knows about the partition: A still sends, B drops A's frames without a reply.
  cluster.node(1).SetPartitionedFrom({"A"});
  const WriteResult write = cluster.Set(0, "k", "v2", kAll);
  CHECK(write.error == "UNAVAILABLE not enough replicas (needed 2, got 1)");
  CHECK(cluster.node(0).stats().peer_timeouts == 1);
  CHECK(Values(cluster.node(1).LocalSiblings("k")) == std::vector<std::string>{"v"});
  cluster.node(1).SetPartitionedFrom({});
  CHECK(cluster.Set(0, "k", "v3", kAll).ok);
}

TEST_CASE("bus: garbage and protocol violations close the connection; the node carries on") {
  TestCluster cluster(2);
  cluster.StartAll();
  const int port = cluster.node(0).bus_port();
  REQUIRE(port == cluster.members()[0].port);

  SUBCASE("an oversized frame header") {
    RawClient client(port);
    client.Send(std::string("\xff\xff\xff\x7f\x01", 5));
    CHECK(ClosedByNode(cluster, client));
  }
  SUBCASE("a redis command") {
    RawClient client(port);
    client.Send("*1\r\n$4\r\nPING\r\n");
    CHECK(ClosedByNode(cluster, client));
  }
  SUBCASE("a request before HELLO") {
    RawClient client(port);
    client.Send(bus::EncodeFrame(bus::FrameType::kPing, 1, ""));
    CHECK(ClosedByNode(cluster, client));
  }
  SUBCASE("HELLO from a stranger") {
    RawClient client(port);
    client.Send(bus::EncodeFrame(bus::FrameType::kHello, 0, bus::EncodeHello("mallory")));
    CHECK(ClosedByNode(cluster, client));
  }
  SUBCASE("seeded random bytes") {
    std::mt19937_64 rng(99);
    for (int round = 0; round < 30; ++round) {
      RawClient client(port);
      std::string bytes(1 + rng() % 300, '\0');
      for (char& c : bytes) c = static_cast<char>(rng());
      client.Send(bytes);
      testing::RunFor(cluster.loop(), 2);
    }
  }
  CHECK(testing::RunUntil(cluster.loop(),
                          [&] { return cluster.node(0).stats().bus_protocol_errors >= 1; }));
  // The node still works, with its peer and on the bus.
  CHECK(cluster.Set(1, "after", "ok", kAll).ok);
  CHECK(cluster.Read(0, "after", kAll).ok);
}

TEST_CASE("bus: a peer speaking the protocol by hand gets answers and clean errors") {
  TestCluster cluster(2, [](ClusterOptions& o) { o.secret.clear(); });  // B: a raw socket
  cluster.Start(0);  // B is played by this test
  RawClient client(cluster.node(0).bus_port());
  client.Send(bus::EncodeFrame(bus::FrameType::kHello, 0, bus::EncodeHello("B")));

  bus::FrameType type;
  std::uint64_t id = 0;
  std::string payload;
  client.Send(bus::EncodeFrame(bus::FrameType::kPing, 41, ""));
  REQUIRE(ReadFrame(cluster, client, &type, &id, &payload));
  CHECK(type == bus::FrameType::kPong);
  CHECK(id == 41);

  // An invalid sibling set gets an ERROR reply; the connection stays usable.
  client.Send(
      bus::EncodeFrame(bus::FrameType::kReplicaPut, 42, bus::EncodeReplicaPut("k", "not a set")));
  REQUIRE(ReadFrame(cluster, client, &type, &id, &payload));
  CHECK(type == bus::FrameType::kError);
  CHECK(id == 42);
  std::string_view message;
  REQUIRE(bus::DecodeError(payload, &message));
  CHECK(message == "REPLICA_PUT carries an invalid sibling set");

  // A valid put is merged and acked; a get returns the stored set.
  SiblingSet set;
  Version version = set.NewVersion({}, "B", 1000);
  version.value = "by hand";
  REQUIRE(set.Add(version));
  client.Send(
      bus::EncodeFrame(bus::FrameType::kReplicaPut, 43, bus::EncodeReplicaPut("k", set.Encode())));
  REQUIRE(ReadFrame(cluster, client, &type, &id, &payload));
  CHECK(type == bus::FrameType::kReply);
  CHECK(id == 43);
  client.Send(bus::EncodeFrame(bus::FrameType::kReplicaGet, 44, bus::EncodeReplicaGet("k")));
  REQUIRE(ReadFrame(cluster, client, &type, &id, &payload));
  bus::ReplyStatus status;
  std::string_view encoded;
  REQUIRE(bus::DecodeReply(payload, &status, &encoded));
  CHECK(status == bus::ReplyStatus::kValue);
  CHECK(encoded == set.Encode());
  client.Send(bus::EncodeFrame(bus::FrameType::kReplicaGet, 45, bus::EncodeReplicaGet("none")));
  REQUIRE(ReadFrame(cluster, client, &type, &id, &payload));
  REQUIRE(bus::DecodeReply(payload, &status, &encoded));
  CHECK(status == bus::ReplyStatus::kNone);
  CHECK(cluster.node(0).stats().replica_requests_served == 3);

  // A reply frame is not something a peer may send to the accepting side.
  client.Send(bus::EncodeFrame(bus::FrameType::kReply, 46, bus::EncodeReply()));
  CHECK(ClosedByNode(cluster, client));
}

}  // namespace
}  // namespace dynakv::cluster
