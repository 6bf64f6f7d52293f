// Multi-dc placement with real processes: two dcs of two nodes, one replica of every key per dc
// (cluster-replicas-per-dc dc1:1,dc2:1). With one replica per dc LOCAL_QUORUM is that single
// local replica (a quorum of 1), EACH_QUORUM one replica in each dc, ALL both. When the whole of
// dc2 is killed (kill -9), reads and writes at LOCAL_QUORUM through dc1 carry on, while
// EACH_QUORUM and ALL fail UNAVAILABLE. No dc1 node stands in for a dc2 replica (hints stay
// within a dc, so LOCAL_QUORUM counts what it claims to), so once dc2 is back its nodes are
// brought up to date by anti-entropy: every key written during the outage ends up in the dc2
// replica's own copy (DEBUG LOCALGET).
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "harness.h"

using dynakv::itest::Client;
using dynakv::itest::FastFailureFlags;
using dynakv::itest::Flags;
using dynakv::itest::LocalCluster;
using dynakv::itest::ReadInfoField;
using dynakv::itest::ReadInfoNumber;
using dynakv::itest::Reply;
using dynakv::itest::TestingRealRedis;
using dynakv::itest::UntilAvailable;
using dynakv::itest::WaitFor;

namespace {

const Reply kOk = Reply::Status("OK");
const Reply kNotReplica = Reply::Error("ERR this node is not a replica of that key");

constexpr int kBefore = 200;  // keys written with both dcs up
constexpr int kDuring = 300;  // keys written while dc2 is down

std::string BeforeKey(int i) { return "before:" + std::to_string(i); }
std::string DuringKey(int i) { return "during:" + std::to_string(i); }
std::string ValueOf(const std::string& key) { return "value-of-" + key; }

// Which of the nodes behind `clients` holds a replica of `key` (DEBUG LOCALGET answers
// something other than the not-a-replica error); -1 unless exactly one does.
int OnlyReplica(const std::vector<Client*>& clients, const std::string& key) {
  int replica = -1;
  for (std::size_t i = 0; i < clients.size(); ++i) {
    if (clients[i]->Command({"DEBUG", "LOCALGET", key}) == kNotReplica) continue;
    if (replica != -1) return -1;
    replica = static_cast<int>(i);
  }
  return replica;
}

long long Info(Client& client, const std::string& field) {
  const long long value = ReadInfoNumber(client, "cluster", field);
  REQUIRE_MESSAGE(value >= 0, "INFO cluster lacks ", field);
  return value;
}

}  // namespace

