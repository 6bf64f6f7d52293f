// Blocking pops and pops in cluster mode (server/cluster_blocking.h): a client blocked on one
// node is woken by a push through any node, every element goes to exactly one client (pops run
// on the key's primary), waiters on one node are served in the order they blocked, timeouts and
// disconnects stay local, and a replica killed with -9 does not strand the waiters.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"

using dynakv::itest::Client;
using dynakv::itest::EncodeCommand;
using dynakv::itest::FastFailureFlags;
using dynakv::itest::LocalCluster;
using dynakv::itest::RawSocket;
using dynakv::itest::ReadInfoNumber;
using dynakv::itest::Reply;
using dynakv::itest::StartWithClients;
using dynakv::itest::TestingRealRedis;
using dynakv::itest::UntilAvailable;
using dynakv::itest::WaitFor;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kReplyWait = std::chrono::seconds(10);

// A client blocked in `argv` on its own connection to `port`.
std::unique_ptr<RawSocket> SendBlocking(int port, const std::vector<std::string>& argv) {
  auto socket = std::make_unique<RawSocket>(port);
  REQUIRE(socket->Send(EncodeCommand(argv)));
  return socket;
}

Reply ReadOne(RawSocket& socket, std::chrono::milliseconds wait = kReplyWait) {
  std::vector<Reply> replies = socket.ReadReplies(1, wait);
  if (replies.empty()) {
    Reply none;
    none.type = Reply::Type::kIoError;
    none.str = "no reply";
    return none;
  }
  return replies.front();
}

long long Blocked(Client& client) { return ReadInfoNumber(client, "clients", "blocked_clients"); }

// Waits until the nodes behind `clients` have `n` blocked clients between them.
bool AwaitBlocked(const std::vector<Client*>& clients, long long n) {
  return WaitFor([&] {
    long long total = 0;
    for (Client* c : clients) total += Blocked(*c);
    return total == n;
  });
}

// Which node is `key`'s primary: the one through which a pop is forwarded to nobody.
int PrimaryOf(const std::vector<Client*>& clients, const std::string& key) {
  for (std::size_t i = 0; i < clients.size(); ++i) {
    UntilAvailable(*clients[i], {"LLEN", key});  // warms the connections
    std::vector<long long> before;
    for (Client* c : clients) {
      before.push_back(ReadInfoNumber(*c, "cluster", "cluster_forwards_served"));
    }
    CHECK(clients[i]->Command({"LPOP", key}) == Reply::Nil());
    bool forwarded = false;
    for (std::size_t j = 0; j < clients.size(); ++j) {
      if (ReadInfoNumber(*clients[j], "cluster", "cluster_forwards_served") > before[j]) {
        forwarded = true;
      }
    }
    if (!forwarded) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace

TEST_CASE("a client blocked on one node is woken by a push through any node") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3);
  auto [n1, n2, n3] = StartWithClients<3>(cluster);
  CHECK(UntilAvailable(n1, {"DEL", "q"}) == Reply::Int(0));

  // Six rounds, alternating the pushing node. The wake-up comes from the replicas' key-ready
  // notices, not the 1 s re-poll: were it the re-poll, every round waiting under 600 ms would
  // be a 5% chance.
  for (int round = 0; round < 6; ++round) {
    Client& pusher = round % 2 == 0 ? n2 : n3;
    auto blocked = SendBlocking(cluster.node(0).port(), {"BLPOP", "q", "20"});
    REQUIRE(AwaitBlocked({&n1}, 1));
    const std::string element = "e" + std::to_string(round);
    const auto pushed_at = Clock::now();
    CHECK(pusher.Command({"RPUSH", "q", element}) == Reply::Int(1));
    CHECK(ReadOne(*blocked) == Reply::Bulks({"q", element}));
    const auto waited = Clock::now() - pushed_at;
    CHECK(waited < std::chrono::milliseconds(600));
  }
  for (Client* c : {&n1, &n2, &n3}) CHECK(c->Command({"EXISTS", "q"}) == Reply::Int(0));
  CHECK(AwaitBlocked({&n1, &n2, &n3}, 0));
}

