#include "cluster/membership.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "cluster/member_status.h"

namespace dynakv::cluster {
namespace {

NodeInfo Info(const std::string& id, int port = 7000, const std::string& dc = "") {
  NodeInfo info;
  info.id = id;
  info.host = "10.0.0." + std::to_string(id.size());
  info.port = port;
  info.dc = dc;
  return info;
}

GossipEntry Entry(const std::string& id, std::int64_t generation, std::uint64_t heartbeat,
                  std::uint64_t version = 0, NodeStatus status = NodeStatus::kNormal) {
  GossipEntry entry;
  entry.info = Info(id);
  entry.generation = generation;
  entry.heartbeat = heartbeat;
  entry.version = version;
  entry.status = status;
  return entry;
}

std::vector<std::string> Ids(const std::vector<NodeInfo>& nodes) {
  std::vector<std::string> ids;
  for (const NodeInfo& node : nodes) ids.push_back(node.id);
  return ids;
}

TEST_CASE("membership: freshness is generation, then heartbeat, then version") {
  CHECK(Supersedes(Entry("a", 2, 0), Entry("a", 1, 99)));
  CHECK(Supersedes(Entry("a", 1, 5), Entry("a", 1, 4, 9)));
  CHECK(Supersedes(Entry("a", 1, 5, 2), Entry("a", 1, 5, 1)));
  CHECK_FALSE(Supersedes(Entry("a", 1, 5, 1), Entry("a", 1, 5, 1)));
  CHECK_FALSE(Supersedes(Entry("a", 1, 4), Entry("a", 2, 0)));
}

TEST_CASE("membership: the view starts from this node and the configured members") {
  MembershipView view(Entry("a", 100, 0), {Info("a"), Info("b"), Info("c")});
  CHECK(view.entries().size() == 3);
  CHECK(view.self().generation == 100);
  CHECK(view.Find("b")->generation == 0);  // configured, never heard from
  CHECK(view.Find("zz") == nullptr);
  view.BeatHeart();
  view.BeatHeart();
  CHECK(view.self().heartbeat == 2);
  view.SetSelfStatus(NodeStatus::kLeaving);
  CHECK(view.self().version == 1);
  view.SetSelfStatus(NodeStatus::kLeaving);  // no change, no new version
  CHECK(view.self().version == 1);
  CHECK(Ids(view.RingMembers()) == std::vector<std::string>{"a", "b", "c"});
}

TEST_CASE("membership: merging reports who was heard, who restarted and whether the ring moved") {
  MembershipView view(Entry("a", 100, 0), {Info("a"), Info("b")});

  // b heard of for the first time: heard, but not a restart; its placement is unchanged.
  auto result = view.Merge({Entry("b", 50, 1)});
  CHECK(result.heard == std::vector<std::string>{"b"});
  CHECK(result.restarted.empty());
  CHECK_FALSE(result.membership_changed);

  // A newcomer joins the ring.
  result = view.Merge({Entry("c", 70, 3)});
  CHECK(result.heard == std::vector<std::string>{"c"});
  CHECK(result.membership_changed);
  CHECK(Ids(view.RingMembers()) == std::vector<std::string>{"a", "b", "c"});

  // Stale and equal entries change nothing.
  result = view.Merge({Entry("b", 50, 1), Entry("c", 70, 2)});
  CHECK(result.heard.empty());
  CHECK_FALSE(result.membership_changed);
  CHECK(view.Find("c")->heartbeat == 3);

  // Only a version change (same heartbeat): taken, but no heartbeat was heard.
  result = view.Merge({Entry("c", 70, 3, 1)});
  CHECK(result.heard.empty());
  CHECK(view.Find("c")->version == 1);

  // b restarted: a new generation with a lower heartbeat still wins.
  result = view.Merge({Entry("b", 60, 0)});
  CHECK(result.restarted == std::vector<std::string>{"b"});
  CHECK(result.heard.empty());
  CHECK(view.Find("b")->generation == 60);

  // c moved to another port: the ring's members are the same, but where to dial changed.
  GossipEntry moved = Entry("c", 70, 4);
  moved.info.port = 7100;
  result = view.Merge({moved});
  CHECK(result.membership_changed);
  CHECK(view.Find("c")->info.port == 7100);
}

TEST_CASE("membership: a member that left keeps its entry but leaves the ring") {
  MembershipView view(Entry("a", 100, 0), {Info("a"), Info("b"), Info("c")});
  auto result = view.Merge({Entry("b", 10, 5, 1, NodeStatus::kLeaving)});
  CHECK_FALSE(result.membership_changed);  // leaving: still a ring member
  result = view.Merge({Entry("b", 10, 6, 2, NodeStatus::kLeft)});
  CHECK(result.membership_changed);
  CHECK(Ids(view.RingMembers()) == std::vector<std::string>{"a", "c"});
  CHECK(view.Find("b")->status == NodeStatus::kLeft);
  // Old gossip from before it left cannot bring it back.
  result = view.Merge({Entry("b", 10, 5, 1)});
  CHECK_FALSE(result.membership_changed);
  CHECK(Ids(view.RingMembers()) == std::vector<std::string>{"a", "c"});
  // Hearing of a member only after it left does not add it to the ring.
  result = view.Merge({Entry("d", 10, 1, 1, NodeStatus::kLeft)});
  CHECK_FALSE(result.membership_changed);
  CHECK(view.Find("d") != nullptr);
  // A node that left and came back as a new process rejoins.
  result = view.Merge({Entry("b", 20, 0)});
  CHECK(result.membership_changed);
  CHECK(Ids(view.RingMembers()) == std::vector<std::string>{"a", "b", "c"});
}

TEST_CASE("membership: a newer entry under this node's own id is outbid, not adopted") {
  MembershipView view(Entry("a", 100, 7), {Info("a")});
  GossipEntry impostor = Entry("a", 150, 3);
  impostor.info.port = 9999;
  auto result = view.Merge({impostor});
  CHECK(result.self_superseded);
  CHECK(view.self().generation == 151);
  CHECK(view.self().info.port == 7000);  // still what this process announces
  CHECK(Supersedes(view.self(), impostor));
  // Its own, older announcements coming back are just stale.
  result = view.Merge({Entry("a", 100, 5)});
  CHECK_FALSE(result.self_superseded);
  CHECK(view.self().generation == 151);
}

TEST_CASE("membership: views merged in any order, any number of times, converge") {
  std::vector<GossipEntry> updates;
  for (const std::string id : {"b", "c", "d", "e"}) {
    for (std::int64_t generation : {1, 2}) {
      for (std::uint64_t heartbeat : {0, 3, 9}) {
        updates.push_back(
            Entry(id, generation, heartbeat, heartbeat % 2,
                  heartbeat == 9 && id == "d" ? NodeStatus::kLeft : NodeStatus::kNormal));
      }
    }
  }
  auto final_state = [&](std::uint64_t seed) {
    std::vector<GossipEntry> shuffled = updates;
    std::mt19937_64 rng(seed);
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    MembershipView view(Entry("a", 1, 0), {Info("a")});
    // Delivered in batches of random size, some twice.
    std::size_t i = 0;
    while (i < shuffled.size()) {
      const std::size_t n = 1 + rng() % 4;
      std::vector<GossipEntry> batch(
          shuffled.begin() + static_cast<std::ptrdiff_t>(i),
          shuffled.begin() + static_cast<std::ptrdiff_t>(std::min(i + n, shuffled.size())));
      view.Merge(batch);
      if (rng() % 3 == 0) view.Merge(batch);
      i += n;
    }
    std::vector<std::string> summary;
    for (const auto& [id, entry] : view.entries()) {
      summary.push_back(id + "/" + std::to_string(entry.generation) + "/" +
                        std::to_string(entry.heartbeat) + "/" + std::to_string(entry.version) +
                        "/" + NodeStatusName(entry.status));
    }
    return summary;
  };
  const auto expected = final_state(0);
  CHECK(expected == std::vector<std::string>{"a/1/0/0/normal", "b/2/9/1/normal", "c/2/9/1/normal",
                                             "d/2/9/1/left", "e/2/9/1/normal"});
  for (std::uint64_t seed = 1; seed < 20; ++seed) CHECK(final_state(seed) == expected);
}

TEST_CASE("membership: entries are validated") {
  std::string error;
  GossipEntry entry = Entry("a", 1, 0);
  CHECK(ValidateEntry(entry, &error));
  auto invalid = [&](auto mutate, const std::string& message) {
    GossipEntry bad = entry;
    mutate(bad);
    std::string why;
    CHECK_FALSE(ValidateEntry(bad, &why));
    CHECK(why == message);
  };
  invalid([](GossipEntry& e) { e.info.id.clear(); }, "node id is empty");
  invalid([](GossipEntry& e) { e.info.host.clear(); }, "node 'a': host is empty");
  invalid([](GossipEntry& e) { e.info.port = 0; }, "node 'a': port 0 is out of range");
  invalid([](GossipEntry& e) { e.info.port = 65536; }, "node 'a': port 65536 is out of range");
  invalid([](GossipEntry& e) { e.info.weight = 0; }, "node 'a': weight 0 is outside [1, 1000]");
  invalid([](GossipEntry& e) { e.info.dc = std::string(256, 'x'); },
          "node 'a': dc is longer than 255 bytes");
  invalid([](GossipEntry& e) { e.generation = -1; }, "node 'a': negative generation");
  invalid([](GossipEntry& e) { e.status = static_cast<NodeStatus>(3); },
          "node 'a': unknown status 3");
}

TEST_CASE("membership: what RING shows combines the announced status and the verdict") {
  CHECK(CombineState(NodeStatus::kNormal, Liveness::kUp) == MemberState::kUp);
  CHECK(CombineState(NodeStatus::kNormal, Liveness::kSuspect) == MemberState::kSuspect);
  CHECK(CombineState(NodeStatus::kLeaving, Liveness::kUp) == MemberState::kLeaving);
  CHECK(CombineState(NodeStatus::kLeaving, Liveness::kDown) == MemberState::kDown);
  CHECK(CombineState(NodeStatus::kLeft, Liveness::kUp) == MemberState::kLeft);
  CHECK(std::string(MemberStateName(MemberState::kLeaving)) == "leaving");
}

}  // namespace
}  // namespace dynakv::cluster

