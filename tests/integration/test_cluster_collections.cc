// Sets and hashes in cluster mode (server/cluster_collections.h): observed-remove sets and add-wins
// maps inside the key's versions. Concurrent SADDs (HSETs) through partitioned nodes all survive,
// an SREM or HDEL (or DEL) removes only what it saw, every
// acknowledged SADD survives a kill -9 and restart unless a remove saw it, replicas end
// byte-identical, and the replies are Redis's.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"

namespace dynakv::itest {

namespace {

using namespace std::chrono_literals;

// SMEMBERS through `c` at R ALL, sorted.
std::vector<std::string> Members(Client& c, const std::string& key) {
  REQUIRE(c.Command({"CONSISTENCY", "ALL"}) == Reply::Status("OK"));
  const Reply reply = UntilAvailable(c, {"SMEMBERS", key});
  std::vector<std::string> out;
  for (const Reply& e : reply.elements) out.push_back(e.str);
  std::sort(out.begin(), out.end());
  return out;
}



}  // namespace

TEST_CASE(
    "sets: concurrent SADD/SREM across a partition: adds survive, removes take what they saw") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3, 3, FastFailureFlags(0));
  auto [n1, n2, n3] = StartWithClients<3>(cluster);
  REQUIRE(n1.Command({"CONSISTENCY", "ALL"}) == Reply::Status("OK"));
  REQUIRE(n1.Command({"SADD", "s", "a", "b", "c", "d"}) == Reply::Int(4));
  REQUIRE(n1.Command({"SADD", "gone", "p", "q"}) == Reply::Int(2));
  REQUIRE(n1.Command({"CONSISTENCY", "ONE"}) == Reply::Status("OK"));
  REQUIRE(n3.Command({"CONSISTENCY", "ONE"}) == Reply::Status("OK"));

  PartitionOffNode3(n1, n2, n3);
  // n3's side: a new member, a remove of a, a re-add of c (which n1 removes meanwhile).
  CHECK(n3.Command({"SADD", "s", "x"}) == Reply::Int(1));
  CHECK(n3.Command({"SREM", "s", "a"}) == Reply::Int(1));
  CHECK(n3.Command({"SADD", "s", "c"}) == Reply::Int(0));
  CHECK(n3.Command({"SADD", "gone", "r"}) == Reply::Int(1));
  // n1's side: another new member, removes of b and c, a re-add of a (which n3 removes).
  CHECK(n1.Command({"SADD", "s", "y", "a"}) == Reply::Int(1));
  CHECK(n1.Command({"SREM", "s", "b", "c", "nothere"}) == Reply::Int(2));
  CHECK(n1.Command({"SCARD", "s"}) == Reply::Int(3));  // a, d, y
  // A DEL that saw only p and q.
  CHECK(n1.Command({"DEL", "gone"}) == Reply::Int(1));
  CHECK(n1.Command({"EXISTS", "gone"}) == Reply::Int(0));
  HealPartition(n1, n2, n3);

  for (const char* key : {"s", "gone"}) REQUIRE(ConvergeReplicas(cluster, key));
  for (int i = 0; i < 3; ++i) {
    CAPTURE(i);
    Client c(cluster.node(i).port());
    // a: n1's re-add was not seen by n3's SREM; c: n3's re-add not seen by n1's SREM; b: removed
    // by n1, which saw the only add; x and y: concurrent adds.
    CHECK(Members(c, "s") == std::vector<std::string>{"a", "c", "d", "x", "y"});
    CHECK(c.Command({"SCARD", "s"}) == Reply::Int(5));
    CHECK(c.Command({"SISMEMBER", "s", "b"}) == Reply::Int(0));
    CHECK(c.Command({"TYPE", "s"}) == Reply::Status("set"));
    // The DEL removed what it saw; r, added concurrently, is the set.
    CHECK(Members(c, "gone") == std::vector<std::string>{"r"});
  }
}

