// Cluster mode with real processes on 127.0.0.1: three nodes, N=3. Any node serves any key;
// multi-key commands fan out; read-modify-write commands are consistent at quorum; the status
// commands (RING, INFO cluster, CONSISTENCY) and their errors; start-up failures; and a single
// node, where none of this changes Redis's behaviour.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "harness.h"

using dynakv::itest::Client;
using dynakv::itest::ReadInfoField;
using dynakv::itest::LocalCluster;
using dynakv::itest::Reply;
using dynakv::itest::ServerFixture;
using dynakv::itest::ServerProcess;
using dynakv::itest::TestingRealRedis;
using dynakv::itest::WaitFor;

namespace {

const Reply kOk = Reply::Status("OK");

std::vector<std::string> Keys(const std::string& prefix, int count) {
  std::vector<std::string> keys;
  for (int i = 0; i < count; ++i) keys.push_back(prefix + std::to_string(i));
  return keys;
}

std::vector<std::string> Concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// A socket listening on 127.0.0.1:port (not inherited by servers the test starts), or -1.
int ListenOn(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || listen(fd, 1) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

TEST_CASE("any node serves any key; multi-key commands fan out") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3);
  cluster.Start();
  Client a(cluster.node(0).port());
  Client b(cluster.node(1).port());
  Client c(cluster.node(2).port());

  SUBCASE("a key written through one node is read through the others") {
    CHECK(a.Command({"SET", "greeting", "hello"}) == kOk);
    CHECK(b.Command({"GET", "greeting"}) == Reply::Bulk("hello"));
    CHECK(c.Command({"GET", "greeting"}) == Reply::Bulk("hello"));
    CHECK(c.Command({"GET", "greeting", "R", "ALL"}) == Reply::Bulk("hello"));
    CHECK(b.Command({"SET", "greeting", "hi", "EX", "100", "W", "3"}) == kOk);
    CHECK(a.Command({"GET", "greeting", "r", "1"}) == Reply::Bulk("hi"));
    const Reply ttl = c.Command({"TTL", "greeting"});
    CHECK((ttl.type == Reply::Type::kInteger && ttl.integer > 90 && ttl.integer <= 100));
    CHECK(a.Command({"PERSIST", "greeting"}) == Reply::Int(1));
    CHECK(b.Command({"TTL", "greeting"}) == Reply::Int(-1));
    CHECK(c.Command({"GET", "missing"}) == Reply::Nil());
    CHECK(c.Command({"STRLEN", "greeting"}) == Reply::Int(2));
    CHECK(a.Command({"TYPE", "greeting"}) == Reply::Status("string"));
  }

  SUBCASE("MSET, MGET, EXISTS and DEL cover every key they name") {
    const std::vector<std::string> keys = Keys("k", 10);
    std::vector<std::string> mset = {"MSET"};
    std::vector<Reply> values;
    for (const std::string& key : keys) {
      mset.push_back(key);
      mset.push_back("v-" + key);
      values.push_back(Reply::Bulk("v-" + key));
    }
    CHECK(a.Command(mset) == kOk);
    CHECK(b.Command(Concat({"MGET"}, keys)) == Reply::Array(values));
    CHECK(c.Command(Concat({"EXISTS"}, Concat(keys, {"nope", "k0"}))) == Reply::Int(11));
    CHECK(c.Command(Concat({"DEL"}, Concat(keys, {"nope", "W", "ALL"}))) == Reply::Int(10));
    CHECK(a.Command(Concat({"MGET"}, keys)) == Reply::Array(std::vector<Reply>(10, Reply::Nil())));
    CHECK(b.Command(Concat({"EXISTS"}, keys)) == Reply::Int(0));
    // Node-local listings skip deleted keys (their tombstones are still stored).
    CHECK(a.Command({"SET", "kept", "1"}) == kOk);
    for (Client* client : {&a, &b, &c}) {
      CHECK(client->Command({"KEYS", "*"}) == Reply::Bulks({"kept"}));
    }
    CHECK(c.Command({"RANDOMKEY"}) == Reply::Bulk("kept"));
    CHECK(a.Command({"MSETNX", "kept", "2", "fresh", "3"}) == Reply::Int(0));
    CHECK(b.Command({"MSETNX", "fresh", "3", "other", "4"}) == Reply::Int(1));
    CHECK(c.Command({"MGET", "kept", "fresh", "other"}) == Reply::Bulks({"1", "3", "4"}));
  }

