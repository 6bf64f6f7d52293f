// Lists in cluster mode: every non-blocking list command works through any coordinator on the
// read-modify-write path (the whole list replicated as one typed version, last-write-wins), the
// type survives replication and a replica's restart; pops of several keys and blocking pops
// run too.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "harness.h"

using dynakv::itest::Client;
using dynakv::itest::LocalCluster;
using dynakv::itest::Reply;
using dynakv::itest::StartWithClients;
using dynakv::itest::TestingRealRedis;
using dynakv::itest::UntilAvailable;

TEST_CASE("list commands through any coordinator of a 3-node cluster") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3);
  auto [n1, n2, n3] = StartWithClients<3>(cluster);

  CHECK(UntilAvailable(n1, {"RPUSH", "jobs", "a", "b", "c"}) == Reply::Int(3));
  CHECK(n2.Command({"LPUSH", "jobs", "z"}) == Reply::Int(4));
  CHECK(n3.Command({"RPUSHX", "jobs", "d"}) == Reply::Int(5));
  CHECK(n1.Command({"LPUSHX", "none", "x"}) == Reply::Int(0));
  CHECK(n2.Command({"LPOP", "jobs"}) == Reply::Bulk("z"));
  CHECK(n3.Command({"RPOP", "jobs", "2"}) == Reply::Bulks({"d", "c"}));
  CHECK(n1.Command({"LINSERT", "jobs", "AFTER", "a", "a2"}) == Reply::Int(3));
  CHECK(n2.Command({"LSET", "jobs", "-1", "B"}) == Reply::Status("OK"));
  CHECK(n3.Command({"RPUSH", "jobs", "a", "a"}) == Reply::Int(5));
  CHECK(n1.Command({"LREM", "jobs", "-1", "a"}) == Reply::Int(1));
  CHECK(n2.Command({"LMOVE", "jobs", "done", "LEFT", "RIGHT"}) == Reply::Bulk("a"));
  CHECK(n3.Command({"RPOPLPUSH", "jobs", "done"}) == Reply::Bulk("a"));
  for (Client* c : {&n1, &n2, &n3}) {
    CHECK(c->Command({"LRANGE", "jobs", "0", "-1"}) == Reply::Bulks({"a2", "B"}));
    CHECK(c->Command({"LRANGE", "done", "0", "-1"}) == Reply::Bulks({"a", "a"}));
    CHECK(c->Command({"LLEN", "jobs"}) == Reply::Int(2));
    CHECK(c->Command({"LINDEX", "jobs", "-1"}) == Reply::Bulk("B"));
    CHECK(c->Command({"LPOS", "done", "a", "COUNT", "0"}) ==
          Reply::Array({Reply::Int(0), Reply::Int(1)}));
    CHECK(c->Command({"TYPE", "jobs"}) == Reply::Status("list"));
    CHECK(c->Command({"OBJECT", "ENCODING", "jobs"}) == Reply::Bulk("quicklist"));
    CHECK(c->Command({"GET", "jobs"}).IsError());  // WRONGTYPE
  }
  CHECK(n1.Command({"SET", "str", "v"}) == Reply::Status("OK"));
  CHECK(n2.Command({"LPUSH", "str", "x"}) ==
        Reply::Error("WRONGTYPE Operation against a key holding the wrong kind of value"));
  CHECK(n3.Command({"LTRIM", "jobs", "5", "10"}) == Reply::Status("OK"));
  for (Client* c : {&n1, &n2, &n3}) CHECK(c->Command({"EXISTS", "jobs"}) == Reply::Int(0));

  // The pops of several keys and the blocking pops run too (cluster_blocking.h; more in
  // test_blocking_cluster.cc).
  CHECK(n1.Command({"BLPOP", "done", "0"}) == Reply::Bulks({"done", "a"}));
  CHECK(n2.Command({"BLMOVE", "done", "x", "LEFT", "LEFT", "0"}) == Reply::Bulk("a"));
  CHECK(n3.Command({"LMPOP", "1", "x", "LEFT"}) ==
        Reply::Array({Reply::Bulk("x"), Reply::Bulks({"a"})}));
  CHECK(n3.Command({"BLMPOP", "0.1", "1", "done", "LEFT"}) == Reply::Nil());

  // A big list survives a replica's restart.
  std::vector<std::string> argv = {"RPUSH", "big"};
  for (int i = 0; i < 3000; ++i) argv.push_back("element-" + std::to_string(i));
  CHECK(n1.Command(argv) == Reply::Int(3000));
  cluster.node(2).Kill();
  cluster.node(2).Start();
  Client again(cluster.node(2).port());
  CHECK(UntilAvailable(again, {"LLEN", "big"}) == Reply::Int(3000));
  CHECK(again.Command({"LINDEX", "big", "2999"}) == Reply::Bulk("element-2999"));
  CHECK(again.Command({"LRANGE", "big", "1000", "1001"}) ==
        Reply::Bulks({"element-1000", "element-1001"}));
}
