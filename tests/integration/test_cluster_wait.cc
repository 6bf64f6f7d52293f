// WAIT in cluster mode (server/cluster_wait.h): it counts the replicas that hold the
// connection's last write, including the acknowledgements that arrive after the write was
// answered at W; it blocks (without blocking the node) until enough did or the timeout passes,
// and answers at once inside MULTI, for a client that wrote nothing, and when enough hold it.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "harness.h"

using dynakv::itest::Client;
using dynakv::itest::EncodeCommand;
using dynakv::itest::LocalCluster;
using dynakv::itest::RawSocket;
using dynakv::itest::ReadInfoNumber;
using dynakv::itest::Reply;
using dynakv::itest::TestingRealRedis;
using dynakv::itest::WaitFor;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

const Reply kOk = Reply::Status("OK");
// A partitioned replica counts as failed this fast, so a W=2 write is not held up by it.
const dynakv::itest::Flags kShortTimeout = {"--cluster-request-timeout-ms", "400"};

long long ElapsedMs(Clock::time_point since) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - since).count();
}

}  // namespace

TEST_CASE("WAIT counts the replicas holding the connection's last write") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3, 3, kShortTimeout);
  cluster.Start();
  Client a(cluster.node(0).port());

  // Nothing written yet: every live replica holds it (Redis: every connected replica).
  CHECK(a.Command({"WAIT", "3", "0"}) == Reply::Int(3));
  CHECK(a.Command({"WAIT", "x", "0"}) ==
        Reply::Error("ERR value is not an integer or out of range"));
  CHECK(a.Command({"WAIT", "1", "-1"}) == Reply::Error("ERR timeout is negative"));
  CHECK(a.Command({"WAIT", "1", "1.5"}) ==
        Reply::Error("ERR timeout is not an integer or out of range"));

  // Answered at W=1; the other two replicas acknowledge after the reply, and WAIT sees them.
  REQUIRE(a.Command({"SET", "k", "v1", "W", "1"}) == kOk);
  auto start = Clock::now();
  CHECK(a.Command({"WAIT", "3", "5000"}) == Reply::Int(3));
  CHECK(ElapsedMs(start) < 2000);
  // Forever (0) returns too once enough hold it.
  CHECK(a.Command({"WAIT", "3", "0"}) == Reply::Int(3));
  // More than N: the count once the timeout passed, as Redis with too few replicas.
  start = Clock::now();
  CHECK(a.Command({"WAIT", "4", "300"}) == Reply::Int(3));
  CHECK(ElapsedMs(start) >= 250);

  // A read does not change the last write; a batch (MULTI/EXEC) does.
  CHECK(a.Command({"GET", "k"}) == Reply::Bulk("v1"));
  CHECK(a.Command({"WAIT", "3", "1000"}) == Reply::Int(3));
  REQUIRE(a.Command({"MULTI"}) == kOk);
  REQUIRE(a.Command({"SET", "{t}a", "1"}) == Reply::Status("QUEUED"));
  REQUIRE(a.Command({"SET", "{t}b", "2"}) == Reply::Status("QUEUED"));
  REQUIRE(a.Command({"EXEC"}).elements.size() == 2);
  CHECK(a.Command({"WAIT", "3", "5000"}) == Reply::Int(3));

  // One replica cut off from the coordinator (node 1 = n1 is a replica of every key: N = 3).
  REQUIRE(a.Command({"DEBUG", "PARTITION", cluster.id(2)}) == kOk);
  REQUIRE(a.Command({"SET", "k", "v2", "W", "2"}) == kOk);
  start = Clock::now();
  CHECK(a.Command({"WAIT", "2", "0"}) == Reply::Int(2));
  CHECK(ElapsedMs(start) < 500);
  start = Clock::now();
  CHECK(a.Command({"WAIT", "3", "1000"}) == Reply::Int(2));
  const long long waited = ElapsedMs(start);
  CHECK(waited >= 950);
  CHECK(waited < 3000);

  // Inside MULTI it never blocks (Redis): the count as it stands.
  REQUIRE(a.Command({"MULTI"}) == kOk);
  REQUIRE(a.Command({"WAIT", "3", "0"}) == Reply::Status("QUEUED"));
  start = Clock::now();
  const Reply exec = a.Command({"EXEC"});
  REQUIRE(exec.elements.size() == 1);
  CHECK(exec.elements[0] == Reply::Int(2));
  CHECK(ElapsedMs(start) < 1000);
  // Not from scripts (WAIT is noscript, as in Redis).
  CHECK(a.Command({"EVAL", "return redis.call('wait', 1, 0)", "0"}).type == Reply::Type::kError);

  // Blocked forever: the node goes on serving others, INFO counts it, CLIENT UNBLOCK answers
  // it the count, and a blocked client that disconnects is forgotten.
  Client other(cluster.node(0).port());
  const long long blocked_id = a.Command({"CLIENT", "ID"}).integer;
  RawSocket waiting(cluster.node(0).port());
  // The raw socket's own last write, then a WAIT that cannot be met.
  REQUIRE(waiting.Send(EncodeCommand({"SET", "k", "v3", "W", "2"})));
  REQUIRE(waiting.ReadReplies(1, milliseconds(5000)).size() == 1);
  REQUIRE(waiting.Send(EncodeCommand({"CLIENT", "ID"})));
  const std::vector<Reply> id = waiting.ReadReplies(1, milliseconds(5000));
  REQUIRE(id.size() == 1);
  REQUIRE(waiting.Send(EncodeCommand({"WAIT", "3", "0"})));
  CHECK(WaitFor([&] { return ReadInfoNumber(other, "clients", "blocked_clients") == 1; }));
  CHECK(ReadInfoNumber(other, "clients", "clients_in_timeout_table") == 0);  // no timeout
  CHECK(other.Command({"GET", "k"}) == Reply::Bulk("v3"));
  CHECK(waiting.ReadReplies(1, milliseconds(300)).empty());
  CHECK(other.Command({"CLIENT", "UNBLOCK", std::to_string(id[0].integer)}) == Reply::Int(1));
  const std::vector<Reply> unblocked = waiting.ReadReplies(1, milliseconds(5000));
  REQUIRE(unblocked.size() == 1);
  CHECK(unblocked[0] == Reply::Int(2));
  CHECK(other.Command({"CLIENT", "UNBLOCK", std::to_string(blocked_id)}) == Reply::Int(0));
  // With a timeout it is in Redis's clients_timeout_table too, until it goes.
  REQUIRE(waiting.Send(EncodeCommand({"WAIT", "3", "60000"})));
  CHECK(WaitFor([&] { return ReadInfoNumber(other, "clients", "blocked_clients") == 1; }));
  CHECK(ReadInfoNumber(other, "clients", "clients_in_timeout_table") == 1);
  waiting.Close();
  CHECK(WaitFor([&] { return ReadInfoNumber(other, "clients", "blocked_clients") == 0; }));
  CHECK(ReadInfoNumber(other, "clients", "clients_in_timeout_table") == 0);

  // Healed: a new write reaches all three again.
  REQUIRE(a.Command({"DEBUG", "PARTITION"}) == kOk);
  CHECK(WaitFor([&] {
    return a.Command({"SET", "k", "v4", "W", "1"}) == kOk &&
           a.Command({"WAIT", "3", "2000"}) == Reply::Int(3);
  }));
}

