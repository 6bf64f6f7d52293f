// Gossip membership end to end: real ClusterNodes on one loop, learning each other from seeds,
// judging each other's liveness, and noticing restarts.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "cluster/bus_protocol.h"
#include "cluster/cluster_node.h"
#include "cluster/gossip_message.h"
#include "cluster_test_util.h"

namespace dynakv::cluster {
namespace {

using testing::TestCluster;

const ConsistencyLevel kAll{ConsistencyLevel::Kind::kAll};

std::string Seed(int port) { return "127.0.0.1:" + std::to_string(port); }

// Node i starts knowing only itself and the bus address of node i + 1 (the last one: node 0),
// so everything beyond one neighbour has to be learned second hand.
TestCluster::Tweak OneSeedEach(std::vector<int> ports, int interval_ms, int down_after_ms) {
  return [=](ClusterOptions& options) {
    std::size_t self = 0;
    while (options.members[self].id != options.self_id) ++self;
    options.seeds = {Seed(ports[(self + 1) % ports.size()])};
    options.members = {options.members[self]};
    options.replication_factor = 3;
    options.gossip_interval_ms = interval_ms;
    options.down_after_ms = down_after_ms;
    options.request_timeout_ms = 300;
    options.reconnect_backoff_max_ms = 400;
  };
}

const MemberStatus* Find(const std::vector<MemberStatus>& members, const std::string& id) {
  for (const MemberStatus& member : members) {
    if (member.node.id == id) return &member;
  }
  return nullptr;
}

// Node `viewer` knows exactly `ids`, all up, and its ring holds them all.
bool SeesAllUp(TestCluster& cluster, int viewer, const std::vector<std::string>& ids) {
  ClusterNode& node = cluster.node(viewer);
  const std::vector<MemberStatus> members = node.Members();
  if (members.size() != ids.size() || node.ring().size() != ids.size()) return false;
  for (const std::string& id : ids) {
    const MemberStatus* member = Find(members, id);
    if (member == nullptr || member->state != MemberState::kUp || !node.IsAlive(id)) return false;
  }
  return true;
}

MemberState StateOf(TestCluster& cluster, int viewer, const std::string& id) {
  const std::vector<MemberStatus> members = cluster.node(viewer).Members();
  const MemberStatus* member = Find(members, id);
  REQUIRE(member != nullptr);
  return member->state;
}

std::int64_t ElapsedMs(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               since)
      .count();
}

TEST_CASE("gossip: five nodes with one seed each converge, detect a stop, and see the restart") {
  constexpr int kNodes = 5, kInterval = 200, kDownAfter = 1500;
  const std::vector<int> ports = testing::FreePorts(kNodes);
  TestCluster cluster(TestCluster::Specs(kNodes), OneSeedEach(ports, kInterval, kDownAfter), ports);
  const std::vector<std::string> all = {"A", "B", "C", "D", "E"};
  const std::vector<int> others = {0, 1, 3, 4};
  constexpr int kC = 2;
  cluster.StartAll();
  CHECK(cluster.node(0).Members().size() == 1);  // only itself so far

  // Convergence: everyone knows everyone, and has dialled them (a write at ALL needs the ring).
  auto start = std::chrono::steady_clock::now();
  REQUIRE(testing::RunUntil(
      cluster.loop(),
      [&] {
        for (int i = 0; i < kNodes; ++i) {
          if (!SeesAllUp(cluster, i, all)) return false;
        }
        return true;
      },
      8000));
  MESSAGE("full view everywhere after " << ElapsedMs(start) << " ms");
  const WriteResult written = cluster.Set(0, "k", "v", kAll);
  CHECK_MESSAGE(written.ok, written.error);
  const ReadResult read = cluster.Read(4, "k", kAll);
  CHECK_MESSAGE(read.ok, read.error);
  const std::vector<MemberStatus> seen_by_a = cluster.node(0).Members();
  const std::int64_t c_generation = Find(seen_by_a, "C")->generation;
  CHECK(c_generation > 0);
  CHECK(Find(seen_by_a, "A")->self);
  CHECK(Find(seen_by_a, "C")->heartbeat > 0);
  CHECK(Find(seen_by_a, "C")->silence_ms < kDownAfter);

  // C stops: every other node marks it down within the bound (plus a tick and a round).
  cluster.Stop(kC);
  start = std::chrono::steady_clock::now();
  REQUIRE(testing::RunUntil(
      cluster.loop(),
      [&] {
        for (int i : others) {
          if (StateOf(cluster, i, "C") != MemberState::kDown) return false;
        }
        return true;
      },
      kDownAfter + 2000));
  const std::int64_t detected_after = ElapsedMs(start);
  MESSAGE("C down everywhere after " << detected_after << " ms");
  // Counted from the last heartbeat each node heard, which reaches some second hand, a few
  // rounds after C sent it.
  CHECK(detected_after <= kDownAfter + 6 * kInterval);
  for (int i : others) {
    CHECK_FALSE(cluster.node(i).IsAlive("C"));
    CHECK(cluster.node(i).ring().size() == 5);  // down is not gone: C keeps its ranges
    for (const char* id : {"A", "B", "D", "E"}) CHECK(cluster.node(i).IsAlive(id));
  }

  // C restarts on its old id, port and data: a new generation, up again everywhere, and it
  // relearns the whole cluster from its one seed.
  cluster.Start(kC);
  start = std::chrono::steady_clock::now();
  REQUIRE(testing::RunUntil(
      cluster.loop(),
      [&] {
        for (int i = 0; i < kNodes; ++i) {
          if (!SeesAllUp(cluster, i, all)) return false;
        }
        for (int i : others) {
          if (Find(cluster.node(i).Members(), "C")->generation <= c_generation) return false;
        }
        return true;
      },
      6000));
  MESSAGE("C back up everywhere after " << ElapsedMs(start) << " ms");
  const WriteResult again = cluster.Set(kC, "k", "v2", kAll);
  CHECK_MESSAGE(again.ok, again.error);
}

TEST_CASE("gossip: a member restarted at another address is dialled there") {
  const std::vector<int> ports = testing::FreePorts(4);  // ports[3]: Z's address after restart
  int z_port = ports[2];
  TestCluster cluster(
      {{"A", ""}, {"B", ""}, {"Z", ""}},
      [&](ClusterOptions& o) {
        o.seeds = {"A"};  // open membership; A skips itself
        o.gossip_interval_ms = 50;
        o.down_after_ms = 1000;
        o.request_timeout_ms = 300;
        o.reconnect_backoff_max_ms = 200;
        for (NodeInfo& member : o.members) {
          if (o.self_id == "Z" && member.id == "Z") member.port = z_port;
        }
      },
      {ports[0], ports[1], ports[2]});
  cluster.StartAll();
  auto z_port_seen_by = [&](int viewer) {
    const std::vector<MemberStatus> members = cluster.node(viewer).Members();
    const MemberStatus* z = Find(members, "Z");
    return z != nullptr && z->state == MemberState::kUp && z->generation > 0 ? z->node.port : 0;
  };
  REQUIRE(testing::RunUntil(cluster.loop(),
                            [&] { return z_port_seen_by(0) == ports[2] && z_port_seen_by(1); }));
  REQUIRE(cluster.Set(0, "k", "v1", kAll).ok);

  cluster.Stop(2);
  z_port = ports[3];
  cluster.Start(2);
  CHECK(cluster.node(2).bus_port() == ports[3]);
  REQUIRE(testing::RunUntil(cluster.loop(), [&] {
    return z_port_seen_by(0) == ports[3] && z_port_seen_by(1) == ports[3];
  }));
  CHECK(cluster.node(0).ring().Find("Z")->port == ports[3]);
  // A's client for Z now dials the new address: a write at ALL reaches Z there.
  REQUIRE(testing::RunUntil(cluster.loop(), [&] { return cluster.Set(0, "k", "v2", kAll).ok; }));
  CHECK(testing::Values(cluster.node(2).LocalSiblings("k")) == std::vector<std::string>{"v2"});
}

TEST_CASE("gossip: statically configured members gossip for failure detection") {
  TestCluster cluster(3, [](ClusterOptions& o) {
    o.gossip_interval_ms = 50;
    o.down_after_ms = 600;
  });
  cluster.StartAll();
  REQUIRE(testing::RunUntil(cluster.loop(), [&] {
    for (int i = 0; i < 3; ++i) {
      for (const MemberStatus& member : cluster.node(i).Members()) {
        if (!member.self && member.generation == 0) return false;  // not heard from yet
      }
    }
    return true;
  }));
  for (int i = 0; i < 3; ++i) CHECK(SeesAllUp(cluster, i, {"A", "B", "C"}));
  cluster.Stop(2);
  REQUIRE(testing::RunUntil(
      cluster.loop(),
      [&] {
        return StateOf(cluster, 0, "C") == MemberState::kDown &&
               StateOf(cluster, 1, "C") == MemberState::kDown;
      },
      2000));
  CHECK(StateOf(cluster, 0, "B") == MemberState::kUp);
  CHECK(cluster.node(0).Members().size() == 3);
  CHECK(cluster.node(0).IsAlive("A"));
  CHECK_FALSE(cluster.node(0).IsAlive("nobody"));
}

// Reads one frame sent to `client` (running the loop meanwhile).
bool ReadFrame(TestCluster& cluster, testing::RawClient& client, bus::FrameType* type,
               std::string* payload) {
  bus::FrameReader reader;
  bool got = false;
  testing::RunUntil(cluster.loop(), [&] {
    client.Poll();
    std::string& bytes = client.received();
    std::size_t available = 0;
    char* area = reader.WritableArea(bytes.size() + 1, &available);
    std::copy(bytes.begin(), bytes.end(), area);
    reader.Commit(bytes.size());
    bytes.clear();
    bus::Frame frame;
    if (reader.Next(&frame) != bus::FrameReader::Status::kFrame) return false;
    *type = frame.type;
    payload->assign(frame.payload);
    got = true;
    return true;
  });
  return got;
}

GossipEntry Entry(const std::string& id, int port) {
  GossipEntry entry;
  entry.info.id = id;
  entry.info.host = "127.0.0.1";
  entry.info.port = port;
  entry.generation = 42;
  entry.heartbeat = 1;
  return entry;
}

TEST_CASE("gossip: GOSSIP by hand is answered with the view; closed membership stays closed") {
  bool open = false;
  SUBCASE("closed: no seeds") { open = false; }
  SUBCASE("open: seeds") { open = true; }
  const std::vector<int> ports = testing::FreePorts(3);  // ports[2] for the stranger Z
  TestCluster cluster({{"A", ""}, {"B", ""}},
                      [open](ClusterOptions& o) {
                        if (open) o.seeds = {"B"};
                        o.secret.clear();  // B is a raw socket: no authentication
                      },
                      {ports[0], ports[1]});
  cluster.Start(0);  // B is played by this test
  testing::RawClient client(cluster.node(0).bus_port());
  client.Send(bus::EncodeFrame(bus::FrameType::kHello, 0, bus::EncodeHello("B")));

  MembershipView::Entries view{{"B", Entry("B", ports[1])}, {"Z", Entry("Z", ports[2])}};
  client.Send(bus::EncodeFrame(bus::FrameType::kGossip, 1, EncodeGossip("B", view)));
  bus::FrameType type;
  std::string payload;
  REQUIRE(ReadFrame(cluster, client, &type, &payload));
  REQUIRE(type == bus::FrameType::kReply);
  GossipMessage reply;
  std::string error;
  REQUIRE_MESSAGE(DecodeGossip(payload, &reply, &error), error);
  CHECK(reply.sender == "A");
  // B's announcement was taken either way; Z only when the membership is open.
  const std::vector<MemberStatus> members = cluster.node(0).Members();
  REQUIRE(Find(members, "B") != nullptr);
  CHECK(Find(members, "B")->generation == 42);
  CHECK((Find(members, "Z") != nullptr) == open);
  CHECK(reply.entries.size() == (open ? 3u : 2u));
  CHECK(testing::RunUntil(cluster.loop(),
                          [&] { return cluster.node(0).ring().size() == (open ? 3u : 2u); }));

  // Garbage and forged gossip get an ERROR; the connection stays usable.
  client.Send(bus::EncodeFrame(bus::FrameType::kGossip, 2, "garbage"));
  REQUIRE(ReadFrame(cluster, client, &type, &payload));
  CHECK(type == bus::FrameType::kError);
  view = {{"C", Entry("C", ports[1])}};
  client.Send(bus::EncodeFrame(bus::FrameType::kGossip, 3, EncodeGossip("C", view)));
  REQUIRE(ReadFrame(cluster, client, &type, &payload));
  CHECK(type == bus::FrameType::kError);
  std::string_view message;
  REQUIRE(bus::DecodeError(payload, &message));
  CHECK(message == "invalid GOSSIP: gossip signed by 'C' on the connection of 'B'");
  CHECK(Find(cluster.node(0).Members(), "C") == nullptr);
  client.Send(bus::EncodeFrame(bus::FrameType::kPing, 4, ""));
  REQUIRE(ReadFrame(cluster, client, &type, &payload));
  CHECK(type == bus::FrameType::kPong);
  CHECK(cluster.node(0).stats().bus_protocol_errors == 2);
}

TEST_CASE("gossip: bad seeds and options are refused at creation") {
  const std::vector<int> ports = testing::FreePorts(1);
  testing::TempDir dir;
  storage::Options storage_options;
  storage_options.dir = dir.path();
  storage_options.fsync = storage::FsyncPolicy::kNo;
  std::unique_ptr<storage::Engine> engine;
  REQUIRE(storage::Engine::Open(storage_options, &engine).ok());
  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);

