#include "cluster/ring.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "storage/engine.h"

namespace dynakv::cluster {
namespace {

constexpr int kSampleKeys = 100000;

NodeInfo Node(const std::string& id, const std::string& dc = "dc1", const std::string& rack = "r1",
              int weight = 1) {
  return NodeInfo{id, "127.0.0.1", 7000, dc, rack, weight};
}

std::vector<NodeInfo> Nodes(int count) {
  std::vector<NodeInfo> nodes;
  for (int i = 0; i < count; ++i) nodes.push_back(Node("node-" + std::to_string(i)));
  return nodes;
}

Ring Build(std::vector<NodeInfo> nodes, RingOptions options = {}) {
  Ring ring;
  std::string error;
  REQUIRE_MESSAGE(Ring::Build(std::move(nodes), options, &ring, &error), error);
  return ring;
}

std::string Key(int i) { return "key:" + std::to_string(i); }

std::vector<std::string> Ids(const std::vector<const NodeInfo*>& nodes) {
  std::vector<std::string> ids;
  for (const NodeInfo* node : nodes) ids.push_back(node->id);
  return ids;
}

double Fraction(const Ring& ring, const std::string& id) {
  for (const NodeOwnership& owner : ring.Owners()) {
    if (owner.node->id == id) return owner.fraction;
  }
  FAIL("no node " << id);
  return 0;
}

TEST_CASE("ring: keys sit at the storage engine's hash") {
  CHECK(Ring::Position("") == 0x2d06800538d394c2ULL);  // XXH3-64 of the empty string
  CHECK(Ring::Position("user:42") == storage::HashKey("user:42"));
}

TEST_CASE("ring: ten equal nodes share the hash space evenly") {
  const Ring ring = Build(Nodes(10));
  CHECK(ring.vnode_count() == 10 * 256);
  std::vector<double> fractions;
  for (const NodeOwnership& owner : ring.Owners()) {
    CHECK(owner.vnodes == 256);
    fractions.push_back(owner.fraction);
  }
  const double sum = std::accumulate(fractions.begin(), fractions.end(), 0.0);
  CHECK(sum == doctest::Approx(1.0).epsilon(1e-9));
  const double mean = sum / fractions.size();
  double variance = 0;
  for (double f : fractions) variance += (f - mean) * (f - mean);
  const double stddev = std::sqrt(variance / fractions.size());
  INFO("coefficient of variation " << stddev / mean);
  CHECK(stddev / mean < 0.10);
}

TEST_CASE("ring: ownership fractions match where sampled keys land") {
  const Ring ring = Build(Nodes(10));
  std::map<std::string, int> primaries;
  for (int i = 0; i < kSampleKeys; ++i) ++primaries[ring.Primary(Key(i))->id];
  for (const NodeOwnership& owner : ring.Owners()) {
    const double sampled = static_cast<double>(primaries[owner.node->id]) / kSampleKeys;
    INFO(owner.node->id << " arc share " << owner.fraction << " sampled " << sampled);
    CHECK(std::abs(sampled - owner.fraction) < 0.01);
  }
}

TEST_CASE("ring: a weight-2 node owns about twice a weight-1 node's share") {
  std::vector<NodeInfo> nodes = Nodes(10);
  nodes[0].weight = 2;
  const Ring ring = Build(nodes);
  double others = 0;
  for (const NodeOwnership& owner : ring.Owners()) {
    if (owner.node->id == "node-0") {
      CHECK(owner.vnodes == 512);
    } else {
      others += owner.fraction;
    }
  }
  const double ratio = Fraction(ring, "node-0") / (others / 9);
  INFO("ratio " << ratio);
  CHECK(ratio > 2 * 0.85);
  CHECK(ratio < 2 * 1.15);
}

TEST_CASE("ring: adding a node moves only the keys it takes over") {
  const Ring before = Build(Nodes(10));
  Ring after;
  std::string error;
  REQUIRE(before.WithNode(Node("node-10"), &after, &error));
  CHECK(before.size() == 10);  // the old snapshot is untouched
  REQUIRE(after.size() == 11);

  int moved = 0;
  for (int i = 0; i < kSampleKeys; ++i) {
    const std::string old_primary = before.Primary(Key(i))->id;
    const std::string new_primary = after.Primary(Key(i))->id;
    if (old_primary != new_primary) {
      ++moved;
      CHECK(new_primary == "node-10");
    }
    // Replicas: the newcomer slots into the list and pushes the last one out; nothing else moves.
    const auto old_list = Ids(before.PreferenceList(Key(i), 3));
    auto new_list = Ids(after.PreferenceList(Key(i), 3));
    if (new_list != old_list) {
      auto newcomer = std::find(new_list.begin(), new_list.end(), "node-10");
      REQUIRE(newcomer != new_list.end());
      new_list.erase(newcomer);
      CHECK(std::equal(new_list.begin(), new_list.end(), old_list.begin()));
    }
  }
  INFO("moved " << moved << " of " << kSampleKeys);
  CHECK(moved < kSampleKeys * 1.5 / 11);
  CHECK(moved > kSampleKeys * 0.5 / 11);  // it does take its share
}

TEST_CASE("ring: removing a node moves only its keys") {
  const Ring before = Build(Nodes(10));
  Ring after;
  std::string error;
  REQUIRE(before.WithoutNode("node-3", &after, &error));
  CHECK(after.Find("node-3") == nullptr);
  CHECK(before.Find("node-3") != nullptr);
  int moved = 0;
  for (int i = 0; i < kSampleKeys; ++i) {
    const std::string old_primary = before.Primary(Key(i))->id;
    const std::string new_primary = after.Primary(Key(i))->id;
    if (old_primary == "node-3") {
      ++moved;
      CHECK(new_primary != "node-3");
    } else {
      CHECK(new_primary == old_primary);
    }
    const auto old_list = Ids(before.PreferenceList(Key(i), 3));
    if (std::find(old_list.begin(), old_list.end(), "node-3") == old_list.end()) {
      CHECK(Ids(after.PreferenceList(Key(i), 3)) == old_list);
    }
  }
  CHECK(moved < kSampleKeys * 1.5 / 10);
  CHECK(moved > kSampleKeys * 0.5 / 10);
}

TEST_CASE("ring: the same membership gives the same ring, whatever the listing order") {
  std::vector<NodeInfo> nodes = Nodes(7);
  const Ring first = Build(nodes);
  std::mt19937 rng(42);
  std::shuffle(nodes.begin(), nodes.end(), rng);
  const Ring second = Build(nodes);
  for (int i = 0; i < 2000; ++i) {
    CHECK(Ids(first.PreferenceList(Key(i), 3)) == Ids(second.PreferenceList(Key(i), 3)));
  }
  const auto a = first.Owners();
  const auto b = second.Owners();
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].node->id == b[i].node->id);
    CHECK(a[i].fraction == b[i].fraction);
  }
}