  SUBCASE("KEYSCOPE LOCAL: FLUSHALL and DBSIZE are node-local; reads repair the flushed replica") {
    CHECK(a.Command({"MSET", "f1", "1", "f2", "2"}) == kOk);
    CHECK(b.Command({"KEYSCOPE", "LOCAL"}) == kOk);
    CHECK(b.Command({"DBSIZE"}) == Reply::Int(2));
    CHECK(b.Command({"FLUSHALL"}) == kOk);
    CHECK(b.Command({"DBSIZE"}) == Reply::Int(0));
    CHECK(b.Command({"KEYS", "*"}) == Reply::Array({}));
    CHECK(a.Command({"KEYSCOPE", "LOCAL"}) == kOk);
    CHECK(a.Command({"DBSIZE"}) == Reply::Int(2));
    CHECK(b.Command({"GET", "f1", "R", "ALL"}) == Reply::Bulk("1"));
    CHECK(b.Command({"GET", "f2", "R", "ALL"}) == Reply::Bulk("2"));
    CHECK(WaitFor([&] { return b.Command({"DBSIZE"}) == Reply::Int(2); }));
    // The whole cluster's view (each key from its primary replica, which has it again).
    CHECK(c.Command({"DBSIZE"}) == Reply::Int(2));
  }

  SUBCASE("read-modify-write commands see the last write whichever node runs them") {
    Client* clients[] = {&a, &b, &c};
    for (int i = 1; i <= 30; ++i) {
      REQUIRE(clients[i % 3]->Command({"INCR", "counter"}) == Reply::Int(i));
    }
    CHECK(b.Command({"INCRBY", "counter", "10"}) == Reply::Int(40));
    CHECK(c.Command({"DECR", "counter"}) == Reply::Int(39));
    CHECK(a.Command({"INCRBYFLOAT", "counter", "0.5"}) == Reply::Bulk("39.5"));
    CHECK(b.Command({"INCR", "counter"}) ==
          Reply::Error("ERR value is not an integer or out of range"));
    CHECK(a.Command({"APPEND", "text", "ab"}) == Reply::Int(2));
    CHECK(b.Command({"APPEND", "text", "cd"}) == Reply::Int(4));
    CHECK(c.Command({"SETRANGE", "text", "1", "XY"}) == Reply::Int(4));
    CHECK(a.Command({"GETSET", "text", "new"}) == Reply::Bulk("aXYd"));
    CHECK(b.Command({"SETNX", "text", "lost"}) == Reply::Int(0));
    CHECK(c.Command({"SET", "text", "other", "NX"}) == Reply::Nil());
    CHECK(c.Command({"SET", "text", "xx", "XX", "GET"}) == Reply::Bulk("new"));
    CHECK(a.Command({"GETDEL", "text"}) == Reply::Bulk("xx"));
    CHECK(b.Command({"GET", "text"}) == Reply::Nil());
    CHECK(a.Command({"SET", "src", "moved"}) == kOk);
    CHECK(b.Command({"RENAME", "src", "dst"}) == kOk);
    CHECK(c.Command({"MGET", "src", "dst"}) == Reply::Array({Reply::Nil(), Reply::Bulk("moved")}));
    CHECK(a.Command({"COPY", "dst", "dst2"}) == Reply::Int(1));
    CHECK(b.Command({"GET", "dst2"}) == Reply::Bulk("moved"));
    CHECK(c.Command({"EXPIRE", "dst2", "0"}) == Reply::Int(1));
    CHECK(a.Command({"EXISTS", "dst2"}) == Reply::Int(0));
  }

