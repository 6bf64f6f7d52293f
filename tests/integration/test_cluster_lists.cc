// Lists in cluster mode (server/cluster_lists.h): a sequence CRDT inside the key's versions.
// Concurrent LPUSH/RPUSH through nodes on both sides of a partition are all kept, in one order on
// every replica; a pop on each side of a partition may hand out the same element (and nothing
// else is lost); under a kill -9 and a partition, with pushes and pops through every node, every
// acknowledged push is present exactly once unless a pop took it, and the replicas end
// byte-identical.
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
using Strings = std::vector<std::string>;

// LRANGE key 0 -1 through `c` at R ALL.
Strings Range(Client& c, const std::string& key) {
  REQUIRE(c.Command({"CONSISTENCY", "ALL"}) == Reply::Status("OK"));
  const Reply reply = UntilAvailable(c, {"LRANGE", key, "0", "-1"});
  REQUIRE(reply.type == Reply::Type::kArray);
  Strings out;
  for (const Reply& e : reply.elements) out.push_back(e.str);
  return out;
}

// n3 cut off from n1 and n2; returns once each side holds the other unreachable.


std::ptrdiff_t At(const Strings& values, const std::string& v) {
  return std::find(values.begin(), values.end(), v) - values.begin();
}

}  // namespace

TEST_CASE("lists: concurrent pushes on both sides of a partition are all kept, in one order") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3, 3, FastFailureFlags(0));
  auto [n1, n2, n3] = StartWithClients<3>(cluster);
  REQUIRE(n1.Command({"CONSISTENCY", "ALL"}) == Reply::Status("OK"));
  REQUIRE(n1.Command({"RPUSH", "l", "a", "b", "c"}) == Reply::Int(3));
  REQUIRE(n1.Command({"CONSISTENCY", "ONE"}) == Reply::Status("OK"));
  REQUIRE(n3.Command({"CONSISTENCY", "ONE"}) == Reply::Status("OK"));

  PartitionOffNode3(n1, n2, n3);
  // Each side's replies are Redis's over what that side holds.
  CHECK(n3.Command({"RPUSH", "l", "x1", "x2"}) == Reply::Int(5));
  CHECK(n3.Command({"LPUSH", "l", "y1"}) == Reply::Int(6));
  CHECK(n3.Command({"LINSERT", "l", "BEFORE", "b", "b0"}) == Reply::Int(7));
  CHECK(n1.Command({"RPUSH", "l", "z1"}) == Reply::Int(4));
  CHECK(n1.Command({"LPUSH", "l", "w1", "w2"}) == Reply::Int(6));
  CHECK(n1.Command({"LSET", "l", "3", "B"}) == Reply::Status("OK"));  // b -> B
  // Read at QUORUM (n1 and n2): the side's primary may be n2, whose writes at ONE reach n1 later.
  REQUIRE(n1.Command({"CONSISTENCY", "QUORUM"}) == Reply::Status("OK"));
  CHECK(n1.Command({"LRANGE", "l", "0", "-1"}) == Reply::Bulks({"w2", "w1", "a", "B", "c", "z1"}));
  HealPartition(n1, n2, n3);

  REQUIRE(ConvergeReplicas(cluster, "l"));
  Strings first;
  for (int i = 0; i < 3; ++i) {
    CAPTURE(i);
    Client c(cluster.node(i).port());
    const Strings values = Range(c, "l");
    if (i == 0) first = values;
    CHECK(values == first);  // one order everywhere
    CHECK(c.Command({"LLEN", "l"}) == Reply::Int(10));
    CHECK(c.Command({"TYPE", "l"}) == Reply::Status("list"));
    CHECK(c.Command({"OBJECT", "ENCODING", "l"}) == Reply::Bulk("quicklist"));
  }
  // Every push once; LSET replaced b where it was, b0 stands right before it; each side's own
  // order kept; the heads pushed on both sides come before a, the tails after c.
  Strings sorted = first;
  std::sort(sorted.begin(), sorted.end());
  CHECK(sorted == Strings{"B", "a", "b0", "c", "w1", "w2", "x1", "x2", "y1", "z1"});
  CHECK(At(first, "a") < At(first, "b0"));
  CHECK(At(first, "b0") < At(first, "B"));
  CHECK(At(first, "B") < At(first, "c"));
  CHECK(At(first, "w2") < At(first, "w1"));
  CHECK(At(first, "x1") < At(first, "x2"));
  for (const char* head : {"w1", "w2", "y1"}) CHECK(At(first, head) < At(first, "a"));
  for (const char* tail : {"x1", "x2", "z1"}) CHECK(At(first, tail) > At(first, "c"));

  // Replies and errors are Redis's.
  CHECK(n2.Command({"LPUSHX", "nokey", "v"}) == Reply::Int(0));
  CHECK(n2.Command({"RPUSHX", "l", "end"}) == Reply::Int(11));
  CHECK(n2.Command({"LSET", "l", "100", "v"}) == Reply::Error("ERR index out of range"));
  CHECK(n2.Command({"LSET", "nokey", "0", "v"}) == Reply::Error("ERR no such key"));
  CHECK(n2.Command({"LINSERT", "l", "AFTER", "nothere", "v"}) == Reply::Int(-1));
  CHECK(n2.Command({"LPOP", "nokey"}) == Reply::Nil());
  CHECK(n2.Command({"SET", "str", "v"}) == Reply::Status("OK"));
  CHECK(n2.Command({"LPUSH", "str", "v"}) ==
        Reply::Error("WRONGTYPE Operation against a key holding the wrong kind of value"));
  CHECK(n2.Command({"LPUSH", "l"}) ==
        Reply::Error("ERR wrong number of arguments for 'lpush' command"));
  // LREM and LTRIM, then a list emptied by pops is gone, as in Redis.
  REQUIRE(n2.Command({"CONSISTENCY", "ALL"}) == Reply::Status("OK"));
  CHECK(n2.Command({"RPUSH", "r", "x", "y", "x", "z", "x"}) == Reply::Int(5));
  CHECK(n1.Command({"LREM", "r", "-2", "x"}) == Reply::Int(2));
  CHECK(n3.Command({"LTRIM", "r", "1", "-1"}) == Reply::Status("OK"));
  CHECK(Range(n2, "r") == Strings{"y", "z"});
  CHECK(n1.Command({"RPOP", "r", "5"}) == Reply::Bulks({"z", "y"}));
  CHECK(n2.Command({"EXISTS", "r"}) == Reply::Int(0));
  CHECK(n3.Command({"RPUSH", "r", "again"}) == Reply::Int(1));
  CHECK(Range(n1, "r") == Strings{"again"});
  // DEL and EXPIRE through any node reach the list on every replica.
  CHECK(n1.Command({"EXPIRE", "r", "100"}) == Reply::Int(1));
  CHECK(n2.Command({"TTL", "r"}).integer > 90);
  CHECK(n3.Command({"DEL", "r"}) == Reply::Int(1));
  for (int i = 0; i < 3; ++i) {
    Client c(cluster.node(i).port());
    REQUIRE(c.Command({"CONSISTENCY", "ALL"}) == Reply::Status("OK"));
    CHECK(c.Command({"EXISTS", "r"}) == Reply::Int(0));
  }
}