TEST_CASE(
    "sets: SADD/SREM/SPOP replies, encodings and expiry are Redis's; DEL and EXPIRE reach "
    "every replica") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3, 3, FastFailureFlags(0));
  cluster.Start();
  Client n1(cluster.node(0).port());
  Client n2(cluster.node(1).port());
  REQUIRE(n1.Command({"CONSISTENCY", "ALL"}) == Reply::Status("OK"));
  REQUIRE(n2.Command({"CONSISTENCY", "ALL"}) == Reply::Status("OK"));
  CHECK(n1.Command({"SADD", "i", "3", "1", "2", "2"}) == Reply::Int(3));
  CHECK(n2.Command({"OBJECT", "ENCODING", "i"}) == Reply::Bulk("intset"));
  CHECK(n2.Command({"SMEMBERS", "i"}) == Reply::Bulks({"1", "2", "3"}));
  CHECK(n1.Command({"SADD", "i", "x"}) == Reply::Int(1));
  CHECK(n2.Command({"OBJECT", "ENCODING", "i"}) == Reply::Bulk("hashtable"));
  CHECK(n1.Command({"SET", "str", "v"}) == Reply::Status("OK"));
  CHECK(n2.Command({"SADD", "str", "m"}) ==
        Reply::Error("WRONGTYPE Operation against a key holding the wrong kind of value"));
  CHECK(n2.Command({"SREM", "nokey", "m"}) == Reply::Int(0));
  CHECK(n2.Command({"SPOP", "nokey"}) == Reply::Nil());
  CHECK(n2.Command({"SADD", "i"}) ==
        Reply::Error("ERR wrong number of arguments for 'sadd' command"));

  // SPOP removes what it returns, on every replica.
  const Reply popped = n2.Command({"SPOP", "i", "2"});
  REQUIRE(popped.type == Reply::Type::kArray);
  REQUIRE(popped.elements.size() == 2);
  for (int i = 0; i < 3; ++i) {
    Client c(cluster.node(i).port());
    REQUIRE(c.Command({"CONSISTENCY", "ALL"}) == Reply::Status("OK"));
    CHECK(c.Command({"SCARD", "i"}) == Reply::Int(2));
    for (const Reply& m : popped.elements) {
      CHECK(c.Command({"SISMEMBER", "i", m.str}) == Reply::Int(0));
    }
  }
  // Emptied by SREM: the key is gone, as in Redis.
  CHECK(n1.Command({"SADD", "e", "only"}) == Reply::Int(1));
  CHECK(n2.Command({"SREM", "e", "only"}) == Reply::Int(1));
  CHECK(n1.Command({"EXISTS", "e"}) == Reply::Int(0));
  CHECK(n1.Command({"SADD", "e", "again"}) == Reply::Int(1));
  CHECK(n1.Command({"SMEMBERS", "e"}) == Reply::Bulks({"again"}));

  // EXPIRE / PERSIST / TTL through any node, and expiry on every replica.
  CHECK(n1.Command({"EXPIRE", "i", "100"}) == Reply::Int(1));
  const Reply ttl = n2.Command({"TTL", "i"});
  CHECK((ttl.type == Reply::Type::kInteger && ttl.integer > 90 && ttl.integer <= 100));
  CHECK(n2.Command({"SADD", "i", "more"}) == Reply::Int(1));  // keeps the TTL, as in Redis
  CHECK(n1.Command({"TTL", "i"}).integer > 90);
  CHECK(n2.Command({"PERSIST", "i"}) == Reply::Int(1));
  CHECK(n1.Command({"TTL", "i"}) == Reply::Int(-1));
  CHECK(n1.Command({"PEXPIRE", "i", "300"}) == Reply::Int(1));
  REQUIRE(WaitFor([&] { return n2.Command({"EXISTS", "i"}) == Reply::Int(0); }, 5s));
  // A write after expiry starts a new set without the TTL.
  CHECK(n2.Command({"SADD", "i", "fresh"}) == Reply::Int(1));
  CHECK(n1.Command({"SMEMBERS", "i"}) == Reply::Bulks({"fresh"}));
  CHECK(n1.Command({"TTL", "i"}) == Reply::Int(-1));

  // STORE and SMOVE write through the coordinator and stay sets that merge.
  CHECK(n1.Command({"SADD", "{t}a", "1", "2", "3"}) == Reply::Int(3));
  CHECK(n1.Command({"SADD", "{t}b", "2", "3", "4"}) == Reply::Int(3));
  CHECK(n2.Command({"SINTERSTORE", "{t}c", "{t}a", "{t}b"}) == Reply::Int(2));
  CHECK(n1.Command({"SMOVE", "{t}a", "{t}c", "1"}) == Reply::Int(1));
  CHECK(n1.Command({"SADD", "{t}c", "9"}) == Reply::Int(1));
  for (int i = 0; i < 3; ++i) {
    Client c(cluster.node(i).port());
    CHECK(Members(c, "{t}c") == std::vector<std::string>{"1", "2", "3", "9"});
    CHECK(Members(c, "{t}a") == std::vector<std::string>{"2", "3"});
  }
  // DEL through another node, then SET: the key is a string again.
  CHECK(n2.Command({"DEL", "{t}c"}) == Reply::Int(1));
  CHECK(n1.Command({"EXISTS", "{t}c"}) == Reply::Int(0));
  CHECK(n1.Command({"SET", "{t}a", "s"}) == Reply::Status("OK"));
  CHECK(n2.Command({"GET", "{t}a"}) == Reply::Bulk("s"));
}