  auto create = [&](const std::function<void(ClusterOptions&)>& tweak, std::string* error) {
    ClusterOptions options;
    options.self_id = "A";
    options.members = {NodeInfo{"A", "127.0.0.1", ports[0], "", "", 1}};
    options.bus_port_offset = 0;
    options.replication_factor = 1;
    tweak(options);
    std::unique_ptr<ClusterNode> node;
    const bool ok = ClusterNode::Create(&loop, *engine, options, &node, error);
    node.reset();
    return ok;
  };
  std::string error;
  CHECK_FALSE(create([](ClusterOptions& o) { o.seeds = {"127.0.0.1:x"}; }, &error));
  CHECK(error == "seed '127.0.0.1:x': expected host:port ([address]:port for IPv6) or a member id");
  CHECK_FALSE(create([](ClusterOptions& o) { o.seeds = {"::1:7000"}; }, &error));
  CHECK_FALSE(create([](ClusterOptions& o) { o.seeds = {"Q"}; }, &error));
  CHECK(error == "seed 'Q': not a configured member (give its host:bus-port instead)");
  CHECK_FALSE(create([](ClusterOptions& o) { o.seeds = {"127.0.0.1:70000"}; }, &error));
  CHECK_FALSE(create([](ClusterOptions& o) { o.gossip_interval_ms = 0; }, &error));
  CHECK(error ==
        "cluster options: gossip interval and down-after must be at least 1 ms, phi threshold "
        "above 0");
  CHECK_FALSE(create([](ClusterOptions& o) { o.phi_threshold = 0; }, &error));
  // Its own address or id in the seed list is fine (every node may share one list), as are
  // IPv6 seeds in brackets.
  CHECK_MESSAGE(create(
                    [&](ClusterOptions& o) {
                      o.seeds = {"A", Seed(ports[0]), "[::1]:7000"};
                    },
                    &error),
                error);
  // Without seeds N may not exceed the members; with seeds it may (more are to be learned).
  CHECK_FALSE(create([](ClusterOptions& o) { o.replication_factor = 3; }, &error));
  CHECK(create(
      [&](ClusterOptions& o) {
        o.replication_factor = 3;
        o.seeds = {"127.0.0.1:1"};
      },
      &error));
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop) == 0);
}

TEST_CASE("gossip: until enough members are known, quorum requests fail UNAVAILABLE") {
  const std::vector<int> ports = testing::FreePorts(2);  // nothing listens on the seed's port
  TestCluster cluster(
      {{"A", ""}, {"S", ""}},
      [&](ClusterOptions& o) {
        o.members = {o.members[0]};
        o.seeds = {Seed(ports[1])};
        o.replication_factor = 3;
      },
      ports);
  cluster.Start(0);
  const WriteResult write = cluster.Set(0, "k", "v", testing::Level(2));
  // One replica known where N=3 are wanted: a quorum of 2 cannot be met, so nothing is written.
  CHECK(write.error == "UNAVAILABLE not enough replicas (needed 2, got 0)");
  CHECK(cluster.node(0).LocalSiblings("k").empty());
  CHECK(cluster.node(0).ring().size() == 1);
}

}  // namespace
}  // namespace dynakv::cluster
