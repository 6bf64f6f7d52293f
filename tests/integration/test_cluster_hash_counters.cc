// HINCRBY in cluster mode (server/cluster_collections.h, HashIncrement): a counter increment of
// the field by the replica's actor inside the hash's add-wins map, so concurrent HINCRBYs through
// different nodes all count: on a new hash as on an existing one, across a partition, with HSETs
// of other fields in between and a node killed -9 and restarted.
#include <doctest/doctest.h>

#include <atomic>
#include <barrier>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"

namespace dynakv::itest {

namespace {

using namespace std::chrono_literals;



long long FieldAsNumber(const Reply& reply) {
  REQUIRE(reply.type == Reply::Type::kString);
  return std::stoll(reply.str);
}

}  // namespace

TEST_CASE("HINCRBY across a partition: increments through both sides all count") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3, 3, FastFailureFlags(0));
  auto [n1, n2, n3] = StartWithClients<3>(cluster);
  REQUIRE(n1.Command({"CONSISTENCY", "ALL"}) == Reply::Status("OK"));
  REQUIRE(n1.Command({"HSET", "old", "n", "10", "s", "text"}) == Reply::Int(2));
  for (Client* c : {&n1, &n3}) REQUIRE(c->Command({"CONSISTENCY", "ONE"}) == Reply::Status("OK"));

  PartitionOffNode3(n1, n2, n3);
  // "new": each side creates the hash by an HINCRBY of one field, its copy without the key (the
  // hammer's lost increment: two assignments of "1", one read).
  CHECK(n1.Command({"HINCRBY", "new", "f", "1"}) == Reply::Int(1));
  CHECK(n3.Command({"HINCRBY", "new", "f", "2"}) == Reply::Int(2));
  CHECK(n3.Command({"HINCRBY", "new", "neg", "-7"}) == Reply::Int(-7));
  CHECK(n1.Command({"HINCRBY", "new", "neg", "-1"}) == Reply::Int(-1));
  // "old": both sides increment a field the hash had.
  CHECK(n1.Command({"HINCRBY", "old", "n", "100"}) == Reply::Int(110));
  CHECK(n1.Command({"HINCRBY", "old", "n", "-1"}) == Reply::Int(109));
  CHECK(n3.Command({"HINCRBY", "old", "n", "5"}) == Reply::Int(15));
  CHECK(n3.Command({"HSET", "old", "x", "3"}) == Reply::Int(1));
  HealPartition(n1, n2, n3);

  for (const char* key : {"new", "old"}) REQUIRE(ConvergeReplicas(cluster, key));
  for (int i = 0; i < 3; ++i) {
    CAPTURE(i);
    Client c(cluster.node(i).port());
    REQUIRE(c.Command({"CONSISTENCY", "ALL"}) == Reply::Status("OK"));
    CHECK(UntilAvailable(c, {"HGET", "new", "f"}) == Reply::Bulk("3"));
    CHECK(c.Command({"HGET", "new", "neg"}) == Reply::Bulk("-8"));
    CHECK(c.Command({"HGET", "old", "n"}) == Reply::Bulk("114"));
    CHECK(c.Command({"HGETALL", "old"}) == Reply::Bulks({"n", "114", "s", "text", "x", "3"}));
  }
  // Sequential ones reply what Redis replies; errors are Redis's.
  CHECK(n2.Command({"HINCRBY", "old", "n", "1"}) == Reply::Int(115));
  CHECK(n2.Command({"HINCRBY", "old", "s", "1"}) ==
        Reply::Error("ERR hash value is not an integer"));
  CHECK(n2.Command({"HINCRBY", "old", "n", "9223372036854775807"}) ==
        Reply::Error("ERR increment or decrement would overflow"));
  CHECK(n2.Command({"HINCRBY", "old", "n", "x"}) ==
        Reply::Error("ERR value is not an integer or out of range"));
  CHECK(n1.Command({"HGET", "old", "n"}) == Reply::Bulk("115"));
}

