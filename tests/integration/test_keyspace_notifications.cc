// Keyspace notifications against redis-server 7: the same seeded random commands over every
// type on both servers, with subscribers to __key*@*__:* (RESP2 and RESP3) on each; after every
// command the notifications each subscriber got must be Redis's, event for event, in order.
#include <doctest/doctest.h>

#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "harness.h"
#include "pubsub_pair.h"
#include "reference_pair.h"

using dynakv::itest::Client;
using dynakv::itest::PubSubPair;
using dynakv::itest::ReferenceAvailable;
using dynakv::itest::ReferencePair;
using dynakv::itest::Reply;

namespace {

// Connection 0 runs the commands; 1 (RESP2) and 2 (RESP3) listen to every keyspace event.
const std::vector<int> kProtocols = {2, 2, 3};

class CommandGenerator {
 public:
  explicit CommandGenerator(unsigned seed) : rng_(seed) {}

  std::vector<std::string> Next() {
    const std::string k = Key();
    const std::string k2 = Key();
    switch (Below(76)) {
      // strings
      case 0:
        return {"SET", k, Value()};
      case 1:
        return {"SET", k, Value(), "EX", "100"};
      case 2:
        return {"SET", k, Value(), "NX"};
      case 3:
        return {"SET", k, Value(), "XX", "GET"};
      case 4:
        return {"SETNX", k, Value()};
      case 5:
        return {"SETEX", k, "100", Value()};
      case 6:
        return {"GETSET", k, Value()};
      case 7:
        return {"GETDEL", k};
      case 8:
        return {"GETEX", k, "EX", "200"};
      case 9:
        return {"GETEX", k, "PERSIST"};
      case 10:
        return {"MSET", k, Value(), k2, Value()};
      case 11:
        return {"MSETNX", k, Value(), k2, Value()};
      case 12:
        return {"INCR", k};
      case 13:
        return {"INCRBY", k, std::to_string(Below(10))};
      case 14:
        return {"INCRBYFLOAT", k, "1.5"};
      case 15:
        return {"APPEND", k, Value()};
      case 16:
        return {"SETRANGE", k, std::to_string(Below(4)), Below(4) == 0 ? "" : Value()};
      case 17:
        return {"DECR", k};
      // keys
      case 18:
        return {"DEL", k, k2};
      case 19:
        return {"EXPIRE", k, "100"};
      case 20:
        return {"EXPIRE", k, "-1"};
      case 21:  // LT of a time shorter than any other: never decided by the millisecond
        return {"PEXPIRE", k, "50000", Below(2) == 0 ? "NX" : "LT"};
      case 22:
        return {"PERSIST", k};
      case 23:
        return {"RENAME", k, k2};
      case 24:
        return {"RENAMENX", k, k2};
      case 25:
        return {"COPY", k, k2, "REPLACE"};
      case 26:
        return {"UNLINK", k};
      // hashes
      case 27:
        return {"HSET", k, Field(), Value(), Field(), Value()};
      case 28:
        return {"HSETNX", k, Field(), Value()};
      case 29:
        return {"HDEL", k, Field(), Field()};
      case 30:
        return {"HINCRBY", k, Field(), "2"};
      case 31:
        return {"HINCRBYFLOAT", k, Field(), "0.5"};
      case 32:
        return {"HMSET", k, Field(), Value()};
      // lists
      case 33:
        return {"LPUSH", k, Value(), Value()};
      case 34:
        return {"RPUSH", k, Value()};
      case 35:
        return {"LPUSHX", k, Value()};
      case 36:
        return {"LPOP", k};
      case 37:
        return {"RPOP", k, std::to_string(Below(3))};
      case 38:
        return {"LSET", k, std::to_string(static_cast<int>(Below(3)) - 1), Value()};
      case 39:
        return {"LTRIM", k, "0", std::to_string(static_cast<int>(Below(3)) - 1)};
      case 40:
        return {"LINSERT", k, "BEFORE", Value(), Value()};
      case 41:
        return {"LREM", k, "0", Value()};
      case 42:
        return {"LMOVE", k, k2, "LEFT", "RIGHT"};
      case 43:
        return {"RPOPLPUSH", k, k2};
      // sets
      case 44:
        return {"SADD", k, Field(), Field()};
      case 45:
        return {"SREM", k, Field()};
      case 46:
        return {"SMOVE", k, k2, Field()};
      case 47:
        return {"SPOP", k, "100"};  // all of it: the same members on both servers
      case 48:
        return {"SINTERSTORE", k, k2, Key()};
      case 49:
        return {"SUNIONSTORE", k, k2, Key()};
      case 50:
        return {"SDIFFSTORE", k, k2, Key()};
      // sorted sets
      case 51:
        return {"ZADD", k, std::to_string(Below(5)), Field()};
      case 52:
        return {"ZADD", k, "INCR", "1", Field()};
      case 53:
        return {"ZINCRBY", k, "2", Field()};
      case 54:
        return {"ZREM", k, Field(), Field()};
      case 55:
        return {"ZREMRANGEBYSCORE", k, "0", "2"};
      case 56:
        return {"ZREMRANGEBYRANK", k, "0", "0"};
      case 57:
        return {"ZPOPMIN", k};
      case 58:
        return {"ZUNIONSTORE", k, "2", k, k2};
      case 59:
        return {"ZRANGESTORE", k2, k, "0", "1"};
      // bitmaps and HyperLogLogs
      case 60:
        return Below(2) == 0 ? std::vector<std::string>{"SETBIT", k, std::to_string(Below(16)), "1"}
                             : std::vector<std::string>{"BITOP", "OR", k, k2, Key()};
      case 61:
        return Below(2) == 0 ? std::vector<std::string>{"PFADD", k, Field()}
                             : std::vector<std::string>{"PFMERGE", k, k2};
      case 62:
        return {"BITFIELD", k, "SET", "u4", std::to_string(Below(3) * 4), Value()};
      case 63:
        return {"BITFIELD", k, "OVERFLOW", "FAIL", "INCRBY", "u2", "0", "3"};
      case 64:
        return {"LMPOP", "2", k, k2, "RIGHT", "COUNT", "2"};
      case 65:
        return {"ZMPOP", "2", k, k2, "MAX"};
      case 66:
        return {"BLPOP", k, k2, "0.01"};
      case 67:
        return {"BZPOPMIN", k, "0.01"};
      case 68:
        return {"ZINTERSTORE", k, "2", k2, Key()};
      case 69:
        return {"ZDIFFSTORE", k, "2", k2, Key()};
      case 70:
        return {"ZADD", k, Below(2) == 0 ? "GT" : "XX", "CH", std::to_string(Below(5)), Field()};
      case 71:
        return {"ZREMRANGEBYLEX", k, "-", "[f1"};
      case 72:
        return {"SET", k, Value(), "KEEPTTL"};
      case 73:
        return {"PEXPIREAT", k, "1"};
      case 74:
        return {"GETEX", k, "PX", "-5"};
      default:
        return {"HDEL", k, "f0", "f1", "f2", "f3"};
    }
  }