namespace {

// What the clients know of one set: members whose SADD was acknowledged, and members whose SREM
// was sent (acknowledged or not: a remove may have seen the add).
struct SetLedger {
  std::set<std::string> acked;
  std::set<std::string> removed;
  int acked_ops = 0;
};

void SetHammer(int port, int seed, const std::vector<std::string>& keys, std::atomic<bool>& stop,
               std::mutex& mu, std::map<std::string, SetLedger>& ledgers) {
  std::mt19937 rng(seed);
  auto client = std::make_unique<Client>(port, 2s);
  int n = 0;
  while (!stop.load()) {
    if (!client->ok()) {
      std::this_thread::sleep_for(50ms);
      client = std::make_unique<Client>(port, 2s);
      continue;
    }
    const std::string& key = keys[rng() % keys.size()];
    const std::string member = "m" + std::to_string(seed) + "-" + std::to_string(n++);
    if (rng() % 5 == 0) {
      // Remove a member some client added (maybe this one).
      std::string victim;
      {
        std::lock_guard<std::mutex> lock(mu);
        const auto& acked = ledgers[key].acked;
        if (acked.empty()) continue;
        auto it = acked.begin();
        std::advance(it, static_cast<long>(rng() % acked.size()));
        victim = *it;
        ledgers[key].removed.insert(victim);
      }
      client->Command({"SREM", key, victim});
      continue;
    }
    const Reply reply = client->Command({"SADD", key, member});
    if (reply.type == Reply::Type::kInteger) {
      std::lock_guard<std::mutex> lock(mu);
      ledgers[key].acked.insert(member);
      ++ledgers[key].acked_ops;
    }
  }
}

void RunSetHammer(int replication_factor) {
  LocalCluster cluster(3, replication_factor, FastFailureFlags(1000));
  cluster.Start();
  const std::vector<std::string> keys = {"set:a", "set:b", "set:c"};
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::map<std::string, SetLedger> ledgers;
  RunThroughNodeKill(
      cluster, stop,
      [&](int i) { SetHammer(cluster.node(i).port(), 100 + i, keys, stop, mu, ledgers); },
      [] { std::this_thread::sleep_for(1500ms); });
  Client n1(cluster.node(0).port());
  int total = 0;
  for (const std::string& key : keys) {
    CAPTURE(key);
    REQUIRE(ConvergeReplicas(cluster, key));
    const SetLedger& ledger = ledgers[key];
    total += ledger.acked_ops;
    std::vector<std::string> first;
    for (int i = 0; i < 3; ++i) {
      CAPTURE(i);
      Client c(cluster.node(i).port());
      const std::vector<std::string> members = Members(c, key);
      if (i == 0) first = members;
      CHECK(members == first);
      const std::set<std::string> present(members.begin(), members.end());
      int missing = 0;
      for (const std::string& m : ledger.acked) {
        if (!ledger.removed.count(m) && !present.count(m)) {
          ++missing;
          MESSAGE("acknowledged and never removed, missing: " << m);
        }
      }
      CHECK(missing == 0);
    }
  }
  CHECK(total > 200);  // the test did test something
}

}  // namespace

TEST_CASE(
    "sets: SADD/SREM through every node with one killed -9 and restarted lose no "
    "acknowledged member") {
  if (TestingRealRedis()) return;
  RunSetHammer(3);
}

TEST_CASE("sets: the same with N=2, where a node that is no replica forwards the write") {
  if (TestingRealRedis()) return;
  RunSetHammer(2);
}

