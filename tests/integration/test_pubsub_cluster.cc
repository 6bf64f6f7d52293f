// Pub/sub in cluster mode is node-local (README): a message reaches the subscribers of the node
// that ran PUBLISH, and keyspace notifications fire on the coordinator that ran the command.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "harness.h"
#include "raw_socket.h"

using dynakv::itest::Client;
using dynakv::itest::EncodeCommand;
using dynakv::itest::LocalCluster;
using dynakv::itest::RawSocket;
using dynakv::itest::Reply;
using dynakv::itest::TestingRealRedis;
using dynakv::itest::UntilAvailable;
using namespace std::chrono_literals;

TEST_CASE("in a 3-node cluster PUBLISH reaches the publishing node's subscribers only") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3);
  cluster.Start();
  RawSocket subscriber(cluster.node(0).port());
  REQUIRE(subscriber.Send(EncodeCommand({"SUBSCRIBE", "news"}) +
                          EncodeCommand({"SSUBSCRIBE", "shard"})));
  REQUIRE(subscriber.ReadReplies(2, 5s).size() == 2);
  Client n1(cluster.node(0).port());
  Client n2(cluster.node(1).port());
  CHECK(n1.Command({"PUBLISH", "news", "local"}) == Reply::Int(1));
  CHECK(n1.Command({"SPUBLISH", "shard", "local shard"}) == Reply::Int(1));
  CHECK(n2.Command({"PUBLISH", "news", "elsewhere"}) == Reply::Int(0));
  CHECK(n2.Command({"PUBSUB", "NUMSUB", "news"}) ==
        Reply::Array({Reply::Bulk("news"), Reply::Int(0)}));
  const std::vector<Reply> got = subscriber.ReadReplies(2, 5s);
  REQUIRE(got.size() == 2);
  CHECK(got[0] == Reply::Bulks({"message", "news", "local"}));
  CHECK(got[1] == Reply::Bulks({"smessage", "shard", "local shard"}));
  // The subscribed-mode rules hold on a cluster node too.
  REQUIRE(subscriber.Send(EncodeCommand({"GET", "k"})));
  const std::vector<Reply> refused = subscriber.ReadReplies(1, 5s);
  REQUIRE(refused.size() == 1);
  CHECK(refused[0] == Reply::Error("ERR Can't execute 'get': only (P|S)SUBSCRIBE / "
                                   "(P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this "
                                   "context"));
}

TEST_CASE("in a 3-node cluster keyspace notifications fire on the coordinator") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3);
  cluster.Start();
  Client n1(cluster.node(0).port());
  Client n2(cluster.node(1).port());
  for (Client* c : {&n1, &n2}) {
    REQUIRE(c->Command({"CONFIG", "SET", "notify-keyspace-events", "KEA"}) == Reply::Status("OK"));
  }
  RawSocket on_n1(cluster.node(0).port());
  RawSocket on_n2(cluster.node(1).port());
  for (RawSocket* s : {&on_n1, &on_n2}) {
    REQUIRE(s->Send(EncodeCommand({"PSUBSCRIBE", "__keyevent@0__:*"})));
    REQUIRE(s->ReadReplies(1, 5s).size() == 1);
  }
  REQUIRE(UntilAvailable(n1, {"SET", "k", "v"}) == Reply::Status("OK"));
  REQUIRE(n1.Command({"HSET", "h", "f", "v"}) == Reply::Int(1));
  const std::vector<Reply> events = on_n1.ReadReplies(2, 5s);
  REQUIRE(events.size() == 2);
  CHECK(events[0] == Reply::Bulks({"pmessage", "__keyevent@0__:*", "__keyevent@0__:set", "k"}));
  CHECK(events[1] == Reply::Bulks({"pmessage", "__keyevent@0__:*", "__keyevent@0__:hset", "h"}));
  // n2 holds replicas of those keys but ran no command: it published nothing.
  REQUIRE(n2.Command({"DEL", "k"}) == Reply::Int(1));
  const std::vector<Reply> on_second = on_n2.ReadReplies(1, 5s);
  REQUIRE(on_second.size() == 1);
  CHECK(on_second[0] == Reply::Bulks({"pmessage", "__keyevent@0__:*", "__keyevent@0__:del", "k"}));
}