TEST_CASE("ten clients blocked across nodes, ten pushes: each element delivered exactly once") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3);
  auto [n1, n2, n3] = StartWithClients<3>(cluster);
  std::vector<Client*> nodes = {&n1, &n2, &n3};
  CHECK(UntilAvailable(n1, {"DEL", "jobs"}) == Reply::Int(0));

  std::vector<std::unique_ptr<RawSocket>> waiters;
  for (int i = 0; i < 10; ++i) {
    waiters.push_back(SendBlocking(cluster.node(i % 3).port(), {"BLPOP", "jobs", "30"}));
  }
  REQUIRE(AwaitBlocked(nodes, 10));
  for (int i = 0; i < 10; ++i) {
    const Reply pushed = nodes[static_cast<std::size_t>(i % 3)]->Command(
        {"RPUSH", "jobs", "job-" + std::to_string(i)});
    CHECK(pushed.type == Reply::Type::kInteger);  // the length: waiters may not have popped yet
  }
  std::multiset<std::string> got;
  for (auto& waiter : waiters) {
    const Reply reply = ReadOne(*waiter);
    REQUIRE(reply.type == Reply::Type::kArray);
    REQUIRE(reply.elements.size() == 2);
    CHECK(reply.elements[0] == Reply::Bulk("jobs"));
    got.insert(reply.elements[1].str);
  }
  std::multiset<std::string> want;
  for (int i = 0; i < 10; ++i) want.insert("job-" + std::to_string(i));
  CHECK(got == want);
  for (Client* c : nodes) CHECK(c->Command({"LLEN", "jobs"}) == Reply::Int(0));
  CHECK(AwaitBlocked(nodes, 0));
}

TEST_CASE("clients blocked on one node are served in the order they blocked") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3);
  auto [n1, n2] = StartWithClients<2>(cluster);
  CHECK(UntilAvailable(n1, {"DEL", "fifo"}) == Reply::Int(0));
  std::vector<std::unique_ptr<RawSocket>> waiters;
  for (int i = 0; i < 3; ++i) {
    waiters.push_back(SendBlocking(cluster.node(0).port(), {"BRPOP", "fifo", "30"}));
    REQUIRE(AwaitBlocked({&n1}, i + 1));
  }
  // BRPOP takes from the tail: the first to block gets "c".
  CHECK(n2.Command({"RPUSH", "fifo", "a", "b", "c"}) == Reply::Int(3));
  CHECK(ReadOne(*waiters[0]) == Reply::Bulks({"fifo", "c"}));
  CHECK(ReadOne(*waiters[1]) == Reply::Bulks({"fifo", "b"}));
  CHECK(ReadOne(*waiters[2]) == Reply::Bulks({"fifo", "a"}));
}

// Redis counts a blocked client in clients_in_timeout_table while it waits with a timeout (not
// with 0, forever); here too for the pops waiting in cluster mode, on the node they came through.
TEST_CASE("INFO clients_in_timeout_table counts the pops blocked in cluster mode with a timeout") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3);
  auto [n1, n2] = StartWithClients<2>(cluster);
  CHECK(UntilAvailable(n1, {"DEL", "tq", "forever", "tz"}) == Reply::Int(0));
  const auto timed = [](Client& c) {
    return ReadInfoNumber(c, "clients", "clients_in_timeout_table");
  };
  auto list = SendBlocking(cluster.node(0).port(), {"BLPOP", "tq", "30"});
  REQUIRE(AwaitBlocked({&n1}, 1));
  auto forever = SendBlocking(cluster.node(0).port(), {"BRPOP", "forever", "0"});
  REQUIRE(AwaitBlocked({&n1}, 2));
  auto zset = SendBlocking(cluster.node(0).port(), {"BZPOPMIN", "tz", "4"});
  REQUIRE(AwaitBlocked({&n1}, 3));
  CHECK(timed(n1) == 2);
  CHECK(timed(n2) == 0);  // counted where they wait only

  // Served, timed out or gone: no longer counted.
  CHECK(n2.Command({"RPUSH", "forever", "x"}) == Reply::Int(1));
  CHECK(ReadOne(*forever) == Reply::Bulks({"forever", "x"}));
  CHECK(timed(n1) == 2);
  CHECK(ReadOne(*zset).type == Reply::Type::kNil);  // its 4 s passed
  CHECK(WaitFor([&] { return timed(n1) == 1; }));
  list->Close();
  CHECK(WaitFor([&] { return timed(n1) == 0 && Blocked(n1) == 0; }));
}