TEST_CASE("ring: a preference list holds n distinct nodes, primary first") {
  const Ring ring = Build(Nodes(5));
  for (int i = 0; i < 1000; ++i) {
    const auto list = ring.PreferenceList(Key(i), 3);
    REQUIRE(list.size() == 3);
    CHECK(std::set<const NodeInfo*>(list.begin(), list.end()).size() == 3);
    CHECK(list[0] == ring.Primary(Key(i)));
    // A longer list extends a shorter one: replica i is the same whatever N is.
    const auto longer = ring.PreferenceList(Key(i), 4);
    CHECK(std::equal(list.begin(), list.end(), longer.begin()));
  }
  CHECK(ring.PreferenceList("k", 9).size() == 5);  // capped at the ring size
  CHECK(ring.PreferenceList("k", 0).empty());
  CHECK(ring.PreferenceList("k", -1).empty());

  const Ring empty;
  CHECK(empty.PreferenceList("k", 3).empty());
  CHECK(empty.Primary("k") == nullptr);
  CHECK(empty.Owners().empty());
}

TEST_CASE("ring: a single vnode owns the whole circle") {
  const Ring ring = Build({Node("solo")}, RingOptions{1});
  REQUIRE(ring.Owners().size() == 1);
  CHECK(ring.Owners()[0].fraction == 1.0);
  CHECK(ring.Primary("anything")->id == "solo");
}