  SUBCASE("plain GET and VGET agree on a key without concurrent writes") {
    CHECK(a.Command({"SET", "single", "one"}) == kOk);
    const Reply versioned = b.Command({"VGET", "single", "R", "3"});
    REQUIRE(versioned.type == Reply::Type::kArray);
    REQUIRE(versioned.elements.size() == 2);
    CHECK(versioned.elements[0].type == Reply::Type::kString);
    CHECK(versioned.elements[1] == Reply::Bulks({"one"}));
    const Reply empty = c.Command({"VGET", "never-written"});
    REQUIRE(empty.elements.size() == 2);
    CHECK(empty.elements[1] == Reply::Array({}));
    // The empty context is a valid one: a VSET with it is a plain first write.
    CHECK(a.Command({"VSET", "never-written", "now", "CONTEXT", empty.elements[0].str}) == kOk);
    CHECK(b.Command({"GET", "never-written"}) == Reply::Bulk("now"));
    CHECK(c.Command({"VSET", "single", "x", "CONTEXT", "not-a-token"}) ==
          Reply::Error("ERR invalid context"));
    CHECK(c.Command({"VSET", "single", "x", "NOTCONTEXT", "t"}) ==
          Reply::Error("ERR syntax error"));
    CHECK(c.Command({"VSET", "single", "x", "CONTEXT", versioned.elements[0].str, "EX", "0"}) ==
          Reply::Error("ERR invalid expire time in 'vset' command"));
    CHECK(a.Command({"VSET", "single", "two", "CONTEXT", versioned.elements[0].str, "PX",
                     "100000", "W", "ALL"}) == kOk);
    const Reply after = c.Command({"VGET", "single", "R", "ALL"});
    REQUIRE(after.elements.size() == 2);
    CHECK(after.elements[1] == Reply::Bulks({"two"}));
    const Reply pttl = b.Command({"PTTL", "single"});
    CHECK((pttl.integer > 90000 && pttl.integer <= 100000));
  }
}