TEST_CASE(
    "HSET and HINCRBY of one field across a partition: the HSET's value plus the "
    "increments it did not see") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3, 3, FastFailureFlags(0));
  auto [n1, n2, n3] = StartWithClients<3>(cluster);
  REQUIRE(n1.Command({"CONSISTENCY", "ALL"}) == Reply::Status("OK"));
  REQUIRE(n1.Command({"HSET", "h", "f", "10"}) == Reply::Int(1));
  for (Client* c : {&n1, &n3}) REQUIRE(c->Command({"CONSISTENCY", "ONE"}) == Reply::Status("OK"));
  PartitionOffNode3(n1, n2, n3);
  CHECK(n1.Command({"HSET", "h", "f", "100"}) == Reply::Int(0));
  CHECK(n3.Command({"HINCRBY", "h", "f", "5"}) == Reply::Int(15));
  HealPartition(n1, n2, n3);
  REQUIRE(ConvergeReplicas(cluster, "h"));
  for (int i = 0; i < 3; ++i) {
    CAPTURE(i);
    Client c(cluster.node(i).port());
    CHECK(UntilAvailable(c, {"HGET", "h", "f"}) == Reply::Bulk("105"));
  }
  // An HSET that saw the increments replaces them.
  CHECK(n2.Command({"HSET", "h", "f", "7"}) == Reply::Int(0));
  CHECK(n2.Command({"HINCRBY", "h", "f", "1"}) == Reply::Int(8));
  CHECK(n1.Command({"CONSISTENCY", "ALL"}) == Reply::Status("OK"));
  CHECK(n1.Command({"HGET", "h", "f"}) == Reply::Bulk("8"));
}

namespace {

// What the clients know of one field: the sum of its acknowledged increments, and the sum of
// those whose outcome is unknown (an error or a lost connection: applied or not).
struct FieldLedger {
  long long acked = 0;
  long long unknown = 0;
  int acked_ops = 0;
};

constexpr int kKeys = 40;

std::string HashKey(int k) { return "ctr:" + std::to_string(k); }

}  // namespace

TEST_CASE(
    "HINCRBY and HSET through every node, one node killed -9 and restarted: every "
    "acknowledged increment counts") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3, 3, FastFailureFlags(1000));
  cluster.Start();
  std::mutex mu;
  std::map<std::string, FieldLedger> ledgers;  // "key field"
  std::atomic<bool> stop{false};
  bool last_round = false;  // set by the barrier's completion, read by every thread after it
  // Rounds in lock step: at each, the three clients hit the same key at once, through their
  // nodes; the first rounds each create a new hash, the race the lost increment came from.
  std::barrier sync(3, [&]() noexcept { last_round = stop.load(); });
  auto worker = [&](int node, int seed) {
    std::mt19937 rng(seed);
    auto client = std::make_unique<Client>(cluster.node(node).port(), 2s);
    for (int round = 0;; ++round) {
      sync.arrive_and_wait();
      if (last_round) return;
      if (!client->ok()) {
        client = std::make_unique<Client>(cluster.node(node).port(), 2s);
        if (!client->ok()) {
          std::this_thread::sleep_for(20ms);
          continue;
        }
      }
      const std::string key = HashKey(round % kKeys);
      // Two counter fields every node increments, one of them in most rounds.
      const std::string field = rng() % 4 == 0 ? "b" : "a";
      const long long by = 1 + static_cast<long long>(rng() % 3);
      const Reply reply = client->Command({"HINCRBY", key, field, std::to_string(by)});
      {
        std::lock_guard<std::mutex> lock(mu);
        FieldLedger& ledger = ledgers[key + " " + field];
        if (reply.type == Reply::Type::kInteger) {
          ledger.acked += by;
          ++ledger.acked_ops;
        } else {
          ledger.unknown += by;
        }
      }
      // An HSET of a field of this node's own, every other round.
      if (round % 2 == node % 2) {
        client->Command({"HSET", key, "n" + std::to_string(node) + "-" + std::to_string(round),
                         std::to_string(round)});
      }
    }
  };
  RunThroughNodeKill(
      cluster, stop, [&](int i) { worker(i, 500 + i); },
      [] { std::this_thread::sleep_for(2000ms); });
  Client n1(cluster.node(0).port());
  int acked_ops = 0;
  for (int k = 0; k < kKeys; ++k) {
    const std::string key = HashKey(k);
    CAPTURE(key);
    REQUIRE(ConvergeReplicas(cluster, key));
    for (const char* field : {"a", "b"}) {
      CAPTURE(field);
      const auto it = ledgers.find(key + " " + field);
      if (it == ledgers.end()) continue;
      const FieldLedger& ledger = it->second;
      acked_ops += ledger.acked_ops;
      for (int i = 0; i < 3; ++i) {
        CAPTURE(i);
        Client c(cluster.node(i).port());
        REQUIRE(c.Command({"CONSISTENCY", "ONE"}) == Reply::Status("OK"));
        const Reply value = UntilAvailable(c, {"HGET", key, field});
        if (ledger.acked == 0 && value.type == Reply::Type::kNil) continue;
        const long long read = FieldAsNumber(value);
        // Nothing acknowledged is lost; nothing is counted that no client sent.
        CHECK(read >= ledger.acked);
        CHECK(read <= ledger.acked + ledger.unknown);
      }
    }
  }
  MESSAGE("acknowledged increments: " << acked_ops);
  CHECK(acked_ops > 300);  // the test did test something
}

}  // namespace dynakv::itest
