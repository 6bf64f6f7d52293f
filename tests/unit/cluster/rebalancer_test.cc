// Range streaming after ring changes: which keys go where (PlanKeyMove, pure), and the whole
// thing on real ClusterNodes: a node joins by gossip and takes its share, another leaves with
// LEAVE, and every key ends up on exactly its replicas.
#include "rebalancer.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cluster/cluster_node.h"
#include "cluster/ring.h"
#include "cluster_test_util.h"

namespace dynakv::cluster {
namespace {

using testing::TestCluster;

constexpr int kKeys = 10000;

NodeInfo Node(const std::string& id, const std::string& dc = "") {
  NodeInfo node;
  node.id = id;
  node.host = "127.0.0.1";
  node.port = 7000;
  node.dc = dc;
  return node;
}

Ring MakeRing(const std::vector<NodeInfo>& nodes) {
  Ring ring;
  std::string error;
  REQUIRE_MESSAGE(Ring::Build(nodes, RingOptions{}, &ring, &error), error);
  return ring;
}

Ring MakeRing(const std::vector<std::string>& ids) {
  std::vector<NodeInfo> nodes;
  for (const std::string& id : ids) nodes.push_back(Node(id));
  return MakeRing(nodes);
}

ClusterOptions Placement(int n) {
  ClusterOptions options;
  options.replication_factor = n;
  return options;
}

std::set<std::string> Ids(const std::vector<const NodeInfo*>& nodes) {
  std::set<std::string> ids;
  for (const NodeInfo* node : nodes) ids.insert(node->id);
  return ids;
}

std::set<std::string> Set(const std::vector<std::string>& ids) { return {ids.begin(), ids.end()}; }

std::string Key(int i) { return "key:" + std::to_string(i); }

// Checks every key's plan on every old member for the move from `before` to `after`: keys whose
// replicas did not change move nowhere; otherwise a replica that stays sends only to the new
// replicas, one that drops out sends to all of them and lets go. Returns the number of key
// copies that the new replicas get (new replica slots).
std::size_t CheckMoves(const Ring& before, const Ring& after, const ClusterOptions& options,
                       std::size_t* keys_changed) {
  const std::vector<Ring> history = {before, after};
  std::size_t new_copies = 0;
  *keys_changed = 0;
  for (int i = 0; i < kKeys; ++i) {
    const std::string key = Key(i);
    const std::set<std::string> old_replicas = Ids(ReplicasOf(before, key, options));
    const std::set<std::string> new_replicas = Ids(ReplicasOf(after, key, options));
    std::set<std::string> added;
    std::set_difference(new_replicas.begin(), new_replicas.end(), old_replicas.begin(),
                        old_replicas.end(), std::inserter(added, added.end()));
    new_copies += added.size();
    if (!added.empty()) ++*keys_changed;
    for (const NodeInfo& self : before.nodes()) {
      const KeyMove move = PlanKeyMove(key, history, self.id, options);
      const std::set<std::string> targets = Set(move.targets);
      CAPTURE(key);
      CAPTURE(self.id);
      CHECK(targets.count(self.id) == 0);
      CHECK(move.keep == (new_replicas.count(self.id) == 1));
      if (!move.keep) {
        CHECK(targets == new_replicas);  // a copy let go of goes to every replica first
      } else {
        // Empty when nothing changed; a node that is itself new to the key sends to the other
        // new ones only.
        std::set<std::string> others = added;
        others.erase(self.id);
        CHECK(targets == others);
      }
    }
  }
  return new_copies;
}

TEST_CASE("rebalancer plan: a join moves about 1/n of the data, all of it to the new node") {
  const ClusterOptions options = Placement(3);
  const Ring before = MakeRing(std::vector<std::string>{"A", "B", "C", "D"});
  const Ring after = MakeRing(std::vector<std::string>{"A", "B", "C", "D", "E"});
  std::size_t keys_changed = 0;
  const std::size_t new_copies = CheckMoves(before, after, options, &keys_changed);
  // E replicates about 3/5 of the keys; of all 3 * kKeys copies, about 1/5 are new ones.
  const double copy_share = static_cast<double>(new_copies) / (3.0 * kKeys);
  const double key_share = static_cast<double>(keys_changed) / kKeys;
  MESSAGE("copies moved: " << copy_share << ", keys with a new replica: " << key_share);
  CHECK(copy_share > 0.17);
  CHECK(copy_share < 0.23);
  CHECK(key_share > 0.55);
  CHECK(key_share < 0.65);
  for (int i = 0; i < kKeys; ++i) {
    for (const NodeInfo& self : before.nodes()) {
      const KeyMove move = PlanKeyMove(Key(i), {before, after}, self.id, options);
      // Nothing moves between the old members: only E gains copies, unless a copy is let go.
      if (move.keep) CHECK((move.targets.empty() || Set(move.targets) == Set({"E"})));
    }
  }
}

TEST_CASE("rebalancer plan: with one replica a join moves about 1/n of the keys") {
  const ClusterOptions options = Placement(1);
  const Ring before = MakeRing(std::vector<std::string>{"A", "B", "C"});
  const Ring after = MakeRing(std::vector<std::string>{"A", "B", "C", "D"});
  std::size_t keys_changed = 0;
  CheckMoves(before, after, options, &keys_changed);
  const double share = static_cast<double>(keys_changed) / kKeys;
  MESSAGE("keys moved: " << share);
  CHECK(share > 0.2);
  CHECK(share < 0.3);
}

TEST_CASE("rebalancer plan: nothing moves when the ring does not change") {
  const ClusterOptions options = Placement(3);
  const Ring ring = MakeRing(std::vector<std::string>{"A", "B", "C", "D"});
  for (int i = 0; i < 2000; ++i) {
    for (const NodeInfo& self : ring.nodes()) {
      const KeyMove move = PlanKeyMove(Key(i), {ring}, self.id, options);
      CHECK(move.targets.empty() == move.keep);
      if (!move.keep) CHECK(Set(move.targets) == Ids(ReplicasOf(ring, Key(i), options)));
    }
    // A history of the same ring twice is the same as once.
    CHECK(PlanKeyMove(Key(i), {ring, ring}, "A", options).targets ==
          PlanKeyMove(Key(i), {ring}, "A", options).targets);
  }
}

TEST_CASE("rebalancer plan: a leave moves only the keys the leaving node replicated") {
  const ClusterOptions options = Placement(3);
  const Ring before = MakeRing(std::vector<std::string>{"A", "B", "C", "D", "E"});
  const Ring after = MakeRing(std::vector<std::string>{"A", "B", "D", "E"});
  std::size_t keys_changed = 0;
  const std::size_t new_copies = CheckMoves(before, after, options, &keys_changed);
  std::size_t held_by_c = 0;
  for (int i = 0; i < kKeys; ++i) held_by_c += Ids(ReplicasOf(before, Key(i), options)).count("C");
  // Each key C held gets exactly one new replica in its place; no other key moves.
  CHECK(keys_changed == held_by_c);
  CHECK(new_copies == held_by_c);
  // C itself (whose target ring is the one without it) hands every key over.
  for (int i = 0; i < 500; ++i) {
    const KeyMove move = PlanKeyMove(Key(i), {before, after}, "C", options);
    CHECK_FALSE(move.keep);
    CHECK(Set(move.targets) == Ids(ReplicasOf(after, Key(i), options)));
  }
}

TEST_CASE("rebalancer plan: multi-dc placement moves copies only within the joining dc") {
  ClusterOptions options;
  options.replicas_per_dc = {{"dc1", 2}, {"dc2", 1}};
  const std::vector<NodeInfo> nodes = {Node("A", "dc1"), Node("B", "dc1"), Node("C", "dc1"),
                                       Node("D", "dc2"), Node("E", "dc2")};
  std::vector<NodeInfo> grown = nodes;
  grown.push_back(Node("F", "dc2"));
  const Ring before = MakeRing(nodes);
  const Ring after = MakeRing(grown);
  std::size_t keys_changed = 0;
  const std::size_t new_copies = CheckMoves(before, after, options, &keys_changed);
  // F takes about a third of dc2's single copies, and dc1's copies stay where they were.
  const double share = static_cast<double>(new_copies) / kKeys;
  MESSAGE("dc2 copies moved to F: " << share);
  CHECK(share > 0.28);
  CHECK(share < 0.39);
  for (int i = 0; i < kKeys; ++i) {
    const KeyMove move = PlanKeyMove(Key(i), {before, after}, "A", options);
    if (move.keep) CHECK((move.targets.empty() || Set(move.targets) == Set({"F"})));
  }
}

TEST_CASE("rebalancer plan: a member that left and came back mid-pass is sent its keys") {
  const ClusterOptions options = Placement(3);
  const Ring with_d = MakeRing(std::vector<std::string>{"A", "B", "C", "D"});
  const Ring without_d = MakeRing(std::vector<std::string>{"A", "B", "C"});
  int checked = 0;
  for (int i = 0; i < 2000; ++i) {
    const std::string key = Key(i);
    if (Ids(ReplicasOf(with_d, key, options)).count("D") == 0) continue;
    // D may have missed writes while it was out: the stayers send it the key, although it was
    // a replica in both the first and the last ring.
    for (const NodeInfo* self : ReplicasOf(with_d, key, options)) {
      if (self->id == "D") continue;
      const KeyMove move = PlanKeyMove(key, {with_d, without_d, with_d}, self->id, options);
      CHECK(move.keep);
      CHECK(Set(move.targets) == Set({"D"}));
      CHECK(PlanKeyMove(key, {with_d, with_d}, self->id, options).targets.empty());
    }
    ++checked;
  }
  CHECK(checked > 1000);
}

TEST_CASE("rebalancer plan: SamePlacement ignores addresses, not weights or dcs") {
  NodeInfo moved = Node("B");
  moved.host = "10.0.0.2";
  moved.port = 9999;
  CHECK(SamePlacement(MakeRing({Node("A"), Node("B")}), MakeRing({Node("A"), moved})));
  NodeInfo heavier = Node("B");
  heavier.weight = 2;
  CHECK_FALSE(SamePlacement(MakeRing({Node("A"), Node("B")}), MakeRing({Node("A"), heavier})));
  CHECK_FALSE(
      SamePlacement(MakeRing({Node("A"), Node("B")}), MakeRing({Node("A"), Node("B", "x")})));
  CHECK_FALSE(SamePlacement(MakeRing({Node("A"), Node("B")}), MakeRing({Node("A")})));
}

// --- real nodes -------------------------------------------------------------------------------

constexpr int kLiveKeys = 600;
const ConsistencyLevel kQuorum{ConsistencyLevel::Kind::kQuorum};

// Every node seeds from node 0 (node 0 from node 1) and starts knowing only itself: members
// join by gossip.
TestCluster::Tweak JoinBySeeds(std::vector<int> ports) {
  return [=](ClusterOptions& options) {
    std::size_t self = 0;
    while (options.members[self].id != options.self_id) ++self;
    options.seeds = {"127.0.0.1:" + std::to_string(ports[self == 0 ? 1 : 0])};
    options.members = {options.members[self]};
    options.replication_factor = 3;
    options.gossip_interval_ms = 100;
    options.down_after_ms = 3000;
    options.request_timeout_ms = 1000;
    options.reconnect_backoff_max_ms = 200;
    options.leave_grace_ms = 300;
    options.anti_entropy_interval_ms = 0;  // only the rebalancer moves data here
  };
}

// Whether `nodes` all have a ring of exactly `ids` and are done streaming.
bool Settled(TestCluster& cluster, const std::vector<int>& nodes,
             const std::vector<std::string>& ids) {
  for (int i : nodes) {
    ClusterNode& node = cluster.node(i);
    if (node.ring().size() != ids.size()) return false;
    for (const std::string& id : ids) {
      if (node.ring().Find(id) == nullptr) return false;
    }
    const std::string state = node.Rebalance().state;
    if (state != "idle" && state != "left") return false;
  }
  return true;
}

// Keys not exactly on their replicas (per node 0's ring) among `nodes`: a copy missing on a
// replica, or one left on a node that is not.
int Misplaced(TestCluster& cluster, const std::vector<int>& nodes, int keys) {
  int misplaced = 0;
  const ClusterOptions& options = cluster.node(nodes[0]).options();
  for (int k = 0; k < keys; ++k) {
    const std::set<std::string> replicas =
        Ids(ReplicasOf(cluster.node(nodes[0]).ring(), Key(k), options));
    for (int i : nodes) {
      ClusterNode& node = cluster.node(i);
      const bool holds = !node.LocalSiblings(Key(k)).empty();
      if (holds != (replicas.count(node.self_id()) == 1)) ++misplaced;
    }
  }
  return misplaced;
}

TEST_CASE("rebalancer: a joining node gets its share and a leaving one hands everything over") {
  const std::vector<int> ports = testing::FreePorts(4);
  TestCluster cluster(TestCluster::Specs(4), JoinBySeeds(ports), ports);
  for (int i = 0; i < 3; ++i) cluster.Start(i);
  REQUIRE(testing::RunUntil(
      cluster.loop(),
      [&] {
        return Settled(cluster, {0, 1, 2}, {"A", "B", "C"});
      },
      8000));
  for (int k = 0; k < kLiveKeys; ++k) {
    const WriteResult written = cluster.Set(k % 3, Key(k), "v" + std::to_string(k), kQuorum);
    REQUIRE_MESSAGE(written.ok, written.error);
  }
  // With N=3 of 3 nodes, every node holds every key.
  for (int i = 0; i < 3; ++i) CHECK(cluster.engine(i).KeyCount() == kLiveKeys);

  // D joins with nothing but a seed: the others stream it its share and drop what they lost.
  cluster.Start(3);
  const bool joined = testing::RunUntil(
      cluster.loop(),
      [&] {
        return Settled(cluster, {0, 1, 2, 3}, {"A", "B", "C", "D"}) &&
               Misplaced(cluster, {0, 1, 2, 3}, kLiveKeys) == 0;
      },
      15000);
  CHECK_MESSAGE(joined, Misplaced(cluster, {0, 1, 2, 3}, kLiveKeys), " copies misplaced");
  std::uint64_t streamed = 0, dropped = 0, total = 0;
  for (int i = 0; i < 4; ++i) {
    streamed += cluster.node(i).stats().rebalance_keys_streamed;
    dropped += cluster.node(i).stats().rebalance_keys_dropped;
    total += cluster.engine(i).KeyCount();
    CAPTURE(i);
    // About 3/4 of the keys each; D got all of its copies by streaming.
    CHECK(cluster.engine(i).KeyCount() > kLiveKeys * 6 / 10);
    CHECK(cluster.engine(i).KeyCount() < kLiveKeys * 9 / 10);
  }
  CHECK(total == 3u * kLiveKeys);
  CHECK(streamed >= cluster.engine(3).KeyCount());
  // Each key D replicates now was let go by the one old replica it displaced.
  CHECK(dropped == cluster.engine(3).KeyCount());

  // B leaves. A second LEAVE, or one that would leave too few for N=3... is refused.
  std::optional<std::string> left;
  std::string error;
  REQUIRE(cluster.node(1).Leave([&](std::string failure) { left = std::move(failure); }, &error));
  CHECK_FALSE(cluster.node(1).Leave([](std::string) {}, &error));
  CHECK(error.find("already leaving") != std::string::npos);
  CHECK(cluster.node(1).Rebalance().state == "leaving");
  for (const MemberStatus& member : cluster.node(1).Members()) {
    if (member.self) CHECK(member.state == MemberState::kLeaving);  // announced by gossip
  }
  // A write while B streams: acked, it must survive the move.
  const WriteResult during = cluster.Set(1, Key(0), "during-leave", kQuorum);
  CHECK_MESSAGE(during.ok, during.error);
  REQUIRE(testing::RunUntil(
      cluster.loop(), [&] { return left.has_value(); }, 15000));
  CHECK(*left == "");
  CHECK(cluster.node(1).Rebalance().state == "left");
  CHECK(cluster.engine(1).KeyCount() == 0);  // everything handed over, then dropped
  CHECK(cluster.node(1).ring().Find("B") == nullptr);
  CHECK_FALSE(cluster.node(1).Leave([](std::string) {}, &error));
  CHECK(error.find("already left") != std::string::npos);
  const bool handed_over = testing::RunUntil(
      cluster.loop(),
      [&] {
        return Settled(cluster, {0, 2, 3}, {"A", "C", "D"}) &&
               Misplaced(cluster, {0, 2, 3}, kLiveKeys) == 0;
      },
      15000);
  CHECK_MESSAGE(handed_over, Misplaced(cluster, {0, 2, 3}, kLiveKeys), " copies misplaced");
  for (int i : {0, 2, 3}) CHECK(cluster.engine(i).KeyCount() == kLiveKeys);
  const std::vector<MemberStatus> members = cluster.node(0).Members();
  for (const MemberStatus& member : members) {
    if (member.node.id == "B") CHECK(member.state == MemberState::kLeft);
  }
  for (int k = 0; k < kLiveKeys; k += 7) {
    const ReadResult read = cluster.Read(k % 2 == 0 ? 0 : 3, Key(k), kQuorum);
    REQUIRE_MESSAGE(read.ok, read.error);
    const Version* winner = read.siblings.Resolve();
    REQUIRE(winner != nullptr);
    CHECK(winner->value == (k == 0 ? "during-leave" : "v" + std::to_string(k)));
  }
  // With three members left, N=3 cannot lose another.
  CHECK_FALSE(cluster.node(0).Leave([](std::string) {}, &error));
  CHECK(error.find("cannot hold") != std::string::npos);
}

TEST_CASE("rebalancer: pushes to an unreachable replica are retried until it answers") {
  const std::vector<int> ports = testing::FreePorts(4);
  TestCluster cluster(TestCluster::Specs(4), JoinBySeeds(ports), ports);
  cluster.StartAll();
  const std::vector<std::string> all = {"A", "B", "C", "D"};
  REQUIRE(testing::RunUntil(
      cluster.loop(),
      [&] {
        return Settled(cluster, {0, 1, 2, 3}, all);
      },
      8000));
  constexpr int kKeysHere = 300;
  for (int k = 0; k < kKeysHere; ++k) {
    const WriteResult written = cluster.Set(k % 4, Key(k), "v" + std::to_string(k), kQuorum);
    REQUIRE_MESSAGE(written.ok, written.error);
  }
  REQUIRE(testing::RunUntil(
      cluster.loop(),
      [&] {
        return Misplaced(cluster, {0, 1, 2, 3}, kKeysHere) == 0;
      },
      5000));

  // A cannot reach D while C leaves: A's share of what D takes over from C cannot go out.
  cluster.Partition(0, {3});
  std::optional<std::string> left;
  std::string error;
  REQUIRE(cluster.node(2).Leave([&](std::string failure) { left = std::move(failure); }, &error));
  REQUIRE(testing::RunUntil(
      cluster.loop(), [&] { return left.has_value(); }, 15000));
  CHECK(*left == "");
  REQUIRE(testing::RunUntil(
      cluster.loop(), [&] { return cluster.node(0).ring().Find("C") == nullptr; }, 5000));
  testing::RunFor(cluster.loop(), 600);
  // A keeps trying (and is not done) for as long as D is out of reach.
  CHECK(cluster.node(0).Rebalance().state == "streaming");
  CHECK(cluster.node(0).Rebalance().keys_queued > 0);
  CHECK(cluster.node(0).stats().rebalance_push_failures > 0);
  CHECK(cluster.node(0).stats().rebalance_passes < 10);

  cluster.Heal();
  const bool settled = testing::RunUntil(
      cluster.loop(),
      [&] {
        return Settled(cluster, {0, 1, 3}, {"A", "B", "D"}) &&
               Misplaced(cluster, {0, 1, 3}, kKeysHere) == 0;
      },
      15000);
  CHECK_MESSAGE(settled, Misplaced(cluster, {0, 1, 3}, kKeysHere), " copies misplaced");
  for (int i : {0, 1, 3}) CHECK(cluster.engine(i).KeyCount() == kKeysHere);
  CHECK(cluster.engine(2).KeyCount() == 0);
}

}  // namespace
}  // namespace dynakv::cluster