TEST_CASE("RING, INFO cluster, CONSISTENCY and DEBUG PARTITION") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3);
  cluster.Start();
  Client a(cluster.node(0).port());
  Client b(cluster.node(1).port());

  // Peers connect on first use or at the first ping, and gossip makes them up: wait until this
  // node's bus reaches both peers and the ring shows every member myself or up.
  Reply ring;
  CHECK(WaitFor([&] {
    if (ReadInfoField(a, "cluster", "cluster_members_reachable") != "3") return false;
    ring = a.Command({"RING"});
    if (ring.elements.size() != 3) return false;
    for (const Reply& line : ring.elements) {
      if (line.str.find("state=myself ") == std::string::npos &&
          line.str.find("state=up ") == std::string::npos) {
        return false;
      }
    }
    return true;
  }));
  REQUIRE(ring.elements.size() == 3);
  double owned = 0;
  for (int i = 0; i < 3; ++i) {
    const std::string& line = ring.elements[static_cast<std::size_t>(i)].str;
    CAPTURE(line);
    const std::string address = "127.0.0.1:" + std::to_string(cluster.node(i).port());
    CHECK(line.starts_with(cluster.id(i) + " " + address + " dc=- weight=1 state="));
    CHECK(line.find(i == 0 ? "state=myself" : "state=up") != std::string::npos);
    const std::size_t at = line.find("owns=");
    REQUIRE(at != std::string::npos);
    owned += std::stod(line.substr(at + 5));
  }
  CHECK(owned == doctest::Approx(100).epsilon(0.001));

  // Not a Redis Cluster (Redis Cluster clients must not switch to slot routing): the Redis
  // field says 0, dynakv's own fields are in their own section, also shown by INFO cluster.
  CHECK(ReadInfoField(a, "cluster", "cluster_enabled") == "0");
  CHECK(ReadInfoField(a, "cluster", "cluster_mode") == "enabled");
  CHECK(ReadInfoField(a, "dynakv", "cluster_mode") == "enabled");
  CHECK(ReadInfoField(a, "dynakv", "cluster_enabled").empty());
  CHECK(ReadInfoField(a, "server", "cluster_mode").empty());
  CHECK(a.Command({"INFO"}).str.find("\r\n# Dynakv\r\ncluster_mode:enabled\r\n") != std::string::npos);
  CHECK(ReadInfoField(a, "cluster", "cluster_node_id") == "n1");
  CHECK(ReadInfoField(b, "cluster", "cluster_node_id") == "n2");
  CHECK(ReadInfoField(a, "cluster", "cluster_members") == "3");
  CHECK(ReadInfoField(a, "cluster", "cluster_members_reachable") == "3");
  CHECK(ReadInfoField(a, "cluster", "cluster_replication_factor") == "3");
  CHECK(ReadInfoField(a, "cluster", "cluster_bus_port") ==
        std::to_string(cluster.node(0).port() + cluster.bus_offset()));
  // KEYS, SCAN, DBSIZE, RANDOMKEY, FLUSHALL and FLUSHDB cover the whole cluster now.
  const std::string node_local =
      "," + ReadInfoField(a, "cluster", "cluster_node_local_commands") + ",";
  MESSAGE("node-local: ", node_local);
  for (const char* name :
       {",keys,", ",scan,", ",dbsize,", ",randomkey,", ",flushall,", ",flushdb,"}) {
    CHECK(node_local.find(name) == std::string::npos);
  }

  const Reply quorum = Reply::Bulks({"read", "QUORUM", "write", "QUORUM"});
  CHECK(a.Command({"CONSISTENCY"}) == quorum);
  CHECK(a.Command({"CONSISTENCY", "one"}) == kOk);
  CHECK(a.Command({"CONSISTENCY"}) == Reply::Bulks({"read", "ONE", "write", "ONE"}));
  CHECK(a.Command({"CONSISTENCY", "1", "all"}) == kOk);
  CHECK(a.Command({"CONSISTENCY"}) == Reply::Bulks({"read", "1", "write", "ALL"}));
  CHECK(b.Command({"CONSISTENCY"}) == quorum);  // per connection
  CHECK(a.Command({"CONSISTENCY", "4"}) ==
        Reply::Error("ERR consistency level 4 exceeds the replication factor (3)"));
  CHECK(a.Command({"CONSISTENCY", "most"}).str.starts_with("ERR invalid consistency level 'most'"));
  CHECK(a.Command({"CONSISTENCY", "one", "two", "three"}) == Reply::Error("ERR syntax error"));
  CHECK(a.Command({"RESET"}) == Reply::Status("RESET"));
  CHECK(a.Command({"CONSISTENCY"}) == quorum);
  CHECK(a.Command({"GET", "k", "R", "0"}).str.starts_with("ERR invalid consistency level '0'"));
  CHECK(a.Command({"SET", "k", "v", "W", "9"}) ==
        Reply::Error("ERR consistency level 9 exceeds the replication factor (3)"));
  CHECK(a.Command({"GET", "k", "X", "1"}) ==
        Reply::Error("ERR wrong number of arguments for 'get' command"));
  CHECK(a.Command({"CONFIG", "GET", "cluster-node-id"}) == Reply::Bulks({"cluster-node-id", "n1"}));
  CHECK(a.Command({"CONFIG", "SET", "cluster-write-consistency", "all"}) == kOk);
  CHECK(a.Command({"CONSISTENCY"}) == Reply::Bulks({"read", "QUORUM", "write", "ALL"}));

  // One anti-entropy exchange on demand (a fresh node may still be building its trees).
  Reply round;
  CHECK(WaitFor([&] {
    round = a.Command({"DEBUG", "ANTIENTROPY", "n2"});
    return !round.IsError();
  }));
  REQUIRE(round.elements.size() == 12);
  CHECK(round.elements[0] == Reply::Bulk("peer"));
  CHECK(round.elements[1] == Reply::Bulk("n2"));
  CHECK(round.elements[2] == Reply::Bulk("differing_leaves"));
  CHECK(a.Command({"DEBUG", "ANTIENTROPY", "nosuch"}) == Reply::Error("ERR unknown peer 'nosuch'"));

  CHECK(a.Command({"DEBUG", "PARTITION", "nosuch"}) == Reply::Error("ERR unknown node 'nosuch'"));
  CHECK(a.Command({"DEBUG", "PARTITION", "n1"}).IsError());
  CHECK(a.Command({"DEBUG", "PARTITION", "n2", "n3"}) == kOk);
  CHECK(WaitFor([&] { return ReadInfoField(a, "cluster", "cluster_members_reachable") == "1"; }));
  CHECK(a.Command({"DEBUG", "PARTITION"}) == kOk);
  CHECK(a.Command({"DEBUG", "NOSUCH"}).IsError());
}

