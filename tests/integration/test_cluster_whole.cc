// Keyspace commands without keys in cluster mode cover the whole cluster (server/cluster_keys.h):
// FLUSHALL / FLUSHDB through any node empty every member and are refused while one is down; a
// flushed key is not brought back by hints queued before the flush or by anti-entropy; KEYS,
// SCAN, DBSIZE and RANDOMKEY through any node see every key exactly once (N=2 on 3 nodes);
// KEYSCOPE LOCAL keeps the node's own view.
#include <doctest/doctest.h>

#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "harness.h"

using dynakv::itest::Client;
using dynakv::itest::LocalCluster;
using dynakv::itest::ReadInfoNumber;
using dynakv::itest::Reply;
using dynakv::itest::TestingRealRedis;
using dynakv::itest::WaitFor;

namespace {

constexpr int kNodes = 3;
constexpr int kKeys = 300;
const Reply kOk = Reply::Status("OK");

const dynakv::itest::Flags kFast = {
    "--cluster-gossip-interval-ms",
    "200",
    "--cluster-down-after-ms",
    "1500",
    "--cluster-request-timeout-ms",
    "500",
    "--cluster-hint-handoff-interval-ms",
    "200",
    // Anti-entropy only when a test asks (DEBUG ANTIENTROPY).
    "--cluster-anti-entropy-interval-ms",
    "0",
};

std::string Key(int i) { return "key:" + std::to_string(i); }

std::vector<std::unique_ptr<Client>> Connect(LocalCluster& cluster) {
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < cluster.size(); ++i) {
    clients.push_back(std::make_unique<Client>(cluster.node(i).port()));
    REQUIRE(clients.back()->ok());
  }
  return clients;
}

void WriteKeys(Client& client, int count, const std::string& prefix = "v") {
  for (int i = 0; i < count; ++i) {
    REQUIRE(client.Command({"SET", Key(i), prefix + std::to_string(i), "W", "ALL"}) == kOk);
  }
}

// How many of the keys [0, count) a GET through `client` still finds.
int Found(Client& client, int count) {
  int found = 0;
  for (int i = 0; i < count; ++i) {
    const Reply reply = client.Command({"GET", Key(i), "R", "ALL"});
    REQUIRE_MESSAGE(!reply.IsError(), reply.str);
    found += reply.type == Reply::Type::kString ? 1 : 0;
  }
  return found;
}

std::multiset<std::string> Strings(const Reply& array) {
  std::multiset<std::string> out;
  for (const Reply& element : array.elements) out.insert(element.str);
  return out;
}

std::set<std::string> AllKeys(int count) {
  std::set<std::string> keys;
  for (int i = 0; i < count; ++i) keys.insert(Key(i));
  return keys;
}

// A full SCAN through `client`: every key returned, with its multiplicity.
std::multiset<std::string> FullScan(Client& client, const std::vector<std::string>& options) {
  std::multiset<std::string> keys;
  std::string cursor = "0";
  int calls = 0;
  do {
    std::vector<std::string> argv = {"SCAN", cursor};
    argv.insert(argv.end(), options.begin(), options.end());
    const Reply reply = client.Command(argv);
    REQUIRE_MESSAGE(reply.type == Reply::Type::kArray, reply.str);
    REQUIRE(reply.elements.size() == 2);
    cursor = reply.elements[0].str;
    for (const Reply& key : reply.elements[1].elements) keys.insert(key.str);
    REQUIRE(++calls < 100000);
  } while (cursor != "0");
  return keys;
}

// What `redis-cli -c -p port args...` prints (stdout), or "" when redis-cli is not installed.
std::string RedisCli(int port, const std::string& args) {
  const std::string command = "command -v redis-cli >/dev/null && timeout 10 redis-cli -c -p " +
                              std::to_string(port) + " " + args + " 2>&1";
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char buffer[4096];
  while (std::size_t n = fread(buffer, 1, sizeof(buffer), pipe)) out.append(buffer, n);
  pclose(pipe);
  return out;
}

}  // namespace

TEST_CASE("whole cluster: not a Redis Cluster to clients; redis-cli -c works as a plain client") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(kNodes, 2, kFast);
  cluster.Start();
  auto clients = Connect(cluster);
  for (auto& c : clients) {
    CHECK(dynakv::itest::ReadInfoField(*c, "cluster", "cluster_enabled") == "0");
    const Reply cluster_info = c->Command({"CLUSTER", "INFO"});
    CHECK(cluster_info.IsError());
  }
  if (RedisCli(cluster.node(0).port(), "PING").empty()) {
    MESSAGE("redis-cli not installed: its part skipped");
    return;
  }
  for (int i = 0; i < 20; ++i) {
    CHECK(RedisCli(cluster.node(i % kNodes).port(), "SET " + Key(i) + " cli" + std::to_string(i)) ==
          "OK\n");
  }
  for (int n = 0; n < kNodes; ++n) {
    for (int i = 0; i < 20; ++i) {
      CHECK(RedisCli(cluster.node(n).port(), "GET " + Key(i)) == "cli" + std::to_string(i) + "\n");
    }
    CHECK(RedisCli(cluster.node(n).port(), "DBSIZE") == "20\n");  // not a tty: bare
  }
}

