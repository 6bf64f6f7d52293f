// Counters in cluster mode (server/cluster_counters.h): INCR, INCRBY, DECR and DECRBY through
// every node at once, with a node killed -9 and restarted in between, lose no acknowledged
// increment; every replica ends with the same bytes; a SET or DEL concurrent with increments
// (across a partition) keeps the increments it did not see; transactions and scripts keep the
// counter's merge.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "rdb_util.h"
#include "reference_pair.h"

using dynakv::itest::Client;
using dynakv::itest::ConvergeReplicas;
using dynakv::itest::FastFailureFlags;
using dynakv::itest::LocalCluster;
using dynakv::itest::ReadInfoNumber;
using dynakv::itest::Reply;
using dynakv::itest::TestingRealRedis;
using dynakv::itest::UntilAvailable;
using dynakv::itest::WaitFor;

namespace {

using namespace std::chrono_literals;

// What the clients know of one key: the sum of acknowledged increments, and the bounds the
// unacknowledged ones (an error or a lost connection: applied or not) put around it.
struct Ledger {
  long long acked = 0;
  long long maybe_low = 0;   // sum of the negative indeterminate increments
  long long maybe_high = 0;  // ... and of the positive ones
  int acked_ops = 0;
  int indeterminate_ops = 0;
};

// One client per node, each issuing the INCR family on `keys` until `stop`, reconnecting when
// its node is down.
void Hammer(int port, int seed, const std::vector<std::string>& keys, std::atomic<bool>& stop,
            std::mutex& mu, std::map<std::string, Ledger>& ledgers) {
  std::mt19937 rng(seed);
  auto client = std::make_unique<Client>(port, 2s);
  while (!stop.load()) {
    if (!client->ok()) {
      std::this_thread::sleep_for(50ms);
      client = std::make_unique<Client>(port, 2s);
      continue;
    }
    const std::string& key = keys[rng() % keys.size()];
    long long delta = 0;
    std::vector<std::string> argv;
    switch (rng() % 4) {
      case 0:
        argv = {"INCR", key};
        delta = 1;
        break;
      case 1:
        argv = {"DECR", key};
        delta = -1;
        break;
      case 2:
        delta = static_cast<long long>(rng() % 100) + 1;
        argv = {"INCRBY", key, std::to_string(delta)};
        break;
      default:
        delta = -static_cast<long long>(rng() % 50) - 1;
        argv = {"DECRBY", key, std::to_string(-delta)};
    }
    const Reply reply = client->Command(argv);
    std::lock_guard<std::mutex> lock(mu);
    Ledger& ledger = ledgers[key];
    if (reply.type == Reply::Type::kInteger) {
      ledger.acked += delta;
      ++ledger.acked_ops;
    } else {
      // An error (UNAVAILABLE: some replicas may hold it) or a lost connection: unknown.
      (delta < 0 ? ledger.maybe_low : ledger.maybe_high) += delta;
      ++ledger.indeterminate_ops;
    }
  }
}

// `wipe`: the killed node also loses its disk, so it comes back with no copy of any counter
// and a new incarnation (a new actor).
void RunHammerTest(int replication_factor, bool wipe = false) {
  LocalCluster cluster(3, replication_factor, FastFailureFlags(1000));
  cluster.Start();
  const std::vector<std::string> keys = {"ctr:a", "ctr:b", "ctr:c", "ctr:d"};
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::map<std::string, Ledger> ledgers;
  {
    // Every key starts as a string holding 1000 (its base once it is a counter).
    Client n1(cluster.node(0).port());
    for (const std::string& key : keys) {
      REQUIRE(n1.Command({"SET", key, "1000", "W", "ALL"}) == Reply::Status("OK"));
      ledgers[key].acked = 1000;
    }
  }
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back(Hammer, cluster.node(i).port(), 100 + i, std::cref(keys), std::ref(stop),
                         std::ref(mu), std::ref(ledgers));
  }
  std::this_thread::sleep_for(1500ms);
  cluster.node(1).Kill();  // kill -9, mid-stream
  if (wipe) dynakv::itest::WipeDataDir(cluster.node(1));
  std::this_thread::sleep_for(1500ms);
  cluster.node(1).Start();
  std::this_thread::sleep_for(1500ms);
  stop = true;
  for (std::thread& t : threads) t.join();