 private:
  std::size_t Below(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
  }
  std::string Key() { return "k" + std::to_string(Below(4)); }
  std::string Field() { return "f" + std::to_string(Below(4)); }
  std::string Value() { return std::to_string(Below(5)); }

  std::mt19937 rng_;
};

}  // namespace

TEST_CASE("keyspace notifications of a seeded random run over every type are Redis's") {
  if (!ReferenceAvailable()) return;
  ReferencePair servers({}, {});
  auto& [ours, reference] = servers;
  PubSubPair pair(ours.port(), reference.port(), kProtocols);
  pair.Step(0, {"CONFIG", "SET", "notify-keyspace-events", "KEAmn"});
  pair.Step(1, {"PSUBSCRIBE", "__key*@*__:*"});
  pair.Step(2, {"PSUBSCRIBE", "__key*@*__:*"});
  // DYNAKV_TEST_SEED replays a failed run.
  const char* seed_env = std::getenv("DYNAKV_TEST_SEED");
  const unsigned seed = seed_env != nullptr
                            ? static_cast<unsigned>(std::strtoul(seed_env, nullptr, 10))
                            : std::random_device{}();
  CAPTURE(seed);
  CommandGenerator generator(seed);
  for (int step = 0; step < 3000 && pair.mismatches() == 0; ++step) {
    const std::vector<std::string> command = generator.Next();
    // SPOP's members come in the order of each server's own set.
    pair.Step(0, command, true, command[0] != "SPOP");
    if (std::getenv("DYNAKV_TEST_TRACE") != nullptr) {
      MESSAGE(dynakv::itest::DescribeCommand(command) << " -> " << pair.LastReference(0).front());
    }
  }
  CHECK(pair.mismatches() == 0);
}

