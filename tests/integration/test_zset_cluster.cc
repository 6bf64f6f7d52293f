// Sorted sets in cluster mode: the commands work through any coordinator (ZADD, ZREM, the pops...
// on one replica, the others read-modify-write at the coordinator, all written as deltas of the
// convergent sorted set: test_cluster_zsets.cc), the type survives replication (TYPE,
// WRONGTYPE, OBJECT ENCODING on every node), ZRANGESTORE writes its destination through the
// coordinator, and a replica that restarts keeps its sets.
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

TEST_CASE("sorted set commands through any coordinator of a 3-node cluster") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3);
  auto [n1, n2, n3] = StartWithClients<3>(cluster);

  CHECK(UntilAvailable(n1, {"ZADD", "board", "10", "ada", "20", "bob"}) == Reply::Int(2));
  CHECK(n2.Command({"ZADD", "board", "CH", "15", "ada", "5", "cy"}) == Reply::Int(2));
  CHECK(n3.Command({"ZINCRBY", "board", "2.5", "cy"}) == Reply::Bulk("7.5"));
  CHECK(n1.Command({"ZADD", "board", "NX", "1", "ada"}) == Reply::Int(0));
  const Reply expected = Reply::Array({Reply::Bulk("cy"), Reply::Bulk("7.5"), Reply::Bulk("ada"),
                                       Reply::Bulk("15"), Reply::Bulk("bob"), Reply::Bulk("20")});
  for (Client* c : {&n1, &n2, &n3}) {
    CHECK(c->Command({"ZRANGE", "board", "0", "-1", "WITHSCORES"}) == expected);
    CHECK(c->Command({"ZSCORE", "board", "ada"}) == Reply::Bulk("15"));
    CHECK(c->Command({"ZREVRANK", "board", "cy"}) == Reply::Int(2));
    CHECK(c->Command({"ZCOUNT", "board", "(7.5", "+inf"}) == Reply::Int(2));
    CHECK(c->Command({"TYPE", "board"}) == Reply::Status("zset"));
    CHECK(c->Command({"OBJECT", "ENCODING", "board"}) == Reply::Bulk("listpack"));
    CHECK(c->Command({"GET", "board"}).IsError());  // WRONGTYPE
  }
  CHECK(n3.Command({"SET", "str", "v"}) == Reply::Status("OK"));
  CHECK(n1.Command({"ZADD", "str", "1", "m"}) ==
        Reply::Error("WRONGTYPE Operation against a key holding the wrong kind of value"));

  // A store writes its destination (same slot not required: the cluster has no slots).
  CHECK(n2.Command({"ZRANGESTORE", "top", "board", "+inf", "(10", "BYSCORE", "REV"}) ==
        Reply::Int(2));
  CHECK(n3.Command({"ZRANGE", "top", "0", "-1"}) ==
        Reply::Array({Reply::Bulk("ada"), Reply::Bulk("bob")}));

  // Set algebra reads every source through the coordinator and writes its destination.
  CHECK(n3.Command({"ZADD", "other", "1", "ada", "100", "dan"}) == Reply::Int(2));
  CHECK(n1.Command({"ZUNIONSTORE", "sum", "2", "board", "other", "WEIGHTS", "1", "2"}) ==
        Reply::Int(4));
  CHECK(n2.Command({"ZRANGE", "sum", "0", "-1", "WITHSCORES"}) ==
        Reply::Array({Reply::Bulk("cy"), Reply::Bulk("7.5"), Reply::Bulk("ada"),
                      Reply::Bulk("17"), Reply::Bulk("bob"), Reply::Bulk("20"),
                      Reply::Bulk("dan"), Reply::Bulk("200")}));
  CHECK(n2.Command({"ZINTERCARD", "2", "board", "other"}) == Reply::Int(1));
  CHECK(n3.Command({"ZMPOP", "2", "missing", "other", "MAX"}) ==
        Reply::Array({Reply::Bulk("other"),
                      Reply::Array({Reply::Array({Reply::Bulk("dan"), Reply::Bulk("100")})})}));
  CHECK(n1.Command({"ZCARD", "other"}) == Reply::Int(1));

  // Pops and range removals; an emptied set disappears everywhere.
  CHECK(n1.Command({"ZPOPMIN", "board"}) == Reply::Array({Reply::Bulk("cy"), Reply::Bulk("7.5")}));
  CHECK(n2.Command({"ZREMRANGEBYRANK", "board", "0", "-1"}) == Reply::Int(2));
  for (Client* c : {&n1, &n2, &n3}) CHECK(c->Command({"EXISTS", "board"}) == Reply::Int(0));

  // A big set goes skiplist on every replica, and survives a replica's restart.
  std::vector<std::string> argv = {"ZADD", "big"};
  for (int i = 0; i < 300; ++i) {
    argv.push_back(std::to_string(i % 50));
    argv.push_back("m" + std::to_string(i));
  }
  CHECK(n1.Command(argv) == Reply::Int(300));
  CHECK(n2.Command({"OBJECT", "ENCODING", "big"}) == Reply::Bulk("skiplist"));
  CHECK(n2.Command({"RENAME", "big", "big2"}) == Reply::Status("OK"));
  cluster.node(2).Kill();
  cluster.node(2).Start();
  Client again(cluster.node(2).port());
  CHECK(UntilAvailable(again, {"ZCARD", "big2"}) == Reply::Int(300));
  CHECK(again.Command({"ZSCORE", "big2", "m299"}) == Reply::Bulk("49"));
  // Score 49 is shared by m149 m199 m249 m299 m49 m99 (in member order): the last six ranks.
  CHECK(again.Command({"ZRANK", "big2", "m299"}) == Reply::Int(297));
  CHECK(again.Command({"EXISTS", "big"}) == Reply::Int(0));
}
