// Hash tags: the part of a key that places it (Redis Cluster's keyHashSlot rule), and that keys
// sharing a tag share their replicas under every placement and move together.
#include "cluster/hash_tag.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "cluster/ring.h"
#include "placement.h"
#include "rebalancer.h"
#include "storage/engine.h"

namespace dynakv::cluster {
namespace {

std::vector<NodeInfo> Nodes(int count, int dcs) {
  std::vector<NodeInfo> nodes;
  for (int i = 0; i < count; ++i) {
    nodes.push_back(NodeInfo{"node-" + std::to_string(i), "127.0.0.1", 7000,
                             "dc" + std::to_string(i % dcs), "r" + std::to_string(i % 3), 1});
  }
  return nodes;
}

Ring Build(std::vector<NodeInfo> nodes) {
  Ring ring;
  std::string error;
  REQUIRE_MESSAGE(Ring::Build(std::move(nodes), RingOptions{}, &ring, &error), error);
  return ring;
}

std::vector<std::string> Ids(const std::vector<const NodeInfo*>& nodes) {
  std::vector<std::string> ids;
  for (const NodeInfo* node : nodes) ids.push_back(node->id);
  return ids;
}

}  // namespace

TEST_CASE("hash tag: the first {...} with something inside, else the whole key") {
  CHECK(HashTag("user:1") == "user:1");
  CHECK(HashTag("{user:1}:cart") == "user:1");
  CHECK(HashTag("cart:{user:1}") == "user:1");
  CHECK(HashTag("a{b}{c}") == "b");    // the first tag only
  CHECK(HashTag("{}") == "{}");        // empty tag: the whole key
  CHECK(HashTag("{}{x}") == "{}{x}");  // the first '{' decides, and its tag is empty
  CHECK(HashTag("{") == "{");          // never closed
  CHECK(HashTag("a{b") == "a{b");
  CHECK(HashTag("}a{") == "}a{");             // a '}' before the '{' does not close it
  CHECK(HashTag("foo{{bar}}zap") == "{bar");  // up to the first '}' after the first '{'
  CHECK(HashTag("foo{bar}{zap}") == "bar");
  CHECK(HashTag("") == "");
  CHECK(HashTag(std::string_view("{a\0b}", 6)) == std::string_view("a\0b", 3));  // binary-safe
}

TEST_CASE("hash tag: a key sits at its tag's hash; untagged keys where they always were") {
  CHECK(Ring::Position("{user:1}:cart") == storage::HashKey("user:1"));
  CHECK(Ring::Position("{user:1}:cart") == Ring::Position("user:1"));
  CHECK(Ring::Position("plain") == storage::HashKey("plain"));
  CHECK(Ring::Position("{}x") == storage::HashKey("{}x"));
}

TEST_CASE("hash tag: keys sharing a tag share their replicas, N anywhere or per dc") {
  const Ring ring = Build(Nodes(12, 2));
  ClusterOptions anywhere;
  anywhere.replication_factor = 3;
  ClusterOptions per_dc;
  per_dc.replicas_per_dc = {{"dc0", 2}, {"dc1", 1}};
  int differing_untagged = 0;
  for (int t = 0; t < 200; ++t) {
    const std::string tag = "user:" + std::to_string(t);
    for (const ClusterOptions* options : {&anywhere, &per_dc}) {
      const std::vector<std::string> replicas = Ids(ReplicasOf(ring, tag, *options));
      REQUIRE(replicas.size() == 3);
      for (const std::string& key :
           {"{" + tag + "}:cart", "{" + tag + "}:total", "x{" + tag + "}y{z}", "{" + tag + "}"}) {
        CHECK(Ids(ReplicasOf(ring, key, *options)) == replicas);
        CHECK(ring.Primary(key)->id == replicas.front());
      }
      // The same names without braces are placed by the whole key, so they spread.
      if (Ids(ReplicasOf(ring, tag + ":cart", *options)) != replicas) ++differing_untagged;
    }
  }
  CHECK(differing_untagged > 300);
}

TEST_CASE("hash tag: range streaming moves a tag's keys together") {
  ClusterOptions options;
  options.replication_factor = 2;
  std::vector<NodeInfo> nodes = Nodes(5, 1);
  const Ring before = Build(std::vector<NodeInfo>(nodes.begin(), nodes.end() - 1));
  const Ring after = Build(nodes);
  const std::vector<Ring> history = {before, after};
  int moved_tags = 0;
  for (int t = 0; t < 300; ++t) {
    const std::string tag = "{t" + std::to_string(t) + "}";
    for (const NodeInfo& self : before.nodes()) {
      const KeyMove first = PlanKeyMove(tag + "a", history, self.id, options);
      const KeyMove second = PlanKeyMove(tag + "b", history, self.id, options);
      CHECK(first.targets == second.targets);
      CHECK(first.keep == second.keep);
      if (!first.targets.empty()) ++moved_tags;
    }
  }
  CHECK(moved_tags > 0);
}

}  // namespace dynakv::cluster