TEST_CASE(
    "lists: a pop on each side of a partition may hand out the same element; pushes made "
    "meanwhile survive and every popped element is gone after healing") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3, 3, FastFailureFlags(0));
  auto [n1, n2, n3] = StartWithClients<3>(cluster);
  REQUIRE(n1.Command({"CONSISTENCY", "ALL"}) == Reply::Status("OK"));
  REQUIRE(n1.Command({"RPUSH", "q", "j1", "j2", "j3", "j4"}) == Reply::Int(4));
  // While nodes agree on the primary, pops through different nodes hand out different elements.
  CHECK(n2.Command({"LPOP", "q"}) == Reply::Bulk("j1"));
  CHECK(n3.Command({"LPOP", "q"}) == Reply::Bulk("j2"));
  REQUIRE(n1.Command({"RPUSH", "q", "j5"}) == Reply::Int(3));
  REQUIRE(n1.Command({"CONSISTENCY", "ONE"}) == Reply::Status("OK"));
  REQUIRE(n3.Command({"CONSISTENCY", "ONE"}) == Reply::Status("OK"));

  PartitionOffNode3(n1, n2, n3);
  // Both sides pop j3: the element is handed out twice (once per side, never twice on one side).
  CHECK(n1.Command({"LPOP", "q"}) == Reply::Bulk("j3"));
  CHECK(n3.Command({"LPOP", "q"}) == Reply::Bulk("j3"));
  // A push on one side is never handed out by a pop on the other before healing.
  CHECK(n3.Command({"RPUSH", "q", "k1"}) == Reply::Int(3));
  CHECK(n1.Command({"RPOP", "q"}) == Reply::Bulk("j5"));
  CHECK(n1.Command({"RPOP", "q"}) == Reply::Bulk("j4"));
  CHECK(n1.Command({"RPOP", "q"}) == Reply::Nil());
  CHECK(n3.Command({"LRANGE", "q", "0", "-1"}) == Reply::Bulks({"j4", "j5", "k1"}));
  HealPartition(n1, n2, n3);

  REQUIRE(ConvergeReplicas(cluster, "q"));
  for (int i = 0; i < 3; ++i) {
    CAPTURE(i);
    Client c(cluster.node(i).port());
    // The pops' removals all apply (j3, j4, j5 gone wherever they were), k1 stays.
    CHECK(Range(c, "q") == Strings{"k1"});
  }
  REQUIRE(n2.Command({"CONSISTENCY", "ALL"}) == Reply::Status("OK"));
  CHECK(n2.Command({"LPOP", "q"}) == Reply::Bulk("k1"));
  CHECK(n1.Command({"LPOP", "q"}) == Reply::Nil());
}

