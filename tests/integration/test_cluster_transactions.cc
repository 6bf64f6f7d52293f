// MULTI/EXEC, WATCH and keyspace notifications of transactions in cluster mode: keys sharing a
// hash tag run atomically at the coordinator through any node; keys of different tags get Redis
// Cluster's CROSSSLOT (compared with a real redis-server in cluster mode); queued errors abort
// EXEC; WATCH sees writes made through other coordinators.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "reference_pair.h"

using dynakv::itest::Client;
using dynakv::itest::EncodeCommand;
using dynakv::itest::FastFailureFlags;
using dynakv::itest::LocalCluster;
using dynakv::itest::LocalDbSize;
using dynakv::itest::RawSocket;
using dynakv::itest::ReferenceAvailable;
using dynakv::itest::ReferenceRedis;
using dynakv::itest::Reply;
using dynakv::itest::ServerProcess;
using dynakv::itest::StartWithClients;
using dynakv::itest::TestingRealRedis;
using dynakv::itest::UntilAvailable;
using dynakv::itest::WaitFor;
using namespace std::chrono_literals;

namespace {

constexpr std::string_view kCrossSlot = "CROSSSLOT Keys in request don't hash to the same slot";
constexpr std::string_view kExecAbort =
    "EXECABORT Transaction discarded because of previous errors.";

// One optimistic increment of `key` (WATCH, GET, MULTI, SET, EXEC), retried until EXEC applies
// it; returns the value it wrote, or -1 on an unexpected reply.
long long WatchedIncrement(Client& c, const std::string& key, int* retries) {
  for (int attempt = 0; attempt < 2000; ++attempt) {
    if (c.Command({"WATCH", key}) != Reply::Status("OK")) return -1;
    const Reply current = c.Command({"GET", key});
    const long long value = current.type == Reply::Type::kNil ? 0 : std::stoll(current.str);
    c.Command({"MULTI"});
    c.Command({"SET", key, std::to_string(value + 1)});
    const Reply exec = c.Command({"EXEC"});
    if (exec == Reply::Array({Reply::Status("OK")})) return value + 1;
    if (exec.type != Reply::Type::kNil) return -1;
    ++*retries;
  }
  return -1;
}

}  // namespace