TEST_CASE("two dcs, one replica each: LOCAL_QUORUM survives the loss of a dc, which converges") {
  if (TestingRealRedis()) return;
  const Flags flags = FastFailureFlags(300);
  LocalCluster cluster({"dc1", "dc1", "dc2", "dc2"}, "dc1:1,dc2:1", flags);
  cluster.Start();
  Client a(cluster.node(0).port());  // n1, dc1
  Client b(cluster.node(1).port());  // n2, dc1

  // RING shows each member's dc; INFO and CONFIG the placement.
  const Reply ring = a.Command({"RING"});
  REQUIRE(ring.elements.size() == 4);
  for (int i = 0; i < 4; ++i) {
    const std::string& line = ring.elements[static_cast<std::size_t>(i)].str;
    CAPTURE(line);
    CHECK(line.starts_with(cluster.id(i) + " 127.0.0.1:" + std::to_string(cluster.node(i).port()) +
                           (i < 2 ? " dc=dc1 " : " dc=dc2 ")));
  }
  CHECK(ReadInfoField(a, "cluster", "cluster_replicas_per_dc") == "dc1:1,dc2:1");
  CHECK(ReadInfoField(a, "cluster", "cluster_replication_factor") == "2");
  CHECK(a.Command({"CONFIG", "GET", "cluster-replicas-per-dc"}) ==
        Reply::Bulks({"cluster-replicas-per-dc", "dc1:1,dc2:1"}));

  for (int i = 0; i < kBefore; ++i) {
    REQUIRE(a.Command({"SET", BeforeKey(i), ValueOf(BeforeKey(i)), "W", "EACH_QUORUM"}) == kOk);
  }
  {
    // One replica per dc, exactly: one of n1/n2 and one of n3/n4 hold each key.
    Client c(cluster.node(2).port());
    Client d(cluster.node(3).port());
    int misplaced = 0;
    for (int i = 0; i < 50; ++i) {
      if (OnlyReplica({&a, &b}, BeforeKey(i)) < 0 || OnlyReplica({&c, &d}, BeforeKey(i)) < 0) {
        ++misplaced;
      }
    }
    CHECK(misplaced == 0);
  }

  // dc2 is gone.
  cluster.node(2).Kill();
  cluster.node(3).Kill();
  // ... and dc1's failure detectors hold it down (requests skip it instead of dialling it).
  for (Client* client : {&a, &b}) {
    CHECK(WaitFor([&] { return Info(*client, "cluster_members_down") == 2; }));
  }

  // LOCAL_QUORUM through dc1: a quorum of dc1's single replica. Writes through both dc1 nodes
  // (each is the replica of some keys and only the coordinator of the others).
  REQUIRE(a.Command({"CONSISTENCY", "LOCAL_QUORUM"}) == kOk);
  REQUIRE(b.Command({"CONSISTENCY", "LOCAL_QUORUM"}) == kOk);
  int failed = 0;
  for (int i = 0; i < kDuring; ++i) {
    Client& via = i % 2 == 0 ? a : b;
    const Reply reply = via.Command({"SET", DuringKey(i), ValueOf(DuringKey(i))});
    if (reply != kOk && ++failed <= 5) MESSAGE("SET ", DuringKey(i), " -> ", reply);
  }
  CHECK(failed == 0);
  int wrong = 0;
  for (int i = 0; i < kBefore; ++i) {
    Client& via = i % 2 == 0 ? b : a;
    const Reply reply = via.Command({"GET", BeforeKey(i)});
    if (reply != Reply::Bulk(ValueOf(BeforeKey(i))) && ++wrong <= 5) {
      MESSAGE("GET ", BeforeKey(i), " -> ", reply);
    }
  }
  for (int i = 0; i < kDuring; ++i) {
    Client& via = i % 2 == 0 ? b : a;
    const Reply reply = via.Command({"GET", DuringKey(i), "R", "LOCAL_QUORUM"});
    if (reply != Reply::Bulk(ValueOf(DuringKey(i))) && ++wrong <= 5) {
      MESSAGE("GET ", DuringKey(i), " -> ", reply);
    }
  }
  CHECK(wrong == 0);

  // Levels that need dc2 fail, with the dc's own count (EACH_QUORUM: 1 of dc2's 1 replica)
  // or the total (ALL: 2 of 2; how many acks came before the failure was certain may vary).
  const Reply each_quorum_needs_dc2 =
      Reply::Error("UNAVAILABLE not enough replicas (needed 1, got 0)");
  CHECK(a.Command({"SET", "each", "x", "W", "EACH_QUORUM"}) == each_quorum_needs_dc2);
  CHECK(b.Command({"GET", BeforeKey(0), "R", "EACH_QUORUM"}) == each_quorum_needs_dc2);
  const std::string all_prefix = "UNAVAILABLE not enough replicas (needed 2, got ";
  const Reply all_write = a.Command({"SET", "all", "x", "W", "ALL"});
  const Reply all_read = b.Command({"GET", BeforeKey(1), "R", "ALL"});
  const Reply quorum_read = a.Command({"GET", BeforeKey(2), "R", "QUORUM"});  // 2 of N=2 too
  for (const Reply& reply : {all_write, all_read, quorum_read}) {
    CAPTURE(reply);
    CHECK((reply.IsError() && reply.str.starts_with(all_prefix)));
  }
  // Nobody in dc1 took hints for dc2's replicas.
  CHECK(Info(a, "cluster_hints_pending") + Info(b, "cluster_hints_pending") == 0);

  // dc2 comes back with the data it had (fresh processes: their counters start at 0).
  cluster.node(2).Start();
  cluster.node(3).Start();
  Client c(cluster.node(2).port());
  Client d(cluster.node(3).port());
  const std::vector<Client*> dc2 = {&c, &d};

  // Every key written during the outage reaches its dc2 replica's own copy, with nobody
  // reading it (no read repair).
  std::vector<int> dc2_replica(kDuring, -1);
  for (int i = 0; i < kDuring; ++i) dc2_replica[i] = OnlyReplica(dc2, DuringKey(i));
  CHECK(std::count(dc2_replica.begin(), dc2_replica.end(), -1) == 0);
  auto missing_in_dc2 = [&] {
    int missing = 0;
    for (int i = 0; i < kDuring; ++i) {
      if (dc2_replica[i] < 0) continue;
      Client& replica = *dc2[static_cast<std::size_t>(dc2_replica[i])];
      if (replica.Command({"DEBUG", "LOCALGET", DuringKey(i)}) !=
          Reply::Bulk(ValueOf(DuringKey(i)))) {
        ++missing;
      }
    }
    return missing;
  };
  const bool converged = WaitFor([&] { return missing_in_dc2() == 0; }, std::chrono::seconds(30));
  CHECK_MESSAGE(converged, missing_in_dc2(), " of ", kDuring, " keys still missing in dc2");
  const long long ae_repaired =
      Info(c, "cluster_anti_entropy_keys_repaired") + Info(d, "cluster_anti_entropy_keys_repaired");
  long long hints_delivered = 0;
  for (Client* client : {&a, &b, &c, &d}) {
    hints_delivered += Info(*client, "cluster_hints_delivered");
  }
  MESSAGE("dc2 caught up: ", ae_repaired, " keys repaired by anti-entropy, ", hints_delivered,
          " hints delivered");
  CHECK(ae_repaired + hints_delivered >= kDuring);
  // The keys from before the outage are still there, untouched.
  int lost = 0;
  for (int i = 0; i < kBefore; ++i) {
    const int replica = OnlyReplica(dc2, BeforeKey(i));
    if (replica < 0 ||
        dc2[static_cast<std::size_t>(replica)]->Command({"DEBUG", "LOCALGET", BeforeKey(i)}) !=
            Reply::Bulk(ValueOf(BeforeKey(i)))) {
      ++lost;
    }
  }
  CHECK(lost == 0);

  // dc2 serves LOCAL_QUORUM itself now, and EACH_QUORUM works again.
  REQUIRE(c.Command({"CONSISTENCY", "LOCAL_QUORUM"}) == kOk);
  wrong = 0;
  for (int i = 0; i < kDuring; i += 7) {
    Client& via = i % 2 == 0 ? c : d;
    const Reply reply = UntilAvailable(via, {"GET", DuringKey(i), "R", "LOCAL_QUORUM"});
    if (reply != Reply::Bulk(ValueOf(DuringKey(i))) && ++wrong <= 5) {
      MESSAGE("GET ", DuringKey(i), " via dc2 -> ", reply);
    }
  }
  CHECK(wrong == 0);
  CHECK(UntilAvailable(a, {"SET", "each", "y", "W", "EACH_QUORUM"}) == kOk);
  CHECK(UntilAvailable(d, {"GET", "each", "R", "EACH_QUORUM"}) == Reply::Bulk("y"));
}