TEST_CASE("concurrent LPOPs through every node deliver each element of a list exactly once") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3);
  cluster.Start();
  Client n1(cluster.node(0).port());
  constexpr int kElements = 1000;
  for (int base = 0; base < kElements; base += 250) {
    std::vector<std::string> argv = {"RPUSH", "big"};
    for (int i = base; i < base + 250; ++i) argv.push_back("el-" + std::to_string(i));
    REQUIRE(UntilAvailable(n1, argv) == Reply::Int(base + 250));
  }
  std::mutex mu;
  std::vector<std::string> popped;
  std::vector<std::string> errors;
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      Client c(cluster.node(t % 3).port());
      const auto deadline = Clock::now() + std::chrono::seconds(120);
      while (Clock::now() < deadline) {
        // Some pop several at once: every form goes through the primary.
        const Reply reply =
            t % 2 == 0 ? c.Command({"LPOP", "big"}) : c.Command({"LPOP", "big", "3"});
        std::lock_guard<std::mutex> lock(mu);
        if (reply.type == Reply::Type::kNil) return;
        if (reply.type == Reply::Type::kString) {
          popped.push_back(reply.str);
        } else if (reply.type == Reply::Type::kArray) {
          for (const Reply& e : reply.elements) popped.push_back(e.str);
        } else {
          errors.push_back(reply.str);
          return;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  CHECK(errors.empty());
  std::sort(popped.begin(), popped.end());
  CHECK(popped.size() == static_cast<std::size_t>(kElements));
  CHECK(std::adjacent_find(popped.begin(), popped.end()) == popped.end());  // none twice
  CHECK(n1.Command({"EXISTS", "big"}) == Reply::Int(0));

  // The same for a sorted set popped by ZPOPMIN, ZPOPMAX and ZMPOP through every node.
  constexpr int kMembers = 300;
  std::vector<std::string> zadd = {"ZADD", "board"};
  for (int i = 0; i < kMembers; ++i) {
    zadd.push_back(std::to_string(i));
    zadd.push_back("m-" + std::to_string(i));
  }
  REQUIRE(n1.Command(zadd) == Reply::Int(kMembers));
  std::vector<std::string> members;
  threads.clear();
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      Client c(cluster.node(t % 3).port());
      const auto deadline = Clock::now() + std::chrono::seconds(120);
      while (Clock::now() < deadline) {
        const Reply reply = t % 3 == 0   ? c.Command({"ZPOPMIN", "board"})
                            : t % 3 == 1 ? c.Command({"ZPOPMAX", "board", "2"})
                                         : c.Command({"ZMPOP", "1", "board", "MIN", "COUNT", "2"});
        std::lock_guard<std::mutex> lock(mu);
        if (reply.type == Reply::Type::kNil ||
            (reply.type == Reply::Type::kArray && reply.elements.empty())) {
          return;
        }
        if (reply.type != Reply::Type::kArray) {
          errors.push_back(reply.str);
          return;
        }
        if (t % 3 == 2) {  // [key, [[member, score] ...]]
          for (const Reply& pair : reply.elements.at(1).elements) {
            members.push_back(pair.elements.at(0).str);
          }
        } else {  // [member, score, member, score ...]
          for (std::size_t i = 0; i < reply.elements.size(); i += 2) {
            members.push_back(reply.elements[i].str);
          }
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  CHECK(errors.empty());
  std::sort(members.begin(), members.end());
  CHECK(members.size() == static_cast<std::size_t>(kMembers));
  CHECK(std::adjacent_find(members.begin(), members.end()) == members.end());
  Client n3(cluster.node(2).port());
  CHECK(n3.Command({"EXISTS", "board"}) == Reply::Int(0));
}

TEST_CASE(
    "blocking pops in cluster mode time out, fractional seconds too, and forget a client "
    "that disconnects") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3);
  auto [n1, n2, n3] = StartWithClients<3>(cluster);
  CHECK(UntilAvailable(n1, {"DEL", "none"}) == Reply::Int(0));

  struct Case {
    std::vector<std::string> argv;
    int min_ms;
  };
  const std::vector<Case> cases = {
      {{"BLPOP", "none", "0.3"}, 300},
      {{"BRPOP", "none", "other", "0.25"}, 250},
      {{"BZPOPMIN", "none", "0.2"}, 200},
      {{"BLMOVE", "none", "dst", "LEFT", "RIGHT", "0.2"}, 200},
      {{"BLMPOP", "0.2", "2", "none", "other", "LEFT"}, 200},
      {{"BZMPOP", "1", "1", "none", "MAX"}, 1000},
  };
  for (const Case& c : cases) {
    CAPTURE(c.argv[0]);
    const auto start = Clock::now();
    const Reply reply = n2.Command(std::vector<std::string>(c.argv));
    const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    CHECK(reply.type == Reply::Type::kNil);  // a null array, as Redis 7.0 answers every list wait
    CHECK(waited.count() >= c.min_ms - 20);  // the loop's clock may be a few ms behind
    CHECK(waited.count() < c.min_ms + 3000);
  }
  CHECK(n3.Command({"BLPOP", "none", "-1"}) == Reply::Error("ERR timeout is negative"));
  CHECK(n3.Command({"BLPOP", "none", "soon"}) ==
        Reply::Error("ERR timeout is not a float or out of range"));
  CHECK(n3.Command({"BLMPOP", "0", "0", "none", "LEFT"}) ==
        Reply::Error("ERR numkeys should be greater than 0"));
  CHECK(n1.Command({"SET", "str", "v"}) == Reply::Status("OK"));
  CHECK(n3.Command({"BLPOP", "str", "0"}) ==
        Reply::Error("WRONGTYPE Operation against a key holding the wrong kind of value"));

  // Disconnected while blocked: its wait ends on its node, and a later push stays in the list.
  auto gone = SendBlocking(cluster.node(0).port(), {"BLPOP", "dq", "0"});
  REQUIRE(AwaitBlocked({&n1}, 1));
  gone->Close();
  CHECK(AwaitBlocked({&n1}, 0));
  CHECK(n2.Command({"RPUSH", "dq", "kept"}) == Reply::Int(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // past a re-poll
  for (Client* c : {&n1, &n2, &n3})
    CHECK(c->Command({"LRANGE", "dq", "0", "-1"}) == Reply::Bulks({"kept"}));
}

TEST_CASE(
    "BLMPOP, BZMPOP, BZPOPMAX and BLMOVE across nodes; LMPOP and ZMPOP run in cluster "
    "mode") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3);
  auto [n1, n2, n3] = StartWithClients<3>(cluster);
  CHECK(UntilAvailable(n1, {"DEL", "ka"}) == Reply::Int(0));

  auto lm =
      SendBlocking(cluster.node(0).port(), {"BLMPOP", "10", "2", "ka", "kb", "LEFT", "COUNT", "2"});
  auto zm = SendBlocking(cluster.node(1).port(), {"BZMPOP", "10", "2", "za", "zb", "MIN"});
  auto zx = SendBlocking(cluster.node(1).port(), {"BZPOPMAX", "zc", "10"});
  auto mv = SendBlocking(cluster.node(2).port(), {"BLMOVE", "src", "dst", "LEFT", "RIGHT", "10"});
  REQUIRE(AwaitBlocked({&n1, &n2, &n3}, 4));
  CHECK(n3.Command({"RPUSH", "kb", "1", "2", "3"}) == Reply::Int(3));
  CHECK(ReadOne(*lm) == Reply::Array({Reply::Bulk("kb"), Reply::Bulks({"1", "2"})}));
  CHECK(n1.Command({"ZADD", "zb", "1", "a", "2", "b"}) == Reply::Int(2));
  CHECK(ReadOne(*zm) ==
        Reply::Array({Reply::Bulk("zb"),
                      Reply::Array({Reply::Array({Reply::Bulk("a"), Reply::Bulk("1")})})}));
  CHECK(n3.Command({"ZADD", "zc", "5", "x", "7", "y"}) == Reply::Int(2));
  CHECK(ReadOne(*zx) == Reply::Bulks({"zc", "y", "7"}));
  CHECK(n1.Command({"RPUSH", "src", "m"}) == Reply::Int(1));
  CHECK(ReadOne(*mv) == Reply::Bulk("m"));
  for (Client* c : {&n1, &n2, &n3}) {
    CHECK(c->Command({"LRANGE", "dst", "0", "-1"}) == Reply::Bulks({"m"}));
    CHECK(c->Command({"EXISTS", "src"}) == Reply::Int(0));
  }

  // The non-blocking forms, keys on different primaries tried in order.
  CHECK(n2.Command({"LMPOP", "2", "missing", "kb", "RIGHT"}) ==
        Reply::Array({Reply::Bulk("kb"), Reply::Bulks({"3"})}));
  CHECK(n3.Command({"LMPOP", "2", "missing", "kb", "RIGHT"}) == Reply::Nil());
  CHECK(n1.Command({"ZMPOP", "2", "missing", "zb", "MAX", "COUNT", "5"}) ==
        Reply::Array({Reply::Bulk("zb"),
                      Reply::Array({Reply::Array({Reply::Bulk("b"), Reply::Bulk("2")})})}));
  CHECK(n1.Command({"LMPOP", "0", "kb", "LEFT"}) ==
        Reply::Error("ERR numkeys should be greater than 0"));
  // A key that already holds something is popped at once, without blocking.
  CHECK(n2.Command({"RPUSH", "ready", "r1", "r2"}) == Reply::Int(2));
  CHECK(n3.Command({"BLMPOP", "1", "3", "x1", "ready", "x2", "RIGHT", "COUNT", "5"}) ==
        Reply::Array({Reply::Bulk("ready"), Reply::Bulks({"r2", "r1"})}));
  CHECK(n1.Command({"BRPOPLPUSH", "empty", "dst", "0.1"}) == Reply::Nil());

  // Keys of one hash tag share a primary: a pop of several of them is one forwarded command.
  std::vector<Client*> nodes = {&n1, &n2, &n3};
  const int tag_primary = PrimaryOf(nodes, "{t}a");
  REQUIRE(tag_primary >= 0);
  Client& via = *nodes[static_cast<std::size_t>((tag_primary + 1) % 3)];
  const long long sent = ReadInfoNumber(via, "cluster", "cluster_forwards_sent");
  CHECK(via.Command({"LMPOP", "3", "{t}a", "{t}b", "{t}c", "LEFT"}) == Reply::Nil());
  CHECK(ReadInfoNumber(via, "cluster", "cluster_forwards_sent") == sent + 1);
}

TEST_CASE("kill -9 of a replica that is not the key's primary: blocked clients are still served") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3, 3, FastFailureFlags(60000));
  auto [n1, n2, n3] = StartWithClients<3>(cluster);
  std::vector<Client*> nodes = {&n1, &n2, &n3};
  CHECK(UntilAvailable(n1, {"DEL", "work"}) == Reply::Int(0));
  const int primary = PrimaryOf(nodes, "work");
  REQUIRE(primary >= 0);
  const int victim = (primary + 1) % 3;
  const int other = (primary + 2) % 3;

  std::vector<std::unique_ptr<RawSocket>> waiters;
  waiters.push_back(SendBlocking(cluster.node(primary).port(), {"BLPOP", "work", "30"}));
  waiters.push_back(SendBlocking(cluster.node(other).port(), {"BLPOP", "work", "30"}));
  waiters.push_back(SendBlocking(cluster.node(victim).port(), {"BLPOP", "work", "30"}));
  REQUIRE(AwaitBlocked(nodes, 3));
  cluster.node(victim).Kill();
  Client& pusher = *nodes[static_cast<std::size_t>(other)];
  CHECK(UntilAvailable(pusher, {"RPUSH", "work", "w1", "w2"}) == Reply::Int(2));
  std::multiset<std::string> got;
  for (std::size_t i = 0; i < 2; ++i) {
    const Reply reply = ReadOne(*waiters[i]);
    REQUIRE(reply.elements.size() == 2);
    got.insert(reply.elements[1].str);
  }
  CHECK(got == std::multiset<std::string>{"w1", "w2"});
  CHECK(nodes[static_cast<std::size_t>(primary)]->Command({"EXISTS", "work"}) == Reply::Int(0));
  // A push after the failure detector holds the victim down is still delivered.
  auto late = SendBlocking(cluster.node(other).port(), {"BLPOP", "work", "30"});
  REQUIRE(AwaitBlocked({nodes[static_cast<std::size_t>(other)]}, 1));
  std::this_thread::sleep_for(std::chrono::milliseconds(2000));
  CHECK(UntilAvailable(*nodes[static_cast<std::size_t>(primary)], {"RPUSH", "work", "w3"}) ==
        Reply::Int(1));
  CHECK(ReadOne(*late) == Reply::Bulks({"work", "w3"}));
}

