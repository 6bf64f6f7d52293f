// Removals made while a replica is down (kill -9) stay removed when it comes back with its old
// copy (README "Convergent collections", Tombstones): the set, hash and sorted-set removals live
// on as the causal context's dots, the list's as tombstones, a DEL as the key's context; the
// restarted replica gets them by anti-entropy (and any hints: with N = 3 of 3 nodes there is no
// stand-in), and no merge with its old copy brings an element back. The safety half of collecting
// tombstones: whatever collection is added later must keep this passing.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "harness.h"

namespace dynakv::itest {

namespace {

using namespace std::chrono_literals;

long long HintsPending(LocalCluster& cluster) {
  long long total = 0;
  for (int i = 0; i < 3; ++i) {
    Client c(cluster.node(i).port());
    total += ReadInfoNumber(c, "cluster", "cluster_hints_pending");
  }
  return total;
}

}  // namespace

TEST_CASE(
    "removals while a replica is down (kill -9) stay removed when it comes back: sets, "
    "hashes, sorted sets, lists, a deleted key") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3, 3, FastFailureFlags(0));
  auto [n1, n2, n3] = StartWithClients<3>(cluster);
  REQUIRE(n1.Command({"CONSISTENCY", "ALL"}) == Reply::Status("OK"));
  REQUIRE(n1.Command({"SADD", "s", "a", "b", "c"}) == Reply::Int(3));
  REQUIRE(n1.Command({"HSET", "h", "f1", "v1", "f2", "v2"}) == Reply::Int(2));
  REQUIRE(n1.Command({"ZADD", "z", "1", "a", "2", "b"}) == Reply::Int(2));
  REQUIRE(n1.Command({"HINCRBY", "h", "n", "5"}) == Reply::Int(5));
  REQUIRE(n1.Command({"ZINCRBY", "z", "3", "c"}) == Reply::Bulk("3"));
  REQUIRE(n1.Command({"RPUSH", "l", "a", "b", "c", "d"}) == Reply::Int(4));
  REQUIRE(n1.Command({"SADD", "d", "x", "y"}) == Reply::Int(2));
  // Every replica's copy holds all of it before the kill.
  for (const char* key : {"s", "h", "z", "l", "d"}) REQUIRE(ConvergeReplicas(cluster, key));

  cluster.node(2).Kill();
  for (Client* c : {&n1, &n2})
    REQUIRE(c->Command({"CONSISTENCY", "QUORUM"}) == Reply::Status("OK"));
  CHECK(n1.Command({"SREM", "s", "a"}) == Reply::Int(1));
  CHECK(n2.Command({"HDEL", "h", "f1", "n"}) == Reply::Int(2));
  CHECK(n1.Command({"ZREM", "z", "a", "c"}) == Reply::Int(2));
  CHECK(n2.Command({"LPOP", "l"}) == Reply::Bulk("a"));
  CHECK(n1.Command({"LREM", "l", "0", "c"}) == Reply::Int(1));
  CHECK(n2.Command({"DEL", "d"}) == Reply::Int(1));

  cluster.node(2).Start();
  Client back(cluster.node(2).port());
  REQUIRE(
      WaitFor([&] { return ReadInfoNumber(back, "cluster", "cluster_members_reachable") == 3; }));
  CHECK(WaitFor([&] { return HintsPending(cluster) == 0; }, 30s));
  for (const char* key : {"s", "h", "z", "l", "d"}) REQUIRE(ConvergeReplicas(cluster, key));
  for (int i = 0; i < 3; ++i) {
    CAPTURE(i);
    Client c(cluster.node(i).port());
    // ONE through each node, and ALL: every copy, the restarted one's included, agrees.
    for (const char* level : {"ONE", "ALL"}) {
      CAPTURE(level);
      REQUIRE(c.Command({"CONSISTENCY", level}) == Reply::Status("OK"));
      CHECK(UntilAvailable(c, {"SMEMBERS", "s"}).elements.size() == 2);
      CHECK(c.Command({"SISMEMBER", "s", "a"}) == Reply::Int(0));
      CHECK(c.Command({"HGETALL", "h"}) == Reply::Bulks({"f2", "v2"}));
      CHECK(c.Command({"ZRANGE", "z", "0", "-1", "WITHSCORES"}) == Reply::Bulks({"b", "2"}));
      CHECK(c.Command({"LRANGE", "l", "0", "-1"}) == Reply::Bulks({"b", "d"}));
      CHECK(c.Command({"EXISTS", "d"}) == Reply::Int(0));
    }
  }
  // And a write through the restarted node builds on the merged state, not its old copy.
  REQUIRE(back.Command({"CONSISTENCY", "ALL"}) == Reply::Status("OK"));
  CHECK(back.Command({"SADD", "s", "e"}) == Reply::Int(1));
  CHECK(back.Command({"RPUSH", "l", "e"}) == Reply::Int(3));
  CHECK(n1.Command({"LRANGE", "l", "0", "-1"}) == Reply::Bulks({"b", "d", "e"}));
  CHECK(n1.Command({"SCARD", "s"}) == Reply::Int(3));
}

}  // namespace dynakv::itest