TEST_CASE("whole cluster: KEYS, SCAN, DBSIZE and RANDOMKEY see every key once; KEYSCOPE LOCAL") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(kNodes, 2, kFast);
  cluster.Start();
  auto clients = Connect(cluster);
  WriteKeys(*clients[0], kKeys);
  REQUIRE(clients[1]->Command({"RPUSH", "list:1", "a", "b"}) == Reply::Int(2));
  REQUIRE(clients[2]->Command({"DEL", Key(0)}) == Reply::Int(1));  // a tombstone is no key
  std::set<std::string> expected = AllKeys(kKeys);
  expected.erase(Key(0));
  expected.insert("list:1");

  long long local_total = 0;
  for (int n = 0; n < kNodes; ++n) {
    Client& c = *clients[n];
    CAPTURE(n);
    const Reply keys = c.Command({"KEYS", "*"});
    const std::multiset<std::string> got = Strings(keys);
    CHECK(got.size() == expected.size());
    CHECK(std::set<std::string>(got.begin(), got.end()) == expected);
    CHECK(c.Command({"DBSIZE"}) == Reply::Int(static_cast<long long>(expected.size())));
    CHECK(Strings(c.Command({"KEYS", "key:1?"})).size() == 10);

    std::multiset<std::string> scanned = FullScan(c, {"COUNT", "7"});
    CHECK(scanned.size() == expected.size());  // each once (duplicates would be allowed by Redis)
    CHECK(std::set<std::string>(scanned.begin(), scanned.end()) == expected);
    CHECK(FullScan(c, {"MATCH", "key:2*", "COUNT", "50"}).size() == 111);
    CHECK(FullScan(c, {"TYPE", "list"}) == std::multiset<std::string>{"list:1"});
    CHECK(FullScan(c, {"TYPE", "string", "COUNT", "1000"}).size() == kKeys - 1);

    const Reply random = c.Command({"RANDOMKEY"});
    REQUIRE(random.type == Reply::Type::kString);
    CHECK(expected.count(random.str) == 1);

    // The node's own view: only what it holds as a replica (about 2/3 of the keys with N=2).
    REQUIRE(c.Command({"KEYSCOPE"}) == Reply::Bulk("cluster"));
    REQUIRE(c.Command({"KEYSCOPE", "LOCAL"}) == kOk);
    CHECK(c.Command({"KEYSCOPE"}) == Reply::Bulk("local"));
    const Reply local = c.Command({"DBSIZE"});
    REQUIRE(local.type == Reply::Type::kInteger);
    CHECK(local.integer < static_cast<long long>(expected.size()));
    CHECK(local.integer > 0);
    local_total += local.integer;
    CHECK(Strings(c.Command({"KEYS", "*"})).size() < expected.size());
    REQUIRE(c.Command({"KEYSCOPE", "CLUSTER"}) == kOk);
    CHECK(c.Command({"KEYSCOPE", "bogus"}).IsError());
  }
  // Every key is held by two replicas.
  CHECK(local_total >= 2 * static_cast<long long>(expected.size()) - 2);
  CHECK(clients[0]->Command({"SCAN", "255"}) == Reply::Error("ERR invalid cursor"));

  // A node down: its keys are answered by their next replica.
  cluster.node(2).Kill();
  REQUIRE(WaitFor(
      [&] {
        return clients[0]->Command({"DBSIZE"}) ==
               Reply::Int(static_cast<long long>(expected.size()));
      },
      std::chrono::seconds(10)));
  const std::multiset<std::string> scanned = FullScan(*clients[1], {"COUNT", "20"});
  CHECK(std::set<std::string>(scanned.begin(), scanned.end()) == expected);
}