TEST_CASE(
    "a move between keys of different primaries pops on the source's and pushes on the "
    "destination's") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3);
  auto [n1, n2, n3] = StartWithClients<3>(cluster);
  std::vector<Client*> nodes = {&n1, &n2, &n3};
  CHECK(UntilAvailable(n1, {"DEL", "src"}) == Reply::Int(0));
  const int source_primary = PrimaryOf(nodes, "src");
  REQUIRE(source_primary >= 0);
  std::string dst;
  std::string wrong;  // a string key on another primary than src's
  for (int i = 0; i < 30 && (dst.empty() || wrong.empty()); ++i) {
    const std::string key = "k" + std::to_string(i);
    if (PrimaryOf(nodes, key) == source_primary) continue;
    (dst.empty() ? dst : wrong) = key;
  }
  REQUIRE(!dst.empty());
  REQUIRE(!wrong.empty());

  CHECK(n1.Command({"RPUSH", "src", "a", "b", "c", "d"}) == Reply::Int(4));
  CHECK(n2.Command({"LMOVE", "src", dst, "LEFT", "RIGHT"}) == Reply::Bulk("a"));
  CHECK(n3.Command({"RPOPLPUSH", "src", dst}) == Reply::Bulk("d"));
  // The destination refuses it: the element goes back where it came from.
  CHECK(n1.Command({"SET", wrong, "string"}) == Reply::Status("OK"));
  CHECK(n1.Command({"LMOVE", "src", wrong, "RIGHT", "LEFT"}) ==
        Reply::Error("WRONGTYPE Operation against a key holding the wrong kind of value"));
  CHECK(n2.Command({"LMOVE", "src", dst, "UP", "LEFT"}) == Reply::Error("ERR syntax error"));
  CHECK(n2.Command({"LMOVE", "empty", dst, "LEFT", "LEFT"}) == Reply::Nil());
  for (Client* c : nodes) {
    CHECK(c->Command({"LRANGE", "src", "0", "-1"}) == Reply::Bulks({"b", "c"}));
    CHECK(c->Command({"LRANGE", dst, "0", "-1"}) == Reply::Bulks({"d", "a"}));
    CHECK(c->Command({"GET", wrong}) == Reply::Bulk("string"));
  }
  // Blocked on an empty source, woken by a push through another node.
  CHECK(n1.Command({"DEL", "src"}) == Reply::Int(1));
  auto blocked =
      SendBlocking(cluster.node(2).port(), {"BLMOVE", "src", dst, "RIGHT", "LEFT", "10"});
  REQUIRE(AwaitBlocked({&n3}, 1));
  CHECK(n1.Command({"RPUSH", "src", "x", "y"}) == Reply::Int(2));
  CHECK(ReadOne(*blocked) == Reply::Bulk("y"));
  for (Client* c : nodes) {
    CHECK(c->Command({"LRANGE", "src", "0", "-1"}) == Reply::Bulks({"x"}));
    CHECK(c->Command({"LRANGE", dst, "0", "-1"}) == Reply::Bulks({"y", "d", "a"}));
  }
}