TEST_CASE("WAIT on a single node answers 0 at once, as Redis without replicas") {
  if (TestingRealRedis()) return;
  dynakv::itest::ServerProcess server;
  server.Start();
  Client c(server.port());
  REQUIRE(c.Command({"SET", "k", "v"}) == kOk);
  const auto start = Clock::now();
  CHECK(c.Command({"WAIT", "1", "0"}) == Reply::Int(0));
  CHECK(ElapsedMs(start) < 1000);
}

namespace {

// Which node is `key`'s primary (lists and sorted sets run there): the one through which a pop
// of nothing is forwarded to nobody.
int PrimaryOf(std::vector<Client>& clients, const std::string& key) {
  for (std::size_t i = 0; i < clients.size(); ++i) {
    std::vector<long long> before;
    for (Client& c : clients)
      before.push_back(ReadInfoNumber(c, "cluster", "cluster_forwards_served"));
    if (clients[i].Command({"LPOP", key}) != Reply::Nil()) return -1;
    bool forwarded = false;
    for (std::size_t j = 0; j < clients.size(); ++j) {
      forwarded |= ReadInfoNumber(clients[j], "cluster", "cluster_forwards_served") > before[j];
    }
    if (!forwarded) return static_cast<int>(i);
  }
  return -1;
}

// WAIT numreplicas timeout on `c`, with how long it took.
long long TimedWait(Client& c, int numreplicas, int timeout_ms, long long* elapsed_ms) {
  const auto start = Clock::now();
  const Reply reply = c.Command({"WAIT", std::to_string(numreplicas), std::to_string(timeout_ms)});
  *elapsed_ms = ElapsedMs(start);
  REQUIRE(reply.type == Reply::Type::kInteger);
  return reply.integer;
}

}  // namespace

