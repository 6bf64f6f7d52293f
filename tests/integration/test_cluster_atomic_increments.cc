// Increments inside MULTI/EXEC and scripts in cluster mode (ClusterExecutor::AddVersion's
// only_increments): a key that only the INCR family, HINCRBY or ZINCRBY changed is written as
// increments of what the transaction read, not as the values it computed, so two transactions
// that read the same value through different nodes both count, as plain INCRs do. A key also
// written otherwise in the same transaction (SET, HSET, ZADD, DEL...) keeps the reset / assignment
// semantics (README "Transactions and scripts in cluster mode"); an EXPIRE or PERSIST beside the
// increments does not (a rate limiter's MULTI INCR EXPIRE EXEC).
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"

namespace dynakv::itest {

namespace {

using namespace std::chrono_literals;

// The three keys (one hash tag) every increment here goes to.
const std::vector<std::string> kCounter = {"{ai}c"};
const std::string kHash = "{ai}h";
const std::string kZset = "{ai}z";

// One transaction or script incrementing the counter by `by`, a hash field and a sorted-set
// member by the same amount, on `client`; true when it was acknowledged.
bool IncrementAll(Client& client, bool script, long long by) {
  const std::string n = std::to_string(by);
  if (script) {
    const Reply r = client.Command(
        {"EVAL",
         "redis.call('INCRBY', KEYS[1], ARGV[1]); redis.call('HINCRBY', KEYS[2], 'f', ARGV[1]); "
         "return redis.call('ZINCRBY', KEYS[3], ARGV[1], 'm')",
         "3", kCounter[0], kHash, kZset, n});
    return r.type == Reply::Type::kString;
  }
  if (client.Command({"MULTI"}) != Reply::Status("OK")) return false;
  client.Command({"INCRBY", kCounter[0], n});
  client.Command({"HINCRBY", kHash, "f", n});
  client.Command({"ZINCRBY", kZset, n, "m"});
  const Reply r = client.Command({"EXEC"});
  return r.type == Reply::Type::kArray && r.elements.size() == 3 &&
         r.elements[0].type == Reply::Type::kInteger;
}

// Every node, at R ALL, reads `sum` in all three keys.
void CheckAllRead(LocalCluster& cluster, long long sum) {
  for (const std::string& key : {kCounter[0], kHash, kZset})
    REQUIRE(ConvergeReplicas(cluster, key));
  for (int i = 0; i < 3; ++i) {
    CAPTURE(i);
    Client c(cluster.node(i).port());
    REQUIRE(c.Command({"CONSISTENCY", "ALL"}) == Reply::Status("OK"));
    CHECK(UntilAvailable(c, {"GET", kCounter[0]}) == Reply::Bulk(std::to_string(sum)));
    CHECK(c.Command({"HGET", kHash, "f"}) == Reply::Bulk(std::to_string(sum)));
    CHECK(c.Command({"ZSCORE", kZset, "m"}) == Reply::Bulk(std::to_string(sum)));
  }
}

}  // namespace

TEST_CASE(
    "cluster transactions and scripts on both sides of a partition that read the same "
    "value: INCRBY, HINCRBY and ZINCRBY all count") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3, 3, FastFailureFlags(0));
  auto [n1, n2, n3] = StartWithClients<3>(cluster);
  REQUIRE(n1.Command({"CONSISTENCY", "ALL"}) == Reply::Status("OK"));
  REQUIRE(IncrementAll(n1, false, 5));  // every replica holds 5 in each
  for (Client* c : {&n1, &n3}) REQUIRE(c->Command({"CONSISTENCY", "ONE"}) == Reply::Status("OK"));

  PartitionOffNode3(n1, n2, n3);
  // Each side reads 5 and computes 6, then 8: as values, the merge would keep one side's.
  REQUIRE(n1.Command({"MULTI"}) == Reply::Status("OK"));
  REQUIRE(n1.Command({"INCR", kCounter[0]}) == Reply::Status("QUEUED"));
  REQUIRE(n1.Command({"HINCRBY", kHash, "f", "1"}) == Reply::Status("QUEUED"));
  REQUIRE(n1.Command({"ZINCRBY", kZset, "1", "m"}) == Reply::Status("QUEUED"));
  CHECK(n1.Command({"EXEC"}) == Reply::Array({Reply::Int(6), Reply::Int(6), Reply::Bulk("6")}));
  CHECK(IncrementAll(n3, false, 1));
  CHECK(IncrementAll(n1, true, 2));
  CHECK(n3.Command({"EVAL",
                    "redis.call('INCRBY', KEYS[1], 2); redis.call('HINCRBY', KEYS[2], 'f', 2); "
                    "return redis.call('ZINCRBY', KEYS[3], 2, 'm')",
                    "3", kCounter[0], kHash, kZset}) == Reply::Bulk("8"));
  // Increments that cancel out within one transaction change nothing; a field set by HSET is
  // an assignment, as outside transactions.
  REQUIRE(n3.Command({"MULTI"}) == Reply::Status("OK"));
  REQUIRE(n3.Command({"HSET", kHash, "side", "n3"}) == Reply::Status("QUEUED"));
  REQUIRE(n3.Command({"DECRBY", kCounter[0], "3"}) == Reply::Status("QUEUED"));
  REQUIRE(n3.Command({"INCRBY", kCounter[0], "3"}) == Reply::Status("QUEUED"));
  CHECK(n3.Command({"EXEC"}) == Reply::Array({Reply::Int(1), Reply::Int(5), Reply::Int(8)}));
  // A ZADD of a member (no INCR) in a transaction is an assignment: one side's score wins.
  for (auto [c, score] : {std::pair{&n1, "100"}, std::pair{&n3, "200"}}) {
    REQUIRE(c->Command({"MULTI"}) == Reply::Status("OK"));
    REQUIRE(c->Command({"ZADD", "{ai}z2", score, "q"}) == Reply::Status("QUEUED"));
    CHECK(c->Command({"EXEC"}) == Reply::Array({Reply::Int(1)}));
  }
  HealPartition(n1, n2, n3);
  REQUIRE(ConvergeReplicas(cluster, "{ai}z2"));
  REQUIRE(n2.Command({"CONSISTENCY", "ALL"}) == Reply::Status("OK"));
  const Reply q = UntilAvailable(n2, {"ZSCORE", "{ai}z2", "q"});
  CHECK((q == Reply::Bulk("100") || q == Reply::Bulk("200")));

  // 5 + 1 + 1 + 2 + 2 (the DECRBY 3 and INCRBY 3 cancel out: a change of nothing).
  CheckAllRead(cluster, 11);
  CHECK(n2.Command({"HGET", kHash, "side"}) == Reply::Bulk("n3"));
  // On: sequential ones reply Redis's values, through any node.
  REQUIRE(n2.Command({"MULTI"}) == Reply::Status("OK"));
  REQUIRE(n2.Command({"INCR", kCounter[0]}) == Reply::Status("QUEUED"));
  REQUIRE(n2.Command({"INCR", kCounter[0]}) == Reply::Status("QUEUED"));
  REQUIRE(n2.Command({"HINCRBY", kHash, "f", "-20"}) == Reply::Status("QUEUED"));
  REQUIRE(n2.Command({"ZINCRBY", kZset, "0.5", "m"}) == Reply::Status("QUEUED"));
  REQUIRE(n2.Command({"ZINCRBY", kZset, "1", "new"}) == Reply::Status("QUEUED"));
  CHECK(n2.Command({"EXEC"}) == Reply::Array({Reply::Int(12), Reply::Int(13), Reply::Int(-9),
                                              Reply::Bulk("11.5"), Reply::Bulk("1")}));
  CHECK(n1.Command({"GET", kCounter[0]}) == Reply::Bulk("13"));
  CHECK(n1.Command({"ZRANGE", kZset, "0", "-1", "WITHSCORES"}) ==
        Reply::Bulks({"new", "1", "m", "11.5"}));
  // A transaction that SETs the counter then increments it resets it, as before.
  REQUIRE(n2.Command({"MULTI"}) == Reply::Status("OK"));
  REQUIRE(n2.Command({"SET", kCounter[0], "100"}) == Reply::Status("QUEUED"));
  REQUIRE(n2.Command({"INCR", kCounter[0]}) == Reply::Status("QUEUED"));
  CHECK(n2.Command({"EXEC"}) == Reply::Array({Reply::Status("OK"), Reply::Int(101)}));
  CHECK(n3.Command({"GET", kCounter[0]}) == Reply::Bulk("101"));
}

