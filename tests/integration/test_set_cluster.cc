// Sets in cluster mode: every set command works through any coordinator on the read-modify-write
// path (the whole set replicated as one typed version, last-write-wins), multi-key commands read
// all their keys from their replicas (missing ones as empty), STORE results and SMOVE write both
// keys, and the type and encoding survive replication and a replica's restart.
#include <doctest/doctest.h>

#include <set>
#include <string>
#include <vector>

#include "harness.h"

using dynakv::itest::Client;
using dynakv::itest::LocalCluster;
using dynakv::itest::Reply;
using dynakv::itest::StartWithClients;
using dynakv::itest::TestingRealRedis;
using dynakv::itest::UntilAvailable;

namespace {

std::set<std::string> AsMembers(const Reply& reply) {
  std::set<std::string> out;
  for (const Reply& e : reply.elements) out.insert(e.str);
  return out;
}

}  // namespace

TEST_CASE("set commands through any coordinator of a 3-node cluster") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3);
  auto [n1, n2, n3] = StartWithClients<3>(cluster);
  std::vector<Client*> all = {&n1, &n2, &n3};

  CHECK(UntilAvailable(n1, {"SADD", "tags", "a", "b", "c"}) == Reply::Int(3));
  CHECK(n2.Command({"SADD", "tags", "c", "d"}) == Reply::Int(1));
  CHECK(n3.Command({"SREM", "tags", "a", "zz"}) == Reply::Int(1));
  CHECK(n1.Command({"SADD", "nums", "3", "1", "2"}) == Reply::Int(3));
  for (Client* c : all) {
    CHECK(AsMembers(c->Command({"SMEMBERS", "tags"})) == std::set<std::string>{"b", "c", "d"});
    CHECK(c->Command({"SCARD", "tags"}) == Reply::Int(3));
    CHECK(c->Command({"SISMEMBER", "tags", "b"}) == Reply::Int(1));
    CHECK(c->Command({"SMISMEMBER", "tags", "a", "d"}) ==
          Reply::Array({Reply::Int(0), Reply::Int(1)}));
    CHECK(c->Command({"TYPE", "tags"}) == Reply::Status("set"));
    CHECK(c->Command({"OBJECT", "ENCODING", "tags"}) == Reply::Bulk("hashtable"));
    CHECK(c->Command({"OBJECT", "ENCODING", "nums"}) == Reply::Bulk("intset"));
    // An intset's order is Redis's: ascending.
    CHECK(c->Command({"SMEMBERS", "nums"}) ==
          Reply::Array({Reply::Bulk("1"), Reply::Bulk("2"), Reply::Bulk("3")}));
    CHECK(c->Command({"GET", "tags"}).IsError());  // WRONGTYPE
  }
  CHECK(n3.Command({"SET", "str", "v"}) == Reply::Status("OK"));
  CHECK(n1.Command({"SADD", "str", "x"}) ==
        Reply::Error("WRONGTYPE Operation against a key holding the wrong kind of value"));
  CHECK(n2.Command({"HSET", "tags", "f", "v"}) ==
        Reply::Error("WRONGTYPE Operation against a key holding the wrong kind of value"));

  // Multi-key reads and writes, through different coordinators, missing keys as empty sets.
  CHECK(n1.Command({"SADD", "other", "c", "d", "e"}) == Reply::Int(3));
  CHECK(AsMembers(n2.Command({"SINTER", "tags", "other"})) == std::set<std::string>{"c", "d"});
  CHECK(AsMembers(n3.Command({"SUNION", "tags", "other", "missing"})) ==
        std::set<std::string>{"b", "c", "d", "e"});
  CHECK(AsMembers(n1.Command({"SDIFF", "tags", "other", "missing"})) == std::set<std::string>{"b"});
  CHECK(n2.Command({"SINTER", "tags", "missing"}) == Reply::Array({}));
  CHECK(n3.Command({"SINTERCARD", "2", "tags", "other"}) == Reply::Int(2));
  CHECK(n1.Command({"SINTERCARD", "2", "tags", "other", "LIMIT", "1"}) == Reply::Int(1));
  CHECK(n2.Command({"SINTERSTORE", "both", "tags", "other"}) == Reply::Int(2));
  CHECK(n3.Command({"SUNIONSTORE", "either", "tags", "other"}) == Reply::Int(4));
  CHECK(n1.Command({"SDIFFSTORE", "str", "tags", "other"}) == Reply::Int(1));  // replaces a string
  CHECK(n2.Command({"SMOVE", "tags", "moved", "b"}) == Reply::Int(1));
  CHECK(n3.Command({"SPOP", "nums"}).type == Reply::Type::kString);
  const Reply popped = n1.Command({"SPOP", "nums", "5"});
  CHECK(popped.elements.size() == 2);
  for (Client* c : all) {
    CHECK(AsMembers(c->Command({"SMEMBERS", "both"})) == std::set<std::string>{"c", "d"});
    CHECK(c->Command({"SCARD", "either"}) == Reply::Int(4));
    CHECK(c->Command({"SMEMBERS", "str"}) == Reply::Array({Reply::Bulk("b")}));
    CHECK(AsMembers(c->Command({"SMEMBERS", "tags"})) == std::set<std::string>{"c", "d"});
    CHECK(c->Command({"SMEMBERS", "moved"}) == Reply::Array({Reply::Bulk("b")}));
    CHECK(c->Command({"EXISTS", "nums"}) == Reply::Int(0));  // popped empty: gone
  }
  // An empty STORE result deletes the destination.
  CHECK(n2.Command({"SINTERSTORE", "both", "tags", "missing"}) == Reply::Int(0));
  for (Client* c : all) CHECK(c->Command({"EXISTS", "both"}) == Reply::Int(0));

  // A big set goes hashtable on every replica, and survives a replica's restart.
  std::vector<std::string> argv = {"SADD", "big"};
  for (int i = 0; i < 600; ++i) argv.push_back(std::to_string(i));
  CHECK(n1.Command(argv) == Reply::Int(600));
  CHECK(n2.Command({"OBJECT", "ENCODING", "big"}) == Reply::Bulk("hashtable"));
  cluster.node(2).Kill();
  cluster.node(2).Start();
  Client again(cluster.node(2).port());
  CHECK(UntilAvailable(again, {"SCARD", "big"}) == Reply::Int(600));
  CHECK(again.Command({"SISMEMBER", "big", "599"}) == Reply::Int(1));
  CHECK(again.Command({"OBJECT", "ENCODING", "big"}) == Reply::Bulk("hashtable"));
}
