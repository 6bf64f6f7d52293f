// The pieces of sloppy quorum and hinted handoff that need no network: the durable hint store,
// the choice of stand-ins, and the REPLICA_PUT_HINTED payload.
#include "hint_store.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cluster/bus_protocol.h"
#include "cluster/ring.h"
#include "cluster_test_util.h"
#include "stand_ins.h"
#include "storage/engine.h"

namespace dynakv::cluster {
namespace {

using testing::TempDir;
using testing::Values;

SiblingSet Written(const std::string& node, std::int64_t timestamp, const std::string& value) {
  SiblingSet set;
  Version version = set.NewVersion({}, node, timestamp);
  version.value = value;
  set.Add(version);
  return set;
}

std::unique_ptr<HintStore> OpenStore(const std::string& dir) {
  std::unique_ptr<HintStore> store;
  const storage::Status status =
      HintStore::Open(dir, storage::FsyncPolicy::kNo, nullptr, &store);
  REQUIRE_MESSAGE(status.ok(), status.ToString());
  return store;
}

SiblingSet Decoded(const std::string& bytes) {
  SiblingSet set;
  REQUIRE(SiblingSet::Decode(bytes, &set));
  return set;
}

// Every hint in the store, by one full pass.
std::vector<HintStore::Hint> AllHints(HintStore& store, std::uint64_t* bad) {
  std::vector<HintStore::Hint> hints;
  std::uint64_t cursor = 0;
  do {
    cursor = store.Scan(cursor, 16, &hints, bad);
  } while (cursor != 0);
  return hints;
}

constexpr std::int64_t kGrace = 60'000;
constexpr std::int64_t kNow = 1'000'000;

TEST_CASE("hint store: hints merge per (owner, key), keep owners apart, and survive a reopen") {
  TempDir dir;
  const std::string path = dir.path() + "/hints";
  {
    auto store = OpenStore(path);
    CHECK(store->size() == 0);
    CHECK(store->owners().empty());
    REQUIRE(store->Put("D", "k", Written("A", 10, "one"), kNow, kGrace).ok());
    // A concurrent write of the same key for the same owner joins the hint as a sibling.
    REQUIRE(store->Put("D", "k", Written("B", 11, "two"), kNow, kGrace).ok());
    // The same key for another owner, and an owner id that looks like a key prefix, stay apart.
    REQUIRE(store->Put("E", "k", Written("A", 12, "three"), kNow, kGrace).ok());
    REQUIRE(store->Put("Dk", "", Written("A", 13, "four"), kNow, kGrace).ok());
    CHECK(store->size() == 3);
    CHECK(Values(Decoded(store->Get("D", "k"))) == std::vector<std::string>{"one", "two"});
    CHECK(Values(Decoded(store->Get("E", "k"))) == std::vector<std::string>{"three"});
    CHECK(Values(Decoded(store->Get("Dk", ""))) == std::vector<std::string>{"four"});
    CHECK(store->Get("F", "k").empty());
    CHECK(store->owners() == std::vector<std::string>{"D", "Dk", "E"});
    REQUIRE(store->FlushLog().ok());
  }
  auto reopened = OpenStore(path);
  CHECK(reopened->size() == 3);
  CHECK(reopened->owners() == std::vector<std::string>{"D", "Dk", "E"});
  CHECK(Values(Decoded(reopened->Get("D", "k"))) == std::vector<std::string>{"one", "two"});
  std::uint64_t bad = 0;
  const auto hints = AllHints(*reopened, &bad);
  CHECK(bad == 0);
  std::set<std::string> seen;
  for (const auto& hint : hints) {
    seen.insert(hint.owner + "/" + hint.key);
    CHECK(hint.encoded == reopened->Get(hint.owner, hint.key));
  }
  CHECK(seen == std::set<std::string>{"D/k", "Dk/", "E/k"});
}

TEST_CASE("hint store: a hint that changed since it was read is not deleted") {
  TempDir dir;
  auto store = OpenStore(dir.path() + "/hints");
  REQUIRE(store->Put("D", "k", Written("A", 10, "old"), kNow, kGrace).ok());
  const std::string sent = store->Get("D", "k");
  // A newer write for the owner arrives while `sent` is on its way to it.
  REQUIRE(store->Put("D", "k", Written("B", 11, "new"), kNow, kGrace).ok());
  CHECK_FALSE(store->DeleteIfUnchanged("D", "k", sent));
  CHECK(store->size() == 1);
  const std::string current = store->Get("D", "k");
  CHECK(store->DeleteIfUnchanged("D", "k", current));
  CHECK(store->size() == 0);
  CHECK_FALSE(store->DeleteIfUnchanged("D", "k", current));  // gone already
}

TEST_CASE("hint store: a full pass forgets owners left without hints, not ones added meanwhile") {
  TempDir dir;
  auto store = OpenStore(dir.path() + "/hints");
  REQUIRE(store->Put("D", "k1", Written("A", 10, "v"), kNow, kGrace).ok());
  REQUIRE(store->Put("E", "k2", Written("A", 11, "v"), kNow, kGrace).ok());
  CHECK(store->DeleteIfUnchanged("D", "k1", store->Get("D", "k1")));

  const std::uint64_t pass_start = store->put_sequence();
  std::set<std::string, std::less<>> seen;
  std::uint64_t bad = 0;
  for (const auto& hint : AllHints(*store, &bad)) seen.insert(hint.owner);
  CHECK(seen == std::set<std::string, std::less<>>{"E"});
  // F got its hint during the pass (after the walk went by): it must not be forgotten.
  REQUIRE(store->Put("F", "k3", Written("A", 12, "v"), kNow, kGrace).ok());
  store->ForgetOwners(seen, pass_start);
  CHECK(store->owners() == std::vector<std::string>{"E", "F"});
}

TEST_CASE("hint store: entries that are not hints are dropped by the scan, not handed off") {
  TempDir dir;
  storage::Options options;
  options.dir = dir.path();
  options.fsync = storage::FsyncPolicy::kNo;
  std::unique_ptr<storage::Engine> engine;
  REQUIRE(storage::Engine::Open(options, &engine).ok());
  REQUIRE(engine->Put(HintStore::StoreKey("D", "good"), Written("A", 10, "v").Encode(), 0).ok());
  REQUIRE(engine->Put(HintStore::StoreKey("D", "garbage"), "not a sibling set", 0).ok());
  REQUIRE(engine->Put("x-no-owner", "not a hint key", 0).ok());
  HintStore store(std::move(engine));
  CHECK(store.size() == 3);
  std::uint64_t bad = 0;
  const auto hints = AllHints(store, &bad);
  CHECK(bad == 2);
  REQUIRE(hints.size() == 1);
  CHECK(hints[0].owner == "D");
  CHECK(hints[0].key == "good");
  CHECK(store.size() == 1);
}

TEST_CASE("hint store: the engine key encodes (owner, key) unambiguously") {
  std::string_view owner;
  std::string_view key;
  const std::string stored = HintStore::StoreKey("node-1", "user:1");
  REQUIRE(HintStore::ParseStoreKey(stored, &owner, &key));
  CHECK(owner == "node-1");
  CHECK(key == "user:1");
  CHECK(HintStore::StoreKey("a", "bc") != HintStore::StoreKey("ab", "c"));
  CHECK_FALSE(HintStore::ParseStoreKey("", &owner, &key));
  CHECK_FALSE(HintStore::ParseStoreKey(std::string(1, '\0') + "k", &owner, &key));  // empty owner
  CHECK_FALSE(HintStore::ParseStoreKey("\x05" "ab", &owner, &key));  // truncated owner
}

Ring MakeRing(const std::vector<std::pair<std::string, std::string>>& nodes) {
  std::vector<NodeInfo> members;
  for (const auto& [id, dc] : nodes) members.push_back(NodeInfo{id, "127.0.0.1", 7000, dc, "", 1});
  Ring ring;
  std::string error;
  REQUIRE_MESSAGE(Ring::Build(members, RingOptions{}, &ring, &error), error);
  return ring;
}

std::vector<QuorumTarget> Targets(const std::vector<const NodeInfo*>& nodes) {
  std::vector<QuorumTarget> targets;
  for (const NodeInfo* node : nodes) targets.push_back(QuorumTarget{node->id, node->dc});
  return targets;
}

TEST_CASE("stand-ins: the nodes past the preference list, clockwise, each used once") {
  const Ring ring = MakeRing({{"A", ""}, {"B", ""}, {"C", ""}, {"D", ""}, {"E", ""}});
  for (const std::string key : {"k1", "user:42", "cart"}) {
    const auto order = ring.PreferenceList(key, 5);
    const auto preferred = std::vector<const NodeInfo*>(order.begin(), order.begin() + 3);
    StandIns stand_ins(ring, key, Targets(preferred), false);
    CHECK(stand_ins.size() == 2);
    // Two failed replicas get two different stand-ins, the nearest first; a third gets none.
    const QuorumTarget* first = stand_ins.Next("");
    const QuorumTarget* second = stand_ins.Next("");
    REQUIRE(first != nullptr);
    REQUIRE(second != nullptr);
    CHECK(first->node == order[3]->id);
    CHECK(second->node == order[4]->id);
    CHECK(stand_ins.Next("") == nullptr);
  }
  // With every member preferred there is nobody to stand in (3 nodes, N=3).
  const Ring small = MakeRing({{"A", ""}, {"B", ""}, {"C", ""}});
  StandIns none(small, "k", Targets(small.PreferenceList("k", 3)), false);
  CHECK(none.size() == 0);
  CHECK(none.Next("") == nullptr);
}

TEST_CASE("stand-ins: under per-dc placement a replica is stood in for within its dc") {
  const Ring ring =
      MakeRing({{"a1", "dc1"}, {"a2", "dc1"}, {"a3", "dc1"}, {"b1", "dc2"}, {"b2", "dc2"}});
  const ReplicasPerDc placement{{"dc1", 1}, {"dc2", 1}};
  const auto preferred = ring.PreferenceList("k", placement);
  REQUIRE(preferred.size() == 2);
  StandIns stand_ins(ring, "k", Targets(preferred), true);
  CHECK(stand_ins.size() == 3);
  const QuorumTarget* for_dc2 = stand_ins.Next("dc2");
  REQUIRE(for_dc2 != nullptr);
  CHECK(for_dc2->dc == "dc2");
  CHECK(ring.Find(for_dc2->node)->dc == "dc2");
  CHECK(stand_ins.Next("dc2") == nullptr);  // dc2's only other node is taken
  const QuorumTarget* first_dc1 = stand_ins.Next("dc1");
  const QuorumTarget* second_dc1 = stand_ins.Next("dc1");
  REQUIRE(first_dc1 != nullptr);
  REQUIRE(second_dc1 != nullptr);
  CHECK(first_dc1->dc == "dc1");
  CHECK(second_dc1->dc == "dc1");
  CHECK(first_dc1->node != second_dc1->node);
  CHECK(stand_ins.Next("dc1") == nullptr);
}

TEST_CASE("bus: REPLICA_PUT_HINTED round-trips and rejects what it could not have produced") {
  using namespace bus;
  const std::string payload = EncodeReplicaPutHinted("key", "set-bytes", "node-D");
  std::string_view key, set, owner;
  REQUIRE(DecodeReplicaPutHinted(payload, &key, &set, &owner));
  CHECK(key == "key");
  CHECK(set == "set-bytes");
  CHECK(owner == "node-D");
  CHECK_FALSE(DecodeReplicaPutHinted(payload.substr(0, payload.size() - 1), &key, &set, &owner));
  CHECK_FALSE(DecodeReplicaPutHinted(payload + "x", &key, &set, &owner));
  CHECK_FALSE(DecodeReplicaPutHinted(EncodeReplicaPutHinted("key", "set", ""), &key, &set, &owner));
  CHECK_FALSE(DecodeReplicaPutHinted(EncodeReplicaPut("key", "set"), &key, &set, &owner));
  CHECK(IsKnownFrameType(static_cast<std::uint8_t>(FrameType::kReplicaPutHinted)));
  CHECK(std::string(FrameTypeName(FrameType::kReplicaPutHinted)) == "REPLICA_PUT_HINTED");
}

TEST_CASE("hint store: SetFsyncPolicy changes when its log is synced (CONFIG SET appendfsync)") {
  // The store used to keep the policy it was opened with whatever CONFIG SET appendfsync said.
  TempDir dir;
  auto syncs = std::make_shared<int>(0);
  storage::Options options;
  options.dir = dir.path();
  options.fsync = storage::FsyncPolicy::kNo;
  options.log_fault_hook = [syncs](std::string_view call) {
    if (call == "sync") ++*syncs;
    return 0;
  };
  std::unique_ptr<storage::Engine> engine;
  REQUIRE(storage::Engine::Open(options, &engine).ok());
  HintStore store(std::move(engine));
  REQUIRE(store.Put("n2", "a", Written("n1", 1, "x"), kNow, kGrace).ok());
  REQUIRE(store.FlushLog().ok());
  CHECK(*syncs == 0);
  store.SetFsyncPolicy(storage::FsyncPolicy::kAlways);
  REQUIRE(store.Put("n2", "b", Written("n1", 2, "y"), kNow, kGrace).ok());
  REQUIRE(store.FlushLog().ok());
  CHECK(*syncs == 1);
  store.SetFsyncPolicy(storage::FsyncPolicy::kNo);
  REQUIRE(store.Put("n2", "c", Written("n1", 3, "z"), kNow, kGrace).ok());
  REQUIRE(store.FlushLog().ok());
  CHECK(*syncs == 1);
}

}  // namespace
}  // namespace dynakv::cluster
