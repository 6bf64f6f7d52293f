// DUMP and RESTORE in Redis's payload format, against the installed redis-server 7: seeded random
// keys of every type and size are built on both; each side's DUMP is RESTOREd on the other and
// the contents compared; where both hold a value in the same encoding the DUMP bytes are the
// same. MIGRATE from redis-server (which connects to the server under test) moves every type in.
// The reference runs with sanitize-dump-payload yes, so Redis deep-checks every payload of ours.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "dump_values.h"
#include "harness.h"
#include "rdb/crc64.h"
#include "reference_pair.h"

using dynakv::itest::Client;
using dynakv::itest::DumpValueGenerator;
using dynakv::itest::Flags;
using dynakv::itest::KeyContents;
using dynakv::itest::Reply;

namespace {

const Flags kReferenceFlags = {"--sanitize-dump-payload", "yes"};

// A payload framed by hand: `value` (type byte and value), RDB version, CRC-64.
std::string Frame(const std::string& value, int version = 10) {
  std::string out = value;
  out.push_back(static_cast<char>(version & 0xff));
  out.push_back(static_cast<char>(version >> 8));
  const std::uint64_t crc = dynakv::rdb::Crc64(0, out);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
  return out;
}

void Build(Client& client, const std::vector<std::vector<std::string>>& commands) {
  for (const auto& argv : commands) {
    const Reply r = client.Command(argv);
    REQUIRE_FALSE(r.IsError());
  }
}

// Both DUMPs of every key built by `gen` on both servers, each RESTOREd on the other side.
void RoundTrips(const Flags& flags, std::uint64_t seed, int keys) {
  Flags reference_flags = flags;
  reference_flags.insert(reference_flags.end(), kReferenceFlags.begin(), kReferenceFlags.end());
  dynakv::itest::ReferencePair servers(flags, reference_flags);
  auto& [ours_server, reference_server] = servers;
  Client ours(ours_server.port());
  Client redis(reference_server.port());
  DumpValueGenerator gen(seed);
  int same_bytes = 0;
  for (int i = 0; i < keys; ++i) {
    const std::string key = "key:" + std::to_string(i);
    const auto commands = gen.Build(key);
    Build(ours, commands);
    Build(redis, commands);
    const std::vector<std::string> contents = KeyContents(redis, key);
    CAPTURE(key);
    CAPTURE(contents[0]);
    REQUIRE(KeyContents(ours, key) == contents);

    const Reply redis_dump = redis.Command({"DUMP", key});
    const Reply ours_dump = ours.Command({"DUMP", key});
    REQUIRE(redis_dump.type == Reply::Type::kString);
    REQUIRE(ours_dump.type == Reply::Type::kString);
    const long long pttl = redis.Command({"PTTL", key}).integer;
    const std::string ttl = std::to_string(pttl > 0 ? pttl : 0);

    // Redis's DUMP restored here: the same contents, the same encoding Redis gives it.
    const std::string from_redis = "from-redis:" + key;
    REQUIRE(ours.Command({"RESTORE", from_redis, ttl, redis_dump.str}) == Reply::Status("OK"));
    CHECK(KeyContents(ours, from_redis) == contents);
    REQUIRE(redis.Command({"RESTORE", from_redis, ttl, redis_dump.str}) == Reply::Status("OK"));
    const Reply encoding = redis.Command({"OBJECT", "ENCODING", from_redis});
    if (contents[0] != "string") {
      CHECK(ours.Command({"OBJECT", "ENCODING", from_redis}) == encoding);
    }
    if (pttl > 0) {
      const long long restored_ttl = ours.Command({"PTTL", from_redis}).integer;
      CHECK(restored_ttl <= pttl);
      CHECK(restored_ttl > pttl - 5000);
    } else {
      CHECK(ours.Command({"PTTL", from_redis}) == Reply::Int(-1));
    }

    // Ours restored on Redis (which deep-checks it): the same contents.
    const std::string from_ours = "from-ours:" + key;
    const Reply restored = redis.Command({"RESTORE", from_ours, ttl, ours_dump.str});
    REQUIRE(restored == Reply::Status("OK"));
    CHECK(KeyContents(redis, from_ours) == contents);

    // Where both hold the value the same way, the bytes are Redis's: strings, listpacks,
    // intsets, and lists (built by RPUSH, split into the same nodes). Hash tables and skiplists
    // iterate in each server's own order.
    const Reply original_encoding = redis.Command({"OBJECT", "ENCODING", key});
    if (contents[0] == "string" || original_encoding == Reply::Bulk("listpack") ||
        original_encoding == Reply::Bulk("intset") || contents[0] == "list") {
      CHECK(dynakv::itest::DescribeCommand({ours_dump.str}) ==
            dynakv::itest::DescribeCommand({redis_dump.str}));
      if (ours_dump.str == redis_dump.str) ++same_bytes;
    }
  }
  MESSAGE(same_bytes << " of " << keys << " DUMPs byte for byte Redis's");
}

}  // namespace

