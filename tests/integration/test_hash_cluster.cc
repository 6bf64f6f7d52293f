// Hashes in cluster mode: every hash command works through any coordinator on the
// read-modify-write path (the whole hash replicated as one typed version, last-write-wins), the
// type survives replication (TYPE, WRONGTYPE, OBJECT ENCODING on every node), and a replica that
// restarts keeps its typed versions.
#include <doctest/doctest.h>

#include <map>
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

std::map<std::string, std::string> AsFields(const Reply& reply) {
  std::map<std::string, std::string> out;
  for (std::size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
    out[reply.elements[i].str] = reply.elements[i + 1].str;
  }
  return out;
}

}  // namespace

TEST_CASE("hash commands through any coordinator of a 3-node cluster") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3);
  auto [n1, n2, n3] = StartWithClients<3>(cluster);

  CHECK(UntilAvailable(n1, {"HSET", "user:1", "name", "ada", "age", "36"}) == Reply::Int(2));
  CHECK(n2.Command({"HSET", "user:1", "lang", "en", "age", "37"}) == Reply::Int(1));
  CHECK(n3.Command({"HINCRBY", "user:1", "age", "1"}) == Reply::Int(38));
  CHECK(n1.Command({"HINCRBYFLOAT", "user:1", "score", "1.5"}) == Reply::Bulk("1.5"));
  CHECK(n2.Command({"HSETNX", "user:1", "name", "bob"}) == Reply::Int(0));
  const std::map<std::string, std::string> expected = {
      {"name", "ada"}, {"age", "38"}, {"lang", "en"}, {"score", "1.5"}};
  for (Client* c : {&n1, &n2, &n3}) {
    CHECK(AsFields(c->Command({"HGETALL", "user:1"})) == expected);
    CHECK(c->Command({"HGET", "user:1", "lang"}) == Reply::Bulk("en"));
    CHECK(c->Command({"HLEN", "user:1"}) == Reply::Int(4));
    CHECK(c->Command({"TYPE", "user:1"}) == Reply::Status("hash"));
    CHECK(c->Command({"OBJECT", "ENCODING", "user:1"}) == Reply::Bulk("listpack"));
    CHECK(c->Command({"GET", "user:1"}).IsError());  // WRONGTYPE
    CHECK(c->Command({"HMGET", "user:1", "name", "nope"}) ==
          Reply::Array({Reply::Bulk("ada"), Reply::Nil()}));
  }
  CHECK(n3.Command({"SET", "str", "v"}) == Reply::Status("OK"));
  CHECK(n1.Command({"HGET", "str", "f"}) ==
        Reply::Error("WRONGTYPE Operation against a key holding the wrong kind of value"));

  // Expiry is the whole key's; emptied hashes disappear.
  CHECK(n1.Command({"EXPIRE", "user:1", "1000"}) == Reply::Int(1));
  CHECK(n2.Command({"TTL", "user:1"}).integer > 900);
  CHECK(n2.Command({"HDEL", "user:1", "name", "age", "lang"}) == Reply::Int(3));
  CHECK(n3.Command({"HDEL", "user:1", "score"}) == Reply::Int(1));
  for (Client* c : {&n1, &n2, &n3}) CHECK(c->Command({"EXISTS", "user:1"}) == Reply::Int(0));

  // A big hash goes hashtable on every replica, and survives a replica's restart.
  std::vector<std::string> argv = {"HSET", "big"};
  for (int i = 0; i < 600; ++i) {
    argv.push_back("f" + std::to_string(i));
    argv.push_back("v" + std::to_string(i));
  }
  CHECK(n1.Command(argv) == Reply::Int(600));
  CHECK(n2.Command({"OBJECT", "ENCODING", "big"}) == Reply::Bulk("hashtable"));
  CHECK(n2.Command({"RENAME", "big", "big2"}) == Reply::Status("OK"));
  cluster.node(2).Kill();
  cluster.node(2).Start();
  Client again(cluster.node(2).port());
  CHECK(UntilAvailable(again, {"HLEN", "big2"}) == Reply::Int(600));
  CHECK(again.Command({"HGET", "big2", "f599"}) == Reply::Bulk("v599"));
  CHECK(again.Command({"EXISTS", "big"}) == Reply::Int(0));
}