  Client n1(cluster.node(0).port());
  REQUIRE(WaitFor([&] { return ReadInfoNumber(n1, "cluster", "cluster_members_reachable") == 3; },
                  20s));
  int total_acked = 0;
  for (const std::string& key : keys) {
    CAPTURE(key);
    const Ledger ledger = ledgers[key];
    total_acked += ledger.acked_ops;
    REQUIRE(ConvergeReplicas(cluster, key));
    const long long low = ledger.acked + ledger.maybe_low;
    const long long high = ledger.acked + ledger.maybe_high;
    MESSAGE(key << ": " << ledger.acked_ops << " acknowledged (sum " << ledger.acked << "), "
                << ledger.indeterminate_ops << " indeterminate: final must be in [" << low << ", "
                << high << "]");
    for (int i = 0; i < 3; ++i) {
      CAPTURE(i);
      Client c(cluster.node(i).port());
      const Reply value = UntilAvailable(c, {"GET", key, "R", "ALL"});
      REQUIRE(value.type == Reply::Type::kString);
      const long long final_value = std::stoll(value.str);
      CHECK(final_value >= low);
      CHECK(final_value <= high);
      // A counter reads as the string holding its number.
      CHECK(c.Command({"TYPE", key}) == Reply::Status("string"));
      CHECK(c.Command({"STRLEN", key}) ==
            Reply::Int(static_cast<long long>(std::to_string(final_value).size())));
    }
  }
  CHECK(total_acked > 300);  // the test did test something
  long long forwarded = 0;
  for (int i = 0; i < 3; ++i) {
    Client c(cluster.node(i).port());
    forwarded += ReadInfoNumber(c, "cluster", "cluster_counter_forwards_sent");
  }
  // With N=3 every node is a replica of every key; with N=2 some increments went through a node
  // that is not, and were forwarded.
  CHECK((replication_factor == 3 ? forwarded == 0 : forwarded > 0));
}

}  // namespace

TEST_CASE(
    "counters: no acknowledged increment is lost through every node while one is killed "
    "and restarted (N=3)") {
  if (TestingRealRedis()) return;
  RunHammerTest(3);
}

TEST_CASE("counters: the same with N=2, where a node that is no replica forwards the increment") {
  if (TestingRealRedis()) return;
  RunHammerTest(2);
}

TEST_CASE("counters: the same when the killed node comes back with its disk wiped") {
  if (TestingRealRedis()) return;
  RunHammerTest(3, true);
}

TEST_CASE("counters: a SET or DEL across a partition keeps the increments it did not see") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3, 3, FastFailureFlags(0));
  cluster.Start();
  Client n1(cluster.node(0).port());
  Client n3(cluster.node(2).port());
  // Every node a counter's replica first, the whole state everywhere.
  REQUIRE(n1.Command({"SET", "k", "10", "W", "ALL"}) == Reply::Status("OK"));
  REQUIRE(n1.Command({"INCR", "k", "W", "ALL"}) == Reply::Int(11));
  REQUIRE(n1.Command({"INCRBY", "d", "3", "W", "ALL"}) == Reply::Int(3));
  REQUIRE(n1.Command({"INCRBY", "e", "2", "W", "ALL"}) == Reply::Int(2));

  // n3 cut off from the others.
  REQUIRE(n3.Command({"DEBUG", "PARTITION", "n1", "n2"}) == Reply::Status("OK"));
  REQUIRE(n1.Command({"DEBUG", "PARTITION", "n3"}) == Reply::Status("OK"));
  Client n2(cluster.node(1).port());
  REQUIRE(n2.Command({"DEBUG", "PARTITION", "n3"}) == Reply::Status("OK"));

  // Through n3 (only its own copy): increments the other side does not see.
  CHECK(n3.Command({"INCRBY", "k", "5", "W", "ONE"}) == Reply::Int(16));
  CHECK(n3.Command({"INCRBY", "d", "4", "W", "ONE"}) == Reply::Int(7));
  // Through n1: a SET and a DEL that saw only what was there before the partition.
  CHECK(n1.Command({"SET", "k", "100"}) == Reply::Status("OK"));
  CHECK(n1.Command({"INCR", "k"}) == Reply::Int(101));
  CHECK(n1.Command({"DEL", "d"}) == Reply::Int(1));
  CHECK(n1.Command({"GET", "d"}) == Reply::Nil());
  CHECK(n1.Command({"DEL", "e"}) == Reply::Int(1));

  for (Client* c : {&n1, &n2, &n3}) {
    REQUIRE(c->Command({"DEBUG", "PARTITION"}) == Reply::Status("OK"));
  }
  REQUIRE(WaitFor([&] { return ReadInfoNumber(n1, "cluster", "cluster_members_reachable") == 3; }));
  for (const char* key : {"k", "d", "e"}) REQUIRE(ConvergeReplicas(cluster, key));
  for (int i = 0; i < 3; ++i) {
    CAPTURE(i);
    Client c(cluster.node(i).port());
    // The SET's 100, its later INCR, and the 5 it did not see.
    CHECK(UntilAvailable(c, {"GET", "k", "R", "ALL"}) == Reply::Bulk("106"));
    // The DEL removed the 3 it saw; the 4 it did not see is the value.
    CHECK(UntilAvailable(c, {"GET", "d", "R", "ALL"}) == Reply::Bulk("4"));
    // A DEL that saw every increment leaves the key absent.
    CHECK(UntilAvailable(c, {"GET", "e", "R", "ALL"}) == Reply::Nil());
    CHECK(c.Command({"EXISTS", "e"}) == Reply::Int(0));
  }
  // The key keeps counting from the merged value, and a SET to a non-integer ends the counter.
  CHECK(n2.Command({"DECRBY", "d", "10", "W", "ALL"}) == Reply::Int(-6));
  CHECK(n2.Command({"SET", "d", "hello", "W", "ALL"}) == Reply::Status("OK"));
  CHECK(n3.Command({"INCR", "d"}) == Reply::Error("ERR value is not an integer or out of range"));
  CHECK(n3.Command({"GET", "d"}) == Reply::Bulk("hello"));
}