namespace {

// What the clients know of one list: pushes sent, pushes acknowledged, elements pops returned,
// and how many elements pops whose answer was lost may have taken.
struct ListLedger {
  std::set<std::string> sent;
  std::set<std::string> acked;
  std::vector<std::string> popped;
  long long lost_pops = 0;
  int acked_ops = 0;
};

void ListHammer(int port, int seed, const Strings& keys, std::atomic<bool>& stop, std::mutex& mu,
                std::map<std::string, ListLedger>& ledgers) {
  std::mt19937 rng(seed);
  std::unique_ptr<Client> client;
  int n = 0;
  while (!stop.load()) {
    if (!client || !client->ok()) {
      if (client) std::this_thread::sleep_for(50ms);
      client = std::make_unique<Client>(port, 2s);
      // Writes at ONE: a push is acknowledged once the replica that ran it logged it.
      if (client->Command({"CONSISTENCY", "ONE"}) != Reply::Status("OK")) continue;
    }
    const std::string& key = keys[rng() % keys.size()];
    const int what = static_cast<int>(rng() % 10);
    if (what >= 8) {
      const long long count = what == 8 ? 1 : 2;
      const Reply reply =
          count == 1 ? client->Command({"LPOP", key}) : client->Command({"LPOP", key, "2"});
      std::lock_guard<std::mutex> lock(mu);
      ListLedger& ledger = ledgers[key];
      if (reply.type == Reply::Type::kString) {
        ledger.popped.push_back(reply.str);
      } else if (reply.type == Reply::Type::kArray) {
        for (const Reply& e : reply.elements) ledger.popped.push_back(e.str);
      } else if (reply.type != Reply::Type::kNil) {
        ledger.lost_pops += count;  // may have popped, answer lost
      }
      continue;
    }
    const std::string value = "p" + std::to_string(seed) + "-" + std::to_string(n++);
    const std::string value2 = value + "b";
    const bool two = what % 3 == 0;
    {
      std::lock_guard<std::mutex> lock(mu);
      ledgers[key].sent.insert(value);
      if (two) ledgers[key].sent.insert(value2);
    }
    std::vector<std::string> argv = {what < 4 ? "RPUSH" : "LPUSH", key, value};
    if (two) argv.push_back(value2);
    const Reply reply = client->Command(argv);
    if (reply.type == Reply::Type::kInteger) {
      std::lock_guard<std::mutex> lock(mu);
      ledgers[key].acked.insert(value);
      if (two) ledgers[key].acked.insert(value2);
      ++ledgers[key].acked_ops;
    }
  }
}

}  // namespace