TEST_CASE("WAIT counts list and sorted-set writes run on their key's primary, forwarded or not") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3, 3, kShortTimeout);
  cluster.Start();
  std::vector<Client> clients;
  for (int i = 0; i < 3; ++i) clients.emplace_back(cluster.node(i).port());
  const int primary = PrimaryOf(clients, "jobs");
  REQUIRE(primary >= 0);
  const int via = (primary + 1) % 3;    // a coordinator that forwards to the primary
  const int third = (primary + 2) % 3;  // the replica the primary will not reach
  Client& p = clients[static_cast<std::size_t>(primary)];
  Client& v = clients[static_cast<std::size_t>(via)];
  for (Client* c : {&p, &v}) REQUIRE(c->Command({"CONSISTENCY", "QUORUM", "1"}) == kOk);
  long long elapsed = 0;

  // Healthy: answered at W=1 on the primary, the other acknowledgements counted there after the
  // reply; the coordinator asks the primary for them.
  REQUIRE(v.Command({"RPUSH", "jobs", "a"}) == Reply::Int(1));
  CHECK(TimedWait(v, 3, 5000, &elapsed) == 3);
  CHECK(elapsed < 2000);
  CHECK(v.Command({"WAIT", "3", "0"}) == Reply::Int(3));  // forever returns too
  // ({jobs}z has the replicas of jobs, in the same order.)
  REQUIRE(p.Command({"ZADD", "{jobs}z", "1", "a"}) == Reply::Int(1));
  CHECK(TimedWait(p, 3, 5000, &elapsed) == 3);

  // The primary cannot reach the third replica: its writes are on two replicas only, and WAIT
  // says so wherever the command came through (the client's previous write was on three).
  REQUIRE(p.Command({"DEBUG", "PARTITION", cluster.id(third)}) == kOk);
  REQUIRE(v.Command({"RPUSH", "jobs", "b"}) == Reply::Int(2));
  CHECK(TimedWait(v, 2, 0, &elapsed) == 2);
  CHECK(elapsed < 1000);
  CHECK(TimedWait(v, 3, 1000, &elapsed) == 2);
  CHECK(elapsed >= 950);
  CHECK(elapsed < 4000);
  REQUIRE(p.Command({"RPUSH", "jobs", "c"}) == Reply::Int(3));
  CHECK(TimedWait(p, 3, 800, &elapsed) == 2);
  CHECK(elapsed >= 750);
  // A ZADD runs on the replica it came through (cluster_zsets.h), a sorted-set pop on the
  // primary, forwarded.
  REQUIRE(p.Command({"ZADD", "{jobs}z", "2", "b"}) == Reply::Int(1));
  CHECK(TimedWait(p, 3, 800, &elapsed) == 2);
  REQUIRE(v.Command({"ZPOPMIN", "{jobs}z"}) == Reply::Array({Reply::Bulk("a"), Reply::Bulk("1")}));
  CHECK(TimedWait(v, 3, 800, &elapsed) == 2);
  // Inside MULTI: the count as the coordinator knows it, without waiting.
  REQUIRE(v.Command({"MULTI"}) == kOk);
  REQUIRE(v.Command({"WAIT", "3", "0"}) == Reply::Status("QUEUED"));
  const Reply exec = v.Command({"EXEC"});
  REQUIRE(exec.elements.size() == 1);
  CHECK(exec.elements[0] == Reply::Int(2));
  // A pop that finds nothing writes nothing: WAIT still answers for the last write.
  CHECK(v.Command({"LPOP", "nothing"}) == Reply::Nil());
  CHECK(TimedWait(v, 3, 500, &elapsed) == 2);
  // A pop that finds something is a write; a move between two keys is two.
  CHECK(v.Command({"LPOP", "jobs"}) == Reply::Bulk("a"));
  CHECK(TimedWait(v, 3, 500, &elapsed) == 2);

  // Healed: the primary reaches all three again, and the coordinator learns it by asking.
  REQUIRE(p.Command({"DEBUG", "PARTITION"}) == kOk);
  CHECK(WaitFor([&] {
    return v.Command({"RPUSH", "jobs", "d"}).type == Reply::Type::kInteger &&
           v.Command({"WAIT", "3", "2000"}) == Reply::Int(3);
  }));
  CHECK(v.Command({"LMOVE", "jobs", "jobs:done", "LEFT", "RIGHT"}).type == Reply::Type::kString);
  CHECK(TimedWait(v, 3, 5000, &elapsed) == 3);
  // Blocked clients: the pop that serves them is their last write.
  CHECK(v.Command({"BLPOP", "jobs", "1"}).type == Reply::Type::kArray);
  CHECK(TimedWait(v, 3, 5000, &elapsed) == 3);
  CHECK(ReadInfoNumber(v, "cluster", "cluster_forwards_sent") > 0);
}

