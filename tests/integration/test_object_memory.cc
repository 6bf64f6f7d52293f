// OBJECT REFCOUNT/IDLETIME/FREQ/HELP and MEMORY USAGE/HELP: replies and error texts side by side
// with redis-server 7, and MEMORY USAGE's own numbers (which are this store's costs, not Redis's)
// checked for sense: they grow with the value, are small for small keys, count compression.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "reference_pair.h"

using dynakv::itest::Client;
using dynakv::itest::Reply;
using dynakv::itest::ServerFixture;

TEST_CASE("OBJECT and MEMORY answer and refuse as Redis 7 does") {
  if (!dynakv::itest::ReferenceAvailable()) return;
  dynakv::itest::DifferentialClients both({}, {});
  Client& ours = both.ours;
  Client& redis = both.reference;
  both({"SET", "shared", "100"});
  both({"SET", "zero", "0"});
  both({"SET", "edge", "9999"});
  both({"SET", "unshared", "10000"});
  both({"SET", "negative", "-1"});
  both({"SET", "padded", "0100"});
  both({"SET", "text", "hello"});
  both({"HSET", "hash", "f", "v"});
  both({"RPUSH", "list", "a"});
  both({"SADD", "set", "1"});
  both({"ZADD", "zset", "1", "m"});
  const std::vector<std::string> keys = {"shared",   "zero",   "edge", "unshared",
                                         "negative", "padded", "text", "hash",
                                         "list",     "set",    "zset", "missing"};
  for (const std::string& key : keys) {
    both({"OBJECT", "REFCOUNT", key});
    both({"OBJECT", "FREQ", key});  // no LFU policy: Redis's error, or nil for no key
    both({"OBJECT", "IDLETIME", key});
    both({"OBJECT", "ENCODING", key});
  }
  both({"OBJECT", "HELP"});
  both({"OBJECT", "help"});
  both({"OBJECT", "HELP", "extra"});
  both({"OBJECT"});
  both({"OBJECT", "REFCOUNT"});
  both({"OBJECT", "IDLETIME", "a", "b"});
  both({"OBJECT", "NOSUCH", "text"});
  both({"MEMORY", "HELP"});
  both({"MEMORY"});
  both({"MEMORY", "USAGE"});
  both({"MEMORY", "USAGE", "missing"});
  both({"MEMORY", "USAGE", "missing", "SAMPLES", "-1"});
  both({"MEMORY", "USAGE", "text", "SAMPLES", "-1"});
  both({"MEMORY", "USAGE", "text", "SAMPLES", "x"});
  both({"MEMORY", "USAGE", "text", "SAMPLES"});
  both({"MEMORY", "USAGE", "text", "BOGUS", "1"});
  both({"MEMORY", "NOSUCH"});
  for (const char* samples : {"0", "1", "5", "9223372036854775807"}) {
    const Reply mine = ours.Command({"MEMORY", "USAGE", "hash", "SAMPLES", samples});
    CHECK(mine.type == Reply::Type::kInteger);
    CHECK(mine.integer > 0);
  }

  // Idle time counts from the last access; OBJECT itself is not one, a read is.
  std::this_thread::sleep_for(std::chrono::milliseconds(2200));
  for (Client* c : {&ours, &redis}) {
    const long long idle = c->Command({"OBJECT", "IDLETIME", "text"}).integer;
    CHECK(idle >= 2);
    CHECK(idle <= 3);
    CHECK(c->Command({"OBJECT", "ENCODING", "text"}) == Reply::Bulk("embstr"));
    CHECK(c->Command({"OBJECT", "REFCOUNT", "text"}) == Reply::Int(1));
    CHECK(c->Command({"OBJECT", "FREQ", "text"}).IsError());
    CHECK(c->Command({"MEMORY", "USAGE", "text"}).integer > 0);
    CHECK(c->Command({"OBJECT", "IDLETIME", "text"}).integer >= 2);
    CHECK(c->Command({"GET", "text"}) == Reply::Bulk("hello"));
    CHECK(c->Command({"OBJECT", "IDLETIME", "text"}).integer == 0);
    CHECK(c->Command({"OBJECT", "IDLETIME", "hash"}).integer >= 2);
    CHECK(c->Command({"HGET", "hash", "f"}) == Reply::Bulk("v"));
    CHECK(c->Command({"OBJECT", "IDLETIME", "hash"}).integer == 0);
  }
}

