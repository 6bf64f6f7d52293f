// Pub/sub against redis-server 7: subscribe and unsubscribe replies and counts, messages and
// their order in RESP2 and RESP3, patterns, shard channels, the subscribed-mode rules, PUBSUB
// introspection, CLIENT LIST and INFO fields, ACL channel permissions, and the pubsub class of
// client-output-buffer-limit; plus a 100-subscriber fan-out through hiredis.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "pubsub_pair.h"
#include "raw_socket.h"
#include "reference_pair.h"

using dynakv::itest::Client;
using dynakv::itest::EncodeCommand;
using dynakv::itest::PubSubPair;
using dynakv::itest::RawSocket;
using dynakv::itest::ReferenceAvailable;
using dynakv::itest::ReferencePair;
using dynakv::itest::Reply;
using dynakv::itest::ReplyText;
using dynakv::itest::ServerFixture;
using namespace std::chrono_literals;

namespace {

// Connections of the scripted and random runs: 0 and 1 speak RESP2, 2 and 3 RESP3.
const std::vector<int> kProtocols = {2, 2, 3, 3};

}  // namespace

TEST_CASE("subscribe, publish, patterns and shard channels reply and deliver as Redis") {
  if (!ReferenceAvailable()) return;
  ReferencePair servers({}, {});
  auto& [ours, reference] = servers;
  PubSubPair pair(ours.port(), reference.port(), kProtocols);
  using V = std::vector<std::string>;
  // Nothing subscribed yet: unsubscribe-all still answers, with a nil channel.
  pair.Step(0, V{"UNSUBSCRIBE"});
  pair.Step(0, V{"PUNSUBSCRIBE"});
  pair.Step(2, V{"SUNSUBSCRIBE"});
  pair.Step(0, V{"SUBSCRIBE", "news", "sport", "news"});
  pair.Step(2, V{"SUBSCRIBE", "news"});
  pair.Step(1, V{"PSUBSCRIBE", "news*", "s?ort", "[a-m]*"});
  pair.Step(3, V{"PSUBSCRIBE", "*"});
  pair.Step(3, V{"SSUBSCRIBE", "news", "shard-1"});
  // A RESP2 subscriber runs only the subscription commands, PING, QUIT and RESET.
  pair.Step(0, V{"GET", "k"});
  pair.Step(0, V{"CLIENT", "ID"});
  pair.Step(0, V{"PUBLISH", "news", "x"});
  pair.Step(0, V{"PING"});
  pair.Step(0, V{"PING", "hello"});
  pair.Step(0, V{"NOSUCHCOMMAND"});
  pair.Step(0, V{"SUBSCRIBE"});
  // RESP3 subscribers run anything, their messages arriving as pushes.
  pair.Step(2, V{"SET", "k", "v"});
  pair.Step(2, V{"GET", "k"});
  pair.Step(2, V{"PING"});
  pair.Step(3, V{"PUBLISH", "news", "hello"}, /*ordered=*/false);
  pair.Step(2, V{"PUBLISH", "sport", "goal"}, false);
  pair.Step(2, V{"PUBLISH", "nobody", ""});
  pair.Step(2, V{"SPUBLISH", "news", "shard message"});
  pair.Step(2, V{"SPUBLISH", "shard-1", "s1"});
  pair.Step(2, V{"SPUBLISH", "shard-2", "none"});
  pair.Step(2, V{"PUBSUB", "NUMSUB", "news", "sport", "nobody"});
  pair.Step(2, V{"PUBSUB", "NUMSUB"});
  pair.Step(2, V{"PUBSUB", "NUMPAT"});
  pair.Step(2, V{"PUBSUB", "CHANNELS", "spo*"});
  pair.Step(2, V{"PUBSUB", "CHANNELS", "x*"});
  pair.Step(2, V{"PUBSUB", "SHARDCHANNELS", "shard*"});
  pair.Step(2, V{"PUBSUB", "SHARDNUMSUB", "news", "shard-1", "shard-2"});
  pair.Step(2, V{"PUBSUB", "HELP"});
  pair.Step(2, V{"PUBSUB", "CHANNELS", "a", "b"});
  pair.Step(2, V{"PUBSUB", "NUMPAT", "x"});
  pair.Step(2, V{"PUBSUB", "NOPE"});
  pair.Step(2, V{"PUBSUB"});
  pair.Step(2, V{"PUBLISH", "a"});
  pair.Step(2, V{"SUBSCRIBE"});
  pair.Step(0, V{"UNSUBSCRIBE", "news", "nothere"});
  pair.Step(1, V{"PUNSUBSCRIBE", "s?ort"});
  pair.Step(1, V{"PUNSUBSCRIBE"});  // patterns go in the order they were subscribed
  pair.Step(2, V{"PUBSUB", "NUMPAT"});
  // Still subscribed to "sport": still in subscribed mode.
  pair.Step(0, V{"GET", "k"});
  pair.Step(0, V{"UNSUBSCRIBE"});
  pair.Step(0, V{"GET", "k"});  // out of subscribed mode
  pair.Step(3, V{"SUNSUBSCRIBE", "news"});
  // RESET drops every subscription silently.
  pair.Step(3, V{"RESET"});
  pair.Step(2, V{"PUBLISH", "news", "after reset"});
  pair.Step(2, V{"PUBSUB", "NUMPAT"});
  pair.Step(2, V{"PUBSUB", "SHARDNUMSUB", "shard-1"});
  pair.Step(1, V{"SUBSCRIBE", "z"});
  pair.Step(1, V{"RESET"});
  pair.Step(1, V{"GET", "k"});
  CHECK(pair.mismatches() == 0);
}