TEST_CASE("cluster MULTI/EXEC runs a tagged transaction through any coordinator") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3);
  auto [n1, n2, n3] = StartWithClients<3>(cluster);
  REQUIRE(UntilAvailable(n1, {"SET", "{user:1}:name", "ada"}) == Reply::Status("OK"));

  CHECK(n2.Command({"MULTI"}) == Reply::Status("OK"));
  CHECK(n2.Command({"MULTI"}) == Reply::Error("ERR MULTI calls can not be nested"));
  CHECK(n2.Command({"INCRBY", "{user:1}:total", "5"}) == Reply::Status("QUEUED"));
  CHECK(n2.Command({"RPUSH", "{user:1}:cart", "apple", "pear"}) == Reply::Status("QUEUED"));
  CHECK(n2.Command({"INCR", "{user:1}:cart"}) == Reply::Status("QUEUED"));  // fails at EXEC
  CHECK(n2.Command({"GET", "{user:1}:name"}) == Reply::Status("QUEUED"));
  CHECK(n2.Command({"PING"}) == Reply::Status("QUEUED"));
  CHECK(n2.Command({"EXEC"}) ==
        Reply::Array({Reply::Int(5), Reply::Int(2),
                      Reply::Error("WRONGTYPE Operation against a key holding the wrong kind of "
                                   "value"),
                      Reply::Bulk("ada"), Reply::Status("PONG")}));
  for (Client* c : {&n1, &n2, &n3}) {
    CHECK(c->Command({"GET", "{user:1}:total"}) == Reply::Bulk("5"));
    CHECK(c->Command({"LRANGE", "{user:1}:cart", "0", "-1"}) == Reply::Bulks({"apple", "pear"}));
  }
  CHECK(n3.Command({"EXEC"}) == Reply::Error("ERR EXEC without MULTI"));

  // A script inside MULTI runs against the transaction's snapshot, its KEYS read with it.
  CHECK(n3.Command({"MULTI"}) == Reply::Status("OK"));
  CHECK(n3.Command({"EVAL", "return redis.call('INCRBY', KEYS[1], ARGV[1])", "1", "{user:1}:total",
                    "10"}) == Reply::Status("QUEUED"));
  CHECK(n3.Command({"EVAL", "return redis.call('GET', 'other')", "0"}) == Reply::Status("QUEUED"));
  CHECK(n3.Command({"GET", "{user:1}:total"}) == Reply::Status("QUEUED"));
  const Reply with_script = n3.Command({"EXEC"});
  REQUIRE(with_script.elements.size() == 3);
  CHECK(with_script.elements[0] == Reply::Int(15));
  CHECK(with_script.elements[1].IsError());  // an undeclared key, as outside MULTI
  CHECK(with_script.elements[2] == Reply::Bulk("15"));
  CHECK(n1.Command({"GET", "{user:1}:total"}) == Reply::Bulk("15"));

  // DISCARD drops the queue.
  CHECK(n3.Command({"MULTI"}) == Reply::Status("OK"));
  CHECK(n3.Command({"SET", "{user:1}:name", "bob"}) == Reply::Status("QUEUED"));
  CHECK(n3.Command({"DISCARD"}) == Reply::Status("OK"));
  CHECK(n1.Command({"GET", "{user:1}:name"}) == Reply::Bulk("ada"));

  // An error while queuing (unknown command, wrong arity, R/W option, VGET) aborts EXEC and
  // applies nothing.
  const std::vector<std::vector<std::string>> bad = {{"NOSUCHCOMMAND", "x"},
                                                     {"SET", "{user:1}:name"},
                                                     {"SET", "{user:1}:name", "v", "W", "ALL"},
                                                     {"VGET", "{user:1}:name"}};
  for (const std::vector<std::string>& command : bad) {
    CAPTURE(command[0]);
    CHECK(n1.Command({"MULTI"}) == Reply::Status("OK"));
    CHECK(n1.Command({"SET", "{user:1}:name", "carol"}) == Reply::Status("QUEUED"));
    CHECK(n1.Command(command).IsError());
    CHECK(n1.Command({"INCR", "{user:1}:total"}) == Reply::Status("QUEUED"));
    CHECK(n1.Command({"EXEC"}) == Reply::Error(kExecAbort));
    CHECK(n2.Command({"GET", "{user:1}:name"}) == Reply::Bulk("ada"));
    CHECK(n2.Command({"GET", "{user:1}:total"}) == Reply::Bulk("15"));
  }
  // Cluster mode has database 0 only.
  CHECK(n1.Command({"SELECT", "1"}) == Reply::Error("ERR SELECT is not allowed in cluster mode"));
  CHECK(n1.Command({"SELECT", "0"}) == Reply::Status("OK"));
}

