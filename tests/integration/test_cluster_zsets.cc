// Sorted sets and HyperLogLogs in cluster mode (server/cluster_zsets.h): observed-remove members
// with a last-write-wins score and per-node ZINCRBY totals, and HLL registers joined by max, inside
// the key's versions. Concurrent writes through partitioned nodes merge (ZADDs survive, a ZREM
// or DEL removes only what it saw, ZINCRBYs add up, PFADDs all count), every acknowledged ZADD
// survives a kill -9 and restart unless a remove saw it, replicas end byte-identical, and the
// replies are Redis's.
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

// ZRANGE key 0 -1 WITHSCORES through `c` at R ALL, as (member, score text) pairs.
std::vector<std::pair<std::string, std::string>> Entries(Client& c, const std::string& key) {
  REQUIRE(c.Command({"CONSISTENCY", "ALL"}) == Reply::Status("OK"));
  const Reply reply = UntilAvailable(c, {"ZRANGE", key, "0", "-1", "WITHSCORES"});
  REQUIRE(reply.type == Reply::Type::kArray);
  std::vector<std::pair<std::string, std::string>> out;
  for (std::size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
    out.emplace_back(reply.elements[i].str, reply.elements[i + 1].str);
  }
  return out;
}



using Entry = std::pair<std::string, std::string>;

}  // namespace

TEST_CASE(
    "zsets: concurrent ZADD/ZREM/ZINCRBY across a partition: adds survive, removes take what "
    "they saw, increments add up") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3, 3, FastFailureFlags(0));
  auto [n1, n2, n3] = StartWithClients<3>(cluster);
  REQUIRE(n1.Command({"CONSISTENCY", "ALL"}) == Reply::Status("OK"));
  REQUIRE(n1.Command({"ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"}) == Reply::Int(4));
  REQUIRE(n1.Command({"ZINCRBY", "z", "100", "ctr"}) == Reply::Bulk("100"));
  REQUIRE(n1.Command({"ZADD", "gone", "1", "p", "2", "q"}) == Reply::Int(2));
  REQUIRE(n1.Command({"ZADD", "pop", "1", "only"}) == Reply::Int(1));
  // n1 and n2 are a quorum; n3 alone writes and reads its own copy.
  REQUIRE(n1.Command({"CONSISTENCY", "QUORUM"}) == Reply::Status("OK"));
  REQUIRE(n3.Command({"CONSISTENCY", "ONE"}) == Reply::Status("OK"));

  PartitionOffNode3(n1, n2, n3);
  // n3's side: a new member, a remove of a, a re-add of c with a new score (which n1 removes
  // meanwhile), increments of ctr and of b (which n1 removes meanwhile).
  CHECK(n3.Command({"ZADD", "z", "10", "x"}) == Reply::Int(1));
  CHECK(n3.Command({"ZREM", "z", "a"}) == Reply::Int(1));
  CHECK(n3.Command({"ZADD", "z", "CH", "30", "c"}) == Reply::Int(1));
  CHECK(n3.Command({"ZINCRBY", "z", "5", "ctr"}) == Reply::Bulk("105"));
  CHECK(n3.Command({"ZINCRBY", "z", "0.5", "b"}) == Reply::Bulk("2.5"));
  CHECK(n3.Command({"ZADD", "gone", "3", "r"}) == Reply::Int(1));
  // n1's side: another new member, a re-add of a (which n3 removes), removes of b and c.
  CHECK(n1.Command({"ZADD", "z", "20", "y", "21", "a"}) == Reply::Int(1));
  CHECK(n1.Command({"ZREM", "z", "b", "c", "nothere"}) == Reply::Int(2));
  CHECK(n1.Command({"ZADD", "z", "INCR", "7", "ctr"}) == Reply::Bulk("107"));
  CHECK(n1.Command({"ZINCRBY", "z", "-2", "ctr"}) == Reply::Bulk("105"));
  CHECK(n1.Command({"ZCARD", "z"}) == Reply::Int(4));   // a, ctr, d, y
  CHECK(n1.Command({"DEL", "gone"}) == Reply::Int(1));  // saw p and q only
  CHECK(n1.Command({"EXISTS", "gone"}) == Reply::Int(0));
  // A pop on each side: each side's primary hands out the same member (README: a pop under a
  // partition). UNAVAILABLE until a side's failure detector holds the other side down.
  CHECK(UntilAvailable(n1, {"ZPOPMIN", "pop"}) ==
        Reply::Array({Reply::Bulk("only"), Reply::Bulk("1")}));
  CHECK(UntilAvailable(n3, {"ZPOPMIN", "pop"}) ==
        Reply::Array({Reply::Bulk("only"), Reply::Bulk("1")}));
  HealPartition(n1, n2, n3);

  for (const char* key : {"z", "gone", "pop"}) REQUIRE(ConvergeReplicas(cluster, key));
  for (int i = 0; i < 3; ++i) {
    CAPTURE(i);
    Client c(cluster.node(i).port());
    // a: n1's re-add was not seen by n3's ZREM (add wins), with n1's score; b: n1's ZREM saw
    // b's ZADD but not n3's increment, which stays as the member's score (0 + 0.5); c: n3's
    // re-add, not seen by n1's ZREM; ctr: 100 + 5 + 7 - 2; x, y: concurrent adds.
    CHECK(Entries(c, "z") == std::vector<Entry>{{"b", "0.5"},
                                                {"d", "4"},
                                                {"x", "10"},
                                                {"y", "20"},
                                                {"a", "21"},
                                                {"c", "30"},
                                                {"ctr", "110"}});
    CHECK(c.Command({"ZSCORE", "z", "ctr"}) == Reply::Bulk("110"));
    CHECK(c.Command({"TYPE", "z"}) == Reply::Status("zset"));
    // The DEL removed what it saw; r, added concurrently, is the set.
    CHECK(Entries(c, "gone") == std::vector<Entry>{{"r", "3"}});
    CHECK(c.Command({"EXISTS", "pop"}) == Reply::Int(0));
  }
}