TEST_CASE("a seeded random pub/sub run over RESP2 and RESP3 connections matches Redis") {
  if (!ReferenceAvailable()) return;
  ReferencePair servers({}, {});
  auto& [ours, reference] = servers;
  PubSubPair pair(ours.port(), reference.port(), kProtocols);
  const unsigned seed = std::random_device{}();
  CAPTURE(seed);
  std::mt19937 rng(seed);
  const std::vector<std::string> channels = {"a", "ab", "b.c", "news.1", "x"};
  const std::vector<std::string> patterns = {"a*", "?", "news.*", "[ab]*", "*"};
  auto pick = [&](const std::vector<std::string>& from) {
    return from[std::uniform_int_distribution<std::size_t>(0, from.size() - 1)(rng)];
  };
  for (int step = 0; step < 400 && pair.mismatches() == 0; ++step) {
    const std::size_t conn = rng() % kProtocols.size();
    std::vector<std::string> argv;
    switch (rng() % 9) {
      case 0:
        argv = {"SUBSCRIBE", pick(channels), pick(channels)};
        break;
      case 1:
        argv = {"UNSUBSCRIBE", pick(channels)};
        break;
      case 2:
        argv = {"PSUBSCRIBE", pick(patterns)};
        break;
      case 3:
        argv = {"PUNSUBSCRIBE", pick(patterns)};
        break;
      case 4:
        argv = {"SSUBSCRIBE", pick(channels)};
        break;
      case 5:
        argv = {"SPUBLISH", pick(channels), "m" + std::to_string(step)};
        break;
      case 6:
        argv = {"PUBSUB", "NUMSUB", pick(channels), pick(channels)};
        break;
      case 7:
        argv = {"UNSUBSCRIBE"};
        break;
      default:
        argv = {"PUBLISH", pick(channels), "m" + std::to_string(step)};
        break;
    }
    // RESP2 subscribers cannot publish; they are refused, which is compared too.
    pair.Step(conn, argv, /*ordered=*/false);
  }
  CHECK(pair.mismatches() == 0);
}

