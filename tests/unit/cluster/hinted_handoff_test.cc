// Sloppy quorum and hinted handoff end to end: real nodes on one loop, one of a key's replicas
// stopped, its writes kept as hints by stand-ins and handed back when it returns.
#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "cluster/cluster_node.h"
#include "cluster_test_util.h"

namespace dynakv::cluster {
namespace {

using testing::Level;
using testing::RunUntil;
using testing::TempDir;
using testing::TestCluster;
using testing::Values;

constexpr int kA = 0, kB = 1, kC = 2, kD = 3, kE = 4;

// Each node's hint directory, kept across restarts of the node like its data directory.
class HintDirs {
 public:
  std::string For(const std::string& id) {
    auto& dir = dirs_[id];
    if (!dir) dir = std::make_unique<TempDir>();
    return dir->path() + "/hints";
  }

 private:
  std::map<std::string, std::unique_ptr<TempDir>> dirs_;
};

// N=3 with hints kept and handed off quickly; `dirs` must outlive the cluster.
TestCluster::Tweak HintedOptions(HintDirs& dirs, bool keep_hints = true) {
  return [&dirs, keep_hints](ClusterOptions& o) {
    o.replication_factor = 3;
    if (keep_hints) o.hints_dir = dirs.For(o.self_id);
    o.hint_handoff_interval_ms = 50;
    o.reconnect_backoff_initial_ms = 20;
    o.reconnect_backoff_max_ms = 100;
  };
}

bool Contains(const std::vector<const NodeInfo*>& nodes, const std::string& id) {
  for (const NodeInfo* node : nodes) {
    if (node->id == id) return true;
  }
  return false;
}

// `count` keys whose preference list (N=3) includes every node of `on` and none of `off`.
std::vector<std::string> KeysPlaced(const Ring& ring, std::size_t count,
                                    const std::vector<std::string>& on,
                                    const std::vector<std::string>& off = {}) {
  std::vector<std::string> keys;
  for (int i = 0; keys.size() < count; ++i) {
    const std::string key = "key:" + std::to_string(i);
    const auto replicas = ring.PreferenceList(key, 3);
    bool fits = true;
    for (const std::string& id : on) fits = fits && Contains(replicas, id);
    for (const std::string& id : off) fits = fits && !Contains(replicas, id);
    if (fits) keys.push_back(key);
  }
  return keys;
}

std::string ValueOf(const std::string& key) { return "value-of-" + key; }

// Writes ValueOf(key) to every key, coordinators taken in turn from `via`, 100 requests in flight
// at a time. Returns how many were acked; the first error goes to *first_error.
int WriteAll(TestCluster& cluster, const std::vector<std::string>& keys,
             const std::vector<int>& via, const ConsistencyLevel& level, std::string* first_error) {
  int acked = 0;
  int answered = 0;
  for (std::size_t start = 0; start < keys.size(); start += 100) {
    const std::size_t end = std::min(keys.size(), start + 100);
    for (std::size_t i = start; i < end; ++i) {
      ClusterNode& node = cluster.node(via[i % via.size()]);
      SiblingSet set;
      Version version = set.NewVersion({}, node.self_id(), node.NextTimestamp());
      version.value = ValueOf(keys[i]);
      set.Add(version);
      node.Write(keys[i], set, level, [&](WriteResult result) {
        ++answered;
        if (result.ok) {
          ++acked;
        } else if (first_error->empty()) {
          *first_error = result.error;
        }
      });
    }
    REQUIRE(RunUntil(
        cluster.loop(), [&] { return answered == static_cast<int>(end); }, 10000));
  }
  return acked;
}

std::uint64_t TotalPending(TestCluster& cluster, const std::vector<int>& nodes) {
  std::uint64_t total = 0;
  for (int i : nodes) total += cluster.node(i).PendingHints();
  return total;
}

// Keys whose copy on node `i` is not exactly ValueOf(key).
int MissingOn(TestCluster& cluster, int i, const std::vector<std::string>& keys) {
  int missing = 0;
  for (const std::string& key : keys) {
    if (Values(cluster.node(i).LocalSiblings(key)) != std::vector<std::string>{ValueOf(key)}) {
      ++missing;
    }
  }
  return missing;
}

TEST_CASE(
    "hinted handoff: N=3 W=2 with a replica down, 1,000 writes succeed, stand-ins keep hints, "
    "and the replica gets every key when it returns") {
  HintDirs dirs;
  TestCluster cluster(4, HintedOptions(dirs));
  cluster.StartAll();
  cluster.Stop(kD);
  const Ring& ring = cluster.node(kA).ring();
  const std::vector<std::string> keys = KeysPlaced(ring, 1000, {"D"});
  // With 4 nodes and N=3, a key's only stand-in is the one node not among its replicas.
  std::map<std::string, std::uint64_t> expected_hints;
  for (const std::string& key : keys) {
    for (const NodeInfo& node : ring.nodes()) {
      if (!Contains(ring.PreferenceList(key, 3), node.id)) ++expected_hints[node.id];
    }
  }
  REQUIRE(expected_hints.size() == 3);  // spread over A, B and C

  std::string error;
  CHECK(WriteAll(cluster, keys, {kA, kB, kC}, Level(2), &error) == 1000);
  CHECK_MESSAGE(error.empty(), error);

  std::uint64_t hinted_writes = 0;
  for (int i : {kA, kB, kC}) {
    const ClusterNode& node = cluster.node(i);
    CHECK(node.PendingHints() == expected_hints[node.self_id()]);
    CHECK(node.stats().hints_stored == expected_hints[node.self_id()]);
    CHECK(node.stats().hints_pending == expected_hints[node.self_id()]);
    hinted_writes += node.stats().hinted_writes;
  }
  CHECK(hinted_writes == 1000);
  // A hint is not the stand-in's own copy: its reads and replica data do not show it.
  for (std::size_t k = 0; k < 20; ++k) {
    for (int i : {kA, kB, kC}) {
      if (!Contains(ring.PreferenceList(keys[k], 3), cluster.node(i).self_id())) {
        CHECK(cluster.node(i).LocalSiblings(keys[k]).empty());
      }
    }
  }

  cluster.Start(kD);  // same id, port and data dir; it missed every write
  CHECK(MissingOn(cluster, kD, keys) == 1000);
  CHECK(RunUntil(
      cluster.loop(),
      [&] {
        return TotalPending(cluster, {kA, kB, kC}) == 0;
      },
      15000));
  CHECK(MissingOn(cluster, kD, keys) == 0);
  std::uint64_t delivered = 0;
  for (int i : {kA, kB, kC}) delivered += cluster.node(i).stats().hints_delivered;
  CHECK(delivered == 1000);
}

TEST_CASE("hinted handoff: SetFsyncPolicy (CONFIG SET appendfsync) reaches the hint store") {
  // The hint store took its fsync policy once, from ClusterOptions, and kept it whatever
  // appendfsync became; it now opens with the engine's policy and follows SetFsyncPolicy.
  HintDirs dirs;
  auto syncs = std::make_shared<std::map<std::string, int>>();
  const TestCluster::Tweak hinted = HintedOptions(dirs);
  TestCluster cluster(4, [&](ClusterOptions& o) {
    hinted(o);
    o.hints_log_fault_hook = [syncs, id = o.self_id](std::string_view call) {
      if (call == "sync") ++(*syncs)[id];
      return 0;
    };
  });
  cluster.StartAll();
  cluster.Stop(kD);
  const Ring& ring = cluster.node(kA).ring();
  const std::vector<std::string> keys = KeysPlaced(ring, 40, {"D"});
  const std::vector<std::string> first(keys.begin(), keys.begin() + 20);
  const std::vector<std::string> second(keys.begin() + 20, keys.end());
  auto total_syncs = [&] {
    int total = 0;
    for (const auto& [id, count] : *syncs) total += count;
    return total;
  };
  auto total_stored = [&] {
    std::uint64_t stored = 0;
    for (int i : {kA, kB, kC}) stored += cluster.node(i).stats().hints_stored;
    return stored;
  };
  std::string error;
  const int at_open = total_syncs();  // creating a log file syncs it once, whatever the policy
  // The engines run appendfsync no (TestCluster): so do their hint stores.
  REQUIRE(WriteAll(cluster, first, {kA, kB, kC}, Level(2), &error) == 20);
  REQUIRE(total_stored() == 20);
  CHECK(total_syncs() == at_open);
  for (int i : {kA, kB, kC}) cluster.node(i).SetFsyncPolicy(storage::FsyncPolicy::kAlways);
  REQUIRE(WriteAll(cluster, second, {kA, kB, kC}, Level(2), &error) == 20);
  REQUIRE(total_stored() == 40);
  // Every hint is synced before it is acknowledged (one sync may cover several).
  CHECK(total_syncs() > at_open);
}

TEST_CASE("hinted handoff: hints survive a restart of the node that holds them") {
  HintDirs dirs;
  TestCluster cluster(4, HintedOptions(dirs));
  cluster.StartAll();
  cluster.Stop(kD);
  // Replicated on A, B and D: C is the stand-in of every one of them.
  const std::vector<std::string> keys = KeysPlaced(cluster.node(kA).ring(), 200, {"A", "B", "D"});
  std::string error;
  CHECK(WriteAll(cluster, keys, {kA, kB}, Level(2), &error) == 200);
  CHECK_MESSAGE(error.empty(), error);
  CHECK(cluster.node(kC).PendingHints() == 200);

  cluster.Stop(kC);
  cluster.Start(kC);  // a new node on the same hint directory
  CHECK(cluster.node(kC).PendingHints() == 200);
  CHECK(cluster.node(kC).stats().hints_pending == 200);
  // With the owner still down nothing is delivered, so nothing is deleted.
  testing::RunFor(cluster.loop(), 200);
  CHECK(cluster.node(kC).PendingHints() == 200);
  CHECK(cluster.node(kC).stats().hints_delivered == 0);

  cluster.Start(kD);
  CHECK(RunUntil(
      cluster.loop(), [&] { return cluster.node(kC).PendingHints() == 0; }, 15000));
  CHECK(MissingOn(cluster, kD, keys) == 0);
  CHECK(cluster.node(kC).stats().hints_delivered == 200);
}

TEST_CASE("hinted handoff: hints of a member that left go to the key's current replicas") {
  HintDirs dirs;
  bool without_d = false;  // the second half runs the cluster without D
  const TestCluster::Tweak hinted = HintedOptions(dirs);
  TestCluster cluster(4, [&](ClusterOptions& o) {
    hinted(o);
    o.anti_entropy_interval_ms = 0;  // only re-homed hints may fill C in
    if (without_d) std::erase_if(o.members, [](const NodeInfo& n) { return n.id == "D"; });
  });
  cluster.StartAll();
  cluster.Stop(kD);
  // Replicated on A, B and D: C stands in for D and holds the hints.
  const std::vector<std::string> keys = KeysPlaced(cluster.node(kA).ring(), 200, {"A", "B", "D"});
  std::string error;
  CHECK(WriteAll(cluster, keys, {kA, kB}, Level(2), &error) == 200);
  CHECK_MESSAGE(error.empty(), error);
  REQUIRE(cluster.node(kC).PendingHints() == 200);
  CHECK(MissingOn(cluster, kC, keys) == 200);  // hints are not C's own copies

  // D is gone for good: the cluster carries on as A, B and C, and C is now a replica of every
  // key. D's hints cannot reach D; they must not be lost, nor kept forever.
  for (int i : {kA, kB, kC}) cluster.Stop(i);
  without_d = true;
  for (int i : {kA, kB, kC}) cluster.Start(i);
  REQUIRE(cluster.node(kC).ring().Find("D") == nullptr);
  CHECK(RunUntil(
      cluster.loop(), [&] { return cluster.node(kC).PendingHints() == 0; }, 15000));
  CHECK(cluster.node(kC).stats().hints_delivered == 200);
  CHECK(MissingOn(cluster, kC, keys) == 0);
  CHECK(MissingOn(cluster, kA, keys) == 0);
  CHECK(MissingOn(cluster, kB, keys) == 0);
}

TEST_CASE("sloppy quorum: stand-ins' acks count toward W; reads still ask only the replicas") {
  HintDirs dirs;
  TestCluster cluster(5, HintedOptions(dirs));
  cluster.StartAll();
  cluster.Stop(kD);
  cluster.Stop(kE);
  // Two of the key's three replicas are down: two distinct stand-ins take a hint each.
  const std::string key = KeysPlaced(cluster.node(kA).ring(), 1, {"D", "E"})[0];
  const WriteResult written = cluster.Set(kA, key, ValueOf(key), Level(3));
  CHECK_MESSAGE(written.ok, written.error);
  std::vector<std::uint64_t> pending;
  for (int i : {kA, kB, kC}) pending.push_back(cluster.node(i).PendingHints());
  CHECK(std::accumulate(pending.begin(), pending.end(), std::uint64_t{0}) == 2);
  CHECK(std::count(pending.begin(), pending.end(), std::uint64_t{1}) == 2);

  // Reads do not count stand-ins: only one replica can answer.
  const ReadResult read = cluster.Read(kB, key, Level(2));
  CHECK_FALSE(read.ok);
  CHECK(read.error == "UNAVAILABLE not enough replicas (needed 2, got 1)");

  cluster.Start(kD);
  cluster.Start(kE);
  CHECK(RunUntil(
      cluster.loop(),
      [&] {
        return TotalPending(cluster, {kA, kB, kC}) == 0;
      },
      15000));
  CHECK(MissingOn(cluster, kD, {key}) == 0);
  CHECK(MissingOn(cluster, kE, {key}) == 0);
  const ReadResult after = cluster.Read(kB, key, Level(3));
  REQUIRE_MESSAGE(after.ok, after.error);
  CHECK(Values(after.siblings) == std::vector<std::string>{ValueOf(key)});
}

TEST_CASE("sloppy quorum: a replica counts as failed when no stand-in takes its write") {
  HintDirs dirs;
  std::string key;
  auto w3_with_d_down = [&](const TestCluster::Tweak& tweak) {
    TestCluster cluster(4, tweak);
    cluster.StartAll();
    cluster.Stop(kD);
    key = KeysPlaced(cluster.node(kA).ring(), 1, {"D"})[0];
    const WriteResult result = cluster.Set(kA, key, "v", Level(3));
    CHECK(TotalPending(cluster, {kA, kB, kC}) == 0);
    return result;
  };
  SUBCASE("strict quorum (sloppy_quorum off)") {
    const WriteResult result = w3_with_d_down([&](ClusterOptions& o) {
      HintedOptions(dirs)(o);
      o.sloppy_quorum = false;
    });
    CHECK_FALSE(result.ok);
    CHECK(result.error == "UNAVAILABLE not enough replicas (needed 3, got 2)");
  }
  SUBCASE("the stand-in keeps no hints") {
    const WriteResult result = w3_with_d_down(HintedOptions(dirs, false));
    CHECK_FALSE(result.ok);
    CHECK(result.error == "UNAVAILABLE not enough replicas (needed 3, got 2)");
  }
}

TEST_CASE("sloppy quorum: 3 nodes, N=3, W=3 with one down fails, as no stand-in exists") {
  HintDirs dirs;
  TestCluster cluster(3, HintedOptions(dirs));
  cluster.StartAll();
  cluster.Stop(kC);
  const WriteResult all = cluster.Set(kA, "k", "v1", Level(3));
  CHECK_FALSE(all.ok);
  CHECK(all.error == "UNAVAILABLE not enough replicas (needed 3, got 2)");
  const WriteResult quorum = cluster.Set(kA, "k", "v2", Level(2));
  CHECK_MESSAGE(quorum.ok, quorum.error);
  CHECK(TotalPending(cluster, {kA, kB}) == 0);
  CHECK(cluster.node(kA).stats().hinted_writes == 0);
}

}  // namespace
}  // namespace dynakv::cluster