TEST_CASE("DUMP/RESTORE both ways with redis-server 7: every type, size and encoding") {
  if (!dynakv::itest::ReferenceAvailable()) return;
  RoundTrips({}, 1, 160);
}

TEST_CASE("DUMP/RESTORE both ways with tiny compact-encoding thresholds (many conversions)") {
  if (!dynakv::itest::ReferenceAvailable()) return;
  RoundTrips({"--hash-max-listpack-entries", "4", "--hash-max-listpack-value", "8",
              "--zset-max-listpack-entries", "3", "--zset-max-listpack-value", "6",
              "--set-max-intset-entries", "5", "--list-max-listpack-size", "3"},
             2, 80);
}

TEST_CASE("MIGRATE from redis-server into the server under test moves every type") {
  if (!dynakv::itest::ReferenceAvailable()) return;
  dynakv::itest::ReferencePair servers({}, kReferenceFlags);
  auto& [ours_server, reference_server] = servers;
  Client ours(ours_server.port());
  Client redis(reference_server.port());
  DumpValueGenerator gen(3);
  std::vector<std::string> keys;
  std::vector<std::vector<std::string>> contents;
  std::vector<std::string> types;
  for (int i = 0; i < 60; ++i) {
    const std::string key = "migrated:" + std::to_string(i);
    Build(redis, gen.Build(key));
    keys.push_back(key);
    contents.push_back(KeyContents(redis, key));
    types.push_back(contents.back()[0]);
  }
  std::vector<long long> pttls;
  for (const std::string& key : keys) pttls.push_back(redis.Command({"PTTL", key}).integer);

  // One key, then the rest in one MIGRATE ... KEYS (pipelined RESTOREs). The keys leave Redis.
  const std::string port = std::to_string(ours_server.port());
  CHECK(redis.Command({"MIGRATE", "127.0.0.1", port, keys[0], "0", "5000"}) == Reply::Status("OK"));
  std::vector<std::string> argv = {"MIGRATE", "127.0.0.1", port, "", "0", "5000", "KEYS"};
  argv.insert(argv.end(), keys.begin() + 1, keys.end());
  CHECK(redis.Command(argv) == Reply::Status("OK"));
  for (std::size_t i = 0; i < keys.size(); ++i) {
    CAPTURE(keys[i]);
    CHECK(redis.Command({"EXISTS", keys[i]}) == Reply::Int(0));
    CHECK(KeyContents(ours, keys[i]) == contents[i]);
    const long long pttl = ours.Command({"PTTL", keys[i]}).integer;
    if (pttls[i] > 0) {
      CHECK(pttl <= pttls[i]);
      CHECK(pttl > pttls[i] - 10000);
    } else {
      CHECK(pttl == -1);
    }
  }
  for (const char* type : {"string", "hash", "list", "set", "zset"}) {
    CHECK(std::find(types.begin(), types.end(), type) != types.end());
  }

  // COPY REPLACE over keys that exist here; without REPLACE the target's BUSYKEY comes back.
  Build(redis, {{"HSET", "again", "f", "from redis"}});
  Build(ours, {{"SET", "again", "ours"}});
  const Reply busy = redis.Command({"MIGRATE", "127.0.0.1", port, "again", "0", "5000", "COPY"});
  REQUIRE(busy.IsError());
  CHECK(busy.str.find("BUSYKEY") != std::string::npos);
  CHECK(redis.Command({"MIGRATE", "127.0.0.1", port, "again", "0", "5000", "COPY", "REPLACE"}) ==
        Reply::Status("OK"));
  CHECK(ours.Command({"HGET", "again", "f"}) == Reply::Bulk("from redis"));
  CHECK(redis.Command({"EXISTS", "again"}) == Reply::Int(1));

  // A stream is refused by name, and stays in Redis.
  Build(redis, {{"XADD", "stream", "*", "field", "value"}});
  const Reply stream = redis.Command({"MIGRATE", "127.0.0.1", port, "stream", "0", "5000"});
  REQUIRE(stream.IsError());
  CHECK(stream.str.find("stream value, a type this server does not store") != std::string::npos);
  CHECK(redis.Command({"EXISTS", "stream"}) == Reply::Int(1));
  CHECK(ours.Command({"EXISTS", "stream"}) == Reply::Int(0));
}