TEST_CASE("messages arrive in publication order, message before pmessage, in RESP2 and RESP3") {
  ServerFixture f;
  RawSocket resp2(f.server.port());
  RawSocket resp3(f.server.port());
  REQUIRE(resp3.Send(EncodeCommand({"HELLO", "3"})));
  REQUIRE(resp3.ReadUntil("modules", 5s).find("modules") != std::string::npos);
  for (RawSocket* s : {&resp2, &resp3}) {
    REQUIRE(s->Send(EncodeCommand({"SUBSCRIBE", "ch"}) + EncodeCommand({"PSUBSCRIBE", "c*"})));
  }
  REQUIRE(resp2.ReadReplies(2, 5s).size() == 2);
  REQUIRE(resp3.ReadUntil("c*\r\n:2\r\n", 5s).ends_with(":2\r\n"));
  constexpr int kMessages = 2000;
  std::string pipeline;
  for (int i = 0; i < kMessages; ++i)
    pipeline += EncodeCommand({"PUBLISH", "ch", std::to_string(i)});
  RawSocket publisher(f.server.port());
  REQUIRE(publisher.Send(pipeline));
  const std::vector<Reply> counts = publisher.ReadReplies(kMessages, 10s);
  REQUIRE(counts.size() == kMessages);
  for (const Reply& count : counts) REQUIRE(count == Reply::Int(4));
  const std::vector<Reply> got = resp2.ReadReplies(2 * kMessages, 10s);
  REQUIRE(got.size() == 2 * kMessages);
  std::string expected3;
  for (int i = 0; i < kMessages; ++i) {
    const std::string n = std::to_string(i);
    CHECK(got[2 * i] == Reply::Bulks({"message", "ch", n}));
    CHECK(got[2 * i + 1] == Reply::Bulks({"pmessage", "c*", "ch", n}));
    const std::string payload = "$" + std::to_string(n.size()) + "\r\n" + n + "\r\n";
    expected3 += ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n" + payload;
    expected3 += ">4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nch\r\n" + payload;
  }
  CHECK(resp3.ReadBytes(expected3.size(), 10s) == expected3);
}

TEST_CASE("100 subscribers through hiredis each get every message, in order") {
  ServerFixture f;
  constexpr int kSubscribers = 100;
  constexpr int kMessages = 200;
  std::vector<std::unique_ptr<Client>> subscribers;
  for (int i = 0; i < kSubscribers; ++i) {
    subscribers.push_back(std::make_unique<Client>(f.server.port()));
    REQUIRE(subscribers.back()->ok());
    subscribers.back()->Append({"SUBSCRIBE", "fanout"});
    REQUIRE(subscribers.back()->GetReply() ==
            Reply::Array({Reply::Bulk("subscribe"), Reply::Bulk("fanout"), Reply::Int(1)}));
  }
  REQUIRE(f.client.Command({"PUBSUB", "NUMSUB", "fanout"}) ==
          Reply::Array({Reply::Bulk("fanout"), Reply::Int(kSubscribers)}));
  for (int m = 0; m < kMessages; ++m) {
    REQUIRE(f.client.Command({"PUBLISH", "fanout", "msg-" + std::to_string(m)}) ==
            Reply::Int(kSubscribers));
  }
  for (auto& subscriber : subscribers) {
    for (int m = 0; m < kMessages; ++m) {
      const Reply got = subscriber->GetReply();
      REQUIRE(got == Reply::Bulks({"message", "fanout", "msg-" + std::to_string(m)}));
    }
  }
  // Disconnecting unsubscribes.
  subscribers.resize(kSubscribers / 2);
  Reply count;
  for (int i = 0; i < 100; ++i) {
    count = f.client.Command({"PUBSUB", "NUMSUB", "fanout"});
    if (count.elements.size() == 2 && count.elements[1] == Reply::Int(kSubscribers / 2)) break;
    std::this_thread::sleep_for(20ms);
  }
  CHECK(count == Reply::Array({Reply::Bulk("fanout"), Reply::Int(kSubscribers / 2)}));
}