TEST_CASE("cluster CROSSSLOT replies match a real redis-server in cluster mode") {
  if (TestingRealRedis() || !ReferenceAvailable()) return;
  LocalCluster cluster(3);
  cluster.Start();
  // Redis puts its cluster bus at port + 10000 unless told otherwise, which a high free port
  // leaves out of range: a free one of its own.
  int bus_port = 30000 + static_cast<int>(::getpid() % 20000);
  while (!dynakv::itest::LoopbackPortFree(bus_port)) ++bus_port;
  ServerProcess redis({"--cluster-enabled", "yes", "--cluster-port", std::to_string(bus_port)},
                      ReferenceRedis());
  redis.Start();
  Client ref(redis.port());
  REQUIRE(ref.Command({"CLUSTER", "ADDSLOTSRANGE", "0", "16383"}) == Reply::Status("OK"));
  REQUIRE(WaitFor([&] {
    return ref.Command({"CLUSTER", "INFO"}).str.find("cluster_state:ok") != std::string::npos;
  }));
  Client ours(cluster.node(1).port());
  REQUIRE(UntilAvailable(ours, {"DEL", "{a}x"}) == Reply::Int(0));

  const std::vector<std::vector<std::string>> script = {
      // Each command is fine alone, the queue is not: EXEC answers CROSSSLOT, nothing applied.
      {"MULTI"},
      {"SET", "{a}x", "1"},
      {"SET", "{b}y", "2"},
      {"EXEC"},
      {"GET", "{a}x"},
      // One command's own keys differ: refused as queued, EXEC aborts.
      {"MULTI"},
      {"MSET", "{a}x", "1", "{b}y", "2"},
      {"SET", "{a}z", "1"},
      {"EXEC"},
      {"EXISTS", "{a}z"},
      // A tagged transaction goes through.
      {"MULTI"},
      {"SET", "{a}x", "1"},
      {"INCR", "{a}y"},
      {"MSET", "a", "2", "{a}z", "3"},
      {"EXEC"},
      {"MULTI"},
      {"MGET", "{a}x", "{a}y", "a", "{a}z"},
      {"EXEC"},
      // Queued errors abort.
      {"MULTI"},
      {"SET", "{a}x", "1"},
      {"FOO"},
      {"EXEC"},
      {"WATCH", "{a}x", "{b}y"},
      {"WATCH", "{a}x", "a", "{a}"},
      {"EVAL", "return 1", "2", "{a}x", "{b}y"},
      {"EVAL", "return KEYS[2]", "2", "{a}x", "a"},
      {"EVAL_RO", "return 1", "2", "x", "y"},
      {"EVALSHA", "0000000000000000000000000000000000000000", "2", "{a}x", "{b}y"},
      {"EVALSHA", "0000000000000000000000000000000000000000", "1", "{a}x"},
      {"SELECT", "1"},
      {"EXEC"},
      {"DISCARD"},
      {"UNWATCH"},
  };
  for (const std::vector<std::string>& command : script) {
    const Reply expected = ref.Command(command);
    CAPTURE(dynakv::itest::DescribeCommand(command));
    CHECK(ours.Command(command) == expected);
  }
}

TEST_CASE("cluster WATCH sees writes through other coordinators, expiry and its own tag") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3);
  auto [n1, n2] = StartWithClients<2>(cluster);
  REQUIRE(UntilAvailable(n1, {"SET", "{w}k", "0"}) == Reply::Status("OK"));

  // Another client's write through another node makes EXEC fail (nil), applying nothing.
  CHECK(n1.Command({"WATCH", "{w}k", "{w}other"}) == Reply::Status("OK"));
  CHECK(n2.Command({"SET", "{w}k", "from n2"}) == Reply::Status("OK"));
  CHECK(n1.Command({"MULTI"}) == Reply::Status("OK"));
  CHECK(n1.Command({"SET", "{w}k", "from n1"}) == Reply::Status("QUEUED"));
  CHECK(n1.Command({"SET", "{w}side", "effect"}) == Reply::Status("QUEUED"));
  CHECK(n1.Command({"EXEC"}) == Reply::Nil());
  CHECK(n2.Command({"GET", "{w}k"}) == Reply::Bulk("from n2"));
  CHECK(n2.Command({"EXISTS", "{w}side"}) == Reply::Int(0));

  // Unchanged: applied. A key that did not exist and still does not counts as unchanged.
  CHECK(n1.Command({"WATCH", "{w}k", "{w}missing"}) == Reply::Status("OK"));
  CHECK(n1.Command({"MULTI"}) == Reply::Status("OK"));
  CHECK(n1.Command({"SET", "{w}k", "from n1"}) == Reply::Status("QUEUED"));
  CHECK(n1.Command({"EXEC"}) == Reply::Array({Reply::Status("OK")}));
  CHECK(n2.Command({"GET", "{w}k"}) == Reply::Bulk("from n1"));

  // Creating a watched key, deleting one and its expiry are changes too.
  CHECK(n1.Command({"WATCH", "{w}missing"}) == Reply::Status("OK"));
  CHECK(n2.Command({"SET", "{w}missing", "now here"}) == Reply::Status("OK"));
  CHECK(n1.Command({"MULTI"}) == Reply::Status("OK"));
  CHECK(n1.Command({"PING"}) == Reply::Status("QUEUED"));
  CHECK(n1.Command({"EXEC"}) == Reply::Nil());
  CHECK(n2.Command({"SET", "{w}short", "v", "PX", "150"}) == Reply::Status("OK"));
  CHECK(n1.Command({"WATCH", "{w}short"}) == Reply::Status("OK"));
  std::this_thread::sleep_for(300ms);
  CHECK(n1.Command({"MULTI"}) == Reply::Status("OK"));
  CHECK(n1.Command({"PING"}) == Reply::Status("QUEUED"));
  CHECK(n1.Command({"EXEC"}) == Reply::Nil());

  // UNWATCH forgets; WATCH inside MULTI is refused.
  CHECK(n1.Command({"WATCH", "{w}k"}) == Reply::Status("OK"));
  CHECK(n2.Command({"SET", "{w}k", "again"}) == Reply::Status("OK"));
  CHECK(n1.Command({"UNWATCH"}) == Reply::Status("OK"));
  CHECK(n1.Command({"MULTI"}) == Reply::Status("OK"));
  CHECK(n1.Command({"WATCH", "{w}k"}) == Reply::Error("ERR WATCH inside MULTI is not allowed"));
  CHECK(n1.Command({"GET", "{w}k"}) == Reply::Status("QUEUED"));
  CHECK(n1.Command({"EXEC"}) == Reply::Array({Reply::Bulk("again")}));

  // Watched keys must share the transaction's tag: EXEC answers CROSSSLOT and applies nothing.
  CHECK(n1.Command({"WATCH", "{other}k"}) == Reply::Status("OK"));
  CHECK(n1.Command({"MULTI"}) == Reply::Status("OK"));
  CHECK(n1.Command({"SET", "{w}k", "crossed"}) == Reply::Status("QUEUED"));
  CHECK(n1.Command({"EXEC"}) == Reply::Error(kCrossSlot));
  CHECK(n2.Command({"GET", "{w}k"}) == Reply::Bulk("again"));
  CHECK(n1.Command({"EXEC"}) == Reply::Error("ERR EXEC without MULTI"));

  // RESP3: a failed EXEC is a null.
  RawSocket raw(cluster.node(0).port());
  REQUIRE(raw.Send(EncodeCommand({"HELLO", "3"}) + EncodeCommand({"PING"})));
  REQUIRE(raw.ReadUntil("+PONG\r\n", 5s).ends_with("+PONG\r\n"));
  REQUIRE(raw.Send(EncodeCommand({"WATCH", "{w}k"}) + EncodeCommand({"MULTI"}) +
                   EncodeCommand({"PING"})));
  REQUIRE(raw.ReadReplies(3, 5s).size() == 3);
  CHECK(n2.Command({"SET", "{w}k", "changed"}) == Reply::Status("OK"));
  REQUIRE(raw.Send(EncodeCommand({"EXEC"})));
  CHECK(raw.ReadBytes(3, 5s) == "_\r\n");
}