TEST_CASE("zsets and HLLs: replies through every node are Redis 7's") {
  const std::string redis = ReferenceRedis();
  if (redis.empty() || TestingRealRedis()) {
    MESSAGE("skipped: needs redis-server installed and a different server under test");
    return;
  }
  LocalCluster cluster(3);
  cluster.Start();
  ServerProcess reference({}, redis);
  reference.Start();
  Client want(reference.port());
  std::vector<Client> nodes;
  for (int i = 0; i < cluster.size(); ++i) {
    nodes.emplace_back(cluster.node(i).port());
    // Every replica holds each write before the next command, through whichever node: a
    // command runs over one replica's copy, without a read.
    REQUIRE(nodes.back().Command({"CONSISTENCY", "ALL"}) == Reply::Status("OK"));
  }
  const std::vector<std::vector<std::string>> script = {
      {"ZADD", "z", "1", "a", "2", "b", "3", "c"},
      {"ZADD", "z", "NX", "5", "a", "4", "d"},
      {"ZADD", "z", "XX", "CH", "6", "a", "7", "e"},
      {"ZADD", "z", "GT", "CH", "1", "a", "9", "b"},
      {"ZADD", "z", "LT", "CH", "0", "c", "100", "d"},
      {"ZADD", "z", "INCR", "2.5", "a"},
      {"ZADD", "z", "INCR", "GT", "-1", "a"},
      {"ZADD", "z", "XX", "INCR", "1", "nope"},
      {"ZADD", "z", "INCR", "1", "a", "2", "b"},
      {"ZADD", "z", "NX", "XX", "1", "a"},
      {"ZADD", "z", "nan", "a"},
      {"ZADD", "z", "1"},
      {"ZINCRBY", "z", "10", "new"},
      {"ZINCRBY", "z", "-0.25", "a"},
      {"ZINCRBY", "z", "x", "a"},
      {"ZADD", "inf", "+inf", "m"},
      {"ZINCRBY", "inf", "-inf", "m"},
      {"ZRANGE", "z", "0", "-1", "WITHSCORES"},
      {"ZREM", "z", "b", "nothere", "b"},
      {"ZREM", "nokey", "m"},
      {"ZPOPMIN", "z"},
      {"ZPOPMAX", "z", "2"},
      {"ZPOPMIN", "nokey"},
      {"ZMPOP", "1", "z", "MIN", "COUNT", "1"},
      {"ZMPOP", "1", "nokey", "MAX"},
      {"ZADD", "r", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e", "6", "f"},
      {"ZREMRANGEBYRANK", "r", "0", "1"},
      {"ZREMRANGEBYSCORE", "r", "(4", "+inf"},
      {"ZADD", "lex", "0", "a", "0", "b", "0", "c", "0", "d"},
      {"ZREMRANGEBYLEX", "lex", "[b", "(d"},
      {"ZRANGE", "lex", "0", "-1"},
      {"ZRANGE", "r", "0", "-1", "WITHSCORES"},
      {"ZREMRANGEBYRANK", "r", "0", "-1"},
      {"EXISTS", "r"},
      {"SET", "str", "v"},
      {"ZADD", "str", "1", "m"},
      {"ZINCRBY", "str", "1", "m"},
      {"ZPOPMIN", "str"},
      {"PFADD", "str", "x"},
      {"ZADD", "{t}a", "1", "x", "2", "y"},
      {"ZADD", "{t}b", "3", "y", "4", "w"},
      {"ZUNIONSTORE", "{t}u", "2", "{t}a", "{t}b"},
      {"ZADD", "{t}u", "1", "v"},
      {"ZRANGE", "{t}u", "0", "-1", "WITHSCORES"},
      {"ZINTERSTORE", "{t}i", "2", "{t}a", "{t}b", "WEIGHTS", "2", "3"},
      {"ZINCRBY", "{t}i", "1", "y"},
      {"ZRANGE", "{t}i", "0", "-1", "WITHSCORES"},
      {"ZMPOP", "2", "{t}missing", "{t}b", "MAX"},
      {"EXPIRE", "{t}a", "100"},
      {"ZADD", "{t}a", "5", "z"},
      {"PERSIST", "{t}a"},
      {"TTL", "{t}a"},
      {"DEL", "{t}a"},
      {"ZADD", "{t}a", "1", "again"},
      {"ZRANGE", "{t}a", "0", "-1", "WITHSCORES"},
      {"PFADD", "h", "a", "b", "c"},
      {"PFADD", "h", "a"},
      {"PFADD", "h"},
      {"PFADD", "empty"},
      {"PFCOUNT", "empty"},
      {"EXISTS", "empty"},
      {"PFCOUNT", "h"},
      {"PFADD", "h2", "c", "d", "e"},
      {"PFMERGE", "h3", "h", "h2"},
      {"PFCOUNT", "h3"},
      {"PFCOUNT", "h", "h2", "missing"},
      {"PFADD", "h3", "f"},
      {"PFCOUNT", "h3"},
      {"DEL", "h"},
      {"PFCOUNT", "h"},
      {"PFADD", "h", "z"},
      {"PFCOUNT", "h"},
      {"TYPE", "h"},
      {"TYPE", "z"},
      {"OBJECT", "ENCODING", "z"},
  };
  int step = 0;
  for (const std::vector<std::string>& argv : script) {
    std::string text;
    for (const std::string& a : argv) text += a + " ";
    CAPTURE(text);
    Client& through = nodes[static_cast<std::size_t>(step++ % cluster.size())];
    CHECK(UntilAvailable(through, argv) == want.Command(argv));
  }
  // The HLLs hold Redis's registers (their cached count aside: PFCOUNT in cluster mode stores
  // nothing, so the cache stays marked stale).
  for (const char* key : {"h", "h2", "h3"}) {
    CAPTURE(key);
    const Reply expected = want.Command({"GET", key});
    REQUIRE(expected.str.size() > 16);
    for (Client& node : nodes) {
      const Reply got = node.Command({"GET", key});
      REQUIRE(got.str.size() == expected.str.size());
      CHECK(got.str.substr(16) == expected.str.substr(16));
    }
  }
}

TEST_CASE(
    "HLLs: concurrent PFADDs across a partition all count; a DEL wins over a concurrent "
    "PFADD") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3, 3, FastFailureFlags(0));
  auto [n1, n2, n3] = StartWithClients<3>(cluster);
  REQUIRE(n1.Command({"CONSISTENCY", "ALL"}) == Reply::Status("OK"));
  std::vector<std::string> base = {"PFADD", "h"};
  for (int i = 0; i < 500; ++i) base.push_back("base" + std::to_string(i));
  REQUIRE(n1.Command(base) == Reply::Int(1));
  REQUIRE(n1.Command({"PFADD", "hd", "old"}) == Reply::Int(1));
  REQUIRE(n1.Command({"CONSISTENCY", "QUORUM"}) == Reply::Status("OK"));
  REQUIRE(n3.Command({"CONSISTENCY", "ONE"}) == Reply::Status("OK"));

  PartitionOffNode3(n1, n2, n3);
  std::vector<std::string> left = {"PFADD", "h"};
  std::vector<std::string> right = {"PFADD", "h"};
  for (int i = 0; i < 300; ++i) {
    left.push_back("left" + std::to_string(i));
    right.push_back("right" + std::to_string(i));
  }
  CHECK(n1.Command(left) == Reply::Int(1));
  CHECK(n3.Command(right) == Reply::Int(1));
  CHECK(n1.Command({"DEL", "hd"}) == Reply::Int(1));
  CHECK(n3.Command({"PFADD", "hd", "concurrent"}) == Reply::Int(1));
  HealPartition(n1, n2, n3);

  for (const char* key : {"h", "hd"}) REQUIRE(ConvergeReplicas(cluster, key));
  // The same elements added through one node, in one order: the count (and the registers) a
  // single node gives for the union.
  REQUIRE(n2.Command({"CONSISTENCY", "ALL"}) == Reply::Status("OK"));
  std::vector<std::string> all = {"PFADD", "union"};
  all.insert(all.end(), base.begin() + 2, base.end());
  all.insert(all.end(), left.begin() + 2, left.end());
  all.insert(all.end(), right.begin() + 2, right.end());
  REQUIRE(n2.Command(all) == Reply::Int(1));
  const Reply count = n2.Command({"PFCOUNT", "union"});
  REQUIRE(count.type == Reply::Type::kInteger);
  CHECK(count.integer > 1000);
  const Reply bytes = n2.Command({"GET", "union"});
  for (int i = 0; i < 3; ++i) {
    CAPTURE(i);
    Client c(cluster.node(i).port());
    REQUIRE(c.Command({"CONSISTENCY", "ALL"}) == Reply::Status("OK"));
    CHECK(UntilAvailable(c, {"PFCOUNT", "h"}) == count);
    CHECK(c.Command({"GET", "h"}).str.substr(16) == bytes.str.substr(16));
    // The delete won: the concurrent add went with the registers it deleted.
    CHECK(c.Command({"EXISTS", "hd"}) == Reply::Int(0));
  }
  // After the delete, adds through two nodes both count again.
  CHECK(n1.Command({"PFADD", "hd", "p"}) == Reply::Int(1));
  CHECK(n3.Command({"PFADD", "hd", "q"}) == Reply::Int(1));
  REQUIRE(ConvergeReplicas(cluster, "hd"));
  CHECK(n2.Command({"PFCOUNT", "hd"}) == Reply::Int(2));
}