TEST_CASE("counters: MULTI/EXEC and scripts incrementing a counter keep concurrent INCRs") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3, 3, FastFailureFlags(1000));
  cluster.Start();
  std::atomic<int> plain{0};
  std::atomic<int> atomic{0};
  std::thread incr([&] {
    Client n2(cluster.node(1).port());
    for (int i = 0; i < 150; ++i) {
      if (n2.Command({"INCR", "tx"}).type == Reply::Type::kInteger) ++plain;
    }
  });
  Client n1(cluster.node(0).port());
  for (int i = 0; i < 50; ++i) {
    if (i % 2 == 0) {
      REQUIRE(n1.Command({"MULTI"}) == Reply::Status("OK"));
      REQUIRE(n1.Command({"INCRBY", "tx", "2"}) == Reply::Status("QUEUED"));
      const Reply exec = n1.Command({"EXEC"});
      if (exec.type == Reply::Type::kArray) atomic += 2;
    } else {
      const Reply eval = n1.Command({"EVAL", "return redis.call('INCRBY', KEYS[1], 2)", "1", "tx"});
      if (eval.type == Reply::Type::kInteger) atomic += 2;
    }
  }
  incr.join();
  REQUIRE(plain > 0);
  REQUIRE(ConvergeReplicas(cluster, "tx"));
  for (int i = 0; i < 3; ++i) {
    Client c(cluster.node(i).port());
    CHECK(UntilAvailable(c, {"GET", "tx", "R", "ALL"}) ==
          Reply::Bulk(std::to_string(plain.load() + atomic.load())));
  }
}

TEST_CASE("counters: an INCR in a transaction on a key that is no counter yet merges with "
          "increments made meanwhile across a partition") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3, 3, FastFailureFlags(0));
  cluster.Start();
  Client n1(cluster.node(0).port());
  Client n2(cluster.node(1).port());
  Client n3(cluster.node(2).port());
  REQUIRE(n3.Command({"DEBUG", "PARTITION", "n1", "n2"}) == Reply::Status("OK"));
  REQUIRE(n1.Command({"DEBUG", "PARTITION", "n3"}) == Reply::Status("OK"));
  REQUIRE(n2.Command({"DEBUG", "PARTITION", "n3"}) == Reply::Status("OK"));
  CHECK(n3.Command({"INCR", "t", "W", "ONE"}) == Reply::Int(1));  // only n3 knows
  // n1 and n2 see no such key: the transaction and the script start it at 0.
  REQUIRE(n1.Command({"MULTI"}) == Reply::Status("OK"));
  REQUIRE(n1.Command({"INCRBY", "t", "2"}) == Reply::Status("QUEUED"));
  CHECK(n1.Command({"EXEC"}) == Reply::Array({Reply::Int(2)}));
  CHECK(n2.Command({"EVAL", "return redis.call('INCRBY', KEYS[1], 10)", "1", "u"}) ==
        Reply::Int(10));
  CHECK(n3.Command({"INCRBY", "u", "5", "W", "ONE"}) == Reply::Int(5));
  for (Client* c : {&n1, &n2, &n3}) {
    REQUIRE(c->Command({"DEBUG", "PARTITION"}) == Reply::Status("OK"));
  }
  REQUIRE(WaitFor([&] { return ReadInfoNumber(n1, "cluster", "cluster_members_reachable") == 3; }));
  for (const char* key : {"t", "u"}) REQUIRE(ConvergeReplicas(cluster, key));
  for (Client* c : {&n1, &n2, &n3}) {
    CHECK(UntilAvailable(*c, {"GET", "t", "R", "ALL"}) == Reply::Bulk("3"));
    CHECK(UntilAvailable(*c, {"GET", "u", "R", "ALL"}) == Reply::Bulk("15"));
  }
  CHECK(n3.Command({"INCR", "t"}) == Reply::Int(4));
}