TEST_CASE("cluster WATCH retry loop: 20 clients incrementing one tagged key") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3);
  cluster.Start();
  {
    Client first(cluster.node(0).port());
    REQUIRE(UntilAvailable(first, {"SET", "{counter}n", "0"}) == Reply::Status("OK"));
  }
  constexpr int kClients = 20;
  constexpr int kIncrements = 10;
  // Through one coordinator its key lock orders the EXECs: every lost race is seen, the total
  // is exact.
  auto run = [&](bool spread, std::vector<long long>* written, int* retries) {
    std::vector<std::thread> threads;
    std::vector<std::vector<long long>> per(kClients);
    std::vector<int> per_retries(kClients, 0);
    for (int i = 0; i < kClients; ++i) {
      threads.emplace_back([&, i] {
        Client c(cluster.node(spread ? i % 3 : 0).port(), 30s);
        for (int n = 0; n < kIncrements; ++n) {
          per[i].push_back(WatchedIncrement(c, "{counter}n", &per_retries[i]));
        }
      });
    }
    for (std::thread& t : threads) t.join();
    for (int i = 0; i < kClients; ++i) {
      written->insert(written->end(), per[i].begin(), per[i].end());
      *retries += per_retries[i];
    }
  };
  std::vector<long long> written;
  int retries = 0;
  run(false, &written, &retries);
  MESSAGE("one coordinator: " << retries << " retries");
  Client check(cluster.node(2).port());
  CHECK(check.Command({"GET", "{counter}n"}) ==
        Reply::Bulk(std::to_string(kClients * kIncrements)));
  std::set<long long> distinct(written.begin(), written.end());
  CHECK(distinct.size() == written.size());  // no two EXECs wrote the same value
  CHECK(*distinct.begin() == 1);

  // Through three coordinators the key locks do not order the EXECs: WATCH sees every write
  // that completed before an EXEC read the key, but two EXECs racing through different nodes
  // may both apply (their versions become siblings, last-write-wins). What holds: no value is
  // skipped or goes backwards, the final value is the highest written, and it is never above
  // the number of applied EXECs (README).
  REQUIRE(check.Command({"SET", "{counter}n", "0"}) == Reply::Status("OK"));
  written.clear();
  retries = 0;
  run(true, &written, &retries);
  CHECK(std::count(written.begin(), written.end(), -1) == 0);
  distinct = std::set<long long>(written.begin(), written.end());
  const long long final_value = std::stoll(check.Command({"GET", "{counter}n"}).str);
  MESSAGE("three coordinators: " << retries << " retries, final " << final_value << " of "
                                 << written.size() << " applied EXECs");
  CHECK(final_value == *distinct.rbegin());
  CHECK(final_value <= static_cast<long long>(written.size()));
  CHECK(static_cast<long long>(distinct.size()) == final_value);  // 1..final, none skipped
}