namespace {

// What the clients know of one sorted set: members whose ZADD was acknowledged, members whose
// ZREM was sent (acknowledged or not: a remove may have seen the add), and the increments of
// the counter member (acknowledged, and sent: an unacknowledged one may have been applied).
struct ZsetLedger {
  std::set<std::string> acked;
  std::set<std::string> removed;
  long long increments_acked = 0;
  long long increments_sent = 0;
  int acked_ops = 0;
};

constexpr const char* kCounter = "counter";

void ZsetHammer(int port, int seed, const std::vector<std::string>& keys, std::atomic<bool>& stop,
                std::mutex& mu, std::map<std::string, ZsetLedger>& ledgers) {
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
    const int pick = static_cast<int>(rng() % 10);
    if (pick < 2) {
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
      client->Command({"ZREM", key, victim});
      continue;
    }
    if (pick < 5) {
      {
        std::lock_guard<std::mutex> lock(mu);
        ++ledgers[key].increments_sent;
      }
      const Reply reply = client->Command({"ZINCRBY", key, "1", kCounter});
      if (reply.type == Reply::Type::kString) {
        std::lock_guard<std::mutex> lock(mu);
        ++ledgers[key].increments_acked;
        ++ledgers[key].acked_ops;
      }
      continue;
    }
    const std::string member = "m" + std::to_string(seed) + "-" + std::to_string(n++);
    const Reply reply = client->Command({"ZADD", key, std::to_string(rng() % 1000), member});
    if (reply.type == Reply::Type::kInteger) {
      std::lock_guard<std::mutex> lock(mu);
      ledgers[key].acked.insert(member);
      ++ledgers[key].acked_ops;
    }
  }
}