// Redis shares the objects of the integers 0..9999 (REFCOUNT INT_MAX): SET, INCR, APPEND to a
// new key and RESTORE hand them out; RENAME, MOVE and SWAPDB move the object as it is; COPY's
// dupStringObject makes an object of its own (REFCOUNT 1) with the same encoding.
TEST_CASE("OBJECT REFCOUNT and ENCODING after COPY, RENAME, MOVE, SWAPDB and RESTORE are Redis's") {
  if (!dynakv::itest::ReferenceAvailable()) return;
  dynakv::itest::DifferentialClients both({}, {});
  Client& ours = both.ours;
  Client& redis = both.reference;
  auto object = [&](const std::string& key) {
    CAPTURE(key);
    both({"OBJECT", "REFCOUNT", key});
    both({"OBJECT", "ENCODING", key});
  };
  for (const std::vector<std::string>& argv : std::vector<std::vector<std::string>>{
           {"SET", "small", "5"},
           {"SET", "big", "123456"},
           {"SET", "text", "hello"},
           {"MSET", "m1", "17", "m2", "x"},
           {"COPY", "small", "small-copy"},
           {"COPY", "big", "big-copy"},
           {"COPY", "text", "text-copy"},
           {"COPY", "small-copy", "copy-of-copy"},
           {"COPY", "m1", "small-copy", "REPLACE"},
           {"COPY", "small", "elsewhere", "DB", "4"},
           {"RENAME", "small", "renamed"},
           {"RENAME", "copy-of-copy", "renamed-copy"},
           {"RENAMENX", "m1", "renamed-nx"},
           {"COPY", "renamed", "moved"},
           {"MOVE", "moved", "3"},
           {"SET", "moved-shared", "42"},
           {"MOVE", "moved-shared", "3"},
           {"SET", "n", "9999"},
           {"INCR", "n"},
           {"SET", "n2", "10000"},
           {"DECR", "n2"},
           {"COPY", "n2", "n2-copy"},
           {"INCR", "n2-copy"},  // 10000: Redis changes its own object in place
           {"SET", "n3", "5"},
           {"COPY", "n3", "n3-copy"},
           {"INCR", "n3-copy"},  // 6: a value of the shared range is the shared object again
           {"APPEND", "appended", "7"},
           {"COPY", "appended", "appended-copy"},
           {"APPEND", "appended", "1"},
           {"SETRANGE", "ranged", "0", "5"},
           {"COPY", "ranged", "ranged-copy"},
           {"INCRBYFLOAT", "float", "3"},
           {"COPY", "float", "float-copy"},
           {"GETSET", "renamed-copy", "8"},
           {"SETNX", "nx", "9"},
           {"SETEX", "ex", "100", "10"},
           {"COPY", "ex", "ex-copy"},
       }) {
    both(argv);
  }
  for (const std::string key :
       {"small-copy", "big-copy",    "text-copy", "renamed",    "renamed-copy", "renamed-nx",
        "n",          "n2",          "n2-copy",   "n3-copy",    "appended",     "appended-copy",
        "ranged",     "ranged-copy", "float",     "float-copy", "nx",           "ex",
        "ex-copy",    "m2"}) {
    object(key);
  }
  // RESTORE re-encodes by the bytes: a copy's dump comes back shared.
  for (Client* c : {&ours, &redis}) {
    for (const std::string key : {"small-copy", "renamed", "ranged-copy", "float"}) {
      const Reply dump = c->Command({"DUMP", key});
      REQUIRE(dump.type == Reply::Type::kString);
      REQUIRE(c->Command({"RESTORE", "restored:" + key, "0", dump.str}) == Reply::Status("OK"));
    }
  }
  for (const std::string key : {"small-copy", "renamed", "ranged-copy", "float"}) {
    object("restored:" + key);
  }
  // MOVE and SWAPDB move the object; COPY ... DB copies it.
  both({"SELECT", "4"});
  object("elsewhere");
  both({"SELECT", "3"});
  object("moved");
  object("moved-shared");
  both({"SWAPDB", "3", "0"});
  both({"SELECT", "0"});
  object("moved");
  object("moved-shared");
  CHECK(ours.Command({"OBJECT", "REFCOUNT", "moved"}) == Reply::Int(1));
  CHECK(ours.Command({"OBJECT", "REFCOUNT", "moved-shared"}) == Reply::Int(2147483647));
}

TEST_CASE("MEMORY USAGE counts what a key costs here") {
  if (dynakv::itest::TestingRealRedis()) return;  // the numbers are this store's own
  ServerFixture fx({"--compression-threshold", "64"});
  Client& c = fx.client;
  auto usage = [&](const std::string& key) {
    const Reply r = c.Command({"MEMORY", "USAGE", key});
    REQUIRE(r.type == Reply::Type::kInteger);
    return r.integer;
  };
  REQUIRE(c.Command({"SET", "k", "v"}) == Reply::Status("OK"));
  const long long small = usage("k");
  CHECK(small > 2);
  CHECK(small < 128);
  REQUIRE(c.Command({"SET", std::string(1000, 'k'), "v"}) == Reply::Status("OK"));
  CHECK(usage(std::string(1000, 'k')) >= small + 999);  // the key is counted

  std::string random(100'000, '\0');
  std::uint64_t x = 88172645463325252ull;
  for (char& ch : random) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    ch = static_cast<char>(x);
  }
  REQUIRE(c.Command({"SET", "random", random}) == Reply::Status("OK"));
  const long long incompressible = usage("random");
  CHECK(incompressible >= 100'000);
  // What the allocator hands out for it, as Redis counts its own: jemalloc's size class for
  // 100,048 bytes is 114,688 (the next four per doubling above 64 KB).
  CHECK(incompressible >= 114'688);
  CHECK(incompressible < 114'688 + 200);
  REQUIRE(c.Command({"SET", "zeros", std::string(100'000, '0')}) == Reply::Status("OK"));
  const long long compressed = usage("zeros");
  CHECK(compressed < 2'000);  // stored LZ4-compressed: that is what it costs
  CHECK(compressed > small);

  // Typed values: their memory grows with every element.
  long long last = 0;
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < 200; ++i) {
      const std::string n = std::to_string(round * 200 + i);
      c.Command({"HSET", "hash", "field" + n, "value" + n});
      c.Command({"RPUSH", "list", "element" + n});
      c.Command({"SADD", "set", "member" + n});
      c.Command({"ZADD", "zset", n, "member" + n});
    }
    const long long now = usage("hash");
    CHECK(now > last);
    last = now;
  }
  for (const char* key : {"hash", "list", "set", "zset"}) {
    CAPTURE(key);
    const long long bytes = usage(key);
    CHECK(bytes > 1000 * 8);    // 1000 elements of 8+ bytes each
    CHECK(bytes < 1000 * 200);  // and not wildly more
  }
  CHECK(c.Command({"MEMORY", "USAGE", "missing"}) == Reply::Nil());
}