namespace dynakv::cluster {
namespace {

TEST_CASE("membership: entries no member could truthfully announce are refused") {
  const std::int64_t now = 1'700'000'000'000;
  MergeBounds bounds;
  bounds.now_ms = now;
  bounds.max_clock_skew_ms = 60'000;
  MembershipView view(Entry("a", now - 5000, 0), {Info("a"), Info("b"), Info("c")});
  REQUIRE(view.Merge({Entry("b", now - 10'000, 7)}, bounds).rejected.empty());

  SUBCASE("a generation in the future, the largest one included (forged eviction)") {
    auto result =
        view.Merge({Entry("b", std::numeric_limits<std::int64_t>::max(), 0, 1, NodeStatus::kLeft),
                    Entry("c", now + 120'000, 0)},
                   bounds);
    CHECK(result.rejected.size() == 2);
    CHECK(view.Find("b")->status == NodeStatus::kNormal);
    CHECK(view.Find("b")->generation == now - 10'000);
    CHECK(view.Find("c")->generation == 0);
    CHECK(Ids(view.RingMembers()) == std::vector<std::string>{"a", "b", "c"});
  }
  SUBCASE("a heartbeat or version beyond one per millisecond since the start") {
    auto result = view.Merge(
        {Entry("b", now - 10'000, 200'000), Entry("c", now - 1000, 3, 70'000, NodeStatus::kLeft)},
        bounds);
    CHECK(result.rejected.size() == 2);
    CHECK(view.Find("b")->heartbeat == 7);
    CHECK(view.Find("c")->status == NodeStatus::kNormal);
  }
  SUBCASE("a claim on this node's own id in the future does not wrap its generation") {
    auto result = view.Merge({Entry("a", std::numeric_limits<std::int64_t>::max(), 0)}, bounds);
    CHECK(result.rejected.size() == 1);
    CHECK_FALSE(result.self_superseded);
    CHECK(view.self().generation == now - 5000);
  }
  SUBCASE("without bounds the largest generation is still never wrapped") {
    auto result = view.Merge({Entry("a", std::numeric_limits<std::int64_t>::max(), 0)});
    CHECK(result.rejected.size() == 1);
    CHECK(view.self().generation == now - 5000);
  }
  SUBCASE("plausible news is taken") {
    auto result = view.Merge({Entry("b", now - 10'000, 9000)}, bounds);
    CHECK(result.rejected.empty());
  }
}

}  // namespace
}  // namespace dynakv::cluster

namespace dynakv::cluster {
namespace {

TEST_CASE("membership: a weight above the configured bound is refused") {
  MembershipView view(Entry("a", 100, 0), {Info("a"), Info("b")});
  MergeBounds bounds;
  bounds.max_weight = 10;
  GossipEntry heavy = Entry("b", 50, 1);
  heavy.info.weight = 11;
  GossipEntry fake = Entry("x", 50, 1);
  fake.info.weight = 1000;
  auto result = view.Merge({heavy, fake}, bounds);
  CHECK(result.rejected.size() == 2);
  CHECK(view.Find("b")->generation == 0);
  CHECK(view.Find("x") == nullptr);
  heavy.info.weight = 10;
  CHECK(view.Merge({heavy}, bounds).rejected.empty());
  CHECK(view.Find("b")->info.weight == 10);
}

}  // namespace
}  // namespace dynakv::cluster

namespace dynakv::cluster {
namespace {

TEST_CASE("membership: only a member itself may say it leaves, unless it is gone anyway") {
  MembershipView view(Entry("a", 100, 0), {Info("a"), Info("b"), Info("c")});
  REQUIRE(view.Merge({Entry("b", 50, 3), Entry("c", 60, 3)}).rejected.empty());
  bool c_down = false;
  MergeBounds from_b;
  from_b.sender = "b";
  from_b.presumed_gone = [&](std::string_view id) { return id == "c" && c_down; };

  // b relays that c left while c is alive: refused, c stays a ring member.
  auto result = view.Merge({Entry("c", 60, 4, 1, NodeStatus::kLeft)}, from_b);
  CHECK(result.rejected.size() == 1);
  CHECK(view.Find("c")->status == NodeStatus::kNormal);
  CHECK(Ids(view.RingMembers()) == std::vector<std::string>{"a", "b", "c"});
  // b says it leaves itself: taken.
  CHECK(view.Merge({Entry("b", 50, 4, 1, NodeStatus::kLeaving)}, from_b).rejected.empty());
  CHECK(view.Find("b")->status == NodeStatus::kLeaving);
  // c said so directly: taken.
  MergeBounds from_c;
  from_c.sender = "c";
  CHECK(view.Merge({Entry("c", 60, 4, 1, NodeStatus::kLeaving)}, from_c).rejected.empty());
  CHECK(view.Find("c")->status == NodeStatus::kLeaving);
  // Relayed news that a member that stopped talking has left converges too.
  MembershipView other(Entry("a", 100, 0), {Info("a"), Info("b"), Info("c")});
  REQUIRE(other.Merge({Entry("c", 60, 3)}).rejected.empty());
  c_down = true;
  CHECK(other.Merge({Entry("c", 60, 9, 2, NodeStatus::kLeft)}, from_b).rejected.empty());
  CHECK(other.Find("c")->status == NodeStatus::kLeft);
}

}  // namespace
}  // namespace dynakv::cluster