TEST_CASE("cluster start-up failures are reported and exit 1") {
  if (TestingRealRedis()) return;
  SUBCASE("the bus port is taken") {
    LocalCluster cluster(1, 1);
    const int bus = cluster.node(0).port() + cluster.bus_offset();
    const int listener = ListenOn(bus);
    REQUIRE(listener >= 0);
    const int status = cluster.node(0).StartExpectingExit(std::chrono::seconds(10));
    close(listener);
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 1));
    CHECK(cluster.node(0).LogTail().find(std::to_string(bus)) != std::string::npos);
  }
  SUBCASE("cluster mode without a node id or without this node among the members") {
    ServerProcess no_id({"--cluster-enabled", "yes"});
    int status = no_id.StartExpectingExit(std::chrono::seconds(10));
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 1));
    CHECK(no_id.LogTail().find("cluster-node-id") != std::string::npos);

    ServerProcess stranger({"--cluster-enabled", "yes", "--cluster-node-id", "me",
                            "--cluster-nodes", "a@127.0.0.1:7001,b@127.0.0.1:7002"});
    status = stranger.StartExpectingExit(std::chrono::seconds(10));
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 1));
    CHECK(stranger.LogTail().find("must list this node, 'me'") != std::string::npos);

    ServerProcess bad_member({"--cluster-enabled", "yes", "--cluster-nodes", "a@nowhere"});
    status = bad_member.StartExpectingExit(std::chrono::seconds(10));
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 1));
    CHECK(bad_member.LogTail().find("invalid member 'a@nowhere'") != std::string::npos);
  }
}

TEST_CASE_FIXTURE(ServerFixture, "a single node keeps Redis's behaviour") {
  if (TestingRealRedis()) return;
  Client& c = client;
  const Reply not_cluster = Reply::Error("ERR cluster mode is not enabled");
  CHECK(c.Command({"CONSISTENCY"}) == not_cluster);
  CHECK(c.Command({"CONSISTENCY", "one"}) == not_cluster);
  CHECK(c.Command({"VGET", "k"}) == not_cluster);
  CHECK(c.Command({"VSET", "k", "v", "CONTEXT", "AQA"}) == not_cluster);
  CHECK(c.Command({"RING"}) == not_cluster);
  CHECK(c.Command({"DEBUG", "PARTITION", "x"}) == not_cluster);
  // The per-request options exist only in cluster mode: here they are what Redis makes of them.
  CHECK(c.Command({"GET", "k", "R", "1"}) ==
        Reply::Error("ERR wrong number of arguments for 'get' command"));
  CHECK(c.Command({"SET", "k", "v", "W", "1"}) == Reply::Error("ERR syntax error"));
  CHECK(c.Command({"SET", "W", "1"}) == kOk);
  CHECK(c.Command({"DEL", "k", "W", "1"}) == Reply::Int(1));
  CHECK(ReadInfoField(c, "cluster", "cluster_enabled") == "0");
  CHECK(c.Command({"INFO", "dynakv"}).str.empty());
  CHECK(c.Command({"KEYSCOPE", "LOCAL"}) == not_cluster);
  CHECK(c.Command({"CONFIG", "GET", "cluster-enabled"}) == Reply::Bulks({"cluster-enabled", "no"}));
}