TEST_CASE("CLIENT LIST, INFO and CONFIG show pub/sub state as Redis") {
  if (!ReferenceAvailable()) return;
  ReferencePair servers({}, {});
  auto& [ours, reference] = servers;
  for (auto* server : {&ours, &reference}) {
    CAPTURE(server->port());
    RawSocket subscriber(server->port());
    REQUIRE(subscriber.Send(EncodeCommand({"SUBSCRIBE", "a", "b"}) +
                            EncodeCommand({"PSUBSCRIBE", "p*", "q*", "p*"}) +
                            EncodeCommand({"SSUBSCRIBE", "s"})));
    REQUIRE(subscriber.ReadReplies(6, 5s).size() == 6);
    Client client(server->port());
    RawSocket other(server->port());
    REQUIRE(other.Send(EncodeCommand({"PSUBSCRIBE", "p*"})));
    REQUIRE(other.ReadReplies(1, 5s).size() == 1);
    const Reply list = client.Command({"CLIENT", "LIST"});
    CHECK(list.str.find("flags=P db=0 sub=2 psub=2 ssub=1 ") != std::string::npos);
    CHECK(list.str.find("flags=P db=0 sub=0 psub=1 ssub=0 ") != std::string::npos);
    CHECK(list.str.find("flags=N db=0 sub=0 psub=0 ssub=0 ") != std::string::npos);
    // TYPE pubsub: the clients with subscriptions; TYPE normal: the others.
    auto lines = [](const Reply& r) { return std::count(r.str.begin(), r.str.end(), '\n'); };
    CHECK(lines(client.Command({"CLIENT", "LIST", "TYPE", "pubsub"})) == 2);
    CHECK(lines(client.Command({"CLIENT", "LIST", "TYPE", "normal"})) == 1);
    CHECK(lines(client.Command({"CLIENT", "LIST", "TYPE", "replica"})) == 0);
    const Reply info = client.Command({"INFO", "stats"});
    CHECK(info.str.find("pubsub_channels:2\r\npubsub_patterns:2\r\npubsubshard_channels:1\r\n") !=
          std::string::npos);
    CHECK(client.Command({"PUBSUB", "NUMPAT"}) == Reply::Int(2));
    CHECK(client.Command({"CLIENT", "KILL", "TYPE", "pubsub"}) == Reply::Int(2));
    bool closed = false;
    subscriber.ReadUntilClosed(5s, &closed);
    CHECK(closed);
  }
  Client a(ours.port());
  Client b(reference.port());
  for (const char* value : {"KEA", "A", "Anm", "g$d", "Kx", "", "lshzxetdn", "EKm$", "q", "Ab c"}) {
    CAPTURE(value);
    const Reply set = b.Command({"CONFIG", "SET", "notify-keyspace-events", value});
    CHECK(a.Command({"CONFIG", "SET", "notify-keyspace-events", value}) == set);
    CHECK(a.Command({"CONFIG", "GET", "notify-keyspace-events"}) ==
          b.Command({"CONFIG", "GET", "notify-keyspace-events"}));
  }
  for (const char* value : {"pubsub 1mb 2mb 3", "replica 1 1 1 pubsub 1kb 1KB 0", "normal 1 2",
                            "master 1 1 1", "foo 1 2 3", "pubsub x 2 3", "pubsub 1 2 -1",
                            "PUBSUB 1 2 1.5", "pubsub 32mb 8mb 60 slave 256mb 64mb 60", ""}) {
    CAPTURE(value);
    const Reply set = b.Command({"CONFIG", "SET", "client-output-buffer-limit", value});
    CHECK(a.Command({"CONFIG", "SET", "client-output-buffer-limit", value}) == set);
    CHECK(a.Command({"CONFIG", "GET", "client-output-buffer-limit"}) ==
          b.Command({"CONFIG", "GET", "client-output-buffer-limit"}));
  }
}