TEST_CASE("RESTORE refuses what Redis refuses, with Redis's errors, in Redis's order") {
  if (!dynakv::itest::ReferenceAvailable()) return;
  dynakv::itest::ReferencePair servers({}, {});
  auto& [ours_server, reference_server] = servers;
  Client ours(ours_server.port());
  Client redis(reference_server.port());
  std::string previous;
  auto both = [&](const std::vector<std::string>& argv) {
    const Reply want = redis.Command(argv);
    CAPTURE(previous);
    CAPTURE(dynakv::itest::DescribeCommand(argv));
    CHECK(ours.Command(argv) == want);
    previous = dynakv::itest::DescribeCommand(argv);
    return want;
  };
  both({"SET", "s", "value"});
  both({"RPUSH", "l", "a", "b", "c"});
  const std::string good = redis.Command({"DUMP", "s"}).str;
  const std::string list = redis.Command({"DUMP", "l"}).str;
  std::string flipped = good;
  flipped[1] ^= 1;
  std::string bad_sum = good;
  bad_sum.back() ^= 0x40;
  const std::vector<std::string> payloads = {
      good,
      list,
      flipped,
      bad_sum,
      "",
      "short",
      good.substr(0, good.size() - 1),
      Frame(good.substr(0, good.size() - 10), 11),  // a newer RDB version
      Frame(good.substr(0, good.size() - 10), 9),   // an older one is fine
      Frame(std::string("\x63\x01x", 3)),           // no such type
      // A string cut short. (Redis reads a value into the payload's own 10-byte footer without
      // noticing, so a length of up to 13 here would pass there; we refuse it: see
      // rdb/dump_payload.h.)
      Frame(std::string("\x00\x20"
                        "abc",
                        5)),
      Frame(std::string("\x02\x00", 2)),                      // an empty set
      Frame(std::string("\x02\x02\x01m\x01m", 6)),            // a set with a duplicate
      Frame(std::string("\x00\xc3\x05\x0a\x01\x61\x62", 7)),  // LZF that does not fit
      Frame(std::string("\x0b\x05xxxxx", 7)),                 // an intset of garbage
      // Redis 2.x's zipmap hash {f: 1, long: value}, then one whose count is wrong.
      Frame(std::string("\x09\x15\x02\x01", 4) + "f" + std::string("\x01\x00", 2) + "1" +
            "\x04"
            "long"
            "\x05\x02"
            "valuexx"
            "\xff"),
      Frame(std::string("\x09\x15\x03\x01", 4) + "f" + std::string("\x01\x00", 2) + "1" +
            "\x04"
            "long"
            "\x05\x02"
            "valuexx"
            "\xff"),
  };
  const std::vector<std::vector<std::string>> options = {
      {},
      {"REPLACE"},
      {"ABSTTL"},
      {"IDLETIME", "10"},
      {"IDLETIME", "-1"},
      {"IDLETIME", "x"},
      {"FREQ", "5"},
      {"FREQ", "256"},
      {"FREQ", "-1"},
      {"IDLETIME", "1", "FREQ", "1"},
      {"FREQ", "1", "IDLETIME", "1"},
      {"IDLETIME"},
      {"BOGUS"},
      {"REPLACE", "ABSTTL", "IDLETIME", "0"},
  };
  int n = 0;
  for (const char* ttl : {"0", "-1", "x", "100000", "99999999999"}) {
    for (const auto& option : options) {
      for (const std::string& payload : payloads) {
        for (const std::string& key : {std::string("s"), std::string("fresh")}) {
          std::vector<std::string> argv = {"RESTORE", key, ttl, payload};
          argv.insert(argv.end(), option.begin(), option.end());
          both(argv);
          both({"HGETALL", "fresh"});
          both({"DEL", "fresh"});
          both({"SET", "s", "value"});
          ++n;
        }
      }
    }
  }
  both({"RESTORE", "k"});
  both({"RESTORE", "k", "0"});
  both({"DUMP"});
  both({"DUMP", "missing"});
  both({"DUMP", "a", "b"});
  MESSAGE(n << " RESTOREs compared");
}

