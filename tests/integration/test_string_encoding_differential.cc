// OBJECT ENCODING of strings against redis-server 7.0: "int", "embstr" or "raw" as each string
// command leaves its value (tryObjectEncoding for SET and its family, raw after APPEND, SETRANGE,
// SETBIT, BITFIELD, BITOP and PFADD, text after INCRBYFLOAT, the encoding kept by RENAME, COPY
// and MOVE), and what a restart leaves (Redis re-encodes every string it loads: DEBUG RELOAD).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "harness.h"
#include "reference_pair.h"

namespace dynakv::itest {
namespace {

const char* const kKeys[] = {"s0", "s1", "s2"};

// String commands on three keys, with values around the limits that decide an encoding: a long's
// text (and what only looks like one), 44 and 45 bytes, empty, long.
class EncodingGenerator : public SeededChoices {
 public:
  explicit EncodingGenerator(std::uint64_t seed) : SeededChoices(seed) {}

  std::vector<std::string> Next() {
    const std::string key = Of({"s0", "s1", "s2"});
    const std::string other = Of({"s0", "s1", "s2"});
    switch (Pick(24)) {
      case 0:
      case 1:
      case 2:
        return {"SET", key, Value()};
      case 3:
        return {"SET", key, Value(), "EX", "100"};
      case 4:
        return {"SETEX", key, "100", Value()};
      case 5:
        return {"SETNX", key, Value()};
      case 6:
        return {"GETSET", key, Value()};
      case 7:
        return {"MSET", key, Value(), other, Value()};
      case 8:
      case 9:
        return {"APPEND", key, Of({"", "1", "x", "12", "abcdefghij"})};
      case 10:
      case 11:
        return {"SETRANGE", key, Of({"0", "1", "3", "40", "44", "50"}), Of({"", "9", "zz"})};
      case 12:
        return {"INCR", key};
      case 13:
        return {Of({"INCRBY", "DECRBY"}), key, Of({"1", "10000", "-3", "9223372036854775806"})};
      case 14:
        return {"DECR", key};
      case 15:
        return {"INCRBYFLOAT", key, Of({"1", "0.5", "-1.5", "1e10", "1e40", "3"})};
      case 16:
        return {"SETBIT", key, Of({"0", "7", "100", "400"}), Of({"0", "1"})};
      case 17:
        return {"BITOP", Of({"OR", "AND", "NOT"}), key, other};
      case 18:
        return {"COPY", other, key, "REPLACE"};
      case 19:
        return {"RENAME", other, key};
      case 20:
        return {"GETEX", key, Of({"PERSIST", "EX"}), "100"};
      case 21:
        return Pick(2) == 0 ? std::vector<std::string>{"BITFIELD", key, "SET", "u8", "0", "65"}
                            : std::vector<std::string>{"BITFIELD", key, "GET", "u8", "0"};
      case 22:
        return {"DEL", key};
      default:
        return {"PFADD", key, Of({"a", "b", "c"})};
    }
  }