TEST_CASE("hashes: concurrent HSET/HDEL across a partition merge field by field") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3, 3, FastFailureFlags(0));
  auto [n1, n2, n3] = StartWithClients<3>(cluster);
  REQUIRE(n1.Command({"CONSISTENCY", "ALL"}) == Reply::Status("OK"));
  REQUIRE(n1.Command({"HSET", "h", "a", "1", "b", "2", "n", "10", "gone", "x"}) == Reply::Int(4));
  REQUIRE(n1.Command({"CONSISTENCY", "ONE"}) == Reply::Status("OK"));
  REQUIRE(n3.Command({"CONSISTENCY", "ONE"}) == Reply::Status("OK"));

  PartitionOffNode3(n1, n2, n3);
  // Different fields on each side, a field deleted on one side and rewritten on the other;
  // HINCRBY of one field on both (a counter: both sides' increments count).
  CHECK(n3.Command({"HSET", "h", "x3", "three"}) == Reply::Int(1));
  CHECK(n3.Command({"HSET", "h", "a", "from-n3"}) == Reply::Int(0));
  CHECK(n3.Command({"HINCRBY", "h", "n", "5"}) == Reply::Int(15));
  CHECK(n3.Command({"HDEL", "h", "b"}) == Reply::Int(1));
  CHECK(n1.Command({"HSET", "h", "x1", "one"}) == Reply::Int(1));
  CHECK(n1.Command({"HDEL", "h", "a", "gone"}) == Reply::Int(2));
  CHECK(n1.Command({"HINCRBY", "h", "n", "100"}) == Reply::Int(110));
  CHECK(n1.Command({"HINCRBY", "h", "n", "-1"}) == Reply::Int(109));
  HealPartition(n1, n2, n3);

  REQUIRE(ConvergeReplicas(cluster, "h"));
  for (int i = 0; i < 3; ++i) {
    CAPTURE(i);
    Client c(cluster.node(i).port());
    REQUIRE(c.Command({"CONSISTENCY", "ALL"}) == Reply::Status("OK"));
    // a: n3's HSET was not seen by n1's HDEL (add wins); b: removed by n3, which saw the only
    // write; gone: removed; n: 10 plus both sides' increments; x1, x3: concurrent new fields.
    CHECK(UntilAvailable(c, {"HGET", "h", "a"}) == Reply::Bulk("from-n3"));
    CHECK(c.Command({"HEXISTS", "h", "b"}) == Reply::Int(0));
    CHECK(c.Command({"HEXISTS", "h", "gone"}) == Reply::Int(0));
    CHECK(c.Command({"HGET", "h", "n"}) == Reply::Bulk("114"));
    CHECK(c.Command({"HGET", "h", "x1"}) == Reply::Bulk("one"));
    CHECK(c.Command({"HGET", "h", "x3"}) == Reply::Bulk("three"));
    CHECK(c.Command({"HLEN", "h"}) == Reply::Int(4));
    CHECK(c.Command({"TYPE", "h"}) == Reply::Status("hash"));
  }
  // Replies and errors are Redis's.
  CHECK(n2.Command({"HINCRBY", "h", "a", "1"}) == Reply::Error("ERR hash value is not an integer"));
  CHECK(n2.Command({"HSETNX", "h", "a", "no"}) == Reply::Int(0));
  CHECK(n2.Command({"HSETNX", "h", "new", "yes"}) == Reply::Int(1));
  CHECK(n2.Command({"HINCRBYFLOAT", "h", "n", "0.5"}) == Reply::Bulk("114.5"));
  CHECK(n2.Command({"HDEL", "h", "nothere"}) == Reply::Int(0));
  CHECK(n2.Command({"SET", "str", "v"}) == Reply::Status("OK"));
  CHECK(n2.Command({"HSET", "str", "f", "v"}) ==
        Reply::Error("WRONGTYPE Operation against a key holding the wrong kind of value"));
  // DEL is causal too, and a hash emptied by HDEL is gone.
  CHECK(n1.Command({"CONSISTENCY", "ALL"}) == Reply::Status("OK"));
  CHECK(n1.Command({"HSET", "e", "f", "v"}) == Reply::Int(1));
  CHECK(n2.Command({"HDEL", "e", "f"}) == Reply::Int(1));
  CHECK(n1.Command({"EXISTS", "e"}) == Reply::Int(0));
  CHECK(n2.Command({"DEL", "h"}) == Reply::Int(1));
  CHECK(n1.Command({"HGETALL", "h"}) == Reply::Array({}));
}

}  // namespace dynakv::itest