TEST_CASE(
    "kill -9 of the key's primary: once it is held down the next replica serves the waiters") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3, 3, FastFailureFlags(60000));
  auto [n1, n2, n3] = StartWithClients<3>(cluster);
  std::vector<Client*> nodes = {&n1, &n2, &n3};
  CHECK(UntilAvailable(n1, {"DEL", "fail"}) == Reply::Int(0));
  const int primary = PrimaryOf(nodes, "fail");
  REQUIRE(primary >= 0);
  const int a = (primary + 1) % 3;
  const int b = (primary + 2) % 3;
  std::vector<std::unique_ptr<RawSocket>> waiters;
  waiters.push_back(SendBlocking(cluster.node(a).port(), {"BLPOP", "fail", "30"}));
  waiters.push_back(SendBlocking(cluster.node(b).port(), {"BRPOP", "fail", "30"}));
  REQUIRE(
      AwaitBlocked({nodes[static_cast<std::size_t>(a)], nodes[static_cast<std::size_t>(b)]}, 2));
  cluster.node(primary).Kill();
  // Until the failure detector holds it down, pushes routed to it fail UNAVAILABLE (retried).
  Client& pusher = *nodes[static_cast<std::size_t>(a)];
  Reply pushed;
  REQUIRE(WaitFor(
      [&] {
        pushed = pusher.Command({"RPUSH", "fail", "f1", "f2"});
        return !pushed.IsError();
      },
      std::chrono::seconds(20)));
  CHECK(pushed == Reply::Int(2));
  std::multiset<std::string> got;
  for (auto& waiter : waiters) {
    const Reply reply = ReadOne(*waiter);
    REQUIRE(reply.elements.size() == 2);
    got.insert(reply.elements[1].str);
  }
  CHECK(got == std::multiset<std::string>{"f1", "f2"});
  CHECK(nodes[static_cast<std::size_t>(b)]->Command({"EXISTS", "fail"}) == Reply::Int(0));
}