TEST_CASE(
    "cluster rate limiter: MULTI INCR + EXPIRE (and HINCRBY + EXPIRE) on both sides of a "
    "partition count every hit") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3, 3, FastFailureFlags(0));
  auto [n1, n2, n3] = StartWithClients<3>(cluster);
  for (Client* c : {&n1, &n3}) REQUIRE(c->Command({"CONSISTENCY", "ONE"}) == Reply::Status("OK"));
  PartitionOffNode3(n1, n2, n3);
  auto hit = [](Client& c, const char* ttl) {
    REQUIRE(c.Command({"MULTI"}) == Reply::Status("OK"));
    REQUIRE(c.Command({"INCR", "{rl}hits"}) == Reply::Status("QUEUED"));
    REQUIRE(c.Command({"EXPIRE", "{rl}hits", ttl}) == Reply::Status("QUEUED"));
    REQUIRE(c.Command({"HINCRBY", "{rl}per", "user", "1"}) == Reply::Status("QUEUED"));
    REQUIRE(c.Command({"EXPIRE", "{rl}per", ttl}) == Reply::Status("QUEUED"));
    const Reply r = c.Command({"EXEC"});
    REQUIRE(r.type == Reply::Type::kArray);
    REQUIRE(r.elements.size() == 4);
    return r.elements[0];
  };
  CHECK(hit(n1, "100") == Reply::Int(1));
  CHECK(hit(n3, "200") == Reply::Int(1));
  CHECK(hit(n1, "300") == Reply::Int(2));
  HealPartition(n1, n2, n3);
  for (const char* key : {"{rl}hits", "{rl}per"}) REQUIRE(ConvergeReplicas(cluster, key));
  for (int i = 0; i < 3; ++i) {
    CAPTURE(i);
    Client c(cluster.node(i).port());
    REQUIRE(c.Command({"CONSISTENCY", "ALL"}) == Reply::Status("OK"));
    CHECK(UntilAvailable(c, {"GET", "{rl}hits"}) == Reply::Bulk("3"));
    CHECK(c.Command({"HGET", "{rl}per", "user"}) == Reply::Bulk("3"));
    for (const char* key : {"{rl}hits", "{rl}per"}) {
      const Reply ttl = c.Command({"TTL", key});
      REQUIRE(ttl.type == Reply::Type::kInteger);
      CHECK(ttl.integer > 0);  // one side's expiry (the later write's), not none
      CHECK(ttl.integer <= 300);
    }
  }
}

TEST_CASE(
    "cluster transactions and scripts incrementing through all three nodes at once lose "
    "no acknowledged increment") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3, 3, FastFailureFlags(0));
  cluster.Start();
  std::atomic<long long> acked{0};
  std::atomic<long long> indeterminate{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 6; ++c) {
    clients.emplace_back([&, c] {
      Client client(cluster.node(c % 3).port(), 5s);
      std::mt19937 rng(static_cast<unsigned>(c) + 13);
      for (int i = 0; i < 40; ++i) {
        const long long by = 1 + static_cast<long long>(rng() % 5);
        if (IncrementAll(client, (i + c) % 2 == 0, by)) {
          acked += by;
        } else {
          indeterminate += by;
        }
      }
    });
  }
  for (std::thread& t : clients) t.join();
  // No fault here: every one is acknowledged (a failure would make the sum uncertain).
  REQUIRE(indeterminate.load() == 0);
  CheckAllRead(cluster, acked.load());
}

}  // namespace dynakv::itest