TEST_CASE("WAIT counts SERIAL writes: the replicas that acknowledged the Paxos commit") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3, 3, kShortTimeout);
  cluster.Start();
  Client a(cluster.node(0).port());
  long long elapsed = 0;
  // A plain write every replica holds first: WAIT must not answer for it afterwards.
  REQUIRE(a.Command({"SET", "k", "v0"}) == kOk);
  CHECK(TimedWait(a, 3, 5000, &elapsed) == 3);

  // The coordinator cannot reach n3: a majority (n1, n2) accepts and commits.
  REQUIRE(a.Command({"DEBUG", "PARTITION", cluster.id(2)}) == kOk);
  REQUIRE(a.Command({"SET", "k", "v1", "W", "SERIAL"}) == kOk);
  CHECK(TimedWait(a, 2, 0, &elapsed) == 2);
  CHECK(elapsed < 1000);
  CHECK(TimedWait(a, 3, 1000, &elapsed) == 2);
  CHECK(elapsed >= 950);
  // A SERIAL command that changes nothing (NX on an existing key) is not a write.
  REQUIRE(a.Command({"SET", "k2", "x"}) == kOk);  // on n1 and n2 only, at W=QUORUM
  CHECK(a.Command({"SET", "k", "v2", "NX", "W", "SERIAL"}) == Reply::Nil());
  CHECK(TimedWait(a, 3, 500, &elapsed) == 2);

  // Healed: the commit reaches all three, counted after the reply as well.
  REQUIRE(a.Command({"DEBUG", "PARTITION"}) == kOk);
  CHECK(WaitFor([&] {
    return a.Command({"SET", "k", "v3", "W", "SERIAL"}) == kOk &&
           a.Command({"WAIT", "3", "2000"}) == Reply::Int(3);
  }));
  // A list write at SERIAL runs as a Paxos round on the key's primary: counted there.
  Client b(cluster.node(1).port());
  REQUIRE(b.Command({"CONSISTENCY", "SERIAL", "SERIAL"}) == kOk);
  REQUIRE(b.Command({"RPUSH", "serial:list", "x"}) == Reply::Int(1));
  CHECK(TimedWait(b, 3, 5000, &elapsed) == 3);
}

TEST_CASE("WAIT counts increments, run on a replica of their key, here or forwarded") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3, 2, kShortTimeout);  // N = 2: one node holds no copy of a key
  cluster.Start();
  std::vector<Client> clients;
  for (int i = 0; i < 3; ++i) clients.emplace_back(cluster.node(i).port());
  // The node that forwards increments of "hits" is the one that is not its replica.
  int outsider = -1;
  for (int i = 0; i < 3 && outsider < 0; ++i) {
    Client& c = clients[static_cast<std::size_t>(i)];
    const long long before = ReadInfoNumber(c, "cluster", "cluster_counter_forwards_sent");
    REQUIRE(c.Command({"INCR", "hits"}).type == Reply::Type::kInteger);
    if (ReadInfoNumber(c, "cluster", "cluster_counter_forwards_sent") > before) outsider = i;
  }
  REQUIRE(outsider >= 0);
  std::vector<int> replicas;
  for (int i = 0; i < 3; ++i) {
    if (i != outsider) replicas.push_back(i);
  }
  Client& o = clients[static_cast<std::size_t>(outsider)];
  Client& r = clients[static_cast<std::size_t>(replicas[0])];
  long long elapsed = 0;
  REQUIRE(o.Command({"INCR", "hits"}).type == Reply::Type::kInteger);
  CHECK(TimedWait(o, 2, 5000, &elapsed) == 2);
  REQUIRE(r.Command({"INCR", "hits"}).type == Reply::Type::kInteger);
  CHECK(TimedWait(r, 2, 5000, &elapsed) == 2);

  // The two replicas cannot reach each other: an increment is on the one that ran it only.
  REQUIRE(clients[static_cast<std::size_t>(replicas[0])].Command(
              {"DEBUG", "PARTITION", cluster.id(replicas[1])}) == kOk);
  REQUIRE(clients[static_cast<std::size_t>(replicas[1])].Command(
              {"DEBUG", "PARTITION", cluster.id(replicas[0])}) == kOk);
  for (Client* c : {&o, &r}) {
    REQUIRE(c->Command({"CONSISTENCY", "ONE", "ONE"}) == kOk);
    REQUIRE(c->Command({"INCRBY", "hits", "5"}).type == Reply::Type::kInteger);
    CHECK(TimedWait(*c, 1, 0, &elapsed) == 1);
    CHECK(TimedWait(*c, 2, 800, &elapsed) == 1);
    CHECK(elapsed >= 750);
  }
  for (int i : replicas) {
    REQUIRE(clients[static_cast<std::size_t>(i)].Command({"DEBUG", "PARTITION"}) == kOk);
  }
  CHECK(WaitFor([&] {
    return o.Command({"DECR", "hits"}).type == Reply::Type::kInteger &&
           o.Command({"WAIT", "2", "2000"}) == Reply::Int(2);
  }));
}
