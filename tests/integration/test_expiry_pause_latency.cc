// The engine's own key removals under Redis 7's rules: CLIENT PAUSE (WRITE or ALL) stops active
// expiry and eviction, a read of a key that expired meanwhile answers it absent without deleting
// it (compared with redis-server 7.0), and the keys go once the pause ends; DEBUG
// SET-ACTIVE-EXPIRE turns active expiry off and on; and LATENCY records the expire-cycle,
// expire-del, eviction-cycle and eviction-del events once latency-monitor-threshold is set.
#include <doctest/doctest.h>

#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "reference_pair.h"

using dynakv::itest::Client;
using dynakv::itest::Flags;
using dynakv::itest::ReadInfoNumber;
using dynakv::itest::Reply;
using dynakv::itest::ServerProcess;
using dynakv::itest::TestingRealRedis;
using dynakv::itest::WaitFor;

namespace {

const Reply kOk = Reply::Status("OK");
const Flags kReferenceFlags = {"--enable-debug-command", "yes"};

void SleepMs(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

// The events LATENCY LATEST lists.
std::set<std::string> LatestEvents(Client& c) {
  std::set<std::string> events;
  for (const Reply& event : c.Command({"LATENCY", "LATEST"}).elements) {
    if (!event.elements.empty()) events.insert(event.elements[0].str);
  }
  return events;
}

// A set of `members` members under `key`, built by one script (one round trip).
void BigSet(Client& c, const std::string& key, int members) {
  const Reply r = c.Command({"EVAL",
                             "for i = 1, tonumber(ARGV[1]) do redis.call('sadd', KEYS[1], i) end "
                             "return redis.call('scard', KEYS[1])",
                             "1", key, std::to_string(members)});
  REQUIRE(r == Reply::Int(members));
}

}  // namespace

TEST_CASE("CLIENT PAUSE WRITE keeps expired keys until it ends, reads answer them absent") {
  if (!dynakv::itest::ReferenceAvailable()) return;
  dynakv::itest::DifferentialClients both({}, kReferenceFlags);
  auto& [ours, reference] = both.servers;
  Client& a = both.ours;
  Client& b = both.reference;
  both({"CONFIG", "RESETSTAT"});
  both({"SET", "k1", "v", "PX", "150"});
  both({"SET", "k2", "v", "PX", "150"});
  both({"SET", "keep", "v"});
  Client pauser_a(ours.port());
  Client pauser_b(reference.port());
  REQUIRE(pauser_a.Command({"CLIENT", "PAUSE", "3000", "WRITE"}) == kOk);
  REQUIRE(pauser_b.Command({"CLIENT", "PAUSE", "3000", "WRITE"}) == kOk);
  SleepMs(600);  // past the expiry, and several active-expiry cycles (hz 10)
  // Reads run during a WRITE pause: the keys read as gone, but stay (DBSIZE, INFO).
  both({"GET", "k1"});
  both({"EXISTS", "k2"});
  both({"TTL", "k1"});
  both({"DBSIZE"});
  both({"GET", "keep"});
  CHECK(ReadInfoNumber(a, "stats", "expired_keys") == 0);
  CHECK(ReadInfoNumber(b, "stats", "expired_keys") == 0);
  // Read again: a lookup does not delete it either.
  both({"GET", "k1"});
  both({"DBSIZE"});
  REQUIRE(pauser_a.Command({"CLIENT", "UNPAUSE"}) == kOk);
  REQUIRE(pauser_b.Command({"CLIENT", "UNPAUSE"}) == kOk);
  // Unpaused: active expiry deletes them within a few cycles.
  CHECK(WaitFor([&] { return a.Command({"DBSIZE"}) == Reply::Int(1); }));
  CHECK(WaitFor([&] { return b.Command({"DBSIZE"}) == Reply::Int(1); }));
  CHECK(ReadInfoNumber(a, "stats", "expired_keys") == 2);
  CHECK(ReadInfoNumber(b, "stats", "expired_keys") == 2);
}

TEST_CASE("CLIENT PAUSE WRITE stops eviction; DEBUG SET-ACTIVE-EXPIRE turns active expiry off") {
  if (TestingRealRedis()) return;
  ServerProcess server;
  server.Start();
  Client c(server.port());

  // Active expiry off: an expired key stays until something looks it up.
  REQUIRE(c.Command({"DEBUG", "SET-ACTIVE-EXPIRE", "0"}) == kOk);
  REQUIRE(c.Command({"SET", "k", "v", "PX", "50"}) == kOk);
  SleepMs(400);
  CHECK(c.Command({"DBSIZE"}) == Reply::Int(1));
  CHECK(ReadInfoNumber(c, "stats", "expired_keys") == 0);
  REQUIRE(c.Command({"DEBUG", "SET-ACTIVE-EXPIRE", "1"}) == kOk);
  CHECK(WaitFor([&] { return c.Command({"DBSIZE"}) == Reply::Int(0); }));
  CHECK(ReadInfoNumber(c, "stats", "expired_keys") == 1);

  // Over maxmemory during a WRITE pause: nothing is evicted until it ends.
  REQUIRE(c.Command({"CONFIG", "SET", "maxmemory-policy", "allkeys-random"}) == kOk);
  BigSet(c, "big", 20000);
  REQUIRE(c.Command({"SET", "small", "v"}) == kOk);
  Client pauser(server.port());
  REQUIRE(pauser.Command({"CLIENT", "PAUSE", "5000", "WRITE"}) == kOk);
  REQUIRE(c.Command({"CONFIG", "SET", "maxmemory", "100kb"}) == kOk);
  SleepMs(300);
  CHECK(c.Command({"DBSIZE"}) == Reply::Int(2));
  CHECK(ReadInfoNumber(c, "stats", "evicted_keys") == 0);
  REQUIRE(pauser.Command({"CLIENT", "UNPAUSE"}) == kOk);
  CHECK(WaitFor([&] { return ReadInfoNumber(c, "stats", "evicted_keys") >= 1; }));
  CHECK(c.Command({"EXISTS", "big"}) == Reply::Int(0));
}

TEST_CASE("LATENCY records expire-cycle, expire-del, eviction-cycle and eviction-del") {
  if (TestingRealRedis()) return;
  ServerProcess server;
  server.Start();
  Client c(server.port());
  // A big key takes milliseconds to delete: its expiry and its eviction are slow events.
  auto expire_big = [&] {
    REQUIRE(c.Command({"DEBUG", "SET-ACTIVE-EXPIRE", "0"}) == kOk);
    BigSet(c, "big", 300000);
    REQUIRE(c.Command({"PEXPIRE", "big", "1"}) == Reply::Int(1));
    SleepMs(20);
    REQUIRE(c.Command({"DEBUG", "SET-ACTIVE-EXPIRE", "1"}) == kOk);
    CHECK(WaitFor([&] { return c.Command({"DBSIZE"}) == Reply::Int(0); }));
  };

  // Threshold 0 (the default): nothing is recorded.
  expire_big();
  CHECK(LatestEvents(c).empty());

  REQUIRE(c.Command({"CONFIG", "SET", "latency-monitor-threshold", "1"}) == kOk);
  expire_big();
  std::set<std::string> events = LatestEvents(c);
  CHECK(events.count("expire-cycle") == 1);
  CHECK(events.count("expire-del") == 1);
  CHECK(events.count("eviction-cycle") == 0);
  const Reply history = c.Command({"LATENCY", "HISTORY", "expire-cycle"});
  REQUIRE(history.elements.size() >= 1);
  CHECK(history.elements[0].elements.size() == 2);
  CHECK(history.elements[0].elements[1].integer >= 1);

  REQUIRE(c.Command({"LATENCY", "RESET"}).type == Reply::Type::kInteger);
  REQUIRE(c.Command({"CONFIG", "SET", "maxmemory-policy", "allkeys-lru"}) == kOk);
  BigSet(c, "big", 300000);
  REQUIRE(c.Command({"CONFIG", "SET", "maxmemory", "100kb"}) == kOk);
  CHECK(WaitFor([&] { return c.Command({"EXISTS", "big"}) == Reply::Int(0); }));
  events = LatestEvents(c);
  CHECK(events.count("eviction-cycle") == 1);
  CHECK(events.count("eviction-del") == 1);
  CHECK(events.count("expire-cycle") == 0);
}
