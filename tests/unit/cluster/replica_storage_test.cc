// How a replica stores sibling sets in the storage engine, seen through ClusterNode; and the
// options ClusterNode::Create refuses.
#include <doctest/doctest.h>

#include <chrono>
#include <limits>
#include <string>
#include <vector>

#include "cluster/cluster_node.h"
#include "cluster_test_util.h"
#include "storage/engine.h"

namespace dynakv::cluster {
namespace {

using testing::Level;
using testing::TestCluster;
using testing::Values;

const ConsistencyLevel kOne{ConsistencyLevel::Kind::kOne};
constexpr std::int64_t kGraceMs = 60'000;

std::int64_t NowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

Version Make(const SiblingSet& base, const std::string& node, std::int64_t ts,
             const std::string& value, bool tombstone, std::int64_t expire_at) {
  Version version = base.NewVersion({}, node, ts);
  version.value = value;
  version.tombstone = tombstone;
  version.expire_at_ms = expire_at;
  return version;
}

TEST_CASE("replica: the storage expiry follows the set's versions") {
  TestCluster cluster(1, [](ClusterOptions& o) { o.tombstone_grace_ms = kGraceMs; });
  cluster.StartAll();
  storage::Engine& engine = cluster.engine(0);
  const std::int64_t in_an_hour = NowMs() + 3'600'000;

  SUBCASE("a value with an expiry keeps it") {
    SiblingSet set;
    set.Add(Make(set, "A", 100, "v", false, in_an_hour));
    REQUIRE(cluster.Write(0, "k", set, kOne).ok);
    CHECK(engine.GetExpireAt("k") == in_an_hour);
  }
  SUBCASE("one sibling without expiry keeps the key forever") {
    SiblingSet set;
    set.Add(Make(set, "A", 100, "expiring", false, in_an_hour));
    set.Add(Make(SiblingSet(), "B", 101, "forever", false, 0));
    REQUIRE(set.size() == 2);
    REQUIRE(cluster.Write(0, "k", set, kOne).ok);
    CHECK(engine.GetExpireAt("k") == 0);
  }
  SUBCASE("a delete is kept for the grace period, then purged") {
    SiblingSet set;
    const std::int64_t before = NowMs();
    set.Add(Make(set, "A", 100, "", true, 0));
    REQUIRE(cluster.Write(0, "k", set, kOne).ok);
    const auto expiry = engine.GetExpireAt("k");
    REQUIRE(expiry.has_value());
    CHECK(*expiry >= before + kGraceMs);
    CHECK(*expiry <= NowMs() + kGraceMs);
    // The tombstone is what a read sees: the delete wins over older copies.
    const ReadResult read = cluster.Read(0, "k", kOne);
    REQUIRE(read.siblings.size() == 1);
    CHECK(read.siblings.versions()[0].tombstone);
  }
  SUBCASE("a tombstone beside an expiring value outlives it by the grace period") {
    SiblingSet set;
    set.Add(Make(set, "A", 100, "", true, 0));
    set.Add(Make(SiblingSet(), "B", 101, "soon", false, NowMs() + 1000));
    REQUIRE(set.size() == 2);
    REQUIRE(cluster.Write(0, "k", set, kOne).ok);
    CHECK(*engine.GetExpireAt("k") >= NowMs() + kGraceMs - 1000);
  }
}

TEST_CASE("replica: the same set again is not rewritten") {
  TestCluster cluster(1);
  cluster.StartAll();
  REQUIRE(cluster.Set(0, "k", "v", kOne).ok);
  const SiblingSet stored = cluster.node(0).LocalSiblings("k");
  const std::uint64_t log_bytes = cluster.engine(0).Stats().log_bytes;
  REQUIRE(cluster.Write(0, "k", stored, kOne).ok);
  CHECK(cluster.engine(0).Stats().log_bytes == log_bytes);
  // An older version than the stored one changes nothing either.
  SiblingSet older;
  older.Add(Make(older, "A", 1, "ancient", false, 0));
  REQUIRE(cluster.Write(0, "k", older, kOne).ok);
  CHECK(Values(cluster.node(0).LocalSiblings("k")) == std::vector<std::string>{"v"});
}

TEST_CASE("replica: an undecodable stored value counts as no copy and is replaced") {
  TestCluster cluster(1);
  cluster.StartAll();
  REQUIRE(cluster.engine(0).Put("bad", "not a sibling set", 0).ok());
  CHECK(cluster.node(0).LocalSiblings("bad").empty());
  CHECK(cluster.node(0).stats().undecodable_values == 1);
  const ReadResult read = cluster.Read(0, "bad", kOne);
  CHECK(read.ok);
  CHECK(read.siblings.empty());
  REQUIRE(cluster.Set(0, "bad", "good", kOne).ok);
  CHECK(Values(cluster.node(0).LocalSiblings("bad")) == std::vector<std::string>{"good"});
}

TEST_CASE("cluster: DC-aware placement and LOCAL_QUORUM / EACH_QUORUM") {
  TestCluster cluster({{"A", "dc1"}, {"B", "dc1"}, {"C", "dc2"}, {"D", "dc2"}},
                      [](ClusterOptions& o) {
                        o.replicas_per_dc = {{"dc1", 1}, {"dc2", 1}};
                      });
  cluster.StartAll();
  const ConsistencyLevel each{ConsistencyLevel::Kind::kEachQuorum};
  const ConsistencyLevel local{ConsistencyLevel::Kind::kLocalQuorum};
  REQUIRE(cluster.Set(0, "k", "v1", each).ok);
  // One copy per dc: exactly two of the four nodes hold the key.
  int holders = 0;
  for (int i = 0; i < 4; ++i) holders += cluster.node(i).LocalSiblings("k").empty() ? 0 : 1;
  CHECK(holders == 2);

  cluster.Stop(2);
  cluster.Stop(3);
  const WriteResult each_result = cluster.Set(0, "k", "v2", each);
  CHECK(each_result.error == "UNAVAILABLE not enough replicas (needed 1, got 0)");
  CHECK(cluster.Set(0, "k", "v3", local).ok);
  const ReadResult read = cluster.Read(1, "k", local);
  REQUIRE(read.ok);
  CHECK(read.siblings.Resolve()->value == "v3");
}

TEST_CASE("cluster: Create refuses options the membership cannot meet") {
  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  {
    testing::TempDir dir;
    storage::Options storage_options;
    storage_options.dir = dir.path();
    std::unique_ptr<storage::Engine> engine;
    REQUIRE(storage::Engine::Open(storage_options, &engine).ok());
    auto base = [] {
      ClusterOptions o;
      o.self_id = "A";
      o.members = {NodeInfo{"A", "127.0.0.1", 7000, "dc1", "", 1},
                   NodeInfo{"B", "127.0.0.1", 7001, "dc1", "", 1}};
      o.replication_factor = 2;
      return o;
    };
    auto error_of = [&](ClusterOptions o) {
      std::unique_ptr<ClusterNode> node;
      std::string error;
      CHECK_FALSE(ClusterNode::Create(&loop, *engine, std::move(o), &node, &error));
      CHECK(node == nullptr);
      return error;
    };
    ClusterOptions o = base();
    o.self_id = "Z";
    CHECK(error_of(o) == "cluster options: this node's id 'Z' is not among the members");
    o = base();
    o.replication_factor = 3;
    CHECK(error_of(o) ==
          "cluster options: replication factor 3 must be between 1 and the number of members (2)");
    o = base();
    o.replicas_per_dc = {{"dc1", 1}, {"dc9", 1}};
    CHECK(error_of(o) == "cluster options: dc 'dc9' wants 1 replicas but has 0 members");
    o = base();
    o.request_timeout_ms = 0;
    CHECK(error_of(o) == "cluster options: request timeout must be at least 1 ms");
    o = base();
    o.max_member_weight = 2;
    o.members[1].weight = 3;
    CHECK(error_of(o) == "cluster options: member B has weight 3, above cluster-max-weight (2)");
    o = base();
    o.members.push_back(o.members[0]);
    CHECK(error_of(o) == "cluster members: duplicate node id 'A'");
    o = base();
    o.members[1].host = "no.such.host.invalid";
    CHECK(error_of(o).find("member 'B': cannot resolve 'no.such.host.invalid'") == 0);

    // A valid configuration starts and stops cleanly.
    std::unique_ptr<ClusterNode> node;
    std::string error;
    o = base();
    o.bus_port_offset = 0;
    o.members[0].port = testing::FreePorts(1)[0];
    REQUIRE_MESSAGE(ClusterNode::Create(&loop, *engine, o, &node, &error), error);
    REQUIRE_MESSAGE(node->Start(&error), error);
    CHECK(node->bus_port() == o.members[0].port);
    bool done = false;
    node->Stop([&] { done = true; });
    REQUIRE(testing::RunUntil(&loop, [&] { return done; }));
    node.reset();
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop) == 0);
}

}  // namespace
}  // namespace dynakv::cluster