TEST_CASE("ACL channel permissions: subscribe, psubscribe and publish as Redis 7 checks them") {
  if (!ReferenceAvailable()) return;
  ReferencePair servers({}, {});
  auto& [ours, reference] = servers;
  for (auto* server : {&ours, &reference}) {
    Client admin(server->port());
    REQUIRE(admin.Command({"ACL", "SETUSER", "u", "on", "nopass", "+@all", "~*", "&news.*",
                           "&exact"}) == Reply::Status("OK"));
    REQUIRE(admin.Command({"ACL", "SETUSER", "plain", "on", "nopass", "+@all", "~*"}) ==
            Reply::Status("OK"));
  }
  PubSubPair pair(ours.port(), reference.port(), {2, 3, 2});
  using V = std::vector<std::string>;
  pair.Step(0, V{"AUTH", "u", "x"});
  pair.Step(1, V{"AUTH", "u", "x"});
  pair.Step(2, V{"AUTH", "plain", "x"});
  pair.Step(1, V{"PUBLISH", "news.1", "ok"});
  pair.Step(1, V{"PUBLISH", "other", "no"});
  pair.Step(1, V{"SPUBLISH", "exact", "ok"});
  pair.Step(0, V{"SUBSCRIBE", "news.1", "other"});
  pair.Step(0, V{"SUBSCRIBE", "news.1", "exact"});
  pair.Step(0, V{"PSUBSCRIBE", "news.*"});  // a pattern must be allowed literally
  pair.Step(0, V{"PSUBSCRIBE", "news.1*"});
  pair.Step(0, V{"SSUBSCRIBE", "exact", "nope"});
  pair.Step(0, V{"UNSUBSCRIBE", "not-checked"});
  // acl-pubsub-default is resetchannels in Redis 7: a user without & rules has no channels.
  pair.Step(2, V{"PUBLISH", "news.1", "x"});
  pair.Step(2, V{"SUBSCRIBE", "anything"});
  pair.Step(1, V{"PUBLISH", "news.1", "delivered"});
  CHECK(pair.mismatches() == 0);
  for (auto* server : {&ours, &reference}) {
    Client admin(server->port());
    const Reply log = admin.Command({"ACL", "LOG", "1"});
    REQUIRE(log.elements.size() == 1);
    CHECK(ReplyText(log.elements[0]).find("\"channel\"") != std::string::npos);
  }
}

TEST_CASE("ACL SETUSER that takes channels away closes the user's subscribers that lose one") {
  if (!ReferenceAvailable()) return;
  ReferencePair servers({}, {});
  auto& [ours, reference] = servers;
  for (auto* server : {&ours, &reference}) {
    CAPTURE(server->port());
    Client admin(server->port());
    REQUIRE(admin.Command({"ACL", "SETUSER", "u", "on", "nopass", "+@all", "~*", "&news.*",
                           "&sport"}) == Reply::Status("OK"));
    REQUIRE(admin.Command({"ACL", "SETUSER", "all", "on", "nopass", "+@all", "~*",
                           "allchannels"}) == Reply::Status("OK"));
    auto subscribe = [&](const char* user, std::vector<std::string> command) {
      auto socket = std::make_unique<RawSocket>(server->port());
      REQUIRE(socket->Send(EncodeCommand({"AUTH", user, "x"}) + EncodeCommand(command)));
      REQUIRE(socket->ReadReplies(command.size(), 5s).size() == command.size());
      return socket;
    };
    auto news = subscribe("u", {"SUBSCRIBE", "news.1"});
    auto pattern = subscribe("u", {"PSUBSCRIBE", "news.*"});
    auto sport = subscribe("u", {"SSUBSCRIBE", "sport"});
    auto everything = subscribe("all", {"SUBSCRIBE", "anything"});
    auto closed_within = [](RawSocket& socket) {
      bool closed = false;
      socket.ReadUntilClosed(500ms, &closed);
      return closed;
    };
    // A superset of the channels closes no one.
    REQUIRE(admin.Command({"ACL", "SETUSER", "u", "&more"}) == Reply::Status("OK"));
    CHECK_FALSE(closed_within(*news));
    // news.* goes, sport stays: the channel and the pattern subscribers of news.* are closed.
    REQUIRE(admin.Command({"ACL", "SETUSER", "u", "resetchannels", "&sport", "&news.1"}) ==
            Reply::Status("OK"));
    CHECK_FALSE(closed_within(*news));  // news.1 is still allowed literally
    CHECK(closed_within(*pattern));
    CHECK_FALSE(closed_within(*sport));
    REQUIRE(admin.Command({"ACL", "SETUSER", "u", "resetchannels"}) == Reply::Status("OK"));
    CHECK(closed_within(*news));
    CHECK(closed_within(*sport));
    // Taking allchannels away closes a subscriber too.
    REQUIRE(admin.Command({"ACL", "SETUSER", "all", "resetchannels", "&other"}) ==
            Reply::Status("OK"));
    CHECK(closed_within(*everything));
    CHECK(admin.Command({"PUBSUB", "NUMPAT"}) == Reply::Int(0));
  }
}