TEST_CASE("ring: bad membership is refused with a reason") {
  Ring ring;
  std::string error;
  CHECK_FALSE(Ring::Build({Node("a"), Node("a")}, {}, &ring, &error));
  CHECK(error == "duplicate node id 'a'");
  CHECK_FALSE(Ring::Build({Node("")}, {}, &ring, &error));
  CHECK(error == "node id must not be empty");
  CHECK_FALSE(Ring::Build({Node("a", "dc1", "r1", 0)}, {}, &ring, &error));
  CHECK(error == "node 'a' weight must be between 1 and 1000");
  CHECK_FALSE(Ring::Build({Node("a", "dc1", "r1", 1001)}, {}, &ring, &error));
  CHECK_FALSE(Ring::Build({Node("a")}, RingOptions{0}, &ring, &error));
  CHECK(error == "vnodes_per_weight must be between 1 and 4096");
  // 1000 * 4096 vnodes would be 4M tokens: refused rather than allocated.
  CHECK_FALSE(Ring::Build({Node("a", "dc1", "r1", 1000)}, RingOptions{4096}, &ring, &error));

  const Ring good = Build(Nodes(3));
  CHECK_FALSE(good.WithNode(Node("node-1"), &ring, &error));
  CHECK_FALSE(good.WithoutNode("nope", &ring, &error));
  CHECK(error == "no node 'nope' in the ring");
}

TEST_CASE("ring: DC-aware placement spreads replicas across datacenters") {
  std::vector<NodeInfo> nodes;
  for (int i = 0; i < 3; ++i) {
    nodes.push_back(Node("a" + std::to_string(i), "dc1", "rack" + std::to_string(i)));
    nodes.push_back(Node("b" + std::to_string(i), "dc2", "rack" + std::to_string(i)));
  }
  const Ring ring = Build(nodes);
  const ReplicasPerDc rf{{"dc1", 2}, {"dc2", 1}};
  for (int i = 0; i < 2000; ++i) {
    const auto list = ring.PreferenceList(Key(i), rf);
    REQUIRE(list.size() == 3);
    std::map<std::string, std::set<std::string>> per_dc;
    for (const NodeInfo* node : list) per_dc[node->dc].insert(node->id);
    CHECK(per_dc["dc1"].size() == 2);
    CHECK(per_dc["dc2"].size() == 1);
    CHECK(list[0] == ring.Primary(Key(i)));  // every node is in a wanted dc
  }
  // More replicas than a dc has: all of it. Unknown dcs and non-positive counts: none.
  CHECK(ring.PreferenceList("k", ReplicasPerDc{{"dc1", 5}}).size() == 3);
  CHECK(ring.PreferenceList("k", ReplicasPerDc{{"dc9", 2}, {"dc2", 0}}).empty());
  const auto only_dc2 = ring.PreferenceList("k", ReplicasPerDc{{"dc2", 2}});
  REQUIRE(only_dc2.size() == 2);
  CHECK(only_dc2[0]->dc == "dc2");
  CHECK(only_dc2[1]->dc == "dc2");
}

TEST_CASE("ring: within a dc, replicas go to distinct racks first") {
  // Four nodes in two racks: with two replicas each rack must get one, for every key, even
  // though the ring often places two nodes of one rack next to each other.
  const Ring ring = Build({Node("n1", "dc1", "east"), Node("n2", "dc1", "east"),
                           Node("n3", "dc1", "west"), Node("n4", "dc1", "west")});
  int same_rack_neighbours = 0;
  for (int i = 0; i < 2000; ++i) {
    const auto list = ring.PreferenceList(Key(i), ReplicasPerDc{{"dc1", 2}});
    REQUIRE(list.size() == 2);
    CHECK(list[0]->rack != list[1]->rack);
    CHECK(list[0] == ring.Primary(Key(i)));
    const auto plain = ring.PreferenceList(Key(i), 2);
    if (plain[0]->rack == plain[1]->rack) ++same_rack_neighbours;
    // Three replicas: both racks, then the held-back node of the first rack.
    const auto three = ring.PreferenceList(Key(i), ReplicasPerDc{{"dc1", 3}});
    REQUIRE(three.size() == 3);
    CHECK(std::set<const NodeInfo*>(three.begin(), three.end()).size() == 3);
    CHECK(three[0]->rack != three[1]->rack);
  }
  CHECK(same_rack_neighbours > 0);  // the rack rule was actually exercised
}

}  // namespace
}  // namespace dynakv::cluster
