// Cluster mode when things go wrong, with real processes: a replica killed with SIGKILL (W=3
// fails with the exact UNAVAILABLE error, W=1 succeeds, the restarted replica is read-repaired),
// concurrent writes on both sides of a partition (siblings in VGET, resolved by VSET), clients
// that pipeline or vanish with commands in flight, and redis-benchmark run unmodified.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "harness.h"

using dynakv::itest::Client;
using dynakv::itest::ReadInfoNumber;
using dynakv::itest::LocalCluster;
using dynakv::itest::RawSocket;
using dynakv::itest::Reply;
using dynakv::itest::TestingRealRedis;
using dynakv::itest::UntilAvailable;
using dynakv::itest::WaitFor;

namespace {

const Reply kOk = Reply::Status("OK");

// Requests the cluster must not wait long for: a partitioned peer counts as failed this fast.
const dynakv::itest::Flags kShortTimeout = {"--cluster-request-timeout-ms", "400"};

// The values of a VGET reply, as a set (sibling order is not part of the contract).
std::set<std::string> SiblingValues(const Reply& vget) {
  std::set<std::string> values;
  if (vget.elements.size() == 2) {
    for (const Reply& value : vget.elements[1].elements) values.insert(value.str);
  }
  return values;
}

}  // namespace

TEST_CASE("a killed replica: W=3 is unavailable, W=1 succeeds, read repair heals the restart") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3, 3, kShortTimeout);
  cluster.Start();
  Client a(cluster.node(0).port());
  REQUIRE(a.Command({"SET", "k", "v1"}) == kOk);

  cluster.node(2).Kill();
  CHECK(a.Command({"SET", "k", "v2", "W", "3"}) ==
        Reply::Error("UNAVAILABLE not enough replicas (needed 3, got 2)"));
  CHECK(a.Command({"SET", "k", "v3", "W", "1"}) == kOk);
  CHECK(a.Command({"GET", "k"}) == Reply::Bulk("v3"));
  CHECK(a.Command({"GET", "k", "R", "3"}) ==
        Reply::Error("UNAVAILABLE not enough replicas (needed 3, got 2)"));
  // Counters take the option too (a counter increment, server/cluster_counters.h) ...
  CHECK(a.Command({"INCR", "n", "W", "1"}) == Reply::Int(1));
  CHECK(a.Command({"INCR", "n", "W", "3"}) ==
        Reply::Error("UNAVAILABLE not enough replicas (needed 3, got 2)"));
  // ... commands without it keep every argument.
  CHECK(a.Command({"APPEND", "n", "1", "W", "1"}) ==
        Reply::Error("ERR wrong number of arguments for 'append' command"));

  cluster.node(2).Start();
  Client c(cluster.node(2).port());
  // Before the read: what C has served so far. The read asks C for its copy, finds it stale
  // and sends it the merged set, so C serves two more requests.
  auto served = [&] { return ReadInfoNumber(c, "cluster", "cluster_replica_requests_served"); };
  const long long served_before = served();
  CHECK(UntilAvailable(a, {"GET", "k", "R", "3"}) == Reply::Bulk("v3"));
  CHECK(WaitFor([&] { return served() >= served_before + 2; }));
  CHECK(ReadInfoNumber(a, "cluster", "cluster_read_repairs") >= 1);

  // C's own copy, with C cut off from the others so that nothing but its replica can answer.
  REQUIRE(c.Command({"DEBUG", "PARTITION", "n1", "n2"}) == kOk);
  CHECK(c.Command({"GET", "k", "R", "1"}) == Reply::Bulk("v3"));
  CHECK(SiblingValues(c.Command({"VGET", "k", "R", "1"})) == std::set<std::string>{"v3"});
  REQUIRE(c.Command({"DEBUG", "PARTITION"}) == kOk);

  // A clean SIGTERM still exits 0 with the bus running.
  cluster.node(1).Stop();
}

TEST_CASE("writes on both sides of a partition become siblings; VSET resolves them") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3, 3, kShortTimeout);
  cluster.Start();
  Client a(cluster.node(0).port());
  Client b(cluster.node(1).port());
  Client c(cluster.node(2).port());
  REQUIRE(a.Command({"SET", "doc", "base", "W", "ALL"}) == kOk);

  REQUIRE(a.Command({"DEBUG", "PARTITION", "n2", "n3"}) == kOk);
  REQUIRE(b.Command({"DEBUG", "PARTITION", "n1", "n3"}) == kOk);
  REQUIRE(c.Command({"DEBUG", "PARTITION", "n1", "n2"}) == kOk);
  CHECK(a.Command({"SET", "doc", "from-a"}) ==
        Reply::Error("UNAVAILABLE not enough replicas (needed 2, got 1)"));
  REQUIRE(a.Command({"CONSISTENCY", "ONE"}) == kOk);
  REQUIRE(b.Command({"CONSISTENCY", "ONE"}) == kOk);
  CHECK(a.Command({"SET", "doc", "from-a"}) == kOk);
  CHECK(b.Command({"SET", "doc", "from-b"}) == kOk);
  CHECK(a.Command({"GET", "doc"}) == Reply::Bulk("from-a"));
  CHECK(b.Command({"GET", "doc"}) == Reply::Bulk("from-b"));
  for (Client* client : {&a, &b, &c}) REQUIRE(client->Command({"DEBUG", "PARTITION"}) == kOk);

  // Both writes replaced "base" (they saw it), neither saw the other: two siblings.
  const Reply siblings = UntilAvailable(c, {"VGET", "doc", "R", "3"});
  REQUIRE(siblings.elements.size() == 2);
  CHECK(SiblingValues(siblings) == std::set<std::string>{"from-a", "from-b"});
  const Reply plain = c.Command({"GET", "doc"});
  CHECK((plain == Reply::Bulk("from-a") || plain == Reply::Bulk("from-b")));
  CHECK(b.Command({"GET", "doc", "R", "ALL"}) == plain);  // every node resolves the same way

  CHECK(c.Command({"VSET", "doc", "merged", "CONTEXT", siblings.elements[0].str}) == kOk);
  for (Client* client : {&a, &b, &c}) {
    const Reply resolved = UntilAvailable(*client, {"VGET", "doc", "R", "ALL"});
    CHECK(SiblingValues(resolved) == std::set<std::string>{"merged"});
    CHECK(client->Command({"GET", "doc"}) == Reply::Bulk("merged"));
  }
}