TEST_CASE("RESTORE's TTL, ABSTTL and IDLETIME") {
  if (!dynakv::itest::ReferenceAvailable()) return;
  dynakv::itest::ReferencePair servers({}, {});
  auto& [ours_server, reference_server] = servers;
  Client ours(ours_server.port());
  Client redis(reference_server.port());
  Build(redis, {{"ZADD", "z", "1", "a", "2", "b"}});
  const std::string payload = redis.Command({"DUMP", "z"}).str;
  const long long now_ms = std::stoll(ours.Command({"TIME"}).elements[0].str) * 1000;

  for (Client* c : {&ours, &redis}) {
    // An absolute time in the past: nothing is stored, and REPLACE still removes the old key.
    CHECK(c->Command({"SET", "old", "x"}) == Reply::Status("OK"));
    CHECK(c->Command({"RESTORE", "old", "1000", payload, "ABSTTL", "REPLACE"}) ==
          Reply::Status("OK"));
    CHECK(c->Command({"EXISTS", "old"}) == Reply::Int(0));
    const std::string at = std::to_string(now_ms + 3'600'000);
    CHECK(c->Command({"RESTORE", "abs", at, payload, "ABSTTL"}) == Reply::Status("OK"));
    CHECK(c->Command({"PEXPIRETIME", "abs"}) == Reply::Int(now_ms + 3'600'000));
    CHECK(c->Command({"RESTORE", "rel", "60000", payload}) == Reply::Status("OK"));
    const long long pttl = c->Command({"PTTL", "rel"}).integer;
    CHECK(pttl > 55000);
    CHECK(pttl <= 60000);
    CHECK(c->Command({"RESTORE", "idle", "0", payload, "IDLETIME", "3600"}) == Reply::Status("OK"));
    const long long idle = c->Command({"OBJECT", "IDLETIME", "idle"}).integer;
    CHECK(idle >= 3600);
    CHECK(idle <= 3602);
    // OBJECT IDLETIME does not count as an access; a read does.
    CHECK(c->Command({"OBJECT", "IDLETIME", "idle"}).integer >= 3600);
    CHECK(c->Command({"ZCARD", "idle"}) == Reply::Int(2));
    CHECK(c->Command({"OBJECT", "IDLETIME", "idle"}).integer <= 1);
  }
}