TEST_CASE("cluster keyspace notifications fire on the coordinator for a transaction's commands") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3);
  cluster.Start();
  Client n1(cluster.node(0).port());
  REQUIRE(n1.Command({"CONFIG", "SET", "notify-keyspace-events", "KEA"}) == Reply::Status("OK"));
  RawSocket events(cluster.node(0).port());
  REQUIRE(events.Send(EncodeCommand({"PSUBSCRIBE", "__keyevent@0__:*"})));
  REQUIRE(events.ReadReplies(1, 5s).size() == 1);
  REQUIRE(UntilAvailable(n1, {"MULTI"}) == Reply::Status("OK"));
  REQUIRE(n1.Command({"SET", "{n}a", "1"}) == Reply::Status("QUEUED"));
  REQUIRE(n1.Command({"INCR", "{n}a"}) == Reply::Status("QUEUED"));
  REQUIRE(n1.Command({"EXEC"}) == Reply::Array({Reply::Status("OK"), Reply::Int(2)}));
  const std::vector<Reply> got = events.ReadReplies(2, 5s);
  REQUIRE(got.size() == 2);
  CHECK(got[0] == Reply::Bulks({"pmessage", "__keyevent@0__:*", "__keyevent@0__:set", "{n}a"}));
  CHECK(got[1] == Reply::Bulks({"pmessage", "__keyevent@0__:*", "__keyevent@0__:incrby", "{n}a"}));
}

TEST_CASE("cluster kill -9 of a replica during a stream of transactions: each all or nothing") {
  if (TestingRealRedis()) return;
  for (const std::string write_level : {"QUORUM", "ALL"}) {
    CAPTURE(write_level);
    LocalCluster cluster(3, 3, FastFailureFlags(600000));
    cluster.Start();
    Client setup(cluster.node(0).port());
    REQUIRE(UntilAvailable(setup, {"MSET", "{t}a", "0", "{t}b", "0"}) == Reply::Status("OK"));
    std::atomic<int> applied{0};
    std::atomic<int> failed{0};
    std::atomic<bool> stop{false};
    std::thread stream([&] {
      Client c(cluster.node(0).port(), 30s);
      if (c.Command({"CONSISTENCY", "QUORUM", write_level}) != Reply::Status("OK")) return;
      while (!stop) {
        c.Command({"MULTI"});
        c.Command({"INCR", "{t}a"});
        c.Command({"INCR", "{t}b"});
        const Reply exec = c.Command({"EXEC"});
        if (exec.type == Reply::Type::kArray && exec.elements.size() == 2 &&
            exec.elements[0] == exec.elements[1]) {
          ++applied;
        } else {
          ++failed;
        }
      }
    });
    REQUIRE(WaitFor([&] { return applied >= 50; }, 20s));
    cluster.node(2).Kill();
    const int at_kill = applied + failed;
    WaitFor([&] { return applied + failed >= at_kill + 30; }, 10s);
    stop = true;
    stream.join();
    cluster.node(2).Start();
    // The killed replica's own copy, as its log kept it: each transaction reached it as one
    // batch stored as one atomic group, so both keys or neither.
    {
      Client killed(cluster.node(2).port());
      REQUIRE(killed.Command({"CONSISTENCY", "ONE"}) == Reply::Status("OK"));
      const Reply local = UntilAvailable(killed, {"MGET", "{t}a", "{t}b"});
      REQUIRE(local.elements.size() == 2);
      CHECK(local.elements[0] == local.elements[1]);
    }
    MESSAGE(std::string(write_level)
            << ": " << applied.load() << " applied, " << failed.load() << " failed");
    CHECK(applied > 50);
    if (write_level == "QUORUM") CHECK(failed <= 5);  // only around the kill itself
    // Every node reads both keys equal: no transaction is half there, whichever replicas answer.
    for (int i = 0; i < 3; ++i) {
      Client c(cluster.node(i).port());
      REQUIRE(c.Command({"CONSISTENCY", "ALL"}) == Reply::Status("OK"));
      const Reply both = UntilAvailable(c, {"MGET", "{t}a", "{t}b"});
      REQUIRE(both.elements.size() == 2);
      CHECK(both.elements[0] == both.elements[1]);
      const long long value = std::stoll(both.elements[0].str);
      CHECK(value >= applied);
      CHECK(value <= applied + failed);
    }
  }
}