TEST_CASE("pipelined commands answer in order; clients vanishing mid-command do no harm") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3);
  cluster.Start();
  Client a(cluster.node(0).port());

  for (int i = 0; i < 100; ++i) {
    const std::string n = std::to_string(i);
    a.Append({"SET", "p:" + n, n});
    a.Append({"INCR", "pipelined"});
    a.Append({"GET", "p:" + n});
    a.Append({"PING"});
  }
  for (int i = 0; i < 100; ++i) {
    REQUIRE(a.GetReply() == kOk);
    REQUIRE(a.GetReply() == Reply::Int(i + 1));
    REQUIRE(a.GetReply() == Reply::Bulk(std::to_string(i)));
    REQUIRE(a.GetReply() == Reply::Status("PONG"));
  }

  // Gone with commands in flight (and more queued behind them).
  for (int round = 0; round < 20; ++round) {
    RawSocket raw(cluster.node(round % 3).port());
    std::string burst;
    for (int i = 0; i < 50; ++i) {
      burst += dynakv::itest::EncodeCommand({"INCR", "vanishing"});
    }
    REQUIRE(raw.Send(burst));
    raw.Close();
  }
  // Half-closed after its requests: every reply still arrives, then the server closes.
  {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(cluster.node(1).port()));
    REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    std::string requests;
    for (int i = 0; i < 10; ++i) requests += dynakv::itest::EncodeCommand({"INCR", "half"});
    REQUIRE(write(fd, requests.data(), requests.size()) == static_cast<ssize_t>(requests.size()));
    shutdown(fd, SHUT_WR);
    std::string received;
    timeval tv{10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    char buf[4096];
    for (ssize_t n; (n = read(fd, buf, sizeof(buf))) > 0;) received.append(buf, n);
    close(fd);
    std::string expected;
    for (int i = 1; i <= 10; ++i) expected += ":" + std::to_string(i) + "\r\n";
    CHECK(received == expected);
  }
  for (int i = 0; i < 3; ++i) {
    REQUIRE(cluster.node(i).Alive());
    Client check(cluster.node(i).port());
    CHECK(check.Command({"PING"}) == Reply::Status("PONG"));
  }
  // Each vanished INCR ran completely or not at all.
  Client b(cluster.node(1).port());
  const Reply count = b.Command({"GET", "vanishing"});
  if (count.type == Reply::Type::kString) CHECK(std::stoll(count.str) <= 1000);
  for (int i = 0; i < 3; ++i) {  // and nothing is left hanging
    Client check(cluster.node(i).port());
    CHECK(WaitFor(
        [&] { return ReadInfoNumber(check, "cluster", "cluster_commands_in_flight") == 0; }));
  }
}

TEST_CASE("redis-benchmark runs unmodified against the cluster") {
  if (TestingRealRedis()) return;
  if (std::system("command -v redis-benchmark >/dev/null 2>&1") != 0) {
    MESSAGE("redis-benchmark not installed: skipped");
    return;
  }
  LocalCluster cluster(3);
  cluster.Start();
  const std::string command = "timeout 50 redis-benchmark -p " +
                              std::to_string(cluster.node(0).port()) +
                              " -q -n 2000 -t set,get 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string output;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof(buf), pipe)) > 0;) output.append(buf, n);
  const int status = pclose(pipe);
  CAPTURE(output);
  CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  CHECK(output.find("SET: ") != std::string::npos);
  CHECK(output.find("GET: ") != std::string::npos);
  CHECK(output.find("requests per second") != std::string::npos);
  CHECK(output.find("rror") == std::string::npos);
  // What it wrote (a 3-byte value by default) is there, through another node.
  Client c(cluster.node(2).port());
  const Reply value = c.Command({"GET", "key:__rand_int__"});
  CHECK((value.type == Reply::Type::kString && value.str.size() == 3));
  CHECK(ReadInfoNumber(c, "cluster", "cluster_commands_in_flight") == 0);
}