namespace {

// Publishes 64 KB messages to `channel` until `subscriber_gone` says so or `limit` messages went.
void PublishUntil(Client& publisher, const std::string& channel, int limit,
                  const std::function<bool()>& subscriber_gone) {
  const std::string payload(64 * 1024, 'p');
  for (int i = 0; i < limit && !subscriber_gone(); ++i) {
    REQUIRE(!publisher.Command({"PUBLISH", channel, payload}).IsError());
  }
}

bool NumSubIs(Client& client, const std::string& channel, long long n) {
  return client.Command({"PUBSUB", "NUMSUB", channel}) ==
         Reply::Array({Reply::Bulk(channel), Reply::Int(n)});
}

// A subscriber that never reads, on `port`: closed once past 1 MB of pending output.
void CheckHardLimit(int port) {
  Client publisher(port);
  REQUIRE(publisher.Command({"CONFIG", "SET", "client-output-buffer-limit", "pubsub 1mb 0 0"}) ==
          Reply::Status("OK"));
  RawSocket slow(port);
  REQUIRE(slow.Send(EncodeCommand({"SUBSCRIBE", "slow"})));
  REQUIRE(slow.ReadReplies(1, 5s).size() == 1);
  // The socket buffers take some megabytes first; then the server's own output grows.
  PublishUntil(publisher, "slow", 2000, [&] { return NumSubIs(publisher, "slow", 0); });
  CHECK(NumSubIs(publisher, "slow", 0));
  bool closed = false;
  slow.ReadUntilClosed(10s, &closed);
  CHECK(closed);
}

void CheckSoftLimit(int port) {
  Client publisher(port);
  REQUIRE(publisher.Command({"CONFIG", "SET", "client-output-buffer-limit", "pubsub 0 512kb 1"}) ==
          Reply::Status("OK"));
  RawSocket slow(port);
  REQUIRE(slow.Send(EncodeCommand({"SUBSCRIBE", "slow"})));
  REQUIRE(slow.ReadReplies(1, 5s).size() == 1);
  // Far enough past the soft limit that the socket buffers cannot hide it.
  PublishUntil(publisher, "slow", 400, [] { return false; });
  CHECK(NumSubIs(publisher, "slow", 1));  // over the soft limit, but not for long yet
  std::this_thread::sleep_for(2500ms);
  PublishUntil(publisher, "slow", 1, [] { return false; });
  for (int i = 0; i < 50 && !NumSubIs(publisher, "slow", 0); ++i) {
    std::this_thread::sleep_for(20ms);
  }
  CHECK(NumSubIs(publisher, "slow", 0));
}

}  // namespace

TEST_CASE("a subscriber that does not read is disconnected past the pubsub hard limit") {
  if (!ReferenceAvailable()) return;
  ReferencePair servers({}, {});
  auto& [ours, reference] = servers;
  CheckHardLimit(reference.port());
  CheckHardLimit(ours.port());
}

TEST_CASE("a subscriber over the pubsub soft limit for longer than its seconds is disconnected") {
  if (!ReferenceAvailable()) return;
  ReferencePair servers({}, {});
  auto& [ours, reference] = servers;
  CheckSoftLimit(reference.port());
  CheckSoftLimit(ours.port());
}