TEST_CASE("whole cluster: FLUSHALL empties every member, refused while one is down") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(kNodes, 2, kFast);
  cluster.Start();
  auto clients = Connect(cluster);
  WriteKeys(*clients[0], kKeys);
  REQUIRE(clients[1]->Command({"FLUSHALL", "BOGUS"}).IsError());
  REQUIRE(clients[1]->Command({"FLUSHALL", "ASYNC"}) == kOk);
  for (auto& c : clients) CHECK(Found(*c, kKeys) == 0);
  for (auto& c : clients) CHECK(c->Command({"DBSIZE"}) == Reply::Int(0));
  // Writes after the flush are kept, whichever node coordinates them.
  for (int n = 0; n < kNodes; ++n) {
    REQUIRE(clients[n]->Command({"SET", Key(n), "after", "W", "ALL"}) == kOk);
  }
  for (auto& c : clients) CHECK(Found(*c, kKeys) == kNodes);
  REQUIRE(clients[2]->Command({"FLUSHDB", "SYNC"}) == kOk);
  for (auto& c : clients) CHECK(Found(*c, kKeys) == 0);

  // A member down: refused (as Cassandra's TRUNCATE), and nothing is flushed.
  WriteKeys(*clients[0], 20);
  cluster.node(2).Kill();
  REQUIRE(WaitFor(
      [&] {
        const Reply reply = clients[0]->Command({"FLUSHALL"});
        return reply.IsError() && reply.str.starts_with("UNAVAILABLE FLUSHALL needs every member");
      },
      std::chrono::seconds(10)));
  const Reply refused = clients[1]->Command({"FLUSHDB"});
  CHECK(refused.str.find("n3") != std::string::npos);
  CHECK(clients[0]->Command({"GET", Key(5), "R", "1"}) == Reply::Bulk("v5"));
  // Back up: the flush goes through, and the restarted node (which kept its data on disk) is
  // empty too.
  cluster.node(2).Start();
  clients[2] = std::make_unique<Client>(cluster.node(2).port());
  REQUIRE(
      WaitFor([&] { return clients[0]->Command({"FLUSHALL"}) == kOk; }, std::chrono::seconds(15)));
  for (auto& c : clients) CHECK(Found(*c, 20) == 0);
  // The flush is recorded durably: after another restart n3 still drops what it covers.
  cluster.node(2).Kill();
  cluster.node(2).Start();
  clients[2] = std::make_unique<Client>(cluster.node(2).port());
  REQUIRE(WaitFor(
      [&] {
        return clients[2]->Command({"KEYSCOPE", "LOCAL"}) == kOk;
      },
      std::chrono::seconds(10)));
  CHECK(clients[2]->Command({"DBSIZE"}) == Reply::Int(0));
}

TEST_CASE("whole cluster: hints queued before FLUSHALL and anti-entropy do not resurrect keys") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(kNodes, 2, kFast);
  cluster.Start();
  auto clients = Connect(cluster);
  // n1 cannot reach n3 (nor n3 n1): n1's writes for n3 are kept as hints, on n1 or n2; those on
  // n1 stay pending while the partition lasts.
  REQUIRE(clients[0]->Command({"DEBUG", "PARTITION", "n3"}) == kOk);
  REQUIRE(clients[2]->Command({"DEBUG", "PARTITION", "n1"}) == kOk);
  REQUIRE(clients[0]->Command({"CONSISTENCY", "ONE"}) == kOk);
  for (int i = 0; i < kKeys; ++i) {
    REQUIRE(clients[0]->Command({"SET", Key(i), "old"}) == kOk);
  }
  REQUIRE(WaitFor(
      [&] {
        return ReadInfoNumber(*clients[0], "cluster", "cluster_hints_pending") > 0 &&
               ReadInfoNumber(*clients[1], "cluster", "cluster_hints_pending") == 0;
      },
      std::chrono::seconds(10)));
  const long long pending = ReadInfoNumber(*clients[0], "cluster", "cluster_hints_pending");
  MESSAGE(pending, " hints for n3 held by n1 before the flush");
  // n2 reaches everyone: it flushes the whole cluster.
  REQUIRE(clients[1]->Command({"FLUSHALL"}) == kOk);
  // Heal: n1 hands its old hints to n3, which must drop them.
  REQUIRE(clients[0]->Command({"DEBUG", "PARTITION"}) == kOk);
  REQUIRE(clients[2]->Command({"DEBUG", "PARTITION"}) == kOk);
  REQUIRE(
      WaitFor([&] { return ReadInfoNumber(*clients[0], "cluster", "cluster_hints_pending") == 0; },
              std::chrono::seconds(15)));
  CHECK(ReadInfoNumber(*clients[0], "cluster", "cluster_hints_delivered") > 0);
  for (auto& c : clients) {
    for (int round = 0; round < 2; ++round) {
      const Reply ae = c->Command({"DEBUG", "ANTIENTROPY"});
      CHECK_MESSAGE(!ae.IsError(), ae.str);
    }
  }
  for (auto& c : clients) CHECK(Found(*c, kKeys) == 0);
  for (auto& c : clients) {
    REQUIRE(c->Command({"KEYSCOPE", "LOCAL"}) == kOk);
    CHECK(c->Command({"DBSIZE"}) == Reply::Int(0));
  }
}
