// ClusterNode end to end: three real nodes on one loop, talking over the bus on 127.0.0.1.
#include "cluster/cluster_node.h"

#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

#include "cluster_test_util.h"

namespace dynakv::cluster {
namespace {

using testing::Level;
using testing::TestCluster;
using testing::Values;

const ConsistencyLevel kOne{ConsistencyLevel::Kind::kOne};
const ConsistencyLevel kAll{ConsistencyLevel::Kind::kAll};

constexpr int kA = 0, kB = 1, kC = 2;

TEST_CASE("cluster: a key written through A at W=2 is read through B and C at R=2") {
  TestCluster cluster(3);
  cluster.StartAll();
  const WriteResult written = cluster.Set(kA, "user:1", "alice", Level(2));
  REQUIRE_MESSAGE(written.ok, written.error);

  for (int via : {kB, kC}) {
    const ReadResult read = cluster.Read(via, "user:1", Level(2));
    REQUIRE_MESSAGE(read.ok, read.error);
    REQUIRE(read.siblings.size() == 1);
    CHECK(read.siblings.Resolve()->value == "alice");
    CHECK(read.siblings.Resolve()->origin_node == "A");
  }
  // N=3 of 3 nodes: every node is a replica; the write reached all of them.
  CHECK(testing::RunUntil(cluster.loop(), [&] {
    return cluster.node(kB).LocalSiblings("user:1").size() == 1 &&
           cluster.node(kC).LocalSiblings("user:1").size() == 1;
  }));
  CHECK(cluster.node(kA).stats().writes == 1);
  CHECK(cluster.node(kB).stats().replica_requests_served >= 1);

  // A missing key reads as an empty set, successfully.
  const ReadResult missing = cluster.Read(kC, "nope", Level(2));
  CHECK(missing.ok);
  CHECK(missing.siblings.empty());
}

TEST_CASE("cluster: with a node stopped, W=3 fails with UNAVAILABLE and W=2 succeeds") {
  TestCluster cluster(3);
  cluster.StartAll();
  REQUIRE(cluster.Set(kA, "k", "v1", kAll).ok);
  cluster.Stop(kC);

  const WriteResult all = cluster.Set(kA, "k", "v2", Level(3));
  CHECK_FALSE(all.ok);
  CHECK(all.error == "UNAVAILABLE not enough replicas (needed 3, got 2)");
  const WriteResult quorum = cluster.Set(kA, "k", "v3", Level(2));
  CHECK_MESSAGE(quorum.ok, quorum.error);

  const ReadResult read_all = cluster.Read(kB, "k", kAll);
  CHECK_FALSE(read_all.ok);
  CHECK(read_all.error == "UNAVAILABLE not enough replicas (needed 3, got 2)");
  const ReadResult read = cluster.Read(kB, "k", Level(2));
  REQUIRE(read.ok);
  CHECK(Values(read.siblings) == std::vector<std::string>{"v3"});
  CHECK(cluster.node(kA).stats().write_failures == 1);
  CHECK(cluster.node(kB).stats().read_failures == 1);
  CHECK(cluster.node(kA).stats().peer_connect_failures >= 1);
}

TEST_CASE("cluster: a count larger than N is unavailable at once") {
  TestCluster cluster(3);
  cluster.StartAll();
  const WriteResult result = cluster.Set(kA, "k", "v", Level(5));
  CHECK_FALSE(result.ok);
  CHECK(result.error == "UNAVAILABLE not enough replicas (needed 5, got 0)");
  // Nothing was written anywhere, not even locally.
  testing::RunFor(cluster.loop(), 20);
  for (int i : {kA, kB, kC}) CHECK(cluster.node(i).LocalSiblings("k").empty());
  CHECK(cluster.node(kB).stats().replica_requests_served == 0);
  CHECK(cluster.Read(kB, "k", Level(4)).error ==
        "UNAVAILABLE not enough replicas (needed 4, got 0)");
}

TEST_CASE("cluster: read repair brings a replica that missed a write up to date") {
  TestCluster cluster(3);
  cluster.StartAll();
  REQUIRE(cluster.Set(kA, "k", "old", kAll).ok);
  cluster.Partition(kB, {kA, kC});
  const WriteResult written = cluster.Set(kA, "k", "new", Level(1));
  REQUIRE_MESSAGE(written.ok, written.error);
  // B missed it; C got it (W=1 still sends to every replica).
  CHECK(testing::RunUntil(cluster.loop(), [&] {
    return Values(cluster.node(kC).LocalSiblings("k")) == std::vector<std::string>{"new"};
  }));
  CHECK(Values(cluster.node(kB).LocalSiblings("k")) == std::vector<std::string>{"old"});
  cluster.Heal();

  const ReadResult read = cluster.Read(kC, "k", Level(3));
  REQUIRE_MESSAGE(read.ok, read.error);
  CHECK(Values(read.siblings) == std::vector<std::string>{"new"});
  CHECK(testing::RunUntil(cluster.loop(), [&] {
    return Values(cluster.node(kB).LocalSiblings("k")) == std::vector<std::string>{"new"};
  }));
  CHECK(cluster.node(kC).stats().read_repairs == 1);
  // Everyone agrees now: another read repairs nothing.
  REQUIRE(cluster.Read(kA, "k", Level(3)).ok);
  testing::RunFor(cluster.loop(), 20);
  CHECK(cluster.node(kA).stats().read_repairs == 0);
}

TEST_CASE("cluster: a quorum read asks only R replicas, and another in place of one that fails") {
  TestCluster cluster(3, [](ClusterOptions& o) { o.request_timeout_ms = 200; });
  cluster.StartAll();
  REQUIRE(cluster.Set(kA, "k", "v", kAll).ok);
  auto served = [&](int i) { return cluster.node(i).stats().replica_requests_served; };
  const auto b_before = served(kB), c_before = served(kC);
  const ReadResult read = cluster.Read(kA, "k", Level(2));
  REQUIRE_MESSAGE(read.ok, read.error);
  CHECK(Values(read.siblings) == std::vector<std::string>{"v"});
  testing::RunFor(cluster.loop(), 20);
  // A's own copy and one peer's: the third replica was not asked.
  CHECK(served(kB) - b_before + served(kC) - c_before == 1);
  const int asked = served(kB) > b_before ? kB : kC;
  const int other = asked == kB ? kC : kB;

  // The asked replica silently drops A's requests (A still sees it reachable): A waits out the
  // timeout and asks the other one.
  cluster.node(asked).SetPartitionedFrom({"A"});
  const auto other_before = served(other);
  const ReadResult retried = cluster.Read(kA, "k", Level(2));
  REQUIRE_MESSAGE(retried.ok, retried.error);
  CHECK(Values(retried.siblings) == std::vector<std::string>{"v"});
  CHECK(served(other) == other_before + 1);
  CHECK(cluster.node(kA).stats().read_retries == 1);
  CHECK(cluster.node(kA).stats().read_repair_checks == 0);
  // ALL asks everyone at once; the silent one fails it with every ack counted.
  CHECK(cluster.Read(kA, "k", kAll).error == "UNAVAILABLE not enough replicas (needed 3, got 2)");
  CHECK(cluster.node(kA).stats().read_retries == 1);
}

TEST_CASE("cluster: a read that meets R early still repairs from the late replies") {
  // read_repair_chance 1: every read asks every replica, however few it needs.
  TestCluster cluster(3, [](ClusterOptions& o) { o.read_repair_chance = 1; });
  cluster.StartAll();
  REQUIRE(cluster.Set(kA, "k", "old", kAll).ok);
  cluster.Partition(kB, {kA, kC});
  REQUIRE(cluster.Set(kA, "k", "new", Level(2)).ok);
  cluster.Heal();
  // R=1 is met by C itself; B's stale copy arrives later and is repaired.
  const ReadResult read = cluster.Read(kC, "k", kOne);
  REQUIRE(read.ok);
  CHECK(Values(read.siblings) == std::vector<std::string>{"new"});
  CHECK(testing::RunUntil(cluster.loop(), [&] {
    return Values(cluster.node(kB).LocalSiblings("k")) == std::vector<std::string>{"new"};
  }));
  CHECK(cluster.node(kC).stats().read_repairs == 1);
  CHECK(cluster.node(kC).stats().read_repair_checks == 1);
}

TEST_CASE(
    "cluster: concurrent writes on both sides of a partition become siblings, "
    "and a write with their context resolves them") {
  TestCluster cluster(3);
  cluster.StartAll();
  cluster.Partition(kA, {kB});
  REQUIRE(cluster.Set(kA, "cart", "from-a", Level(1)).ok);
  REQUIRE(cluster.Set(kB, "cart", "from-b", Level(1)).ok);
  // C heard from both sides.
  CHECK(testing::RunUntil(cluster.loop(),
                          [&] { return cluster.node(kC).LocalSiblings("cart").size() == 2; }));
  cluster.Heal();

  const ReadResult read = cluster.Read(kC, "cart", Level(3));
  REQUIRE_MESSAGE(read.ok, read.error);
  CHECK(Values(read.siblings) == std::vector<std::string>{"from-a", "from-b"});
  // A and B each missed the other's write: both are repaired.
  CHECK(testing::RunUntil(cluster.loop(), [&] {
    return cluster.node(kA).LocalSiblings("cart").size() == 2 &&
           cluster.node(kB).LocalSiblings("cart").size() == 2;
  }));
  CHECK(cluster.node(kC).stats().read_repairs == 2);

  // A client that saw both writes replaces them with one value.
  const WriteResult resolved = cluster.Set(kA, "cart", "merged", Level(3), read.siblings);
  REQUIRE_MESSAGE(resolved.ok, resolved.error);
  const ReadResult after = cluster.Read(kB, "cart", Level(3));
  REQUIRE(after.ok);
  CHECK(Values(after.siblings) == std::vector<std::string>{"merged"});
}

TEST_CASE("cluster: many pipelined requests on one connection are matched to their replies") {
  TestCluster cluster(3);
  cluster.StartAll();
  constexpr int kRequests = 300;
  int acked = 0;
  int failed = 0;
  for (int i = 0; i < kRequests; ++i) {
    SiblingSet set;
    Version version = set.NewVersion({}, "A", cluster.node(kA).NextTimestamp());
    version.value = "value-" + std::to_string(i);
    set.Add(version);
    cluster.node(kA).Write("key-" + std::to_string(i), set, kAll,
                           [&](WriteResult r) { r.ok ? ++acked : ++failed; });
  }
  REQUIRE(testing::RunUntil(cluster.loop(), [&] { return acked + failed == kRequests; }));
  CHECK(acked == kRequests);
  int matched = 0;
  for (int i = 0; i < kRequests; ++i) {
    cluster.node(kB).Read("key-" + std::to_string(i), Level(3), [&, i](ReadResult r) {
      if (r.ok && Values(r.siblings) == std::vector<std::string>{"value-" + std::to_string(i)}) {
        ++matched;
      }
    });
  }
  CHECK(testing::RunUntil(cluster.loop(), [&] { return matched == kRequests; }));
  CHECK(cluster.node(kB).stats().read_repairs == 0);
}

TEST_CASE("cluster: a multi-megabyte value replicates and reads back intact") {
  TestCluster cluster(3);
  cluster.StartAll();
  std::string big(3 << 20, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 7919) >> 3);
  REQUIRE(cluster.Set(kA, "big", big, kAll).ok);
  const ReadResult read = cluster.Read(kC, "big", kAll);
  REQUIRE_MESSAGE(read.ok, read.error);
  REQUIRE(read.siblings.size() == 1);
  CHECK(read.siblings.Resolve()->value == big);
}

TEST_CASE("cluster: callbacks never run inside Read or Write, even when answered locally") {
  TestCluster cluster(1);
  cluster.StartAll();
  // TestCluster::Read/Write check the callback did not run before the call returned.
  CHECK(cluster.Set(kA, "k", "v", kOne).ok);
  const ReadResult read = cluster.Read(kA, "k", kOne);
  REQUIRE(read.ok);
  CHECK(Values(read.siblings) == std::vector<std::string>{"v"});
  // A plan error is deferred too.
  const ReadResult too_many = cluster.Read(kA, "k", Level(2));
  CHECK(too_many.error == "UNAVAILABLE not enough replicas (needed 2, got 0)");
}

TEST_CASE("cluster: the hybrid clock orders a write after what this node stored") {
  TestCluster cluster(2);
  cluster.StartAll();
  // A version stamped ahead of this clock (by less than max-clock-skew-ms) arrives from B...
  const std::int64_t ahead = cluster.node(kA).NextTimestamp() + 30'000'000;
  SiblingSet set;
  Version future = set.NewVersion({}, "B", ahead);
  future.value = "future";
  REQUIRE(set.Add(future));
  REQUIRE(cluster.Write(kB, "k", set, kAll).ok);
  // ...so A's next timestamp sorts after it, and a plain overwrite wins LWW.
  CHECK(cluster.node(kA).NextTimestamp() > ahead);
  REQUIRE(cluster.Set(kA, "k", "now", kAll).ok);
  const ReadResult read = cluster.Read(kB, "k", kAll);
  REQUIRE(read.ok);
  CHECK(read.siblings.Resolve()->value == "now");
}

TEST_CASE("cluster: Stop fails requests in flight before done runs") {
  // B is a socket that accepts connections but never answers.
  int silent_port = 0;
  testing::Fd silent = testing::BoundSocket(true, &silent_port);
  const int a_port = testing::FreePorts(1)[0];
  TestCluster cluster({{"A", ""}, {"B", ""}}, nullptr, {a_port, silent_port});
  cluster.Start(kA);
  std::optional<WriteResult> result;
  SiblingSet set;
  Version version = set.NewVersion({}, "A", cluster.node(kA).NextTimestamp());
  version.value = "v";
  set.Add(version);
  cluster.node(kA).Write("k", set, kAll, [&](WriteResult r) { result = std::move(r); });
  testing::RunFor(cluster.loop(), 20);
  CHECK_FALSE(result.has_value());  // waiting for B

  bool done = false;
  bool results_before_done = false;
  std::optional<ReadResult> late;
  cluster.node(kA).Stop([&] {
    results_before_done = result.has_value() && late.has_value();
    done = true;
  });
  // A request made while the node stops fails, through its callback as always.
  cluster.node(kA).Read("k", kOne, [&](ReadResult r) { late = std::move(r); });
  CHECK_FALSE(late.has_value());
  REQUIRE(testing::RunUntil(cluster.loop(), [&] { return done; }));
  CHECK(results_before_done);
  REQUIRE(result.has_value());
  CHECK_FALSE(result->ok);
  CHECK(result->error == "UNAVAILABLE not enough replicas (needed 2, got 1)");
  REQUIRE(late.has_value());
  CHECK_FALSE(late->ok);
  CHECK(late->error == "UNAVAILABLE cluster node is stopping");
}

TEST_CASE("cluster: a node restarted on its old data serves it again") {
  TestCluster cluster(3);
  cluster.StartAll();
  REQUIRE(cluster.Set(kA, "k", "v1", kAll).ok);
  cluster.Stop(kB);
  REQUIRE(cluster.Set(kA, "k", "v2", Level(2)).ok);
  cluster.Start(kB);  // same engine: it still holds v1
  CHECK(Values(cluster.node(kB).LocalSiblings("k")) == std::vector<std::string>{"v1"});
  // A redials B on demand (its failed connects may have left a short backoff: wait it out).
  REQUIRE(testing::RunUntil(cluster.loop(), [&] {
    const ReadResult read = cluster.Read(kA, "k", Level(3));
    return read.ok && Values(read.siblings) == std::vector<std::string>{"v2"};
  }));
  CHECK(testing::RunUntil(cluster.loop(), [&] {
    return Values(cluster.node(kB).LocalSiblings("k")) == std::vector<std::string>{"v2"};
  }));
}

}  // namespace
}  // namespace dynakv::cluster