namespace dynakv::cluster {
namespace {

TEST_CASE("replica: a version stamped far ahead of the clock is refused and moves no clock") {
  TestCluster cluster(2, [](ClusterOptions& o) { o.max_clock_skew_ms = 60'000; });
  cluster.StartAll();
  const ConsistencyLevel all{ConsistencyLevel::Kind::kAll};
  const std::int64_t now_us = NowMs() * 1000;

  for (std::int64_t ts :
       {now_us + std::int64_t{3600000000}, std::numeric_limits<std::int64_t>::max()}) {
    SiblingSet forged;
    forged.Add(Make(forged, "X", ts, "forged", false, 0));
    CHECK_FALSE(cluster.Write(0, "k", forged, all).ok);
    CHECK(cluster.node(0).LocalSiblings("k").empty());
    CHECK(cluster.node(1).LocalSiblings("k").empty());
  }
  // The hybrid clocks still follow wall time.
  CHECK(cluster.node(0).NextTimestamp() < now_us + 60'000'000);
  CHECK(cluster.node(1).NextTimestamp() < now_us + 60'000'000);
  CHECK(cluster.node(0).stats().clock_skew_rejections >= 2);
  CHECK(cluster.node(1).stats().clock_skew_rejections >= 2);

  // Within the bound (a peer's clock a little ahead) writes go through.
  SiblingSet near;
  near.Add(Make(near, "X", now_us + 5'000'000, "ok", false, 0));
  CHECK(cluster.Write(0, "k", near, all).ok);
}

}  // namespace
}  // namespace dynakv::cluster