void RunZsetHammer(int replication_factor) {
  LocalCluster cluster(3, replication_factor, FastFailureFlags(1000));
  cluster.Start();
  const std::vector<std::string> keys = {"zset:a", "zset:b", "zset:c"};
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::map<std::string, ZsetLedger> ledgers;
  RunThroughNodeKill(
      cluster, stop,
      [&](int i) { ZsetHammer(cluster.node(i).port(), 100 + i, keys, stop, mu, ledgers); },
      [] { std::this_thread::sleep_for(1500ms); });
  Client n1(cluster.node(0).port());
  int total = 0;
  for (const std::string& key : keys) {
    CAPTURE(key);
    REQUIRE(ConvergeReplicas(cluster, key));
    const ZsetLedger& ledger = ledgers[key];
    total += ledger.acked_ops;
    std::vector<Entry> first;
    for (int i = 0; i < 3; ++i) {
      CAPTURE(i);
      Client c(cluster.node(i).port());
      const std::vector<Entry> entries = Entries(c, key);
      if (i == 0) first = entries;
      CHECK(entries == first);  // the same members and scores on every replica
      std::map<std::string, std::string> present(entries.begin(), entries.end());
      int missing = 0;
      for (const std::string& m : ledger.acked) {
        if (!ledger.removed.count(m) && !present.count(m)) {
          ++missing;
          MESSAGE("acknowledged and never removed, missing: " << m);
        }
      }
      CHECK(missing == 0);
      // Every acknowledged increment counted, none counted twice.
      const long long counted = present.count(kCounter) != 0 ? std::stoll(present[kCounter]) : 0;
      CHECK(counted >= ledger.increments_acked);
      CHECK(counted <= ledger.increments_sent);
    }
  }
  CHECK(total > 200);  // the test did test something
}

}  // namespace

TEST_CASE(
    "zsets: ZADD/ZREM/ZINCRBY through every node with one killed -9 and restarted lose no "
    "acknowledged member or increment") {
  if (TestingRealRedis()) return;
  RunZsetHammer(3);
}

TEST_CASE("zsets: the same with N=2, where a node that is no replica forwards the write") {
  if (TestingRealRedis()) return;
  RunZsetHammer(2);
}

}  // namespace dynakv::itest