TEST_CASE(
    "lists: pushes and pops through every node under a partition and a kill -9: every "
    "acknowledged push is present exactly once unless popped, in one order everywhere") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3, 3, FastFailureFlags(1000));
  cluster.Start();
  const Strings keys = {"list:a", "list:b", "list:c"};
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::map<std::string, ListLedger> ledgers;
  RunThroughNodeKill(
      cluster, stop,
      [&](int i) { ListHammer(cluster.node(i).port(), 200 + i, keys, stop, mu, ledgers); },
      [&] {
        Client n1(cluster.node(0).port());
        Client n2(cluster.node(1).port());
        Client n3(cluster.node(2).port());
        std::this_thread::sleep_for(1000ms);
        PartitionOffNode3(n1, n2, n3);  // both sides keep pushing and popping
        std::this_thread::sleep_for(1500ms);
        HealPartition(n1, n2, n3);
        std::this_thread::sleep_for(500ms);
      });
  Client n1(cluster.node(0).port());
  int total = 0;
  for (const std::string& key : keys) {
    CAPTURE(key);
    REQUIRE(ConvergeReplicas(cluster, key));
    const ListLedger& ledger = ledgers[key];
    total += ledger.acked_ops;
    const std::set<std::string> popped(ledger.popped.begin(), ledger.popped.end());
    Strings first;
    for (int i = 0; i < 3; ++i) {
      CAPTURE(i);
      Client c(cluster.node(i).port());
      const Strings values = Range(c, key);
      if (i == 0) first = values;
      CHECK(values == first);
    }
    // Present at most once, and only what some client pushed and no pop returned.
    std::set<std::string> present;
    for (const std::string& v : first) {
      CHECK_MESSAGE(present.insert(v).second, "present twice: " << v);
      CHECK_MESSAGE(ledger.sent.count(v) == 1, "never pushed: " << v);
      CHECK_MESSAGE(popped.count(v) == 0, "popped, still present: " << v);
    }
    // Every acknowledged push is present or was popped, except at most one per element a pop
    // whose answer was lost may have taken.
    long long missing = 0;
    for (const std::string& v : ledger.acked) {
      if (!present.count(v) && !popped.count(v)) {
        ++missing;
        MESSAGE("acknowledged, never popped by an answered pop, missing: " << v);
      }
    }
    CHECK(missing <= ledger.lost_pops);
    // A pop hands out only pushed elements (twice at most while the nodes disagreed on the
    // primary: reported, not a failure).
    std::map<std::string, int> times;
    for (const std::string& v : ledger.popped) {
      CHECK_MESSAGE(ledger.sent.count(v) == 1, "popped, never pushed: " << v);
      ++times[v];
    }
    int twice = 0;
    for (const auto& [v, t] : times) twice += t > 1 ? 1 : 0;
    MESSAGE(key << ": " << first.size() << " present, " << ledger.popped.size() << " popped ("
                << twice << " handed out more than once), " << ledger.acked.size()
                << " acknowledged pushes, " << ledger.lost_pops << " pops unanswered");
  }
  CHECK(total > 200);  // the test did test something
}

}  // namespace dynakv::itest