TEST_CASE("counters: replies, errors, TTL and reads of a counter key are Redis's") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3, 2, FastFailureFlags(0));
  cluster.Start();
  Client n1(cluster.node(0).port());
  Client n2(cluster.node(1).port());
  Client n3(cluster.node(2).port());
  // Through every node (a non-replica forwards): the same replies as redis-server gives.
  for (Client* c : {&n1, &n2, &n3}) {
    const std::string key = "r" + std::to_string(c == &n1 ? 1 : c == &n2 ? 2 : 3);
    CHECK(c->Command({"INCR", key}) == Reply::Int(1));
    CHECK(c->Command({"INCRBY", key, "41"}) == Reply::Int(42));
    CHECK(c->Command({"DECR", key}) == Reply::Int(41));
    CHECK(c->Command({"DECRBY", key, "-9"}) == Reply::Int(50));
    CHECK(c->Command({"INCRBY", key, "x"}) ==
          Reply::Error("ERR value is not an integer or out of range"));
    CHECK(c->Command({"DECRBY", key, "-9223372036854775808"}) ==
          Reply::Error("ERR decrement would overflow"));
    CHECK(c->Command({"GET", key}) == Reply::Bulk("50"));
    CHECK(c->Command({"OBJECT", "ENCODING", key}) == Reply::Bulk("int"));
    CHECK(c->Command({"APPEND", key, "7"}) == Reply::Int(3));  // a reset to 507
    CHECK(c->Command({"INCR", key}) == Reply::Int(508));
  }
  // At SERIAL an increment is a compare-and-set round (read-modify-write), written as a reset:
  // it and the plain increments around it all count.
  CHECK(n2.Command({"INCR", "r1", "W", "SERIAL"}) == Reply::Int(509));
  CHECK(n3.Command({"INCR", "r1"}) == Reply::Int(510));
  CHECK(n1.Command({"GET", "r1", "R", "ALL"}) == Reply::Bulk("510"));
  CHECK(n1.Command({"SET", "big", "9223372036854775806"}) == Reply::Status("OK"));
  CHECK(n2.Command({"INCR", "big"}) == Reply::Int(9223372036854775807LL));
  CHECK(n3.Command({"INCR", "big"}) == Reply::Error("ERR increment or decrement would overflow"));
  CHECK(n1.Command({"GET", "big"}) == Reply::Bulk("9223372036854775807"));
  CHECK(n1.Command({"SET", "text", "abc"}) == Reply::Status("OK"));
  CHECK(n2.Command({"INCR", "text"}) ==
        Reply::Error("ERR value is not an integer or out of range"));
  CHECK(n1.Command({"SET", "zero", "007"}) == Reply::Status("OK"));
  CHECK(n3.Command({"INCR", "zero"}) ==
        Reply::Error("ERR value is not an integer or out of range"));
  CHECK(n1.Command({"RPUSH", "list", "a"}) == Reply::Int(1));
  CHECK(n2.Command({"INCR", "list"}) ==
        Reply::Error("WRONGTYPE Operation against a key holding the wrong kind of value"));

  // INCR keeps the TTL; EXPIRE and PERSIST of a counter keep its value.
  CHECK(n1.Command({"SET", "ttl", "5", "EX", "100"}) == Reply::Status("OK"));
  CHECK(n2.Command({"INCR", "ttl"}) == Reply::Int(6));
  Reply ttl = n3.Command({"TTL", "ttl"});
  CHECK((ttl.type == Reply::Type::kInteger && ttl.integer > 90 && ttl.integer <= 100));
  CHECK(n1.Command({"EXPIRE", "ttl", "200"}) == Reply::Int(1));
  CHECK(n2.Command({"INCRBY", "ttl", "4"}) == Reply::Int(10));
  ttl = n3.Command({"TTL", "ttl"});
  CHECK((ttl.type == Reply::Type::kInteger && ttl.integer > 190 && ttl.integer <= 200));
  CHECK(n1.Command({"PERSIST", "ttl"}) == Reply::Int(1));
  CHECK(n3.Command({"TTL", "ttl"}) == Reply::Int(-1));
  CHECK(n2.Command({"GET", "ttl"}) == Reply::Bulk("10"));
  // An expired counter starts again at 0.
  CHECK(n1.Command({"PEXPIRE", "ttl", "50"}) == Reply::Int(1));
  std::this_thread::sleep_for(100ms);
  CHECK(n2.Command({"GET", "ttl"}) == Reply::Nil());
  CHECK(n3.Command({"INCR", "ttl"}) == Reply::Int(1));
  CHECK(n1.Command({"TTL", "ttl"}) == Reply::Int(-1));
  // GETDEL and a recreated key.
  CHECK(n1.Command({"GETDEL", "ttl"}) == Reply::Bulk("1"));
  CHECK(n2.Command({"EXISTS", "ttl"}) == Reply::Int(0));
  CHECK(n3.Command({"DECR", "ttl"}) == Reply::Int(-1));
  // DUMP of a counter is a string's, and RESTORE of it elsewhere reads back the number.
  const Reply dump = n1.Command({"DUMP", "r1"});
  REQUIRE(dump.type == Reply::Type::kString);
  CHECK(n2.Command({"RESTORE", "copy", "0", dump.str}) == Reply::Status("OK"));
  CHECK(n3.Command({"GET", "copy"}) == Reply::Bulk("510"));
}

