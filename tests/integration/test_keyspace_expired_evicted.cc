// Keyspace notifications of keys the engine removes by itself: "expired" (class x) side by side
// with redis-server 7 (a key found expired on access, and one reaped by active expiry), and
// "evicted" (class e) on our own stream, since eviction under allkeys-lru picks its victims by
// each server's own approximation of LRU.
#include <doctest/doctest.h>

#include <chrono>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "durability_util.h"
#include "harness.h"
#include "pubsub_pair.h"
#include "reference_pair.h"

using dynakv::itest::Client;
using dynakv::itest::PubSubPair;
using dynakv::itest::RawSocket;
using dynakv::itest::ReferenceAvailable;
using dynakv::itest::ReferencePair;
using dynakv::itest::Reply;
using dynakv::itest::ServerProcess;

TEST_CASE("expired: a key found expired on access, or reaped by active expiry, as in Redis") {
  if (!ReferenceAvailable()) return;
  ReferencePair servers({}, {"--enable-debug-command", "yes"});
  auto& [ours, reference] = servers;
  // 0 runs the commands; 1 (RESP2) and 2 (RESP3) listen.
  PubSubPair pair(ours.port(), reference.port(), {2, 2, 3});
  pair.Step(1, {"PSUBSCRIBE", "__key*@*__:*"});
  pair.Step(2, {"SUBSCRIBE", "__keyevent@0__:expired", "__keyspace@0__:gone"});
  for (const char* classes : {"KEA", "Ex", "Kx", "KEg", "E$"}) {
    pair.Step(0, {"CONFIG", "SET", "notify-keyspace-events", classes});
    // Found expired by the read: active expiry is off meanwhile on both servers, or a loaded
    // machine's sleep lets its cycle reap the keys first, in its own order.
    pair.Step(0, {"DEBUG", "SET-ACTIVE-EXPIRE", "0"});
    pair.Step(0, {"SET", "gone", "v", "PX", "30"});
    pair.Step(0, {"RPUSH", "list", "a", "b"});
    pair.Step(0, {"PEXPIRE", "list", "30"});
    std::this_thread::sleep_for(std::chrono::milliseconds(40));
    pair.Step(0, {"GET", "gone"});
    pair.Step(0, {"LLEN", "list"});
    pair.Step(0, {"DEBUG", "SET-ACTIVE-EXPIRE", "1"});
    // Never read again: active expiry reaps it within a few cycles on both servers.
    pair.Step(0, {"SET", "gone", "v", "PX", "20"});
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    pair.Step(0, {"PING"});
    pair.Step(0, {"EXISTS", "gone"});
  }
  CHECK(pair.mismatches() == 0);
}

TEST_CASE("evicted: each key allkeys-lru evicts is published once, and is gone") {
  if (dynakv::itest::SkipUnlessDynakv()) return;
  ServerProcess server({"--maxmemory", "1048576", "--maxmemory-policy", "allkeys-lru"});
  server.Start();
  Client writer(server.port());
  REQUIRE(writer.Command({"CONFIG", "SET", "notify-keyspace-events", "Ee"}) == Reply::Status("OK"));
  RawSocket listener(server.port());
  REQUIRE(listener.Send("SUBSCRIBE __keyevent@0__:evicted __keyevent@0__:del\r\n"));
  REQUIRE(listener.ReadReplies(2, std::chrono::seconds(5)).size() == 2);
  // Incompressible values: LZ4 would shrink repeated bytes to nothing.
  std::mt19937_64 rng(11);
  std::string value(1000, '\0');
  constexpr int kKeys = 5000;
  for (int batch = 0; batch < kKeys / 100; ++batch) {
    for (int i = 0; i < 100; ++i) {
      for (char& ch : value) ch = static_cast<char>(rng());
      writer.Append({"SET", "filler:" + std::to_string(batch * 100 + i), value});
    }
    for (int i = 0; i < 100; ++i) REQUIRE(writer.GetReply() == Reply::Status("OK"));
  }
  const long long evicted = dynakv::itest::ReadInfoNumber(writer, "stats", "evicted_keys");
  REQUIRE(evicted > 1000);
  const std::vector<Reply> messages =
      listener.ReadReplies(static_cast<std::size_t>(evicted), std::chrono::seconds(10));
  REQUIRE(messages.size() == static_cast<std::size_t>(evicted));
  std::set<std::string> keys;
  for (const Reply& m : messages) {
    REQUIRE(m.elements.size() == 3);
    CHECK(m.elements[0] == Reply::Bulk("message"));
    // Evictions only: no "del" for a key the engine removed by itself.
    REQUIRE(m.elements[1] == Reply::Bulk("__keyevent@0__:evicted"));
    CHECK(keys.insert(m.elements[2].str).second);  // each key once
  }
  // No more than the stat counts, and every key named is gone.
  CHECK(listener.ReadReplies(1, std::chrono::milliseconds(300)).empty());
  for (const std::string& key : keys) writer.Append({"EXISTS", key});
  for (std::size_t i = 0; i < keys.size(); ++i) REQUIRE(writer.GetReply() == Reply::Int(0));
  // Class e off: evictions continue, silently.
  REQUIRE(writer.Command({"CONFIG", "SET", "notify-keyspace-events", "Eg"}) == Reply::Status("OK"));
  for (int i = 0; i < 500; ++i) {
    for (char& ch : value) ch = static_cast<char>(rng());
    writer.Append({"SET", "more:" + std::to_string(i), value});
  }
  for (int i = 0; i < 500; ++i) REQUIRE(writer.GetReply() == Reply::Status("OK"));
  REQUIRE(dynakv::itest::ReadInfoNumber(writer, "stats", "evicted_keys") > evicted);
  CHECK(listener.ReadReplies(1, std::chrono::milliseconds(300)).empty());
}