// Redis's objectSetLRUOrLFU: under an LFU policy FREQ sets the counter and IDLETIME is dropped;
// under an LRU (or any other) policy IDLETIME sets the idle time and FREQ is dropped.
TEST_CASE("RESTORE's FREQ and IDLETIME under LFU and LRU policies are Redis's") {
  if (!dynakv::itest::ReferenceAvailable()) return;
  dynakv::itest::DifferentialClients both({}, {});
  both({"SET", "s", "value"});
  const std::string payload = both.reference.Command({"DUMP", "s"}).str;
  both({"CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"});
  both({"RESTORE", "hot", "0", payload, "FREQ", "100"});
  CHECK(both({"OBJECT", "FREQ", "hot"}) == Reply::Int(100));
  both({"RESTORE", "cold", "0", payload, "FREQ", "0"});
  CHECK(both({"OBJECT", "FREQ", "cold"}) == Reply::Int(0));
  // IDLETIME is dropped: a new key's counter (LFU_INIT_VAL, 5).
  both({"RESTORE", "idle", "0", payload, "IDLETIME", "3600"});
  CHECK(both({"OBJECT", "FREQ", "idle"}) == Reply::Int(5));
  both({"CONFIG", "SET", "maxmemory-policy", "allkeys-lru"});
  both({"RESTORE", "lru-freq", "0", payload, "FREQ", "100"});
  both({"RESTORE", "lru-idle", "0", payload, "IDLETIME", "3600"});
  for (Client* c : {&both.ours, &both.reference}) {
    CHECK(c->Command({"OBJECT", "IDLETIME", "lru-freq"}).integer <= 1);
    const long long idle = c->Command({"OBJECT", "IDLETIME", "lru-idle"}).integer;
    CHECK(idle >= 3600);
    CHECK(idle <= 3602);
  }
}

TEST_CASE("MIGRATE with AUTH and AUTH2 into a server that requires a password") {
  if (!dynakv::itest::ReferenceAvailable()) return;
  dynakv::itest::ReferencePair servers({"--requirepass", "sesame"}, {});
  auto& [ours_server, reference_server] = servers;
  Client ours(ours_server.port());
  Client redis(reference_server.port());
  REQUIRE(ours.Command({"AUTH", "sesame"}) == Reply::Status("OK"));
  Build(redis, {{"RPUSH", "queue", "job1", "job2"}, {"SET", "token", "t"}});
  const std::string port = std::to_string(ours_server.port());
  const Reply refused = redis.Command({"MIGRATE", "127.0.0.1", port, "queue", "0", "5000", "COPY"});
  REQUIRE(refused.IsError());
  CHECK(refused.str.find("NOAUTH") != std::string::npos);
  CHECK(redis.Command({"MIGRATE", "127.0.0.1", port, "queue", "0", "5000", "AUTH", "sesame"}) ==
        Reply::Status("OK"));
  CHECK(redis.Command({"MIGRATE", "127.0.0.1", port, "token", "0", "5000", "AUTH2", "default",
                       "sesame"}) == Reply::Status("OK"));
  CHECK(ours.Command({"LRANGE", "queue", "0", "-1"}) == Reply::Bulks({"job1", "job2"}));
  CHECK(ours.Command({"GET", "token"}) == Reply::Bulk("t"));
}

TEST_CASE("restored keys survive kill -9 (appendfsync always)") {
  if (!dynakv::itest::ReferenceAvailable()) return;
  dynakv::itest::ReferencePair servers({"--appendfsync", "always"}, {});
  auto& [ours_server, reference_server] = servers;
  Client redis(reference_server.port());
  DumpValueGenerator gen(4);
  std::vector<std::vector<std::string>> contents;
  {
    Client ours(ours_server.port());
    for (int i = 0; i < 30; ++i) {
      const std::string key = "durable:" + std::to_string(i);
      auto commands = gen.Build(key);
      commands.erase(std::remove_if(commands.begin(), commands.end(),
                                    [](const auto& argv) { return argv[0] == "PEXPIRE"; }),
                     commands.end());
      Build(redis, commands);
      contents.push_back(KeyContents(redis, key));
      const Reply dump = redis.Command({"DUMP", key});
      REQUIRE(ours.Command({"RESTORE", key, "0", dump.str}) == Reply::Status("OK"));
    }
  }
  ours_server.Kill();
  ours_server.Start();
  Client ours(ours_server.port());
  for (int i = 0; i < 30; ++i) {
    const std::string key = "durable:" + std::to_string(i);
    CAPTURE(key);
    CHECK(KeyContents(ours, key) == contents[static_cast<std::size_t>(i)]);
  }
}