namespace dynakv::cluster {
namespace {

SiblingSet NewValue(TestCluster& cluster, int via, const std::string& key, const std::string& value,
                    std::int64_t timestamp_us = 0) {
  SiblingSet set = cluster.node(via).LocalSiblings(key);
  Version version = set.NewVersion(set.Context(), cluster.node(via).self_id(),
                                   timestamp_us != 0 ? timestamp_us : cluster.node(via).NextTimestamp());
  version.value = value;
  REQUIRE(set.Add(version));
  return set;
}

WriteResult WriteBatch(TestCluster& cluster, int via, std::vector<KeyedSet> writes,
                       const ConsistencyLevel& level) {
  std::optional<WriteResult> result;
  cluster.node(via).WriteBatch(std::move(writes), level, [&](WriteResult r) { result = r; });
  REQUIRE(testing::RunUntil(cluster.loop(), [&] { return result.has_value(); }));
  return *result;
}

}  // namespace

TEST_CASE("cluster: a batched write reaches each replica as one request holding every key") {
  TestCluster cluster(3);
  cluster.StartAll();
  const std::uint64_t served_before = cluster.node(kB).stats().replica_requests_served;
  std::vector<KeyedSet> writes;
  for (const char* key : {"{t}a", "{t}b", "{t}c"}) {
    writes.push_back(KeyedSet{key, NewValue(cluster, kA, key, std::string("v-") + key)});
  }
  const WriteResult written = WriteBatch(cluster, kA, writes, kAll);
  REQUIRE_MESSAGE(written.ok, written.error);
  for (int node : {kA, kB, kC}) {
    for (const char* key : {"{t}a", "{t}b", "{t}c"}) {
      CHECK(Values(cluster.node(node).LocalSiblings(key)) ==
            std::vector<std::string>{std::string("v-") + key});
    }
  }
  CHECK(cluster.node(kB).stats().replica_requests_served == served_before + 1);
  CHECK(cluster.node(kA).stats().writes == 3);

  // A set stamped far in the future is refused by every replica, and so is the rest of its
  // batch: nothing of it is stored anywhere.
  std::vector<KeyedSet> skewed;
  skewed.push_back(KeyedSet{"{t}a", NewValue(cluster, kA, "{t}a", "fine")});
  skewed.push_back(KeyedSet{"{t}b", NewValue(cluster, kA, "{t}b", "future",
                                             cluster.node(kA).NextTimestamp() + 3600000000LL)});
  CHECK_FALSE(WriteBatch(cluster, kA, skewed, Level(1)).ok);
  for (int node : {kA, kB, kC}) {
    CHECK(Values(cluster.node(node).LocalSiblings("{t}a")) == std::vector<std::string>{"v-{t}a"});
  }

  // With a replica down the batch still meets a quorum, and fails ALL key by key.
  cluster.Stop(kC);
  std::vector<KeyedSet> again;
  again.push_back(KeyedSet{"{t}a", NewValue(cluster, kA, "{t}a", "second")});
  again.push_back(KeyedSet{"{t}b", NewValue(cluster, kA, "{t}b", "second")});
  CHECK(WriteBatch(cluster, kA, again, Level(2)).ok);
  const WriteResult all = WriteBatch(cluster, kA, again, kAll);
  CHECK_FALSE(all.ok);
  CHECK(all.error == "UNAVAILABLE not enough replicas (needed 3, got 2)");
  CHECK(Values(cluster.node(kB).LocalSiblings("{t}b")) == std::vector<std::string>{"second"});
}

}  // namespace dynakv::cluster