TEST_CASE("counters: a replica whose copy of a counter is unreadable counts on as a new actor") {
  if (TestingRealRedis()) return;
  // No periodic anti-entropy: it would repair the copy before the increments below.
  LocalCluster cluster(3, 3, FastFailureFlags(0));
  cluster.Start();
  {
    Client n1(cluster.node(0).port());
    for (int i = 1; i <= 5; ++i) REQUIRE(n1.Command({"INCR", "k", "W", "ALL"}) == Reply::Int(i));
  }
  // n1's copy of k replaced by bytes that are no version set (a single node's plain value): it
  // reads as no copy, as a damaged block does, while n2 and n3 still hold n1's entry at 5.
  cluster.node(0).Stop();
  {
    dynakv::itest::ServerProcess single({"--dir", cluster.node(0).dir()});
    single.Start();
    Client c(single.port());
    REQUIRE(c.Command({"SET", "k", "garbage"}) == Reply::Status("OK"));
    single.Stop();
  }
  cluster.node(0).Start();
  Client n1(cluster.node(0).port());
  REQUIRE(WaitFor([&] { return ReadInfoNumber(n1, "cluster", "cluster_members_reachable") == 3; }));
  REQUIRE(n1.Command({"DEBUG", "LOCALGET", "k"}) == Reply::Nil());
  // Counted from its own (empty) copy: the replies are its local view, 1, 2, 3. Under its old
  // name these would be entries 1..3 of an actor the others hold at 5, and vanish in the join.
  for (int i = 1; i <= 3; ++i) {
    CHECK(UntilAvailable(n1, {"INCR", "k", "W", "ALL"}) == Reply::Int(i));
  }
  for (int i = 0; i < 3; ++i) {
    Client c(cluster.node(i).port());
    CHECK(UntilAvailable(c, {"GET", "k", "R", "ALL"}) == Reply::Bulk("8"));
  }
}

TEST_CASE("counters: SAVE and BGSAVE CLUSTER write a counter as the string of its number") {
  if (TestingRealRedis() || !dynakv::itest::ReferenceAvailable()) return;
  LocalCluster cluster(3, 3, FastFailureFlags(0));
  cluster.Start();
  Client n1(cluster.node(0).port());
  Client n2(cluster.node(1).port());
  CHECK(n1.Command({"INCRBY", "c", "40", "W", "ALL"}) == Reply::Int(40));
  CHECK(n2.Command({"INCRBY", "c", "2", "W", "ALL"}) == Reply::Int(42));
  const std::string dump = cluster.node(0).dir() + "/dump.rdb";
  REQUIRE(n1.Command({"SAVE"}) == Reply::Status("OK"));  // this node's own replica
  const std::map<std::string, std::string> expected = {{"0 c", "string 42 ttl:-1"}};
  CHECK(dynakv::itest::LoadedByRedis(dynakv::itest::ReadFile(dump), {0}) == expected);
  REQUIRE(n1.Command({"BGSAVE", "CLUSTER"}) == Reply::Status("Background saving started"));
  REQUIRE(
      WaitFor([&] { return dynakv::itest::PersistenceInfo(n1, "rdb_bgsave_in_progress") == "0"; }));
  CHECK(dynakv::itest::PersistenceInfo(n1, "rdb_last_bgsave_status") == "ok");
  CHECK(dynakv::itest::LoadedByRedis(dynakv::itest::ReadFile(dump), {0}) == expected);
}
