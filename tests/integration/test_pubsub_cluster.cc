// Pub/sub in cluster mode (README): subscriptions are per node, a PUBLISH through any member
// reaches the subscribers of every member over the bus (its reply counts the local ones, as
// Redis Cluster's), and keyspace notifications fire on the coordinator that ran the command.
#include <doctest/doctest.h>

#include <chrono>
#include <memory>
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

TEST_CASE("in a 3-node cluster PUBLISH through any member reaches every member's subscribers") {
  if (TestingRealRedis()) return;
  LocalCluster cluster(3);
  cluster.Start();
  std::vector<std::unique_ptr<RawSocket>> subscribers;
  for (int i = 0; i < 3; ++i) {
    subscribers.push_back(std::make_unique<RawSocket>(cluster.node(i).port()));
    REQUIRE(subscribers.back()->Send(EncodeCommand({"SUBSCRIBE", "news"}) +
                                     EncodeCommand({"PSUBSCRIBE", "n*"}) +
                                     EncodeCommand({"SSUBSCRIBE", "shard"})));
    REQUIRE(subscribers.back()->ReadReplies(3, 5s).size() == 3);
  }
  Client n1(cluster.node(0).port());
  Client n2(cluster.node(1).port());
  // The reply counts this node's receivers: a message and a pmessage to its one subscriber.
  CHECK(n1.Command({"PUBLISH", "news", "from n1"}) == Reply::Int(2));
  CHECK(n1.Command({"SPUBLISH", "shard", "shard from n1"}) == Reply::Int(1));
  constexpr int kMessages = 200;
  for (int m = 0; m < kMessages; ++m) {
    CHECK(n2.Command({"PUBLISH", "news", "n2-" + std::to_string(m)}) == Reply::Int(2));
  }
  CHECK(n2.Command({"PUBSUB", "NUMSUB", "news"}) ==
        Reply::Array({Reply::Bulk("news"), Reply::Int(1)}));
  for (int i = 0; i < 3; ++i) {
    CAPTURE(i);
    const std::vector<Reply> got =
        subscribers[static_cast<std::size_t>(i)]->ReadReplies(3 + 2 * kMessages, 10s);
    REQUIRE(got.size() == 3 + 2 * kMessages);
    CHECK(got[0] == Reply::Bulks({"message", "news", "from n1"}));
    CHECK(got[1] == Reply::Bulks({"pmessage", "n*", "news", "from n1"}));
    CHECK(got[2] == Reply::Bulks({"smessage", "shard", "shard from n1"}));
    // Messages from one node arrive in the order it published them, on every member.
    for (int m = 0; m < kMessages; ++m) {
      const std::string text = "n2-" + std::to_string(m);
      CHECK(got[3 + 2 * m] == Reply::Bulks({"message", "news", text}));
      CHECK(got[4 + 2 * m] == Reply::Bulks({"pmessage", "n*", "news", text}));
    }
  }
  // The subscribed-mode rules hold on a cluster node too.
  RawSocket& subscriber = *subscribers[0];
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