TEST_CASE("cluster EXEC and EVAL whose writes miss W answer the write's error") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3, 3, FastFailureFlags(600000));
  cluster.Start();
  Client c(cluster.node(0).port());
  REQUIRE(UntilAvailable(c, {"SET", "{f}a", "0"}) == Reply::Status("OK"));
  cluster.node(2).Stop();
  REQUIRE(c.Command({"CONSISTENCY", "QUORUM", "ALL"}) == Reply::Status("OK"));
  REQUIRE(c.Command({"MULTI"}) == Reply::Status("OK"));
  REQUIRE(c.Command({"INCR", "{f}a"}) == Reply::Status("QUEUED"));
  REQUIRE(c.Command({"INCR", "{f}b"}) == Reply::Status("QUEUED"));
  CHECK(c.Command({"EXEC"}) == Reply::Error("UNAVAILABLE not enough replicas (needed 3, got 2)"));
  CHECK(c.Command({"EVAL", "return redis.call('INCR', KEYS[1])", "1", "{f}a"}) ==
        Reply::Error("UNAVAILABLE not enough replicas (needed 3, got 2)"));
  // As every cluster write, a failed one is not rolled back where it landed (README).
  REQUIRE(c.Command({"CONSISTENCY", "QUORUM"}) == Reply::Status("OK"));
  CHECK(c.Command({"MGET", "{f}a", "{f}b"}) == Reply::Bulks({"2", "1"}));
  // A read that cannot meet R fails the whole transaction before anything runs.
  REQUIRE(c.Command({"CONSISTENCY", "ALL", "QUORUM"}) == Reply::Status("OK"));
  REQUIRE(c.Command({"MULTI"}) == Reply::Status("OK"));
  REQUIRE(c.Command({"INCR", "{f}a"}) == Reply::Status("QUEUED"));
  CHECK(c.Command({"EXEC"}) == Reply::Error("UNAVAILABLE not enough replicas (needed 3, got 2)"));
  REQUIRE(c.Command({"CONSISTENCY", "QUORUM"}) == Reply::Status("OK"));
  CHECK(c.Command({"GET", "{f}a"}) == Reply::Bulk("2"));
}

TEST_CASE("cluster hash tags: keys sharing a tag live on the same replicas") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3, /*replication_factor=*/2);
  cluster.Start();
  Client c(cluster.node(0).port());
  REQUIRE(UntilAvailable(c, {"SET", "{tag}:0", "v"}) == Reply::Status("OK"));
  for (int i = 1; i < 30; ++i) {
    REQUIRE(c.Command({"SET", "{tag}:" + std::to_string(i), "v"}) == Reply::Status("OK"));
  }
  // Each node's own replica (LocalDbSize): two nodes hold all 30 keys, the third none of them.
  std::vector<long long> sizes;
  for (int i = 0; i < 3; ++i) {
    Client node(cluster.node(i).port());
    sizes.push_back(LocalDbSize(node).integer);
  }
  std::sort(sizes.begin(), sizes.end());
  CHECK(sizes == std::vector<long long>{0, 30, 30});
}
