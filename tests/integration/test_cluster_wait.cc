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
  CHECK(other.Command({"GET", "k"}) == Reply::Bulk("v3"));
  CHECK(waiting.ReadReplies(1, milliseconds(300)).empty());
  CHECK(other.Command({"CLIENT", "UNBLOCK", std::to_string(id[0].integer)}) == Reply::Int(1));
  const std::vector<Reply> unblocked = waiting.ReadReplies(1, milliseconds(5000));
  REQUIRE(unblocked.size() == 1);
  CHECK(unblocked[0] == Reply::Int(2));
  CHECK(other.Command({"CLIENT", "UNBLOCK", std::to_string(blocked_id)}) == Reply::Int(0));
  REQUIRE(waiting.Send(EncodeCommand({"WAIT", "3", "0"})));
  CHECK(WaitFor([&] { return ReadInfoNumber(other, "clients", "blocked_clients") == 1; }));
  waiting.Close();
  CHECK(WaitFor([&] { return ReadInfoNumber(other, "clients", "blocked_clients") == 0; }));

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