 private:
  std::string Value() {
    switch (Pick(4)) {
      case 0:  // a long's canonical text, or what only looks like one
        return Of({"0", "7", "9999", "10000", "-5", "123456789012345678",
                   "9223372036854775807", "-9223372036854775808", "9223372036854775808", "-0",
                   "007", "+1", " 1", "1.5", "12345678901234567890"});
      case 1:
        return Of({"", "hello", "v"});
      case 2:  // around OBJ_ENCODING_EMBSTR_SIZE_LIMIT
        return std::string(static_cast<std::size_t>(43 + Pick(3)), 'e');
      default:
        return std::string(static_cast<std::size_t>(100 + Pick(2000)), 'r');
    }
  }
};

// The reply of `argv` and every key's encoding agree; false (after a reported mismatch) when not.
bool SameState(Client& ours, Client& reference, const std::vector<std::string>& argv,
               DifferentialLog* log) {
  const Reply want = reference.Command(argv);
  const Reply got = ours.Command(argv);
  log->Record(DescribeCommand(argv), ReplyText(want));
  if (!(got == want)) {
    log->Mismatch(ReplyText(got));
    return false;
  }
  for (const char* key : kKeys) {
    const std::vector<std::string> encoding = {"OBJECT", "ENCODING", key};
    const Reply want_encoding = reference.Command(encoding);
    const Reply got_encoding = ours.Command(encoding);
    log->Record(DescribeCommand(encoding), ReplyText(want_encoding));
    if (!(got_encoding == want_encoding)) {
      log->Mismatch(ReplyText(got_encoding));
      return false;
    }
  }
  return true;
}

}  // namespace

TEST_CASE("OBJECT ENCODING of strings follows Redis 7.0 through every string command") {
  if (TestingRealRedis() || !ReferenceAvailable()) return;
  ReferencePair servers({}, {});
  auto& [ours, reference] = servers;
  Client a(ours.port());
  Client b(reference.port());
  DifferentialLog log;
  for (std::uint64_t seed : RunSeeds({1, 2, 3, 4})) {
    CAPTURE(seed);
    EncodingGenerator gen(seed);
    for (int i = 0; i < 1500; ++i) {
      if (!SameState(a, b, gen.Next(), &log)) {
        a.Command({"FLUSHALL"});
        b.Command({"FLUSHALL"});
        log.Clear();
      }
    }
    a.Command({"FLUSHALL"});
    b.Command({"FLUSHALL"});
    log.Clear();
  }
  CHECK(log.mismatches() == 0);
}

TEST_CASE("a restart re-encodes strings by their bytes, as Redis's RDB load does") {
  if (TestingRealRedis() || !ReferenceAvailable()) return;
  ReferencePair servers({}, {"--enable-debug-command", "yes"});
  auto& [ours, reference] = servers;
  const std::vector<std::vector<std::string>> writes = {
      {"SET", "short", "ab"},
      {"APPEND", "short", "cd"},  // raw until reloaded, then embstr
      {"SET", "number", "12"},
      {"APPEND", "number", "3"},  // raw "123", an int after the reload
      {"SETRANGE", "patched", "0", "xyz"},
      {"SETBIT", "bits", "3", "1"},
      {"INCRBYFLOAT", "float", "3"},  // embstr "3", an int after the reload
      {"SET", "long", std::string(60, 'l')},
      {"APPEND", "long", "m"},
      {"SET", "plain", "hello"},
  };
  {
    Client a(ours.port());
    Client b(reference.port());
    for (const auto& argv : writes) CheckSameReply(a, b, argv);
    for (const char* key : {"short", "number", "patched", "bits", "float", "long", "plain"}) {
      CAPTURE(key);
      CheckSameReply(a, b, {"OBJECT", "ENCODING", key});
    }
    REQUIRE(a.Command({"OBJECT", "ENCODING", "short"}) == Reply::Bulk("raw"));
    REQUIRE(b.Command({"DEBUG", "RELOAD"}) == Reply::Status("OK"));
  }
  ours.Stop();
  ours.Start();
  Client a(ours.port());
  Client b(reference.port());
  for (const char* key : {"short", "number", "patched", "bits", "float", "long", "plain"}) {
    CAPTURE(key);
    CheckSameReply(a, b, {"GET", key});
    CheckSameReply(a, b, {"OBJECT", "ENCODING", key});
  }
  CHECK(a.Command({"OBJECT", "ENCODING", "short"}) == Reply::Bulk("embstr"));
  CHECK(a.Command({"OBJECT", "ENCODING", "number"}) == Reply::Bulk("int"));
}

TEST_CASE("MOVE keeps a string's encoding, as Redis moves the object itself") {
  if (TestingRealRedis() || !ReferenceAvailable()) return;
  ReferencePair servers({}, {});
  auto& [ours, reference] = servers;
  Client a(ours.port());
  Client b(reference.port());
  for (const std::vector<std::string>& argv :
       std::vector<std::vector<std::string>>{{"SET", "k", "12"},
                                             {"APPEND", "k", "3"},
                                             {"INCRBYFLOAT", "f", "2"},
                                             {"MOVE", "k", "5"},
                                             {"MOVE", "f", "5"},
                                             {"SELECT", "5"},
                                             {"OBJECT", "ENCODING", "k"},
                                             {"OBJECT", "ENCODING", "f"},
                                             {"OBJECT", "REFCOUNT", "f"}}) {
    CheckSameReply(a, b, argv);
  }
  CHECK(a.Command({"OBJECT", "ENCODING", "k"}) == Reply::Bulk("raw"));
}

// OBJECT ENCODING looks without touching: in a database other than 0 it used to put the looked
// at key's LFU counter back on database 0's key of that name, leaving its own one access up.
TEST_CASE("OBJECT ENCODING in another database leaves the key's LFU counter as it was") {
  if (TestingRealRedis() || !ReferenceAvailable()) return;
  const Flags lfu = {"--maxmemory-policy", "allkeys-lfu"};
  ReferencePair servers(lfu, lfu);
  auto& [ours, reference] = servers;
  Client a(ours.port());
  Client b(reference.port());
  for (const std::vector<std::string>& argv : std::vector<std::vector<std::string>>{
           {"SELECT", "9"},
           {"SET", "k", "v"},
           {"OBJECT", "ENCODING", "k"},
           {"OBJECT", "ENCODING", "k"},
           {"OBJECT", "FREQ", "k"}}) {
    CheckSameReply(a, b, argv);
  }
  CHECK(a.Command({"OBJECT", "FREQ", "k"}) == Reply::Int(5));
}

}  // namespace dynakv::itest