TEST_CASE("notify-keyspace-events classes select the events and channels as in Redis") {
  if (!ReferenceAvailable()) return;
  ReferencePair servers({}, {});
  auto& [ours, reference] = servers;
  PubSubPair pair(ours.port(), reference.port(), kProtocols);
  pair.Step(1, {"PSUBSCRIBE", "__key*@*__:*"});
  pair.Step(2, {"SUBSCRIBE", "__keyevent@0__:del", "__keyspace@0__:a"});
  const std::vector<std::vector<std::string>> commands = {
      {"SET", "a", "1"},
      {"EXPIRE", "a", "100"},
      {"LPUSH", "l", "x"},
      {"LPOP", "l"},
      {"SADD", "s", "m"},
      {"HSET", "h", "f", "v"},
      {"ZADD", "z", "1", "m"},
      {"DEL", "a", "h", "s", "z"},
      // Key misses (class m, not part of A): read lookups of missing keys.
      {"GET", "a"},
      {"HGET", "h", "f"},
      {"EXISTS", "a", "l"},
      {"TTL", "a"},
      {"LRANGE", "l", "0", "-1"},
      {"MGET", "a", "s"},
      {"SET", "a", "1", "GET"},
      {"INCR", "counter"},
  };
  for (const char* classes : {"", "K", "E", "KA", "El", "Kg$", "Kshz", "KEA", "AKE", "gE", "Km",
                              "Em", "KEAm", "Kn", "En$l"}) {
    pair.Step(0, {"CONFIG", "SET", "notify-keyspace-events", classes});
    for (const auto& command : commands) pair.Step(0, command);
  }
  CHECK(pair.mismatches() == 0);
}

TEST_CASE("LMOVE and RPOPLPUSH of a one-element list onto itself keep it and its expiry") {
  if (!ReferenceAvailable()) return;
  ReferencePair servers({}, {});
  auto& [ours, reference] = servers;
  PubSubPair pair(ours.port(), reference.port(), kProtocols);
  pair.Step(0, {"CONFIG", "SET", "notify-keyspace-events", "KEA"});
  pair.Step(1, {"PSUBSCRIBE", "__key*@*__:*"});
  for (const std::vector<std::string>& move :
       {std::vector<std::string>{"RPOPLPUSH", "l", "l"},
        std::vector<std::string>{"LMOVE", "l", "l", "LEFT", "RIGHT"},
        std::vector<std::string>{"BLMOVE", "l", "l", "RIGHT", "RIGHT", "0"}}) {
    pair.Step(0, {"RPUSH", "l", "only"});
    pair.Step(0, {"EXPIRE", "l", "100"});
    pair.Step(0, move);
    pair.Step(0, {"LRANGE", "l", "0", "-1"});
    pair.Step(0, {"PERSIST", "l"});  // 1: the expiry survived the move
    pair.Step(0, {"DEL", "l"});
  }
  CHECK(pair.mismatches() == 0);
}

TEST_CASE("keys a maxmemory policy evicts are notified as evicted") {
  if (!ReferenceAvailable()) return;
  ReferencePair servers({}, {});
  auto& [ours, reference] = servers;
  PubSubPair pair(ours.port(), reference.port(), kProtocols);
  pair.Step(0, {"CONFIG", "SET", "notify-keyspace-events", "KEe"});
  pair.Step(1, {"PSUBSCRIBE", "__key*@*__:*"});
  pair.Step(2, {"SUBSCRIBE", "__keyevent@0__:evicted"});
  pair.Step(0, {"SET", "a", "1"});
  pair.Step(0, {"CONFIG", "SET", "maxmemory-policy", "allkeys-lru"});
  // Lowering the limit evicts at once; a SET still finds memory over it: -OOM.
  pair.Step(0, {"CONFIG", "SET", "maxmemory", "1"});
  CHECK(pair.LastReference(2).size() == 1);  // the evicted message, on the reference too
  pair.Step(0, {"SET", "b", "2"});
  pair.Step(0, {"CONFIG", "SET", "maxmemory", "0"});
  pair.Step(0, {"SET", "c", "3"});
  pair.Step(0, {"CONFIG", "SET", "maxmemory-policy", "volatile-ttl"});
  pair.Step(0, {"CONFIG", "SET", "maxmemory", "1"});  // nothing volatile-ttl may evict
  pair.Step(0, {"SET", "d", "4"});
  pair.Step(0, {"CONFIG", "SET", "maxmemory", "0"});
  CHECK(pair.mismatches() == 0);
}
